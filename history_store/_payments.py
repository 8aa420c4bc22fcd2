"""Successor-linked payment: own payoff plus alpha times the mean payoff of one's successors.

A successor is a record, in any descendant session, whose ancestor_participant_code
is the participant's. The successors' payoffs are known only after the next
generation plays, so the report says which are still missing. Who a successor is
comes from the descendant's manifest (its matching), so a successor who dropped out
is listed as missing rather than silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import fmean
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._store import HistoryStore

SUCCESSOR_WEIGHT_KEY = "successor_weight"


@dataclass(frozen=True)
class PaymentLine:
    participant_code: str
    participant_label: str | None
    own_payoff: float | None
    successor_payoffs: dict[str, float] = field(default_factory=dict)  # successor code -> payoff
    missing_successors: tuple[str, ...] = ()
    successor_weight: float = 0.0
    real_world_currency_per_point: float = 1.0
    participation_fee: float = 0.0

    @property
    def successor_mean(self) -> float | None:
        return fmean(self.successor_payoffs.values()) if self.successor_payoffs else None

    @property
    def total_points(self) -> float | None:
        if self.own_payoff is None:
            return None
        return self.own_payoff + self.successor_weight * (self.successor_mean or 0.0)

    @property
    def total_money(self) -> float | None:
        points = self.total_points
        return None if points is None else points * self.real_world_currency_per_point + self.participation_fee

    @property
    def is_final(self) -> bool:
        return self.successor_weight == 0 or (bool(self.successor_payoffs) and not self.missing_successors)


def successor_payments(store: HistoryStore, session_code: str) -> list[PaymentLine]:
    """One line per participant with a record in the session.

    Raises SessionNotFoundError, CorruptStoreError.
    """
    manifest = store.load_manifest(session_code)
    config = manifest.config
    weight = float(config.get(SUCCESSOR_WEIGHT_KEY) or 0.0)
    rate = float(config.get("real_world_currency_per_point") or 1.0)
    fee = float(config.get("participation_fee") or 0.0)

    expected: dict[str, list[str]] = {}
    payoffs: dict[str, dict[str, float]] = {}
    for descendant in store.descendants(session_code):
        if descendant.is_demo or descendant.session_code in store.excluded_sessions(descendant.lineage):
            continue
        for child, assigned in descendant.assignment.items():
            parent = assigned.get("ancestor_participant_code")
            if parent:
                expected.setdefault(parent, []).append(child)
        for row in store.read_records(descendant.session_code):
            parent = row.get("ancestor_participant_code")
            if parent and row.get("payoff") is not None:
                payoffs.setdefault(parent, {})[row["participant_code"]] = float(row["payoff"])

    lines = []
    for row in store.read_records(session_code):
        code = row["participant_code"]
        known = payoffs.get(code, {})
        lines.append(PaymentLine(
            participant_code=code,
            participant_label=row.get("participant_label"),
            own_payoff=row.get("payoff"),
            successor_payoffs=known,
            missing_successors=tuple(c for c in expected.get(code, []) if c not in known),
            successor_weight=weight,
            real_world_currency_per_point=rate,
            participation_fee=fee,
        ))
    return lines
