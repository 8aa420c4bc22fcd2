"""Crashes: SIGKILL mid-append, a journal cut at every byte of its last line, and a
crash between the snapshot's temp write and its os.replace. No acknowledged record
is ever lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from history_store import SessionManifest, verify_store
from tests.conftest import record
from tests.figures import record_figure
from tests.otree_project import PROJECT_ROOT

KILLS = 50

APPENDER = """
import sys
from history_store import HistoryStore
store, code, start = HistoryStore(sys.argv[1]), sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
i = start
while True:
    store.append_records(code, [dict(participant_code=f"p{i}", role="row", choice="cooperate", advice=f"advice {i}")])
    print(i, flush=True)  # only after append_records returned: the record is acknowledged
    i += 1
"""


def test_sigkill_mid_append_never_loses_an_acknowledged_record(store, new_session):
    m = new_session()
    rng = random.Random(2026)
    acknowledged: set[str] = set()
    next_index = 0
    for _ in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", APPENDER, str(store.root), m.session_code, str(next_index)],
                                 cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.03))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        indexes = [int(line) for line in out.split()]
        acknowledged.update(f"p{i}" for i in indexes)
        next_index = (max(indexes) + 2) if indexes else next_index + 1  # never reuse an unacknowledged code

        present = {r["participant_code"] for r in store.read_records(m.session_code)}
        assert acknowledged <= present
        report = verify_store(store)
        assert not [f for f in report.findings if f.is_damage], report.findings
    store.append_records(m.session_code, [record("after-the-crashes")])
    present = {r["participant_code"] for r in store.read_records(m.session_code)}
    assert acknowledged | {"after-the-crashes"} <= present
    assert len(acknowledged) > KILLS  # the children did real work between kills
    record_figure("sigkill", kills=KILLS, acknowledged_records=len(acknowledged), records_present=len(present))


def test_a_journal_cut_at_every_byte_of_its_last_line_reads_and_repairs(store, new_session):
    m = new_session()
    journal = store.session_dir(m.session_code) / "journal.jsonl"
    store.append_records(m.session_code, [record("p1"), record("p2", "column")])
    intact = journal.read_bytes()
    store.append_records(m.session_code, [record("p3", advice="ünïcødé 🙂 last line")])
    full = journal.read_bytes()
    for cut in range(len(intact), len(full)):
        journal.write_bytes(full[:cut])
        assert [r["participant_code"] for r in store.read_records(m.session_code)] == ["p1", "p2"]
        findings = verify_store(store).findings
        assert [f.problem.startswith("torn") for f in findings if not f.problem.endswith("snapshot yet")] == (
            [True] if cut > len(intact) else [])
        store.append_records(m.session_code, [record("p4")])
        assert journal.read_bytes() == intact + journal.read_bytes()[len(intact):]
        assert [r["participant_code"] for r in store.read_records(m.session_code)] == ["p1", "p2", "p4"]
        journal.write_bytes(full)
    record_figure("torn-journal", cut_positions=len(full) - len(intact))


SNAPSHOT_CRASH = """
import os, signal, sys
from history_store import HistoryStore
import history_store._files as files
store = HistoryStore(sys.argv[1])
files.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)  # die between temp write and replace
store.refresh_snapshot(sys.argv[2])
"""


def test_a_crash_between_the_snapshot_temp_write_and_replace_leaves_the_old_snapshot(store, new_session):
    m = new_session()
    store.append_records(m.session_code, [record("p1")])
    store.load_session(m.session_code)
    folder = store.session_dir(m.session_code)
    old_snapshot = (folder / "history.parquet").read_bytes()
    store.append_records(m.session_code, [record("p2", "column")])
    child = subprocess.run([sys.executable, "-c", SNAPSHOT_CRASH, str(store.root), m.session_code],
                           cwd=PROJECT_ROOT, timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert (folder / "history.parquet").read_bytes() == old_snapshot
    leftovers = list(folder.glob(".*.tmp"))
    assert len(leftovers) == 1 and [p.name for p in folder.glob("*.parquet")] == ["history.parquet"]
    assert [r["participant_code"] for r in store.load_session(m.session_code).to_pylist()] == ["p1", "p2"]
    old = time.time() - 3600
    os.utime(leftovers[0], (old, old))
    assert any("leftover temp file" in f.problem for f in verify_store(store).findings)
    assert verify_store(store, repair=True).clean and not list(folder.glob(".*.tmp"))


WRITER = """
import sys
from history_store import HistoryStore
store, prefix, count = HistoryStore(sys.argv[1]), sys.argv[2], int(sys.argv[4])
codes = sys.argv[3].split(",")
for i in range(count):
    code = codes[i % len(codes)]
    store.append_records(code, [dict(participant_code=f"{prefix}-{i}", role="row", choice="defect", advice=f"{prefix} {i}")])
"""


@pytest.mark.parametrize("sessions", [1, 4], ids=["one-session", "four-sessions-of-a-lineage"])
def test_four_processes_times_250_appends(store, new_session, sessions):
    codes = [new_session().session_code for _ in range(sessions)]
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(store.root), f"w{n}", ",".join(codes), "250"],
                                cwd=PROJECT_ROOT) for n in range(4)]
    assert [w.wait(timeout=300) for w in writers] == [0] * 4
    seen = []
    for code in codes:
        journal_rows = store.read_records(code)
        snapshot_rows = store.load_session(code).to_pylist()
        assert [r["participant_code"] for r in snapshot_rows] == [r["participant_code"] for r in journal_rows]
        seen.extend(r["participant_code"] for r in snapshot_rows)
    assert sorted(seen) == sorted(f"w{n}-{i}" for n in range(4) for i in range(250))
    assert verify_store(store, repair=True).clean
    record_figure(f"concurrent-writers-{sessions}", processes=4, appends_each=250, records=len(seen))


REGISTRAR = """
import sys
from history_store import HistoryStore, SessionManifest
store = HistoryStore(sys.argv[1])
for i in range(40):
    code = f"race{i:03d}"
    store.register_session(SessionManifest(code, "L", 2, "base", 2, i))
    store.append_records(code, [dict(participant_code=f"{code}-a", role="row", choice="defect", advice="a")])
"""


def test_registration_and_latest_racing_with_appends_stay_consistent(store):
    store.register_session(SessionManifest("base", "L", 1, None, 2, 0, created_at="2020-01-01T00:00:00+00:00"))
    store.append_records("base", [record("b1")])
    registrar = subprocess.Popen([sys.executable, "-c", REGISTRAR, str(store.root)], cwd=PROJECT_ROOT)
    resolved = []
    while registrar.poll() is None:
        latest = store.resolve_latest("L")
        # never a half-registered session, never one without records
        assert store.read_records(latest.session_code)
        resolved.append(latest.session_code)
    assert registrar.returncode == 0
    assert store.resolve_latest("L").session_code == "race039"
    assert len(store.list_sessions("L")) == 41 and not [f for f in verify_store(store).findings if f.is_damage]
    assert resolved
