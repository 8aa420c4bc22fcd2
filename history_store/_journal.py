"""The append-only journal: one JSON entry per line, the session's source of truth.

A crash mid-write can leave the last line without its newline: that torn tail was
never acknowledged (fsync had not returned), so readers ignore it and the next
writer cuts it off. Any other line that cannot be read is damage.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import CorruptStoreError

logger = logging.getLogger("history_store")

_NEWLINE = b"\n"
_TAIL_SCAN_CHUNK = 4096


@dataclass(frozen=True)
class JournalContents:
    """The complete entries of a journal and how many bytes they span."""

    entries: list[dict[str, Any]]
    consumed_bytes: int
    torn_tail_bytes: int


def encode_entries(entries: Iterable[Mapping[str, Any]]) -> bytes:
    """Entries as journal lines (UTF-8 JSON, one per line)."""
    return b"".join(
        json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
        + _NEWLINE
        for entry in entries
    )


def read_journal(path: Path) -> JournalContents:
    """Parse every complete line of the journal. Raises CorruptStoreError on damage."""
    data = path.read_bytes()
    end_of_complete = data.rfind(_NEWLINE) + 1
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(data[:end_of_complete].splitlines(), start=1):
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise CorruptStoreError(
                f"{path}: line {number} is not valid JSON ({exc}); the lines before it are intact. "
                "Keep a copy of the folder before changing anything in it."
            ) from None
        if not isinstance(entry, dict) or not isinstance(entry.get("participant_code"), str):
            raise CorruptStoreError(
                f"{path}: line {number} is not a history entry (no participant_code)."
            )
        entries.append(entry)
    return JournalContents(entries, end_of_complete, len(data) - end_of_complete)


def append_to_journal(path: Path, payload: bytes) -> None:
    """Append complete lines and fsync. The caller holds the session's lock.

    A torn tail left by an earlier crash is cut off first, so the new lines start
    on a line boundary and the journal stays readable.
    """
    fd = os.open(path, os.O_RDWR | os.O_APPEND)
    try:
        _cut_torn_tail(fd, path)
        view = memoryview(payload)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def repair_torn_tail(path: Path) -> None:
    """Cut a torn last line. The caller holds the session's lock."""
    fd = os.open(path, os.O_RDWR)
    try:
        _cut_torn_tail(fd, path)
        os.fsync(fd)
    finally:
        os.close(fd)


def _cut_torn_tail(fd: int, path: Path) -> None:
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == _NEWLINE:
        return
    keep = _end_of_last_complete_line(fd, size)
    logger.warning("%s: cutting a torn last line of %d bytes left by a crash", path, size - keep)
    os.ftruncate(fd, keep)


def _end_of_last_complete_line(fd: int, size: int) -> int:
    position = size
    while position > 0:
        start = max(0, position - _TAIL_SCAN_CHUNK)
        chunk = os.pread(fd, position - start, start)
        newline = chunk.rfind(_NEWLINE)
        if newline >= 0:
            return start + newline + 1
        position = start
    return 0
