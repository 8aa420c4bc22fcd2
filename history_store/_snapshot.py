"""The Parquet snapshot: the journal's entries merged into one row per participant.

The snapshot records in its key-value metadata how many journal bytes it was built
from. The journal only ever grows (a torn tail was never part of a snapshot), so a
snapshot is fresh exactly when the journal's size equals that number: one stat and
one footer read, with no trust in coarse file timestamps.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from ._errors import CorruptStoreError
from ._files import atomic_output
from ._manifest import SessionManifest
from ._schema import COLUMNS, RECORD_SCHEMA, SCHEMA_VERSION

SNAPSHOT_NAME: Final = "history.parquet"
JOURNAL_BYTES_KEY: Final = b"history_store.journal_bytes"
MANIFESTS_KEY: Final = b"history_store.manifests"
_TIMESTAMP_COLUMNS: Final = ("recorded_at", "completed_at")


def merge_entries(entries: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """One dict per participant code, in order of first appearance; later fields win."""
    merged: dict[str, dict[str, Any]] = {}
    for entry in entries:
        merged.setdefault(entry["participant_code"], {}).update(entry)
    return merged


def rows_to_table(manifest: SessionManifest, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows (merged entries) as a table of RECORD_SCHEMA, session columns from the manifest."""
    session_values = dict(
        session_code=manifest.session_code,
        lineage=manifest.lineage,
        generation=manifest.generation,
        config_name=manifest.config_name,
        schema_version=SCHEMA_VERSION,
    )
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for row in rows:
        for name in COLUMNS:
            value = session_values[name] if name in session_values else row.get(name)
            if name in _TIMESTAMP_COLUMNS and isinstance(value, str):
                value = datetime.fromisoformat(value)
            columns[name].append(value)
    try:
        table = pa.Table.from_pydict(columns, schema=RECORD_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise CorruptStoreError(
            f"session {manifest.session_code}: a journal entry has a field of the wrong type ({exc})"
        ) from None
    return table.replace_schema_metadata({MANIFESTS_KEY: _manifests_json([manifest])})


def _manifests_json(manifests: Iterable[SessionManifest]) -> bytes:
    return json.dumps([json.loads(m.to_json()) for m in manifests], ensure_ascii=False).encode()


def with_manifests(table: pa.Table, manifests: Iterable[SessionManifest]) -> pa.Table:
    """The table carrying these sessions' manifests in its key-value metadata (for exports)."""
    return table.replace_schema_metadata({MANIFESTS_KEY: _manifests_json(manifests)})


def manifests_from_metadata(schema: pa.Schema) -> list[SessionManifest]:
    """The manifests an exported file carries (empty for a plain file of rows)."""
    raw = (schema.metadata or {}).get(MANIFESTS_KEY)
    if raw is None:
        return []
    return [SessionManifest.from_dict(item) for item in json.loads(raw)]


def write_snapshot(path: Path, table: pa.Table, journal_bytes: int) -> None:
    """Write the snapshot atomically, stamped with the journal size it reflects."""
    metadata = dict(table.schema.metadata or {})
    metadata[JOURNAL_BYTES_KEY] = str(journal_bytes).encode()
    stamped = table.replace_schema_metadata(metadata)
    with atomic_output(path) as handle:
        pq.write_table(stamped, handle)


def journal_bytes_of(schema: pa.Schema) -> int | None:
    """How many journal bytes a snapshot with this schema reflects; None if unstamped."""
    try:
        return int((schema.metadata or {})[JOURNAL_BYTES_KEY])
    except (KeyError, ValueError):
        return None


def read_snapshot_schema(path: Path) -> pa.Schema:
    """The snapshot's schema, from its footer. Raises CorruptStoreError if it is not ours."""
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise CorruptStoreError(f"{path} cannot be read: {exc}") from None
    if schema.remove_metadata() != RECORD_SCHEMA.remove_metadata():
        raise CorruptStoreError(f"{path} does not have the record schema")
    return schema


def read_fresh_snapshot(path: Path, journal_size: int) -> pa.Table | None:
    """The snapshot's table if it reflects a journal of journal_size bytes; None if it is
    missing, stale or unreadable (then it is rebuilt). One open, one footer read.
    Raises CorruptStoreError for a fresh-looking file that does not have the record schema."""
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowException):
        return None
    if journal_bytes_of(parquet.schema_arrow) != journal_size:
        return None
    if parquet.schema_arrow.remove_metadata() != RECORD_SCHEMA.remove_metadata():
        raise CorruptStoreError(f"{path} does not have the record schema")
    try:
        return parquet.read()
    except (OSError, pa.ArrowException) as exc:
        raise CorruptStoreError(f"{path} cannot be read: {exc}") from None
