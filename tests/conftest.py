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
