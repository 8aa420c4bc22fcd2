"""verify: manifest, journal and snapshot agree; records are well-formed; ancestors exist.

With repair, what can be fixed without losing an acknowledged record is fixed: a
torn last line is cut (it was never acknowledged), a stale or unreadable snapshot
is rebuilt from the journal, and stale temp files are removed. Damage to the
journal or the manifest is reported, never "fixed" by dropping data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from ._errors import CorruptStoreError, InvalidRecordError
from ._journal import read_journal, repair_torn_tail
from ._manifest import MANIFEST_NAME, read_manifest
from ._records import check_entry
from ._snapshot import SNAPSHOT_NAME, journal_bytes_of, read_snapshot_schema

if TYPE_CHECKING:
    from ._store import HistoryStore

TEMP_FILE_AGE_SECONDS: Final = 600  # younger temp files may belong to a writer at work


@dataclass(frozen=True)
class Finding:
    where: str
    problem: str
    repaired: bool = False
    is_damage: bool = False  # cannot be repaired without a person deciding


@dataclass
class VerifyReport:
    sessions: int = 0
    records: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return all(f.repaired for f in self.findings)


def verify_store(store: HistoryStore, *, repair: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    from ._store import JOURNAL_NAME

    report = VerifyReport()
    folders = [f for lineage in store.list_lineages() for f in sorted(store.lineage_dir(lineage).glob("session=*"))]
    known = {f.name.removeprefix("session=") for f in folders}
    for index, folder in enumerate(folders, start=1):
        report.sessions += 1
        where = f"{folder.parent.name}/{folder.name}"

        def found(problem: str, *, repaired: bool = False, damage: bool = False) -> None:
            report.findings.append(Finding(where, problem, repaired, damage))

        try:
            manifest = read_manifest(folder / MANIFEST_NAME)
            if (folder.parent.name, folder.name) != (f"lineage={manifest.lineage}", f"session={manifest.session_code}"):
                raise CorruptStoreError(f"the manifest describes lineage={manifest.lineage}/session={manifest.session_code}")
        except CorruptStoreError as exc:
            found(f"manifest: {exc}", damage=True)
            continue
        if manifest.ancestor_session_code and manifest.ancestor_session_code not in known:
            found(f"ancestor session {manifest.ancestor_session_code} is not in the store", damage=True)

        journal = folder / JOURNAL_NAME
        try:
            contents = read_journal(journal)
        except (CorruptStoreError, OSError) as exc:
            found(f"journal: {exc}", damage=True)
            continue
        if contents.torn_tail_bytes:
            repaired = False
            if repair:
                with store.folder_lock(folder):
                    repair_torn_tail(journal)
                repaired = True
            found(f"torn last journal line ({contents.torn_tail_bytes} bytes, never acknowledged)", repaired=repaired)
        bad_entries = []
        for number, entry in enumerate(contents.entries, start=1):
            try:
                check_entry(entry, stamp=False)
            except InvalidRecordError as exc:
                bad_entries.append(f"line {number}: {exc}")
        if bad_entries:
            found("journal entries: " + "; ".join(bad_entries), damage=True)
            continue
        report.records += len({e["participant_code"] for e in contents.entries})

        snapshot = folder / SNAPSHOT_NAME
        problem = None
        if not snapshot.exists():
            problem = "no snapshot yet" if contents.entries else None
        else:
            try:
                if journal_bytes_of(read_snapshot_schema(snapshot)) != journal.stat().st_size:
                    problem = "stale snapshot (the journal has more)"
            except CorruptStoreError as exc:
                problem = f"snapshot: {exc}"
        if problem:
            if repair:
                store.refresh_snapshot(manifest.session_code)
            found(problem, repaired=repair)

        for temp in [*folder.glob(".*.tmp")]:
            try:
                age = time.time() - temp.stat().st_mtime
            except FileNotFoundError:
                continue  # a writer at work just renamed it into place
            if age > TEMP_FILE_AGE_SECONDS:
                if repair:
                    temp.unlink(missing_ok=True)
                found(f"leftover temp file {temp.name}", repaired=repair)
        if progress:
            progress(index, len(folders))
    return report
