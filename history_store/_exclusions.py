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


def read_exclusions(lineage_dir: Path) -> dict[str, Exclusion]:
    """session code -> its exclusion, for sessions excluded now."""
    path = lineage_dir / EXCLUSIONS_NAME
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    current: dict[str, Exclusion] = {}
    for line in data[: data.rfind(b"\n") + 1].splitlines():
        try:
            entry = json.loads(line)
            code = entry["session_code"]
        except (ValueError, KeyError, TypeError):
            continue  # a damaged line must not hide the other sessions
        if entry.get("excluded"):
            current[code] = Exclusion(code, str(entry.get("reason", "")), str(entry.get("at", "")))
        else:
            current.pop(code, None)
    return current


def write_exclusion(lineage_dir: Path, session_code: str, *, excluded: bool, reason: str) -> None:
    entry = dict(session_code=session_code, excluded=excluded, reason=reason, at=utc_now().isoformat())
    path = lineage_dir / EXCLUSIONS_NAME
    with FileLock(lineage_dir / _LOCK_NAME, timeout=30):
        path.touch(exist_ok=True)
        append_to_journal(path, encode_entries([entry]))
