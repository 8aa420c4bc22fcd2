"""The experimental designs a session config selects, checked before a session is created.

- advice_mode: 'private' (one matched ancestor's advice) or 'public' (all advice of
  the ancestor session's same-role participants, in a stable order).
- show_history: also show what earlier generations did, along the session's ancestry.
- successor_weight (alpha): earnings = own payoff + alpha x mean payoff of successors.
- payoff_reward / _temptation / _sucker / _punishment: the payoff matrix in points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from history_store import COOPERATE, ROLES, AncestorCandidate, HistoryStore, HistoryStoreError, SessionManifest

from .lineage import LineageSetupError

PRIVATE = "private"
PUBLIC = "public"
ADVICE_MODES = (PRIVATE, PUBLIC)
PAYOFF_KEYS = ("payoff_reward", "payoff_temptation", "payoff_sucker", "payoff_punishment")


@dataclass(frozen=True)
class Design:
    advice_mode: str = PRIVATE
    show_history: bool = False
    successor_weight: float = 0.0


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_design(config: dict[str, Any]) -> Design:
    """The session's design. Raises LineageSetupError naming the key and what it accepts."""
    mode = config.get("advice_mode", PRIVATE)
    if mode not in ADVICE_MODES:
        raise LineageSetupError(
            f"Session config 'advice_mode' is {mode!r}: use 'private' (each participant reads one "
            "matched ancestor's advice) or 'public' (everyone reads all advice of their role)."
        )
    show_history = config.get("show_history", False)
    if not isinstance(show_history, bool):
        raise LineageSetupError(f"Session config 'show_history' must be True or False, not {show_history!r}.")
    weight = config.get("successor_weight", 0.0)
    if not _is_number(weight) or weight < 0:
        raise LineageSetupError(
            f"Session config 'successor_weight' must be a number of at least 0 (e.g. 0.5), not {weight!r}."
        )
    for key in PAYOFF_KEYS:
        if key in config and not _is_number(config[key]):
            raise LineageSetupError(f"Session config {key!r} must be a number of points, not {config[key]!r}.")
    return Design(advice_mode=mode, show_history=show_history, successor_weight=float(weight))


def public_advice(candidates: tuple[AncestorCandidate, ...]) -> dict[str, list[dict[str, str]]]:
    """role -> every ancestor advice of that role, ordered by participant code (stable)."""
    return {
        role: [dict(code=c.participant_code, advice=c.advice)
               for c in sorted(candidates, key=lambda c: c.participant_code) if c.role == role]
        for role in ROLES
    }


@dataclass(frozen=True)
class AncestryHistory:
    """What earlier generations did, read from the store when the session is created."""

    generations: list[dict[str, Any]]  # per ancestor session, generation 1 first
    records: dict[str, dict[str, Any]]  # participant code -> record, across the ancestry

    def trail(self, participant_code: str | None) -> dict[int, dict[str, Any]]:
        """generation -> what the matched ancestor (and its ancestors in turn) chose and earned."""
        trail: dict[int, dict[str, Any]] = {}
        while participant_code and participant_code in self.records and len(trail) < len(self.generations):
            record = self.records[participant_code]
            trail[record["generation"]] = dict(choice=record["choice"], payoff=record["payoff"])
            participant_code = record["ancestor_participant_code"]
        return trail


def load_history(store: HistoryStore, ancestor: SessionManifest) -> AncestryHistory:
    """Raises LineageSetupError if a session of the ancestry cannot be read."""
    try:
        chain = store.ancestry(ancestor.session_code)
        tables = [store.load_session(m.session_code).to_pylist() for m in chain]
    except HistoryStoreError as exc:
        raise LineageSetupError(
            f"show_history needs every earlier generation of {ancestor.session_code}, but: {exc}"
        ) from None
    generations, records = [], {}
    for manifest, rows in zip(chain, tables):
        summary: dict[str, Any] = dict(generation=manifest.generation, session_code=manifest.session_code)
        for role in ROLES:
            of_role = [r for r in rows if r["role"] == role and r["choice"]]
            paid = [r["payoff"] for r in of_role if r["payoff"] is not None]
            summary[role] = dict(
                n=len(of_role),
                cooperation=sum(r["choice"] == COOPERATE for r in of_role) / len(of_role) if of_role else None,
                mean_payoff=fmean(paid) if paid else None,
            )
        generations.append(summary)
        records.update({r["participant_code"]: r for r in rows})
    return AncestryHistory(generations, records)


def _share(role_summary: dict[str, Any]) -> str:
    if not role_summary["n"]:
        return "–"
    cooperated = round(role_summary["cooperation"] * role_summary["n"])
    return f"{cooperated} of {role_summary['n']} ({role_summary['cooperation']:.0%})"


def _points(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def history_row(generation: dict[str, Any], trail: dict[Any, dict[str, Any]], role: str) -> dict[str, str]:
    """One generation of the history table as the participant reads it (all text)."""
    number = generation["generation"]
    # participant.vars may come back from the database with the keys as text
    ancestor = trail.get(number) or trail.get(str(number)) or {}
    payoffs = [generation[r]["mean_payoff"] for r in ROLES if generation[r]["mean_payoff"] is not None]
    return dict(
        generation=str(number),
        row_cooperated=_share(generation["row"]),
        column_cooperated=_share(generation["column"]),
        mean_payoff=_points(fmean(payoffs) if payoffs else None),
        ancestor_choice=ancestor.get("choice") or "–",
        ancestor_payoff=_points(ancestor.get("payoff")),
    )
