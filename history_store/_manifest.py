"""The session manifest (session.json): who the session is and where it comes from."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ._errors import CorruptStoreError
from ._files import write_atomically
from ._names import check_lineage_name, check_session_code
from ._schema import SCHEMA_VERSION

MANIFEST_NAME = "session.json"

ConfigValue = str | int | float | bool | None | list[str]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class SessionManifest:
    """Everything needed to place a session in its lineage and reproduce its matching."""

    session_code: str
    lineage: str
    generation: int
    ancestor_session_code: str | None
    num_participants: int
    matching_seed: int
    config: dict[str, ConfigValue] = field(default_factory=dict)
    config_name: str = ""
    is_demo: bool = False
    label: str = ""
    created_at: str = field(default_factory=lambda: utc_now().isoformat())
    # participant code -> role and matched ancestor participant code (None in generation 1)
    assignment: dict[str, dict[str, str | None]] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        # Manifests also arrive from imported files and backups: every field is checked,
        # so nothing of the wrong type reaches a page or a sort.
        check_session_code(self.session_code)
        check_lineage_name(self.lineage)
        if self.ancestor_session_code is not None:
            check_session_code(self.ancestor_session_code)
        for name in ("generation", "num_participants", "matching_seed", "schema_version"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name == "generation" else 0):
                raise CorruptStoreError(f"{name} must be a whole number, not {value!r}")
        for name in ("config_name", "label", "created_at"):
            if not isinstance(getattr(self, name), str):
                raise CorruptStoreError(f"{name} must be text, not {getattr(self, name)!r}")
        try:
            datetime.fromisoformat(self.created_at)
        except ValueError:
            raise CorruptStoreError(f"created_at must be an ISO 8601 time, not {self.created_at!r}") from None
        if not isinstance(self.is_demo, bool) or not isinstance(self.config, dict) or not isinstance(self.assignment, dict):
            raise CorruptStoreError("is_demo must be true or false, config and assignment JSON objects")
        if (self.generation == 1) != (self.ancestor_session_code is None):
            raise CorruptStoreError(
                f"session {self.session_code}: generation {self.generation} "
                f"does not fit ancestor {self.ancestor_session_code!r}"
            )

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionManifest:
        known = {name for name in cls.__dataclass_fields__}
        try:
            return cls(**{key: value for key, value in data.items() if key in known})
        except TypeError as exc:
            raise CorruptStoreError(f"manifest is missing fields: {exc}") from None


def write_manifest(path: Path, manifest: SessionManifest) -> None:
    write_atomically(path, lambda handle: handle.write(manifest.to_json().encode("utf-8")))


def read_manifest(path: Path) -> SessionManifest:
    """Raises CorruptStoreError if the manifest is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorruptStoreError(f"{path} is missing") from None
    except (OSError, ValueError) as exc:
        raise CorruptStoreError(f"{path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise CorruptStoreError(f"{path} is not a JSON object")
    try:
        return SessionManifest.from_dict(data)
    except (CorruptStoreError, ValueError) as exc:
        raise CorruptStoreError(f"{path}: {exc}") from None
