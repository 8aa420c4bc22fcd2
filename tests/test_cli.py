"""python -m history_store, as a script would call it: output and exit codes."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from history_store import HistoryStore, SessionManifest
from tests.conftest import record
from tests.otree_project import PROJECT_ROOT, run_session


def cli(store_root, *args) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "history_store", "--store", str(store_root), *args],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture
def lineage_store(store) -> HistoryStore:
    g1 = SessionManifest("g1code", "A", 1, None, 2, 11, created_at="2026-01-01T09:00:00+00:00",
                         config={"successor_weight": 0.5}, assignment={"a1": {"role": "row", "ancestor_participant_code": None}})
    g2 = SessionManifest("g2code", "A", 2, "g1code", 2, 12, created_at="2026-01-02T09:00:00+00:00")
    empty = SessionManifest("g2empty", "A", 2, "g1code", 2, 13, created_at="2026-01-02T10:00:00+00:00")
    for manifest in (g1, g2, empty):
        store.register_session(manifest)
    store.append_records("g1code", [record("a1", advice="line 1\nline 2", payoff=3), record("a2", "column", payoff=0)])
    store.append_records("g2code", [record("b1", ancestor_session_code="g1code", ancestor_participant_code="a1",
                                           ancestor_advice="line 1\nline 2")])
    return store


def test_list_shows_lineages_sessions_generations_counts_and_damage(lineage_store):
    (lineage_store.session_dir("g2empty") / "session.json").write_text("{not json")
    result = cli(lineage_store.root, "list")
    assert result.returncode == 0, result.stderr
    assert "g1code" in result.stdout and "2/2" in result.stdout
    assert "g2empty" in result.stdout and "DAMAGED" in result.stdout
    assert "1 lineage(s), 3 session(s), 3 record(s)" in result.stdout


def test_show_a_session_and_an_unknown_one(lineage_store):
    result = cli(lineage_store.root, "show", "g2code")
    assert result.returncode == 0 and "generation   2" in result.stdout and "ancestor     g1code" in result.stdout
    unknown = cli(lineage_store.root, "show", "nosuch")
    assert unknown.returncode == 2 and "No session 'nosuch'" in unknown.stderr


def test_export_parquet_and_csv_and_refuse_bad_targets(lineage_store, tmp_path):
    assert cli(lineage_store.root, "export", "A", "-o", str(tmp_path / "a.parquet")).returncode == 0
    table = pq.read_table(tmp_path / "a.parquet")
    assert table.to_pylist() == lineage_store.load_lineage("A").to_pylist()
    assert cli(lineage_store.root, "export", "A", "-o", str(tmp_path / "a.csv")).returncode == 0
    assert (tmp_path / "a.csv").read_text().count("\n") >= 4
    assert cli(lineage_store.root, "export", "A", "-o", str(tmp_path / "a.xlsx")).returncode == 2
    assert cli(lineage_store.root, "export", "Z", "-o", str(tmp_path / "z.parquet")).returncode == 2
    assert not (tmp_path / "z.parquet").exists()


def test_verify_reports_torn_lines_and_stale_snapshots_and_repair_fixes_them(lineage_store):
    lineage_store.load_session("g1code")
    lineage_store.append_records("g1code", [dict(participant_code="a2", payoff=1)])  # snapshot now stale
    journal = lineage_store.session_dir("g2code") / "journal.jsonl"
    with open(journal, "ab") as handle:
        handle.write(b'{"participant_code": "b2", "ro')
    found = cli(lineage_store.root, "verify")
    assert found.returncode == 1
    assert "torn last journal line" in found.stdout and "stale snapshot" in found.stdout
    assert "--repair" in found.stdout
    repaired = cli(lineage_store.root, "verify", "--repair")
    assert repaired.returncode == 0, repaired.stdout
    assert journal.read_bytes().endswith(b"\n") and b'"b2"' not in journal.read_bytes()
    again = cli(lineage_store.root, "verify")
    assert again.returncode == 0 and "0 finding(s)" in again.stdout
    assert [r["payoff"] for r in lineage_store.load_session("g1code").to_pylist()] == [3.0, 1.0]


def test_verify_reports_damage_and_repair_does_not_drop_data(lineage_store):
    journal = lineage_store.session_dir("g1code") / "journal.jsonl"
    damaged = journal.read_bytes() + b"garbage\n" + journal.read_bytes()
    journal.write_bytes(damaged)
    (lineage_store.session_dir("g2code") / "journal.jsonl").write_bytes(
        b'{"participant_code": "b9", "colour": "red"}\n')
    for args in (("verify",), ("verify", "--repair")):
        result = cli(lineage_store.root, *args)
        assert result.returncode == 1
        assert "DAMAGED" in result.stdout and "not valid JSON" in result.stdout and "colour" in result.stdout
    assert journal.read_bytes() == damaged


def test_export_then_import_into_an_empty_store_and_continue_the_lineage(lineage_store, tmp_path, project):
    export = tmp_path / "A.parquet"
    assert cli(lineage_store.root, "export", "A", "-o", str(export)).returncode == 0
    other = tmp_path / "other-server"
    first = cli(other, "import", str(export))
    assert first.returncode == 0 and "Imported 3 new session(s), 3 record(s)" in first.stdout
    imported = HistoryStore(other)
    assert imported.load_lineage("A").to_pylist() == lineage_store.load_lineage("A").to_pylist()
    assert imported.load_manifest("g1code") == lineage_store.load_manifest("g1code")  # seed, config, matching
    assert imported.load_manifest("g2empty").num_participants == 2  # a session without records comes too
    journals = {p: p.read_bytes() for p in other.rglob("journal.jsonl")}
    second = cli(other, "import", str(export))
    assert second.returncode == 0 and "0 new session(s), 0 record(s)" in second.stdout
    assert {p: p.read_bytes() for p in other.rglob("journal.jsonl")} == journals
    assert imported.resolve_latest("A").session_code == "g2code"


@pytest.mark.slow
def test_a_new_generation_follows_an_imported_lineage_under_otree(lineage_store, tmp_path, project):
    export = tmp_path / "A.parquet"
    cli(lineage_store.root, "export", "A", "-o", str(export))
    other = tmp_path / "other-server"
    cli(other, "import", str(export))
    # g2code has only a row record: the latest session with both roles is g1code, given by its code
    result = run_session(project, other, participants=2, lineage="A", ancestor_session="g1code")
    assert result.code, result.output
    assert HistoryStore(other).load_manifest(result.code).generation == 2
    rows = HistoryStore(other).load_session(result.code).to_pylist()
    assert {r["ancestor_participant_code"] for r in rows} == {"a1", "a2"}


def test_a_plain_file_of_rows_imports_with_rebuilt_manifests(lineage_store, tmp_path):
    plain = tmp_path / "plain.parquet"
    pq.write_table(lineage_store.load_lineage("A").replace_schema_metadata(None), plain)
    other = tmp_path / "other"
    result = cli(other, "import", str(plain))
    assert result.returncode == 0, result.stderr
    rebuilt = HistoryStore(other).load_manifest("g2code")
    assert (rebuilt.generation, rebuilt.ancestor_session_code, rebuilt.lineage) == (2, "g1code", "A")
    assert HistoryStore(other).load_lineage("A").to_pylist() == lineage_store.load_lineage("A").to_pylist()


def test_import_reports_conflicts_and_keeps_what_the_store_holds(lineage_store, tmp_path):
    export = tmp_path / "A.parquet"
    cli(lineage_store.root, "export", "A", "-o", str(export))
    lineage_store.append_records("g1code", [record("a1", choice="defect", advice="changed")])
    result = cli(lineage_store.root, "import", str(export))
    assert result.returncode == 1 and "participant a1 differs" in result.stderr
    assert lineage_store.load_session("g1code").to_pylist()[0]["advice"] == "changed"


@pytest.mark.parametrize("content", [b"not parquet", None])
def test_import_refuses_a_file_that_is_not_an_export(tmp_path, content):
    path = tmp_path / "bad.parquet"
    if content is None:
        pq.write_table(pa.table({"x": [1, 2]}), path)
    else:
        path.write_bytes(content)
    result = cli(tmp_path / "store", "import", str(path))
    assert result.returncode == 2 and "error:" in result.stderr
    assert not (tmp_path / "store").exists() or not list((tmp_path / "store").rglob("session.json"))


def test_importing_a_later_more_complete_export_adds_the_payoffs(store, tmp_path):
    store.register_session(SessionManifest("mid", "A", 1, None, 2, 1))
    store.append_records("mid", [record("a1"), record("a2", "column")])
    early = tmp_path / "early.parquet"
    assert cli(store.root, "export", "A", "-o", str(early)).returncode == 0
    store.append_records("mid", [dict(participant_code="a1", payoff=3), dict(participant_code="a2", payoff=0)])
    late = tmp_path / "late.parquet"
    assert cli(store.root, "export", "A", "-o", str(late)).returncode == 0
    other = tmp_path / "other"
    assert cli(other, "import", str(early)).returncode == 0
    result = cli(other, "import", str(late))
    assert result.returncode == 0 and "2 record(s)" in result.stdout, result.stdout + result.stderr
    assert [r["payoff"] for r in HistoryStore(other).load_session("mid").to_pylist()] == [3.0, 0.0]
    assert cli(other, "import", str(early)).returncode == 0  # the earlier file adds nothing, conflicts with nothing
    assert [r["payoff"] for r in HistoryStore(other).load_session("mid").to_pylist()] == [3.0, 0.0]
