from __future__ import annotations

import subprocess
import sys
from collections import Counter

from tests.otree_project import PROJECT_ROOT

APPENDER = """
import sys
from history_store import HistoryStore
store, code, prefix, count = HistoryStore(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
for i in range(count):
    pair = [dict(participant_code=f"{prefix}{i}a", role="row", choice="cooperate", advice=f"{prefix} {i}"),
            dict(participant_code=f"{prefix}{i}b", role="column", choice="defect", advice=f"{prefix} {i}")]
    store.append_records(code, pair)
    store.append_records(code, [dict(participant_code=f"{prefix}{i}a", payoff=0)])
"""


def test_two_processes_appending_to_one_session_lose_and_duplicate_nothing(store, new_session):
    m = new_session()
    count = 150
    writers = [
        subprocess.Popen([sys.executable, "-c", APPENDER, str(store.root), m.session_code, prefix, str(count)],
                         cwd=PROJECT_ROOT)
        for prefix in ("x", "y")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]

    rows = store.load_session(m.session_code).to_pylist()
    codes = Counter(r["participant_code"] for r in rows)
    expected = {f"{p}{i}{s}" for p in "xy" for i in range(count) for s in "ab"}
    assert set(codes) == expected and max(codes.values()) == 1
    assert all(r["payoff"] == 0.0 for r in rows if r["participant_code"].endswith("a"))
    journal = (store.session_dir(m.session_code) / "journal.jsonl").read_bytes()
    assert journal.count(b"\n") == 2 * count * 3  # every line whole: no interleaved writes
