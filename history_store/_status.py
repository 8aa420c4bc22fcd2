"""What the store can say about one session folder, damaged or not, for listings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ._errors import CorruptStoreError
from ._manifest import SessionManifest


@dataclass(frozen=True)
class SessionStatus:
    """A session as a listing shows it: its manifest and counts, or why it is damaged."""

    session_code: str
    lineage: str
    folder: Path
    manifest: SessionManifest | None = None
    damage: str | None = None
    num_records: int = 0
    num_completed: int = 0
    num_cooperated: int = 0
    excluded_reason: str | None = None

    @property
    def is_damaged(self) -> bool:
        return self.damage is not None

    @property
    def is_excluded(self) -> bool:
        return self.excluded_reason is not None

    @property
    def cooperation_rate(self) -> float | None:
        return self.num_cooperated / self.num_records if self.num_records else None

    @property
    def generation(self) -> int | None:
        return self.manifest.generation if self.manifest else None


def damaged(session_code: str, lineage: str, folder: Path, error: CorruptStoreError | OSError) -> SessionStatus:
    return SessionStatus(session_code, lineage, folder, damage=str(error))
