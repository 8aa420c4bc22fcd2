"""Wiring between the oTree app and the lineage store.

Everything the app asks of history_store goes through here: checking a new
session's lineage settings, matching players to ancestors, and recording what
participants did. oTree's own player rows are the outbox: a record that could not
be appended stays marked `history_recorded = False` and is sent again later.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from otree.session import CreateSessionInvalidArgs

import history_store
from history_store import (
    AncestorCandidate,
    HistoryStore,
    HistoryStoreError,
    SessionManifest,
)

logger = logging.getLogger("choice.lineage")

LATEST = "latest"
# The session config keys the lineage features read, with their defaults.
CONFIG_DEFAULTS: dict[str, Any] = dict(lineage="default", ancestor_session="")


class LineageSetupError(CreateSessionInvalidArgs):
    """A session's lineage settings cannot work; oTree shows this message and creates nothing."""


def get_store() -> HistoryStore:
    """The process's store at $OTREE_HISTORY_DIR (default data/history)."""
    return history_store.open_default_store()


@dataclass(frozen=True)
class GenerationPlan:
    """What a new session inherits: validated before oTree groups anyone."""

    lineage: str
    generation: int
    ancestor: SessionManifest | None
    candidates: tuple[AncestorCandidate, ...] = ()
    matching_seed: int = 0


def plan_generation(config: dict[str, Any]) -> GenerationPlan:
    """Check the lineage settings of a new session. Raises LineageSetupError with what to do."""
    store = get_store()
    lineage = config.get("lineage", CONFIG_DEFAULTS["lineage"])
    ancestor_setting = config.get("ancestor_session", CONFIG_DEFAULTS["ancestor_session"])
    try:
        history_store.check_lineage_name(lineage)
    except HistoryStoreError as exc:
        raise LineageSetupError(f"Session config 'lineage': {exc}") from None
    if not isinstance(ancestor_setting, str):
        raise LineageSetupError(
            f"Session config 'ancestor_session' must be text: empty for a first generation, "
            f"'{LATEST}', or an earlier session's code; got {ancestor_setting!r}."
        )
    try:
        store.check_writable()
    except HistoryStoreError as exc:
        raise LineageSetupError(str(exc)) from None

    seed = secrets.randbits(63)
    ancestor_setting = ancestor_setting.strip()
    if not ancestor_setting:
        return GenerationPlan(lineage=lineage, generation=1, ancestor=None, matching_seed=seed)

    ancestor = _find_ancestor(store, lineage, ancestor_setting)
    try:
        records = store.read_records(ancestor.session_code)
    except HistoryStoreError as exc:
        raise LineageSetupError(f"The ancestor session {ancestor.session_code} cannot be read: {exc}") from None
    candidates = tuple(
        AncestorCandidate(r["participant_code"], r["role"], r["advice"])
        for r in records
        if r.get("role") and r.get("advice")  # dropouts left no advice: never ancestors
    )
    for role in history_store.ROLES:
        if not any(c.role == role for c in candidates):
            raise LineageSetupError(
                f"The ancestor session {ancestor.session_code} has no records of the {role} role, "
                f"so nobody in this session could read advice from a {role} player. "
                "Choose an ancestor session in which both roles made a choice."
            )
    return GenerationPlan(
        lineage=lineage,
        generation=ancestor.generation + 1,
        ancestor=ancestor,
        candidates=candidates,
        matching_seed=seed,
    )


def _find_ancestor(store: HistoryStore, lineage: str, setting: str) -> SessionManifest:
    try:
        if setting == LATEST:
            return store.resolve_latest(lineage)
        ancestor = store.load_manifest(setting)
    except history_store.InvalidNameError:
        raise LineageSetupError(
            f"Session config 'ancestor_session' is {setting!r}: use an earlier session's code "
            f"(letters and digits, e.g. from oTree's Sessions page), '{LATEST}', or leave it empty."
        ) from None
    except history_store.SessionNotFoundError:
        raise LineageSetupError(
            f"Ancestor session {setting!r} is not in the history store at {store.root}. "
            f"Check the code, or use '{LATEST}' for the newest session of lineage {lineage!r}."
        ) from None
    except HistoryStoreError as exc:
        raise LineageSetupError(f"Session config 'ancestor_session': {exc}") from None
    if ancestor.lineage != lineage:
        raise LineageSetupError(
            f"Ancestor session {setting} belongs to lineage {ancestor.lineage!r}, not {lineage!r}. "
            f"Set 'lineage' to {ancestor.lineage!r}, or choose a session of lineage {lineage!r}."
        )
    return ancestor


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def register_generation(
    session: Any, plan: GenerationPlan, assignment: dict[str, dict[str, str | None]]
) -> None:
    """Write the session's manifest: the last step of creating a session."""
    manifest = SessionManifest(
        session_code=session.code,
        lineage=plan.lineage,
        generation=plan.generation,
        ancestor_session_code=plan.ancestor.session_code if plan.ancestor else None,
        num_participants=session.num_participants,
        matching_seed=plan.matching_seed,
        config=_flat_config(session.config),
        config_name=session.config.get("name", ""),
        is_demo=bool(session.is_demo),
        label=session.label or "",
        assignment=assignment,
    )
    try:
        get_store().register_session(manifest)
    except HistoryStoreError as exc:
        raise LineageSetupError(str(exc)) from None


def _flat_config(config: dict[str, Any]) -> dict[str, Any]:
    """The session config as JSON: numbers stay numbers (Currency, Decimal), lists stay lists."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if value is None or isinstance(value, (str, int, float, bool)):
            flat[key] = value
        elif isinstance(value, (list, tuple)):
            flat[key] = [str(item) for item in value]
        else:
            try:
                flat[key] = float(value)
            except (TypeError, ValueError):
                flat[key] = str(value)
    return flat


def save_history(session_code: str, players: list[Any], entry_for) -> bool:
    """Append the players' current records in one write; mark them recorded or not.

    Never raises: a participant must go on even when the disk does not.
    """
    try:
        get_store().append_records(session_code, [entry_for(p) for p in players])
    except (HistoryStoreError, OSError) as exc:
        for player in players:
            player.history_recorded = False
            logger.error(
                "history record of participant %s (session %s) not saved, will retry: %s",
                player.participant.code, session_code, exc,
            )
        return False
    for player in players:
        player.history_recorded = True
    return True
