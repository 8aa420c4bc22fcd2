from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from history_store import HistoryStore, SessionManifest


@pytest.fixture(autouse=True)
def _history_dir_is_temporary(tmp_path, monkeypatch):
    """No test may write to the project's data/history."""
    monkeypatch.setenv("OTREE_HISTORY_DIR", str(tmp_path / "history-default"))


@pytest.fixture
def store(tmp_path) -> HistoryStore:
    return HistoryStore(tmp_path / "history")


SessionFactory = Callable[..., SessionManifest]


@pytest.fixture
def new_session(store: HistoryStore) -> SessionFactory:
    """Register a session; defaults make a generation-1 session of lineage 'L'."""
    counter = iter(range(1, 10_000))

    def register(code: str | None = None, *, lineage: str = "L", ancestor: SessionManifest | None = None,
                 num_participants: int = 4, **fields) -> SessionManifest:
        manifest = SessionManifest(
            session_code=code or f"sess{next(counter):04d}",
            lineage=lineage,
            generation=ancestor.generation + 1 if ancestor else 1,
            ancestor_session_code=ancestor.session_code if ancestor else None,
            num_participants=num_participants,
            matching_seed=42,
            **fields,
        )
        store.register_session(manifest)
        return manifest

    return register


def record(participant_code: str, role: str = "row", choice: str = "cooperate",
           advice: str | None = None, **fields) -> dict:
    return dict(participant_code=participant_code, role=role, choice=choice,
                advice=advice if advice is not None else f"advice of {participant_code}", **fields)


@pytest.fixture
def project(tmp_path) -> Path:
    from tests.otree_project import make_project

    return make_project(tmp_path / "project")


ADMIN_PASSWORD = "test-admin-pw"


@pytest.fixture(scope="session")
def otree_asgi_app(tmp_path_factory):
    """oTree's real ASGI app, with the lineage browser mounted, in this process.

    oTree reads its settings once per process, so this app runs with
    OTREE_AUTH_LEVEL=STUDY and an in-memory database; the store it reads is
    whatever OTREE_HISTORY_DIR says at request time (a temp folder per test).
    """
    import os

    from tests.otree_project import make_project

    folder = make_project(tmp_path_factory.mktemp("otree-inprocess") / "project")
    saved_cwd, saved_env = os.getcwd(), dict(os.environ)
    os.chdir(folder)  # oTree opens db.sqlite3 in its working folder
    os.environ.update(OTREE_IN_MEMORY="1", OTREE_AUTH_LEVEL="STUDY", OTREE_ADMIN_PASSWORD=ADMIN_PASSWORD)
    try:
        import otree.main

        otree.main.setup()
        from otree.asgi import app
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return app


@pytest.fixture(scope="session")
def postgres_cluster():
    """A PostgreSQL server for the whole run; skipped on a laptop without PostgreSQL, a
    failure in CI (where scripts/test installs it), so a broken set-up cannot hide."""
    import os

    from tests.postgres import INSTALL_HINT, ThrowawayCluster, postgres_bin

    if postgres_bin() is None:
        if os.environ.get("CI"):
            pytest.fail(INSTALL_HINT)
        pytest.skip(INSTALL_HINT)
    cluster = ThrowawayCluster()
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_env(request, tmp_path):
    """The environment oTree needs for each database backend (SQLite: db.sqlite3 in its folder)."""
    if request.param == "sqlite":
        return {}
    cluster = request.getfixturevalue("postgres_cluster")
    name = f"otree_{tmp_path.name.lower().replace('-', '_').replace('[', '_').replace(']', '')}"[:60]
    return {"DATABASE_URL": cluster.create_database(name)}
