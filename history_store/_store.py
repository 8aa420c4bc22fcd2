"""HistoryStore: the lineage store's public face.

Layout (a contract, see DESIGN.md):
    <root>/lineage=<name>/session=<code>/{session.json, journal.jsonl, history.parquet}
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
from filelock import FileLock, Timeout

from ._errors import (
    CorruptStoreError,
    HistoryStoreError,
    InvalidRecordError,
    NoAncestorError,
    SessionExistsError,
    SessionNotFoundError,
    StoreNotWritableError,
)
from ._exclusions import Exclusion, read_exclusions, write_exclusion
from ._files import fsync_dir
from ._journal import append_to_journal, encode_entries
from ._manifest import MANIFEST_NAME, SessionManifest, read_manifest, write_manifest
from ._names import check_lineage_name, check_session_code, is_valid_name
from ._records import check_entry, read_checked_journal
from ._schema import COOPERATE, RECORD_SCHEMA
from ._status import SessionStatus, damaged
from ._snapshot import (
    SNAPSHOT_NAME,
    merge_entries,
    read_fresh_snapshot,
    read_snapshot_schema,
    rows_to_table,
    write_snapshot,
)

logger = logging.getLogger("history_store")

HISTORY_DIR_ENV: Final = "OTREE_HISTORY_DIR"
DEFAULT_ROOT: Final = Path("data") / "history"
JOURNAL_NAME: Final = "journal.jsonl"
LOCK_NAME: Final = "journal.jsonl.lock"
LOCK_TIMEOUT_SECONDS: Final = 30.0

# One background worker per process builds snapshots off the participants' requests.
# Its thread is not a daemon: a process that exits waits for a snapshot being written.
_snapshot_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history-snapshot")


def default_root() -> Path:
    """$OTREE_HISTORY_DIR, else data/history under the current folder (oTree's project)."""
    return Path(os.environ.get(HISTORY_DIR_ENV) or DEFAULT_ROOT)


@lru_cache(maxsize=None)
def _shared_store(root: str) -> HistoryStore:
    return HistoryStore(root)


def open_default_store() -> HistoryStore:
    """The store at default_root(), shared within the process (its caches are per instance)."""
    return _shared_store(str(default_root()))


class HistoryStore:
    """A folder of lineages and sessions; safe to share between processes."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self._session_dirs: dict[str, Path] = {}
        self._locks: dict[Path, FileLock] = {}
        # folder -> (the files' sizes and mtimes, its status): listings re-read only what changed
        self._statuses: dict[Path, tuple[tuple[object, ...], SessionStatus]] = {}
        self._pending_snapshots: set[str] = set()
        self._pending_guard = threading.Lock()

    def __repr__(self) -> str:
        return f"HistoryStore({str(self.root)!r})"

    # -- folders ---------------------------------------------------------------

    def lineage_dir(self, lineage: str) -> Path:
        return self.root / f"lineage={check_lineage_name(lineage)}"

    def session_dir(self, session_code: str) -> Path:
        """The session's folder. Raises SessionNotFoundError, InvalidNameError."""
        check_session_code(session_code)
        cached = self._session_dirs.get(session_code)
        if cached is not None:  # folders are never moved or deleted by the store
            return cached
        for lineage_dir in self._lineage_dirs():
            candidate = lineage_dir / f"session={session_code}"
            if candidate.is_dir():
                self._session_dirs[session_code] = candidate
                return candidate
        raise SessionNotFoundError(
            f"No session {session_code!r} in the history store at {self.root}. "
            "Check the code (oTree's session code, e.g. from the admin's Sessions page)."
        )

    def _lineage_dirs(self) -> list[Path]:
        try:
            return sorted(p for p in self.root.glob("lineage=*")
                          if p.is_dir() and is_valid_name(p.name.removeprefix("lineage=")))
        except OSError:
            return []

    def folder_lock(self, session_dir: Path) -> FileLock:
        """The session folder's lock (journal appends, backups, repairs). One instance per
        folder is kept: creating a FileLock costs as much as taking it."""
        lock = self._locks.get(session_dir)
        if lock is None:
            lock = self._locks.setdefault(session_dir, FileLock(session_dir / LOCK_NAME, timeout=LOCK_TIMEOUT_SECONDS))
        return lock

    def session_exists(self, session_code: object) -> bool:
        """False also for text that cannot be a session code (it cannot name a folder)."""
        if not is_valid_name(session_code):
            return False
        try:
            self.session_dir(session_code)
        except SessionNotFoundError:
            return False
        return True

    # -- writing ---------------------------------------------------------------

    def check_writable(self) -> None:
        """Raises StoreNotWritableError unless a file can be created and synced in the root."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".write-probe.{secrets.token_hex(4)}.tmp"
            with open(probe, "wb") as handle:
                handle.write(b"probe")
                handle.flush()
                os.fsync(handle.fileno())
            probe.unlink()
        except OSError as exc:
            raise _not_writable(self.root, exc) from None

    def register_session(self, manifest: SessionManifest) -> Path:
        """Create the session's folder with its manifest and an empty journal, atomically.

        Raises SessionExistsError, StoreNotWritableError.
        """
        if self.session_exists(manifest.session_code):
            raise SessionExistsError(f"Session {manifest.session_code} is already in the store.")
        lineage_dir = self.lineage_dir(manifest.lineage)
        final = lineage_dir / f"session={manifest.session_code}"
        # Build the folder under a hidden name, then rename: a crash leaves either
        # nothing or a complete session, never a session without manifest.
        staging = lineage_dir / f".staging-{manifest.session_code}-{secrets.token_hex(4)}"
        try:
            staging.mkdir(parents=True)
            write_manifest(staging / MANIFEST_NAME, manifest)
            with open(staging / JOURNAL_NAME, "wb") as journal:
                os.fsync(journal.fileno())
            fsync_dir(staging)
            os.rename(staging, final)
            fsync_dir(lineage_dir)
            fsync_dir(self.root)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise _not_writable(lineage_dir, exc) from None
        self._session_dirs[manifest.session_code] = final
        return final

    def append_records(self, session_code: str, records: Sequence[Mapping[str, Any]]) -> None:
        """Append entries for participants of a session: one lock, one write, one fsync.

        Each record needs participant_code; any other record field may be present
        (later entries for the same participant complete or replace earlier ones).
        When this returns, the records survive a crash.
        Raises SessionNotFoundError, InvalidRecordError, StoreNotWritableError.
        """
        entries = [check_entry(record) for record in records]
        if not entries:
            return
        session_dir = self.session_dir(session_code)
        payload = encode_entries(entries)
        try:
            with self.folder_lock(session_dir):
                append_to_journal(session_dir / JOURNAL_NAME, payload)
        except Timeout:
            raise StoreNotWritableError(
                errno.EBUSY,
                f"Session {session_code} stayed locked for {LOCK_TIMEOUT_SECONDS:.0f} s; "
                "another process may be stuck holding its lock.",
            ) from None
        except OSError as exc:
            raise _not_writable(session_dir, exc) from None

    # -- reading ---------------------------------------------------------------

    def load_manifest(self, session_code: str) -> SessionManifest:
        """Raises SessionNotFoundError, CorruptStoreError."""
        session_dir = self.session_dir(session_code)
        manifest = read_manifest(session_dir / MANIFEST_NAME)
        _check_manifest_fits_folder(manifest, session_dir)
        return manifest

    def read_records(self, session_code: str) -> list[dict[str, Any]]:
        """The session's merged records (one dict per participant), straight from the journal."""
        contents = read_checked_journal(self.session_dir(session_code) / JOURNAL_NAME)
        return list(merge_entries(contents.entries).values())

    def load_session(self, session_code: str) -> pa.Table:
        """The session's records as a pyarrow Table, from a fresh snapshot.

        A stale or missing snapshot is rebuilt from the journal first.
        Raises SessionNotFoundError, CorruptStoreError.
        """
        session_dir = self.session_dir(session_code)
        snapshot = session_dir / SNAPSHOT_NAME
        try:
            journal_size = (session_dir / JOURNAL_NAME).stat().st_size
        except OSError as exc:
            raise CorruptStoreError(f"{session_dir / JOURNAL_NAME} cannot be read: {exc}") from None
        fresh = read_fresh_snapshot(snapshot, journal_size)
        return fresh if fresh is not None else self.refresh_snapshot(session_code)

    def refresh_snapshot(self, session_code: str) -> pa.Table:
        """Rebuild the snapshot from the journal (atomically) and return its table."""
        session_dir = self.session_dir(session_code)
        manifest = self.load_manifest(session_code)
        contents = read_checked_journal(session_dir / JOURNAL_NAME)
        table = rows_to_table(manifest, merge_entries(contents.entries).values())
        try:
            write_snapshot(session_dir / SNAPSHOT_NAME, table, contents.consumed_bytes)
        except OSError as exc:
            # Readers still get the data; the snapshot is only a cache of the journal.
            logger.warning("could not write the snapshot of %s: %s", session_code, exc)
        return table

    def schedule_snapshot(self, session_code: str) -> Future[None] | None:
        """Rebuild the snapshot in the background once every participant's record is complete.

        Called on the participant's request path, so it only queues work; repeated
        calls for a session already queued are dropped.
        """
        with self._pending_guard:
            if session_code in self._pending_snapshots:
                return None
            self._pending_snapshots.add(session_code)
        return _snapshot_worker.submit(self._snapshot_if_complete, session_code)

    def _snapshot_if_complete(self, session_code: str) -> None:
        with self._pending_guard:
            self._pending_snapshots.discard(session_code)
        try:
            manifest = self.load_manifest(session_code)
            completed = sum(1 for row in self.read_records(session_code) if row.get("payoff") is not None)
            if completed >= manifest.num_participants:
                self.load_session(session_code)
        except HistoryStoreError:
            logger.exception("background snapshot of session %s failed", session_code)

    def list_lineages(self) -> list[str]:
        return [p.name.removeprefix("lineage=") for p in self._lineage_dirs()]

    def list_sessions(self, lineage: str | None = None) -> list[SessionManifest]:
        """Readable sessions, oldest first; a damaged one is logged and left out."""
        lineages = [lineage] if lineage is not None else self.list_lineages()
        manifests: list[SessionManifest] = []
        for name in lineages:
            for session_dir in sorted(self.lineage_dir(name).glob("session=*")):
                try:
                    manifest = read_manifest(session_dir / MANIFEST_NAME)
                    _check_manifest_fits_folder(manifest, session_dir)
                except CorruptStoreError as exc:
                    logger.warning("skipping damaged session folder %s: %s", session_dir, exc)
                    continue
                self._session_dirs[manifest.session_code] = session_dir
                manifests.append(manifest)
        return sorted(manifests, key=lambda m: (m.created_at, m.session_code))

    def resolve_latest(self, lineage: str) -> SessionManifest:
        """The newest non-demo, non-excluded session of the lineage that has records.

        Raises NoAncestorError if there is none.
        """
        excluded = self.excluded_sessions(lineage)
        for manifest in reversed(self.list_sessions(lineage)):
            if manifest.is_demo or manifest.session_code in excluded:
                continue
            try:
                has_records = bool(self.read_records(manifest.session_code))
            except CorruptStoreError as exc:
                logger.warning("latest: skipping damaged session %s: %s", manifest.session_code, exc)
                continue
            if has_records:
                return manifest
        raise NoAncestorError(
            f"ancestor_session='latest' found no earlier session with records in lineage "
            f"{lineage!r}. Run a first generation (ancestor_session empty) in this lineage first."
        )

    def ancestry(self, session_code: str) -> list[SessionManifest]:
        """The session and its ancestors, generation 1 first.

        Raises SessionNotFoundError if an ancestor is missing, CorruptStoreError on a loop.
        """
        chain = [self.load_manifest(session_code)]
        while chain[-1].ancestor_session_code is not None:
            if len(chain) > chain[0].generation:
                raise CorruptStoreError(f"the ancestry of session {session_code} loops")
            chain.append(self.load_manifest(chain[-1].ancestor_session_code))
        return chain[::-1]

    def descendants(self, session_code: str) -> list[SessionManifest]:
        """Sessions whose ancestor is this one (any lineage), oldest first."""
        return [m for m in self.list_sessions() if m.ancestor_session_code == session_code]

    def lineage_sessions(self, lineage: str, *, include_excluded: bool = False) -> list[SessionManifest]:
        """The lineage's readable sessions by generation, then age; excluded ones left out
        unless asked for. Raises InvalidNameError; an unknown lineage has no sessions."""
        excluded = {} if include_excluded else self.excluded_sessions(lineage)
        manifests = [m for m in self.list_sessions(lineage) if m.session_code not in excluded]
        return sorted(manifests, key=lambda m: (m.generation, m.created_at, m.session_code))

    def iter_lineage_batches(
        self, lineage: str, *, include_excluded: bool = False,
        progress: Callable[[int, int], None] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """The lineage's records session by session: memory stays bounded by one session.

        A session that turns out damaged is logged and skipped, so one bad file does
        not stop the export of the others. progress(done, total) follows the sessions.
        """
        manifests = self.lineage_sessions(lineage, include_excluded=include_excluded)
        for done, manifest in enumerate(manifests, start=1):
            try:
                yield from self.load_session(manifest.session_code).to_batches()
            except CorruptStoreError as exc:
                logger.error("lineage %s: skipping damaged session %s: %s", lineage, manifest.session_code, exc)
            if progress:
                progress(done, len(manifests))

    def load_lineage(self, lineage: str, *, include_excluded: bool = False) -> pa.Table:
        """Every generation of a lineage in one table."""
        batches = list(self.iter_lineage_batches(lineage, include_excluded=include_excluded))
        return pa.Table.from_batches(batches, schema=RECORD_SCHEMA)

    # -- exclusions --------------------------------------------------------------

    def exclude_session(self, session_code: str, reason: str) -> None:
        """Leave a session out of its lineage (`latest`, lineage downloads); it stays on disk.

        Raises SessionNotFoundError, CorruptStoreError, InvalidRecordError (empty reason).
        """
        if not reason.strip():
            raise InvalidRecordError("Say why the session is excluded (e.g. 'pilot').")
        manifest = self.load_manifest(session_code)
        write_exclusion(self.lineage_dir(manifest.lineage), session_code, excluded=True, reason=reason.strip())

    def include_session(self, session_code: str) -> None:
        """Undo an exclusion."""
        manifest = self.load_manifest(session_code)
        write_exclusion(self.lineage_dir(manifest.lineage), session_code, excluded=False, reason="")

    def excluded_sessions(self, lineage: str) -> dict[str, Exclusion]:
        return read_exclusions(self.lineage_dir(lineage))

    # -- listings ----------------------------------------------------------------

    def session_statuses(self, lineage: str | None = None) -> list[SessionStatus]:
        """Every session folder, damaged ones included with the reason, oldest first."""
        lineages = [lineage] if lineage is not None else self.list_lineages()
        statuses: list[SessionStatus] = []
        for name in lineages:
            exclusions = self.excluded_sessions(name)
            for folder in sorted(self.lineage_dir(name).glob("session=*")):
                status = self._cached_status(name, folder)
                exclusion = exclusions.get(status.session_code)
                if exclusion is not None:
                    status = replace(status, excluded_reason=exclusion.reason)
                statuses.append(status)
        return sorted(statuses, key=lambda s: (s.manifest.created_at if s.manifest else "", s.session_code))

    def _cached_status(self, lineage: str, folder: Path) -> SessionStatus:
        signature = tuple(_file_signature(folder / name) for name in (MANIFEST_NAME, JOURNAL_NAME, SNAPSHOT_NAME))
        cached = self._statuses.get(folder)
        if cached is not None and cached[0] == signature:
            return cached[1]
        status = self._inspect(lineage, folder)
        self._statuses[folder] = (signature, status)
        return status

    def _inspect(self, lineage: str, folder: Path) -> SessionStatus:
        code = folder.name.removeprefix("session=")
        if not is_valid_name(code):
            return damaged(code, lineage, folder, CorruptStoreError("the folder name is not a valid session code"))
        try:
            manifest = read_manifest(folder / MANIFEST_NAME)
            _check_manifest_fits_folder(manifest, folder)
            rows = list(merge_entries(read_checked_journal(folder / JOURNAL_NAME).entries).values())
            snapshot = folder / SNAPSHOT_NAME
            if snapshot.exists():
                read_snapshot_schema(snapshot)
        except (CorruptStoreError, OSError) as exc:
            return damaged(code, lineage, folder, exc)
        self._session_dirs[code] = folder
        return SessionStatus(
            code, lineage, folder, manifest,
            num_records=sum(1 for r in rows if r.get("choice")),
            num_completed=sum(1 for r in rows if r.get("payoff") is not None),
            num_cooperated=sum(1 for r in rows if r.get("choice") == COOPERATE),
        )


def _file_signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _check_manifest_fits_folder(manifest: SessionManifest, session_dir: Path) -> None:
    expected = (f"lineage={manifest.lineage}", f"session={manifest.session_code}")
    found = (session_dir.parent.name, session_dir.name)
    if expected != found:
        raise CorruptStoreError(
            f"{session_dir / MANIFEST_NAME} describes {'/'.join(expected)}, "
            f"but lies in {'/'.join(found)}"
        )


def _not_writable(where: Path, exc: OSError) -> StoreNotWritableError:
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return StoreNotWritableError(
        exc.errno or errno.EIO,
        f"The history store at {where} cannot be written ({reason}). "
        f"Check that the folder exists, is writable by the oTree process and the disk is not full, "
        f"or point {HISTORY_DIR_ENV} at another folder.",
    )
