"""Downloads (URLs are a contract): a session's or a whole lineage's history.

The work happens in the StreamingResponse body, after oTree's global request lock
is released; a lineage is written session by session, so memory holds one session's
batches at a time rather than the lineage.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import pyarrow as pa
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from history_store import (
    CorruptStoreError,
    SessionManifest,
    SessionNotFoundError,
    is_valid_name,
    open_default_store,
)
from history_store._transfer import encode_batches, iter_lineage_export

from .auth import admin_data
from .background import run_in_background_thread

# Browsers must not second-guess a download's type (e.g. run a CSV of participant text as HTML).
NO_SNIFF = {"x-content-type-options": "nosniff"}
MEDIA_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "csv": "text/csv",
    "excel.csv": "text/csv",
    "json": "application/json",
}


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def attachment(body: Iterator[bytes] | AsyncIterator[bytes], kind: str, filename: str) -> StreamingResponse:
    """A download: its type, the file name a browser saves it under, and nosniff."""
    return StreamingResponse(
        body, media_type=MEDIA_TYPES[kind],
        headers={"content-disposition": f'attachment; filename="{filename}"', **NO_SNIFF},
    )


def session_history(kind: str):
    """The endpoint for one download format of a session."""

    @admin_data
    async def endpoint(request: Request) -> Response:
        return _session_history(request, kind)

    return endpoint


def lineage_history(kind: str):
    """The endpoint for one download format of a lineage."""

    @admin_data
    async def endpoint(request: Request) -> Response:
        return _lineage_history(request, kind)

    return endpoint


def _session_history(request: Request, kind: str) -> Response:
    code = request.path_params["code"]
    store = open_default_store()
    try:
        if not is_valid_name(code):
            raise SessionNotFoundError(code)
        manifest = store.load_manifest(code)
        # One session is small: loading it here lets damage answer 409 instead of a cut-off file.
        table = store.load_session(code)
    except SessionNotFoundError:
        return PlainTextResponse(f"No session {code!r} in the lineage store.", status_code=404)
    except CorruptStoreError as exc:
        return PlainTextResponse(f"Session {code} is damaged: {exc}", status_code=409)
    filename = f"lineage-{manifest.lineage}_session-{code}_history.{'csv' if kind == 'excel.csv' else kind}"
    if kind == "excel.csv":
        filename = filename.replace("_history.csv", "_history-excel.csv")
    return attachment(_session_body(table, manifest, kind), kind, filename)


def _session_body(table: pa.Table, manifest: SessionManifest, kind: str) -> Iterator[bytes]:
    if kind == "json":
        document = dict(session=json.loads(manifest.to_json()), records=table.to_pylist())
        yield json.dumps(document, ensure_ascii=False, default=_json_default, indent=1).encode("utf-8")
        return
    yield from encode_batches(table.to_batches(), kind, [manifest])


def _lineage_history(request: Request, kind: str) -> Response:
    name = request.path_params["name"]
    store = open_default_store()
    if name not in store.list_lineages():  # lists only valid names: nothing else reaches a path
        return PlainTextResponse(f"No lineage {name!r} in the lineage store.", status_code=404)
    include_excluded = request.query_params.get("include_excluded") in ("1", "true", "yes")
    filename = f"lineage-{name}_history{'-excel.csv' if kind == 'excel.csv' else '.' + kind}"

    export = iter_lineage_export(store, name, kind, include_excluded=include_excluded)
    return attachment(run_in_background_thread(export), kind, filename)
