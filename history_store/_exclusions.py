"""Sessions an experimenter excluded from a lineage (pilots, broken runs).

Kept as an append-only exclusions.jsonl in the lineage's folder: the last entry for
a session wins, so an exclusion can be undone, and nothing is ever deleted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from filelock import FileLock

from ._journal import append_to_journal, encode_entries
from ._manifest import utc_now

EXCLUSIONS_NAME: Final = "exclusions.jsonl"
_LOCK_NAME: Final = "exclusions.jsonl.lock"


@dataclass(frozen=True)
class Exclusion:
    session_code: str
    reason: str
    excluded_at: str


def _entries(data: bytes) -> list[dict]:
    """The log's readable entries; a damaged line must not hide the other sessions."""
    entries = []
    for line in data[: data.rfind(b"\n") + 1].splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("session_code"), str):
            entries.append(entry)
    return entries


def _read_log(lineage_dir: Path) -> bytes:
    try:
        return (lineage_dir / EXCLUSIONS_NAME).read_bytes()
    except FileNotFoundError:
        return b""


def read_exclusions(lineage_dir: Path) -> dict[str, Exclusion]:
    """session code -> its exclusion, for sessions excluded now."""
    current: dict[str, Exclusion] = {}
    for entry in _entries(_read_log(lineage_dir)):
        code = entry["session_code"]
        if entry.get("excluded"):
            current[code] = Exclusion(code, str(entry.get("reason", "")), str(entry.get("at", "")))
        else:
            current.pop(code, None)
    return current


def _append(lineage_dir: Path, entries: list[dict]) -> None:
    """The caller holds the lineage's exclusion lock."""
    path = lineage_dir / EXCLUSIONS_NAME
    path.touch(exist_ok=True)
    append_to_journal(path, encode_entries(entries))


def write_exclusion(lineage_dir: Path, session_code: str, *, excluded: bool, reason: str) -> None:
    entry = dict(session_code=session_code, excluded=excluded, reason=reason, at=utc_now().isoformat())
    with FileLock(lineage_dir / _LOCK_NAME, timeout=30):
        _append(lineage_dir, [entry])


def merge_exclusions(lineage_dir: Path, data: bytes) -> None:
    """Add a backup's exclusion decisions for sessions this log has never decided on; a
    later decision here is never overridden by an older one from the backup."""
    lineage_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(lineage_dir / _LOCK_NAME, timeout=30):
        decided = {entry["session_code"] for entry in _entries(_read_log(lineage_dir))}
        new = [entry for entry in _entries(data) if entry["session_code"] not in decided]
        if new:
            _append(lineage_dir, new)
