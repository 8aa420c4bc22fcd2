"""Durable file primitives: atomic replacement and folder fsync.

Readers must never see a half-written file, and a file the store says it wrote
must survive a power cut: write a temp file in the same folder, fsync it,
os.replace it over the target, then fsync the folder so the rename is durable.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def fsync_dir(path: Path) -> None:
    """Make a folder's entries (creations, renames) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name_for(target: Path) -> Path:
    """A hidden temp name beside target that no reader's glob (*.parquet, *.json) matches."""
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")


@contextmanager
def atomic_output(target: Path) -> Iterator[BinaryIO]:
    """Yield a binary file; on clean exit it replaces target atomically and durably."""
    temp = temp_name_for(target)
    try:
        with open(temp, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


def write_atomically(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write target through write(handle) so that readers see the old or the new file."""
    with atomic_output(target) as handle:
        write(handle)
