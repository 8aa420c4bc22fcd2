"""Matching 1,000 participants to a 1,000-record ancestor: load the ancestor's records
from the store and match, as creating_session does."""

from __future__ import annotations

import time
from pathlib import Path

from history_store import AncestorCandidate, HistoryStore, SessionManifest, match_ancestors

from .appends import record
from .timing import Timings


def bench_matching(workdir: Path, participants: int, runs: int) -> Timings:
    store = HistoryStore(workdir / f"matching-{participants}")
    store.register_session(SessionManifest("ancestor", "bench", 1, None, participants, 1))
    store.append_records("ancestor", [dict(record(i), role=("row", "column")[i % 2]) for i in range(participants)])
    players = {f"new{i:05d}": ("row", "column")[i % 2] for i in range(participants)}
    samples = []
    for run in range(runs):
        started = time.perf_counter()
        candidates = [AncestorCandidate(r["participant_code"], r["role"], r["advice"])
                      for r in HistoryStore(store.root).read_records("ancestor")]  # a fresh store: no cache
        match_ancestors(players, candidates, seed=run)
        samples.append(time.perf_counter() - started)
    return Timings(samples)
