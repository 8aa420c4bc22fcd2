"""Backups of the whole store that can be trusted, taken while oTree runs.

A backup is one tar file: every session's manifest, journal and snapshot, each
session copied under its lock (so each is consistent: complete journal lines only),
the lineages' exclusion logs, and backup-manifest.json listing sessions, record
counts and SHA-256 checksums. Restore checks every checksum before writing anything.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Final

from ._errors import CorruptStoreError, HistoryStoreError
from ._exclusions import EXCLUSIONS_NAME, merge_exclusions
from ._files import atomic_output, fsync_dir, write_atomically
from ._manifest import MANIFEST_NAME, SessionManifest, utc_now
from ._names import is_valid_name
from ._records import ADDS, CONFLICT, check_entry, compare_records
from ._snapshot import SNAPSHOT_NAME, merge_entries

if TYPE_CHECKING:
    from ._store import HistoryStore

BACKUP_MANIFEST: Final = "backup-manifest.json"
BACKUP_FORMAT: Final = 1


class RestoreRefusedError(HistoryStoreError, ValueError):
    """A restore would lose or double a record, or the target store is not empty."""


@dataclass
class BackupReport:
    sessions: int = 0
    records: int = 0


def backup_store(store: HistoryStore, target: Path) -> BackupReport:
    """Write the whole store to a tar file at target (atomically)."""
    from ._store import JOURNAL_NAME

    report = BackupReport()
    listing: dict[str, dict[str, object]] = {}
    with atomic_output(target) as handle, tarfile.open(fileobj=handle, mode="w") as archive:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(utc_now().timestamp())
            archive.addfile(info, io.BytesIO(data))
            listing.setdefault("files", {})[name] = hashlib.sha256(data).hexdigest()  # type: ignore[index]

        for lineage in store.list_lineages():
            lineage_dir = store.lineage_dir(lineage)
            for folder in sorted(lineage_dir.glob("session=*")):
                if not is_valid_name(folder.name.removeprefix("session=")):
                    continue  # a stray copy (e.g. session=X.bak) is not a session; verify reports it
                with store.folder_lock(folder):
                    files = {name: (folder / name).read_bytes() for name in (MANIFEST_NAME, JOURNAL_NAME, SNAPSHOT_NAME)
                             if (folder / name).exists()}
                journal = files.get(JOURNAL_NAME, b"")
                files[JOURNAL_NAME] = journal[: journal.rfind(b"\n") + 1]  # a torn tail was never acknowledged
                for name, data in files.items():
                    add(f"{lineage_dir.name}/{folder.name}/{name}", data)
                records = _count_participants(files[JOURNAL_NAME])  # a damaged line is copied, not judged
                listing.setdefault("sessions", {})[folder.name.removeprefix("session=")] = dict(  # type: ignore[index]
                    lineage=lineage, records=records)
                report.sessions += 1
                report.records += records
            exclusions = lineage_dir / EXCLUSIONS_NAME
            if exclusions.exists():
                add(f"{lineage_dir.name}/{EXCLUSIONS_NAME}", exclusions.read_bytes())
        summary = dict(format=BACKUP_FORMAT, created_at=utc_now().isoformat(), source=str(store.root),
                       sessions=listing.get("sessions", {}), files=listing.get("files", {}))
        data = json.dumps(summary, indent=2, sort_keys=True).encode()
        info = tarfile.TarInfo(BACKUP_MANIFEST)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return report


def _count_participants(journal: bytes) -> int:
    codes = set()
    for line in journal.splitlines():
        try:
            codes.add(json.loads(line)["participant_code"])
        except (ValueError, KeyError, TypeError):
            continue
    return len(codes)


@dataclass
class RestoreReport:
    sessions_added: list[str] = field(default_factory=list)
    records_added: int = 0
    conflicts: list[str] = field(default_factory=list)


def _read_backup(path: Path) -> tuple[dict, dict[str, bytes]]:
    try:
        with tarfile.open(path, mode="r") as archive:
            members = {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}
    except (OSError, tarfile.TarError) as exc:
        raise CorruptStoreError(f"{path} is not a readable backup: {exc}") from None
    try:
        summary = json.loads(members.pop(BACKUP_MANIFEST))
    except (KeyError, ValueError):
        raise CorruptStoreError(f"{path} has no readable {BACKUP_MANIFEST}: not a history_store backup") from None
    for name, digest in summary.get("files", {}).items():
        if name not in members or hashlib.sha256(members[name]).hexdigest() != digest:
            raise CorruptStoreError(f"{path}: {name} is missing or does not match its checksum")
    for name in members:
        parts = PurePosixPath(name).parts
        if (name not in summary.get("files", {}) or len(parts) not in (2, 3) or not parts[0].startswith("lineage=")
                or not is_valid_name(parts[0].removeprefix("lineage="))
                or (len(parts) == 3 and not is_valid_name(parts[1].removeprefix("session=")))):
            raise CorruptStoreError(f"{path}: unexpected member {name!r}")
    return summary, members


def restore_store(store: HistoryStore, source: Path, *, merge: bool = False) -> RestoreReport:
    """Restore a backup. Into an empty store: the same store back. Into a non-empty one
    only with merge, which adds what is missing and refuses (changing nothing) if any
    record or manifest differs. Raises RestoreRefusedError, CorruptStoreError."""
    summary, members = _read_backup(source)
    if any(any(store.lineage_dir(name).glob("session=*")) for name in store.list_lineages()):
        if not merge:
            raise RestoreRefusedError(
                f"The store at {store.root} is not empty: restore into an empty folder, or pass --merge "
                "to add what the backup has and this store lacks."
            )
    sessions: dict[str, dict[str, bytes]] = {}
    for name, data in members.items():
        parts = PurePosixPath(name).parts
        if len(parts) == 3:
            sessions.setdefault(f"{parts[0]}/{parts[1]}", {})[parts[2]] = data

    report = RestoreReport()
    # (folder key, its files, records to append to a session held here, records it brings)
    plan: list[tuple[str, dict[str, bytes], list[dict], int]] = []
    for key, files in sorted(sessions.items()):
        code = key.split("/")[1].removeprefix("session=")
        manifest = SessionManifest.from_dict(json.loads(files[MANIFEST_NAME]))
        backup_rows = merge_entries(json.loads(line) for line in files.get("journal.jsonl", b"").splitlines())
        if not store.session_exists(code):
            plan.append((key, files, [], len(backup_rows)))
            continue
        if store.load_manifest(code) != manifest:
            report.conflicts.append(f"session {code}: the manifest differs from this store's")
            continue
        held = {r["participant_code"]: r for r in store.read_records(code)}
        missing = []
        for participant, row in backup_rows.items():
            relation = ADDS if participant not in held else compare_records(held[participant], row)
            if relation == CONFLICT:
                report.conflicts.append(f"session {code}: participant {participant} differs from this store's record")
            elif relation == ADDS:
                missing.append(check_entry(row, stamp=False))
        if missing:
            plan.append((key, files, missing, len(missing)))
    if report.conflicts:
        raise RestoreRefusedError("Restore refused, nothing was changed:\n  " + "\n  ".join(report.conflicts))

    for key, files, missing, records in plan:
        code = key.split("/")[1].removeprefix("session=")
        report.records_added += records
        if missing:
            store.append_records(code, missing)
            continue
        folder = store.root / key
        folder.parent.mkdir(parents=True, exist_ok=True)
        # As in registration: build under a hidden name, then rename, so a crash leaves
        # a whole session or none, and a retry is never blocked by a leftover.
        staging = folder.parent / f".restoring-{code}-{secrets.token_hex(4)}"
        try:
            staging.mkdir()
            for name, data in files.items():
                write_atomically(staging / name, lambda handle, data=data: handle.write(data))
            staging.rename(folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        fsync_dir(folder.parent)
        report.sessions_added.append(code)
    for name, data in members.items():
        parts = PurePosixPath(name).parts
        if len(parts) == 2 and parts[1] == EXCLUSIONS_NAME:
            merge_exclusions(store.root / parts[0], data)
    return report
