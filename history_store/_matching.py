"""Matching each new participant to an ancestor record of the same role: a pure function.

Within a role, ancestors are dealt without replacement while there are enough; when
the new session has more players of a role than the ancestor had, whole shuffled
passes over the ancestors are dealt again, so use counts differ by at most one
(balanced reuse). The result depends only on the inputs and the seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ._errors import AncestorRoleMissingError


@dataclass(frozen=True)
class AncestorCandidate:
    """One ancestor record a new participant may be matched to."""

    participant_code: str
    role: str
    advice: str


def match_ancestors(
    players: Mapping[str, str],
    ancestors: Iterable[AncestorCandidate],
    seed: int,
) -> dict[str, AncestorCandidate]:
    """Assign each player (code -> role) an ancestor of the same role.

    Raises AncestorRoleMissingError if a role that players need has no ancestor.
    """
    pools: dict[str, list[AncestorCandidate]] = {}
    for candidate in sorted(ancestors, key=lambda c: c.participant_code):
        pools.setdefault(candidate.role, []).append(candidate)

    assignment: dict[str, AncestorCandidate] = {}
    for role in sorted(set(players.values())):
        codes = sorted(code for code, player_role in players.items() if player_role == role)
        pool = pools.get(role)
        if not pool:
            raise AncestorRoleMissingError(
                f"The ancestor session has no records of role {role!r}, "
                f"but {len(codes)} participant(s) of this session need one."
            )
        # One RNG per role, so adding players of one role never changes the other's draw.
        rng = random.Random(f"{seed}:{role}")
        dealt = _deal_balanced(pool, len(codes), rng)
        assignment.update(zip(codes, dealt))
    return assignment


def _deal_balanced(
    pool: Sequence[AncestorCandidate], count: int, rng: random.Random
) -> list[AncestorCandidate]:
    dealt: list[AncestorCandidate] = []
    while len(dealt) < count:
        one_pass = list(pool)
        rng.shuffle(one_pass)
        dealt.extend(one_pass[: count - len(dealt)])
    return dealt
