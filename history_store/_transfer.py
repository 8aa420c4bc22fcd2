"""Moving lineages between servers: export to Parquet or CSV, import from Parquet.

An export carries its sessions' manifests in the Parquet key-value metadata, so an
import restores generations, seeds, matchings and sessions without records. A plain
Parquet file of rows (no metadata) still imports: its manifests are rebuilt from
the rows. Importing the same file twice changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ._errors import CorruptStoreError, HistoryStoreError, InvalidRecordError
from ._manifest import SessionManifest
from ._records import ADDS, CONFLICT, compare_records
from ._schema import COLUMNS, ENTRY_FIELDS, RECORD_SCHEMA
from ._snapshot import manifests_from_metadata, with_manifests

if TYPE_CHECKING:
    from ._store import HistoryStore

PARQUET: Final = "parquet"
CSV: Final = "csv"
EXCEL_CSV: Final = "excel.csv"
UTF8_BOM: Final = b"\xef\xbb\xbf"
REQUIRED_COLUMNS: Final = ("session_code", "participant_code", "lineage", "generation")


class _Chunks:
    """A write-only file for pyarrow writers whose bytes are taken as they come."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def encode_batches(
    batches: Iterable[pa.RecordBatch], fmt: str, manifests: Iterable[SessionManifest] = ()
) -> Iterator[bytes]:
    """Record batches as a Parquet (with manifests) or CSV file, yielded piece by piece,
    so a caller can stream a lineage without holding it whole."""
    sink = _Chunks()
    if fmt == PARQUET:
        schema = with_manifests(RECORD_SCHEMA.empty_table(), manifests).schema
        with pq.ParquetWriter(sink, schema) as writer:
            for batch in batches:
                writer.write_batch(batch)
                yield sink.take()
        yield sink.take()
        return
    if fmt not in (CSV, EXCEL_CSV):
        raise ValueError(f"unknown export format {fmt!r}")
    if fmt == EXCEL_CSV:
        yield UTF8_BOM  # Excel needs it to read UTF-8; base R keeps it in the first header
    with pacsv.CSVWriter(sink, RECORD_SCHEMA) as writer:
        yield sink.take()
        for batch in batches:
            writer.write_batch(batch)
            yield sink.take()
    yield sink.take()


def iter_lineage_export(
    store: HistoryStore, lineage: str, fmt: str, *, include_excluded: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[bytes]:
    """The lineage as one file's bytes, produced session by session (for streaming)."""
    manifests = store.lineage_sessions(lineage, include_excluded=include_excluded)
    batches = store.iter_lineage_batches(lineage, include_excluded=include_excluded, progress=progress)
    yield from encode_batches(batches, fmt, manifests)


def export_lineage(
    store: HistoryStore, lineage: str, out: BinaryIO, fmt: str, *, include_excluded: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Write the lineage to out as one Parquet (with manifests) or CSV file."""
    for piece in iter_lineage_export(store, lineage, fmt, include_excluded=include_excluded, progress=progress):
        out.write(piece)


@dataclass
class ImportReport:
    sessions_added: list[str] = field(default_factory=list)
    records_added: int = 0
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def import_file(store: HistoryStore, path: Path) -> ImportReport:
    """Bring the sessions of an exported file into the store.

    New sessions are registered with their manifests and records; records a session
    already holds are left alone; a record that differs from the stored one is a
    conflict, reported and not written. Raises CorruptStoreError for a file that is
    not an export of this store's schema.
    """
    table = _read_export(path)
    manifests = {m.session_code: m for m in manifests_from_metadata(table.schema)}
    rows_by_session: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in table.to_pylist():
        rows_by_session[row["session_code"]].append(row)
    for code, rows in rows_by_session.items():
        if code not in manifests:
            manifests[code] = _manifest_from_rows(code, rows)

    report = ImportReport()
    for manifest in sorted(manifests.values(), key=lambda m: (m.generation, m.created_at)):
        entries = [_entry_from_row(row) for row in rows_by_session.get(manifest.session_code, [])]
        _import_session(store, manifest, entries, report)
    return report


def _read_export(path: Path) -> pa.Table:
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise CorruptStoreError(f"{path} is not a readable Parquet file: {exc}") from None
    missing = [name for name in REQUIRED_COLUMNS if name not in table.column_names]
    if missing:
        raise CorruptStoreError(f"{path} lacks the column(s) {', '.join(missing)}: not a lineage export")
    for name in COLUMNS:  # a file from an older schema may lack the extra columns
        if name not in table.column_names:
            table = table.append_column(RECORD_SCHEMA.field(name).with_nullable(True),
                                        pa.nulls(table.num_rows, RECORD_SCHEMA.field(name).type))
    try:
        return table.select(list(COLUMNS)).cast(RECORD_SCHEMA.with_metadata(table.schema.metadata))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise CorruptStoreError(f"{path} has columns of the wrong type: {exc}") from None


def _entry_from_row(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in ENTRY_FIELDS if row.get(name) is not None}


def _manifest_from_rows(code: str, rows: list[dict[str, Any]]) -> SessionManifest:
    """A manifest rebuilt from a plain file of rows: no seed, config or dropouts are known."""
    def single(name: str) -> Any:
        values = {row[name] for row in rows if row[name] is not None}
        if len(values) > 1:
            raise CorruptStoreError(f"session {code}: the rows disagree on {name} ({sorted(map(str, values))})")
        return values.pop() if values else None

    times = [row["recorded_at"] for row in rows if row["recorded_at"] is not None]
    created = min(times) if times else datetime.now(timezone.utc)
    try:
        return SessionManifest(
            session_code=code, lineage=single("lineage"), generation=int(single("generation")),
            ancestor_session_code=single("ancestor_session_code"), num_participants=len(rows),
            matching_seed=0, config_name=single("config_name") or "", created_at=created.isoformat(),
            assignment={row["participant_code"]: dict(role=row["role"],
                                                      ancestor_participant_code=row["ancestor_participant_code"])
                        for row in rows},
        )
    except (HistoryStoreError, TypeError, ValueError) as exc:
        raise CorruptStoreError(f"session {code} cannot be rebuilt from its rows: {exc}") from None


def _import_session(store: HistoryStore, manifest: SessionManifest, entries: list[dict[str, Any]],
                    report: ImportReport) -> None:
    code = manifest.session_code
    if store.session_exists(code):
        local = store.load_manifest(code)
        if local.lineage != manifest.lineage or local.generation != manifest.generation:
            report.conflicts.append(
                f"session {code}: here lineage {local.lineage!r} generation {local.generation}, "
                f"in the file lineage {manifest.lineage!r} generation {manifest.generation}"
            )
            return
        held = {row["participant_code"]: row for row in store.read_records(code)}
    else:
        store.register_session(manifest)
        report.sessions_added.append(code)
        held = {}
    missing = []
    for entry in entries:
        current = held.get(entry["participant_code"])
        relation = ADDS if current is None else compare_records(current, entry)
        if relation == CONFLICT:
            report.conflicts.append(f"session {code}: participant {entry['participant_code']} differs from the file")
        elif relation == ADDS:
            missing.append(entry)
    if missing:
        try:
            store.append_records(code, missing)
        except InvalidRecordError as exc:
            raise CorruptStoreError(f"session {code}: a row of the file is not a valid record: {exc}") from None
        report.records_added += len(missing)
    elif code not in report.sessions_added and not any(c.startswith(f"session {code}:") for c in report.conflicts):
        report.unchanged.append(code)
