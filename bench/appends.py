"""Record append: the store against the seed's side table, the tuned side table and the
raw floor (one 650-byte line appended with fsync), in sessions of 10, 100, 1,000 records."""

from __future__ import annotations

import os
from pathlib import Path

from history_store import HistoryStore, SessionManifest

from .sidetable import PlayerHistory, SideTable
from .timing import Timings, interleaved

ADVICE = ("Cooperate in the first round and keep cooperating unless the other defects; "
          "if they defect, defect once, then go back to cooperating. ") * 3  # a realistic ~400 characters
LINE = (b"x" * 649) + b"\n"  # the floor: one 650-byte line


def record(i: int) -> dict:
    return dict(participant_code=f"p{i:07d}", role="row", choice="cooperate", advice=ADVICE.strip(),
                ancestor_session_code="ancestor1", ancestor_participant_code="a0000001",
                ancestor_advice=ADVICE.strip(), group_id=i // 2 + 1, id_in_group=i % 2 + 1)


def bench_appends(workdir: Path, size: int, samples: int) -> dict[str, Timings]:
    """Each contender first holds `size` records, then appends `samples` more, interleaved."""
    store = HistoryStore(workdir / f"store-{size}")
    code = f"bench{size}"
    store.register_session(SessionManifest(code, "bench", 1, None, size + samples, 1))
    for start in range(0, size, 500):
        store.append_records(code, [record(i) for i in range(start, min(size, start + 500))])
    seed = SideTable(workdir / f"seed-{size}.sqlite3", tuned=False)
    wal = SideTable(workdir / f"wal-{size}.sqlite3", tuned=True)
    for table in (seed, wal):
        session = table.Session()
        session.bulk_save_objects([PlayerHistory(session_id=1, participant_id=i, role_type=1, choice=1, advice=ADVICE)
                                   for i in range(size)])
        session.commit()
        session.close()
    floor_fd = os.open(workdir / f"floor-{size}.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def floor(_: int) -> None:
        os.write(floor_fd, LINE)
        os.fsync(floor_fd)

    try:
        return interleaved({
            "lineage store": lambda i: store.append_records(code, [record(size + i)]),
            "seed side table": lambda i: seed.add_player_history(2, size + i, ADVICE),
            "side table, WAL": lambda i: wal.add_player_history(2, size + i, ADVICE),
            "fsync floor": floor,
        }, samples)
    finally:
        os.close(floor_fd)
