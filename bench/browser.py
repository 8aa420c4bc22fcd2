"""/lineage/ with 1,000 sessions in 10 lineages, and a 100,000-record lineage download
(time to the last byte, and how much the server's peak memory grows)."""

from __future__ import annotations

import os
import time
from pathlib import Path


from history_store import HistoryStore, SessionManifest, open_default_store

from .appends import record
from .timing import Timings


def fill_lineages(store: HistoryStore, lineages: int, sessions_each: int, records_each: int,
                  prefix: str = "l") -> list[str]:
    """Chains of sessions with fresh snapshots; returns the lineage names."""
    names = []
    for lineage in range(lineages):
        previous = None
        names.append(f"{prefix}lineage{lineage:02d}")
        for generation in range(1, sessions_each + 1):
            code = f"{prefix}{lineage:02d}g{generation:04d}"
            store.register_session(SessionManifest(code, names[-1], generation, previous,
                                                   records_each, generation,
                                                   created_at=f"2026-01-01T00:00:{generation % 60:02d}+00:00"))
            store.append_records(code, [dict(record(i), participant_code=f"{code}-{i}", payoff=3.0,
                                             choice=("cooperate", "defect")[(i + generation) % 2])
                                        for i in range(records_each)])
            store.load_session(code)  # as after the session: its snapshot is fresh
            previous = code
    return names


def bench_overview(client, runs: int) -> tuple[Timings, float]:
    """(warm timings, the first, cold, request's seconds)."""
    started = time.perf_counter()
    first = client.get("/lineage/")
    cold = time.perf_counter() - started
    assert first.status_code == 200
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get("/lineage/")
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200
    return Timings(samples), cold


def store_for_env(root: Path) -> HistoryStore:
    os.environ["OTREE_HISTORY_DIR"] = str(root)
    return open_default_store()
