"""What a journal entry may hold: checked before it is written, and again by verify."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from datetime import datetime
from typing import Any, Final

from ._advice import advice_problem, normalize_advice
from ._errors import CorruptStoreError, InvalidAdviceError, InvalidRecordError
from ._journal import JournalContents, read_journal
from ._manifest import utc_now
from ._schema import CHOICES, ENTRY_FIELDS, ROLES

_STRING_FIELDS: Final = (
    "participant_code", "role", "choice", "advice", "ancestor_session_code",
    "ancestor_participant_code", "ancestor_advice", "participant_label", "shown_advice_codes",
)
_INT_FIELDS: Final = ("group_id", "id_in_group")
_TIME_FIELDS: Final = ("recorded_at", "completed_at")


def check_entry(record: Mapping[str, Any], *, stamp: bool = True) -> dict[str, Any]:
    """The record as a journal entry (JSON types). Raises InvalidRecordError.

    With stamp, a record entry (it has a choice) gets recorded_at and a completing
    entry (it has a payoff) gets completed_at, unless given: neither overwrites the
    other's time.
    """
    unknown = set(record) - set(ENTRY_FIELDS)
    if unknown:
        raise InvalidRecordError(f"Unknown record field(s): {', '.join(sorted(unknown))}")
    entry = dict(record)
    if not isinstance(entry.get("participant_code"), str) or not entry["participant_code"]:
        raise InvalidRecordError("A record needs a participant_code (a non-empty string).")
    for name in _STRING_FIELDS:
        if entry.get(name) is not None and not isinstance(entry[name], str):
            raise InvalidRecordError(f"{name} must be a string, not {type(entry[name]).__name__}")
    for name in _INT_FIELDS:
        value = entry.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidRecordError(f"{name} must be an integer, not {value!r}")
    if entry.get("role") is not None and entry["role"] not in ROLES:
        raise InvalidRecordError(f"role must be one of {ROLES}, not {entry['role']!r}")
    if entry.get("choice") is not None and entry["choice"] not in CHOICES:
        raise InvalidRecordError(f"choice must be one of {CHOICES}, not {entry['choice']!r}")
    if entry.get("advice") is not None:
        if normalize_advice(entry["advice"]) != entry["advice"]:
            raise InvalidRecordError("advice must be stored as accepted: pass it through normalize_advice")
        problem = advice_problem(entry["advice"])
        if problem is not None:
            raise InvalidAdviceError(problem)
    payoff = entry.get("payoff")
    if payoff is not None:
        if isinstance(payoff, bool) or not isinstance(payoff, (int, float)) or not math.isfinite(payoff):
            raise InvalidRecordError(f"payoff must be a finite number, not {payoff!r}")
        entry["payoff"] = float(payoff)
    for name in _TIME_FIELDS:
        if entry.get(name) is not None:
            entry[name] = _utc_iso(name, entry[name])
    if stamp and "choice" in entry:
        entry.setdefault("recorded_at", utc_now().isoformat())
    if stamp and "payoff" in entry:
        entry.setdefault("completed_at", utc_now().isoformat())
    return entry


def _utc_iso(name: str, value: object) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidRecordError(f"{name} must be an ISO 8601 time, not {value!r}") from None
    if not isinstance(value, datetime):
        raise InvalidRecordError(f"{name} must be a datetime, not {value!r}")
    if value.tzinfo is None:
        raise InvalidRecordError(f"{name} must be timezone-aware (UTC)")
    return value.isoformat()


def read_checked_journal(path: Path) -> JournalContents:
    """The journal's complete entries, each a valid record: a crafted or damaged line is
    CorruptStoreError, never served as data."""
    contents = read_journal(path)
    for number, entry in enumerate(contents.entries, start=1):
        try:
            check_entry(entry, stamp=False)
        except InvalidRecordError as exc:
            raise CorruptStoreError(f"{path}: line {number} is not a valid record: {exc}") from None
    return contents


SAME: Final = "same"
ADDS: Final = "adds"
CONFLICT: Final = "conflict"


def compare_records(held: Mapping[str, Any], incoming: Mapping[str, Any]) -> str:
    """How an incoming record of a participant relates to the one held: SAME (nothing
    new), ADDS (agrees on every field both have, and has more: e.g. the payoff), or
    CONFLICT (a field both have differs)."""
    ours = {k: v for k, v in check_entry(held, stamp=False).items() if v is not None}
    theirs = {k: v for k, v in check_entry(incoming, stamp=False).items() if v is not None}
    if any(ours[k] != theirs[k] for k in ours.keys() & theirs.keys()):
        return CONFLICT
    return SAME if theirs.keys() <= ours.keys() else ADDS
