"""The seed's SQL side table, implemented faithfully (shared/seed): a SQLAlchemy 1.3 ORM
model on SQLite, one ORM session and one commit per record, default journal mode.
The tuned variant is what a careful user would do: WAL with synchronous=FULL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, Integer, String, create_engine, event
from sqlalchemy.ext.declarative import declarative_base
from sqlalchemy.orm import sessionmaker

Base = declarative_base()


class PlayerHistory(Base):
    """Player history model (as in the seed's db/models.py)."""

    __tablename__ = "player_history"
    id = Column(Integer, primary_key=True)
    session_id = Column(Integer)
    participant_id = Column(Integer)
    role_type = Column(Integer)
    choice = Column(Integer)
    advice = Column(String)
    ancestor_session_id = Column(Integer, default=0)
    ancestor_participant_id = Column(Integer, default=0)
    ancestor_advice = Column(String, default="")


class SideTable:
    def __init__(self, path: Path, *, tuned: bool) -> None:
        self.engine = create_engine(f"sqlite:///{path}")
        if tuned:
            @event.listens_for(self.engine, "connect")
            def _pragmas(connection, _record):
                cursor = connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=FULL")
                cursor.close()
        Base.metadata.create_all(self.engine)
        self.Session = sessionmaker(bind=self.engine)

    def add_player_history(self, session_id: int, participant_id: int, advice: str) -> None:
        """As the seed's crud.add_player_history: a session, an add, a commit, a close."""
        session = self.Session()
        session.add(PlayerHistory(session_id=session_id, participant_id=participant_id, role_type=1, choice=1,
                                  advice=advice, ancestor_session_id=session_id - 1, ancestor_participant_id=1,
                                  ancestor_advice=advice))
        session.commit()
        session.close()
