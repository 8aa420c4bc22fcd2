from __future__ import annotations

import json
from datetime import datetime, timezone

import pyarrow.parquet as pq
import pytest

from history_store import (
    RECORD_SCHEMA,
    CorruptStoreError,
    InvalidAdviceError,
    InvalidNameError,
    InvalidRecordError,
    NoAncestorError,
    SessionExistsError,
    SessionNotFoundError,
    StoreNotWritableError,
)
from tests.conftest import record


def session_files(store, code):
    return store.session_dir(code)


def test_register_lays_out_hive_folders_with_manifest_and_empty_journal(store, new_session):
    manifest = new_session("abc123", lineage="treatment_A")
    folder = store.root / "lineage=treatment_A" / "session=abc123"
    assert folder.is_dir()
    assert (folder / "journal.jsonl").read_bytes() == b""
    saved = json.loads((folder / "session.json").read_text())
    assert saved["session_code"] == "abc123"
    assert saved["lineage"] == "treatment_A"
    assert saved["generation"] == 1
    assert saved["ancestor_session_code"] is None
    assert saved["matching_seed"] == manifest.matching_seed
    assert {"created_at", "config", "schema_version"} <= set(saved)
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".staging")]


def test_register_refuses_a_code_already_in_the_store(store, new_session):
    new_session("abc123")
    with pytest.raises(SessionExistsError):
        new_session("abc123", lineage="other")


@pytest.mark.parametrize("name", ["", "../x", "a/b", "a b", "x" * 65, "é", "a\x00"])
def test_invalid_lineage_names_are_refused(new_session, name):
    with pytest.raises(InvalidNameError, match="lineage name"):
        new_session(lineage=name)


@pytest.mark.parametrize("code", ["..", "../../etc", "a/b", "", "%2e%2e", "a\x00"])
def test_session_codes_that_leave_the_store_are_refused(store, code):
    with pytest.raises(InvalidNameError):
        store.session_dir(code)


def test_unknown_session_raises_session_not_found(store):
    with pytest.raises(SessionNotFoundError, match="nosuch"):
        store.load_session("nosuch")


def test_append_then_load_gives_one_row_per_participant_with_the_record_schema(store, new_session):
    m = new_session()
    store.append_records(m.session_code, [record("p1"), record("p2", "column", "defect")])
    table = store.load_session(m.session_code)
    assert table.schema.remove_metadata() == RECORD_SCHEMA.remove_metadata()
    rows = table.to_pylist()
    assert [r["participant_code"] for r in rows] == ["p1", "p2"]
    assert rows[1]["role"] == "column" and rows[1]["choice"] == "defect"
    assert all(r["payoff"] is None for r in rows)
    assert all(r["session_code"] == m.session_code and r["lineage"] == "L" and r["generation"] == 1 for r in rows)
    assert all(r["recorded_at"].tzinfo is not None for r in rows)


def test_completing_entry_fills_payoff_without_duplicating_or_moving_recorded_at(store, new_session):
    m = new_session()
    store.append_records(m.session_code, [record("p1")])
    first = store.load_session(m.session_code).to_pylist()[0]
    store.append_records(m.session_code, [dict(participant_code="p1", payoff=3)])
    rows = store.load_session(m.session_code).to_pylist()
    assert len(rows) == 1
    assert rows[0]["payoff"] == 3.0
    assert rows[0]["advice"] == "advice of p1"
    assert rows[0]["recorded_at"] == first["recorded_at"]
    assert rows[0]["completed_at"] is not None


def test_append_replaces_record_when_participant_repeats(store, new_session):
    m = new_session()
    store.append_records(m.session_code, [record("p1", choice="cooperate")])
    store.append_records(m.session_code, [record("p1", choice="defect")])
    store.append_records(m.session_code, [record("p1", choice="defect")])
    rows = store.load_session(m.session_code).to_pylist()
    assert [(r["participant_code"], r["choice"]) for r in rows] == [("p1", "defect")]


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(role="boss"), "role"),
        (dict(choice="maybe"), "choice"),
        (dict(payoff=float("nan")), "payoff"),
        (dict(payoff="3"), "payoff"),
        (dict(color="red"), "Unknown record field"),
        (dict(participant_code=""), "participant_code"),
        (dict(recorded_at=datetime(2024, 1, 1)), "timezone"),
    ],
)
def test_invalid_records_are_refused_and_nothing_is_written(store, new_session, bad, message):
    m = new_session()
    with pytest.raises(InvalidRecordError, match=message):
        store.append_records(m.session_code, [record("ok"), {**record("p1"), **bad}])
    assert store.read_records(m.session_code) == []


@pytest.mark.parametrize("advice", ["", "  padded  ", "a\r\nb", "x" * 1001, "nul\x00"])
def test_advice_not_as_accepted_is_refused(store, new_session, advice):
    m = new_session()
    with pytest.raises(InvalidRecordError):
        store.append_records(m.session_code, [record("p1", advice=advice)])


def test_invalid_advice_error_is_an_invalid_record_error():
    assert issubclass(InvalidAdviceError, InvalidRecordError)


def test_snapshot_is_rebuilt_when_stale_and_reused_when_fresh(store, new_session):
    m = new_session()
    snapshot = store.session_dir(m.session_code) / "history.parquet"
    store.append_records(m.session_code, [record("p1")])
    assert not snapshot.exists()  # nothing but the journal on the participant's path
    assert store.load_session(m.session_code).num_rows == 1
    built = snapshot.stat().st_mtime_ns
    store.load_session(m.session_code)
    assert snapshot.stat().st_mtime_ns == built  # fresh: not rewritten
    store.append_records(m.session_code, [record("p2", "column")])
    assert store.load_session(m.session_code).num_rows == 2  # stale: rebuilt
    assert pq.read_table(snapshot).num_rows == 2


def test_background_snapshot_is_written_once_every_participant_is_complete(store, new_session):
    m = new_session(num_participants=2)
    snapshot = store.session_dir(m.session_code) / "history.parquet"
    store.append_records(m.session_code, [record("p1"), record("p2", "column")])
    store.append_records(m.session_code, [dict(participant_code="p1", payoff=1)])
    store.schedule_snapshot(m.session_code).result()
    assert not snapshot.exists()  # one participant still incomplete
    store.append_records(m.session_code, [dict(participant_code="p2", payoff=5)])
    store.schedule_snapshot(m.session_code).result()
    assert pq.read_table(snapshot).column("payoff").to_pylist() == [1.0, 5.0]


def test_torn_last_line_is_ignored_by_readers_and_cut_by_the_next_writer(store, new_session):
    m = new_session()
    journal = store.session_dir(m.session_code) / "journal.jsonl"
    store.append_records(m.session_code, [record("p1")])
    intact = journal.read_bytes()
    with open(journal, "ab") as handle:
        handle.write(b'{"participant_code":"p2","role":"col')  # a crash mid-write
    assert [r["participant_code"] for r in store.load_session(m.session_code).to_pylist()] == ["p1"]
    store.append_records(m.session_code, [record("p3", "column")])
    lines = journal.read_bytes()
    assert lines.startswith(intact) and b'"p2"' not in lines
    assert all(json.loads(line) for line in lines.splitlines())
    assert [r["participant_code"] for r in store.load_session(m.session_code).to_pylist()] == ["p1", "p3"]


def test_a_damaged_line_before_the_last_is_reported_as_corrupt(store, new_session):
    m = new_session()
    journal = store.session_dir(m.session_code) / "journal.jsonl"
    store.append_records(m.session_code, [record("p1")])
    with open(journal, "ab") as handle:
        handle.write(b"not json\n")
    store.append_records(m.session_code, [record("p2")])
    with pytest.raises(CorruptStoreError, match="line 2"):
        store.load_session(m.session_code)


def test_manifest_contradicting_its_folder_is_corrupt_and_left_out_of_listings(store, new_session):
    m = new_session("abc123", lineage="A")
    manifest_path = store.session_dir("abc123") / "session.json"
    data = json.loads(manifest_path.read_text())
    data["lineage"] = "B"
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(CorruptStoreError, match="lineage=B"):
        store.load_manifest(m.session_code)
    assert store.list_sessions() == []


def test_list_lineages_and_sessions(store, new_session):
    a1 = new_session(lineage="A")
    new_session(lineage="B")
    a2 = new_session(lineage="A", ancestor=a1)
    assert store.list_lineages() == ["A", "B"]
    assert [m.session_code for m in store.list_sessions("A")] == [a1.session_code, a2.session_code]
    assert len(store.list_sessions()) == 3


def test_latest_is_the_newest_non_demo_session_with_records(store, new_session):
    first = new_session(created_at="2026-01-01T10:00:00+00:00")
    store.append_records(first.session_code, [record("p1")])
    second = new_session(created_at="2026-01-02T10:00:00+00:00", ancestor=first)
    store.append_records(second.session_code, [record("p2")])
    demo = new_session(created_at="2026-01-03T10:00:00+00:00", ancestor=second, is_demo=True)
    store.append_records(demo.session_code, [record("p3")])
    new_session(created_at="2026-01-04T10:00:00+00:00", ancestor=second)  # no records yet
    new_session(lineage="other", created_at="2026-01-05T10:00:00+00:00")
    assert store.resolve_latest("L").session_code == second.session_code
    store.exclude_session(second.session_code, "pilot")
    assert store.resolve_latest("L").session_code == first.session_code
    store.include_session(second.session_code)
    assert store.resolve_latest("L").session_code == second.session_code


def test_latest_without_any_session_with_records_says_to_run_a_first_generation(store, new_session):
    new_session()
    with pytest.raises(NoAncestorError, match="first generation"):
        store.resolve_latest("L")


def test_lineage_batches_cover_every_generation_in_order(store, new_session):
    g1 = new_session()
    g2 = new_session(ancestor=g1)
    store.append_records(g2.session_code, [record("b1")])
    store.append_records(g1.session_code, [record("a1"), record("a2", "column")])
    table = store.load_lineage("L")
    assert table.column("generation").to_pylist() == [1, 1, 2]
    assert table.column("participant_code").to_pylist() == ["a1", "a2", "b1"]


def test_unwritable_store_raises_store_not_writable_with_advice(tmp_path):
    from history_store import HistoryStore

    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = HistoryStore(blocker / "history")  # a path under a regular file cannot exist
    with pytest.raises(StoreNotWritableError, match="OTREE_HISTORY_DIR"):
        store.check_writable()


def test_explicit_timestamps_are_kept(store, new_session):
    m = new_session()
    when = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
    store.append_records(m.session_code, [record("p1", recorded_at=when)])
    assert store.load_session(m.session_code).to_pylist()[0]["recorded_at"] == when


def test_session_statuses_follow_every_change_of_a_session(store, new_session):
    m = new_session()
    assert store.session_statuses()[0].num_records == 0
    store.append_records(m.session_code, [record("p1")])
    assert store.session_statuses()[0].num_records == 1
    (store.session_dir(m.session_code) / "journal.jsonl").write_bytes(b"garbage\n{}\n")
    assert store.session_statuses()[0].is_damaged
