"""python -m history_store backup / restore: one archive of the whole store, taken while
records arrive, restored exactly; merges never lose or double a record."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import time

import pytest

from history_store import HistoryStore, SessionManifest, verify_store
from tests.conftest import record
from tests.otree_project import PROJECT_ROOT
from tests.test_cli import cli


def files_of(root) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


def filled(store: HistoryStore) -> HistoryStore:
    store.register_session(SessionManifest("g1code", "A", 1, None, 2, 11))
    store.append_records("g1code", [record("a1", payoff=3), record("a2", "column", advice="ünï\ncødé 🙂", payoff=0)])
    store.load_session("g1code")
    store.register_session(SessionManifest("g2code", "A", 2, "g1code", 2, 12))
    store.append_records("g2code", [record("b1")])
    store.register_session(SessionManifest("pilot", "B", 1, None, 2, 13))
    store.exclude_session("pilot", "pilot run")
    return store


def test_backup_then_restore_into_an_empty_store_gives_the_same_store(store, tmp_path):
    filled(store)
    archive = tmp_path / "backup.tar"
    result = cli(store.root, "backup", str(archive))
    assert result.returncode == 0 and "3 session(s), 3 record(s)" in result.stdout
    with tarfile.open(archive) as tar:
        assert "backup-manifest.json" in tar.getnames()
    restored = tmp_path / "restored"
    assert cli(restored, "restore", str(archive)).returncode == 0
    assert files_of(restored) == files_of(store.root)
    assert HistoryStore(restored).excluded_sessions("B")["pilot"].reason == "pilot run"


def test_restore_into_a_non_empty_store_needs_merge_and_merge_adds_only_what_is_missing(store, tmp_path):
    filled(store)
    archive = tmp_path / "backup.tar"
    cli(store.root, "backup", str(archive))
    other = HistoryStore(tmp_path / "other")
    other.register_session(store.load_manifest("g1code"))  # the same session, with fewer records
    other.append_records("g1code", [store.read_records("g1code")[0]])
    refused = cli(other.root, "restore", str(archive))
    assert refused.returncode == 1 and "not empty" in refused.stderr
    merged = cli(other.root, "restore", str(archive), "--merge")
    assert merged.returncode == 0, merged.stderr
    assert sorted(r["participant_code"] for r in other.read_records("g1code")) == ["a1", "a2"]
    assert [r["participant_code"] for r in other.read_records("g2code")] == ["b1"]
    again = cli(other.root, "restore", str(archive), "--merge")
    assert again.returncode == 0
    assert sorted(r["participant_code"] for r in other.read_records("g1code")) == ["a1", "a2"]  # never doubled
    assert (other.session_dir("g1code") / "journal.jsonl").read_bytes().count(b"\n") == 2


def test_a_merge_that_would_change_a_record_is_refused_with_a_report(store, tmp_path):
    filled(store)
    archive = tmp_path / "backup.tar"
    cli(store.root, "backup", str(archive))
    other = HistoryStore(tmp_path / "other")
    other.register_session(store.load_manifest("g1code"))
    other.append_records("g1code", [record("a1", choice="defect", payoff=1)])
    before = files_of(other.root)
    result = cli(other.root, "restore", str(archive), "--merge")
    assert result.returncode == 1 and "participant a1 differs" in result.stderr and "nothing was changed" in result.stderr
    assert files_of(other.root) == before


def test_a_tampered_backup_is_refused(store, tmp_path):
    filled(store)
    archive = tmp_path / "backup.tar"
    cli(store.root, "backup", str(archive))
    data = archive.read_bytes().replace(b"advice of a1", b"advice of XX")
    archive.write_bytes(data)
    result = cli(tmp_path / "restored", "restore", str(archive))
    assert result.returncode == 2 and "checksum" in result.stderr


APPENDER = """
import sys, time
from history_store import HistoryStore
store, code = HistoryStore(sys.argv[1]), sys.argv[2]
i = 0
while True:
    store.append_records(code, [dict(participant_code=f"live{i}", role="row", choice="cooperate", advice=f"live {i}")])
    print(i, flush=True)
    i += 1
    time.sleep(0.001)
"""


def test_a_backup_taken_while_records_arrive_holds_every_record_acknowledged_before_it(store, tmp_path):
    filled(store)
    store.register_session(SessionManifest("live", "A", 3, "g2code", 1000, 14))
    writer = subprocess.Popen([sys.executable, "-u", "-c", APPENDER, str(store.root), "live"], cwd=PROJECT_ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        while int(writer.stdout.readline()) < 50:
            pass
        acknowledged_before = {r["participant_code"] for r in store.read_records("live")}
        archive = tmp_path / "during.tar"
        result = cli(store.root, "backup", str(archive))
        assert result.returncode == 0, result.stderr
        time.sleep(0.1)
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    restored = HistoryStore(tmp_path / "restored")
    assert cli(restored.root, "restore", str(archive)).returncode == 0
    report = verify_store(restored, repair=True)
    assert not [f for f in report.findings if f.is_damage], report.findings
    assert acknowledged_before <= {r["participant_code"] for r in restored.read_records("live")}


@pytest.mark.slow
def test_backups_taken_while_an_otree_generation_plays_restore_clean(project, tmp_path):
    import threading

    from tests.otree_project import run_session

    store = HistoryStore(tmp_path / "history")
    first = run_session(project, store.root, participants=4)
    result: dict = {}
    playing = threading.Thread(target=lambda: result.update(run=run_session(
        project, store.root, participants=40, ancestor_session=first.code)))
    playing.start()
    backups = []
    while playing.is_alive() or not backups:
        before = {m.session_code: {r["participant_code"] for r in store.read_records(m.session_code)}
                  for m in store.list_sessions()}
        archive = tmp_path / f"during-{len(backups)}.tar"
        assert cli(store.root, "backup", str(archive)).returncode == 0
        backups.append((archive, before))
        time.sleep(1.0)
    playing.join()
    assert result["run"].code, result["run"].output
    for index, (archive, before) in enumerate(backups):
        restored = HistoryStore(tmp_path / f"restored-{index}")
        assert cli(restored.root, "restore", str(archive)).returncode == 0
        assert not [f for f in verify_store(restored, repair=True).findings if f.is_damage]
        for code, participants in before.items():
            assert participants <= {r["participant_code"] for r in restored.read_records(code)}
    assert len(backups) >= 2


def test_stray_folders_neither_break_listings_nor_make_a_backup_unrestorable(store, tmp_path):
    filled(store)
    import shutil

    shutil.copytree(store.root / "lineage=A", store.root / "lineage=A.old")
    shutil.copytree(store.session_dir("g1code"), store.root / "lineage=A" / "session=g1code.bak")
    assert store.list_lineages() == ["A", "B"]
    assert any(s.is_damaged and s.session_code == "g1code.bak" for s in store.session_statuses())
    archive = tmp_path / "backup.tar"
    assert cli(store.root, "backup", str(archive)).returncode == 0
    restored = HistoryStore(tmp_path / "restored")
    assert cli(restored.root, "restore", str(archive)).returncode == 0
    assert sorted(m.session_code for m in restored.list_sessions()) == ["g1code", "g2code", "pilot"]
