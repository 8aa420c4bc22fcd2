from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from history_store import AncestorCandidate, AncestorRoleMissingError, match_ancestors


def ancestors(rows: int, columns: int) -> list[AncestorCandidate]:
    return [AncestorCandidate(f"r{i}", "row", f"row advice {i}") for i in range(rows)] + [
        AncestorCandidate(f"c{i}", "column", f"column advice {i}") for i in range(columns)
    ]


def players(rows: int, columns: int) -> dict[str, str]:
    return {**{f"new_r{i}": "row" for i in range(rows)}, **{f"new_c{i}": "column" for i in range(columns)}}


def test_each_player_gets_an_ancestor_of_the_same_role():
    matched = match_ancestors(players(3, 3), ancestors(3, 3), seed=1)
    assert set(matched) == set(players(3, 3))
    assert all(matched[code].role == role for code, role in players(3, 3).items())


def test_without_replacement_while_the_ancestor_has_enough():
    matched = match_ancestors(players(3, 3), ancestors(5, 4), seed=7)
    used = Counter(a.participant_code for a in matched.values())
    assert max(used.values()) == 1


def test_balanced_reuse_when_the_ancestor_had_fewer_of_a_role():
    matched = match_ancestors(players(7, 2), ancestors(3, 2), seed=3)
    row_uses = Counter(a.participant_code for code, a in matched.items() if code.startswith("new_r"))
    assert set(row_uses) == {"r0", "r1", "r2"}
    assert sorted(row_uses.values()) == [2, 2, 3]


@given(
    new_rows=st.integers(0, 40), new_columns=st.integers(0, 40),
    old_rows=st.integers(1, 15), old_columns=st.integers(1, 15), seed=st.integers(0, 2**63 - 1),
)
def test_use_counts_never_differ_by_more_than_one(new_rows, new_columns, old_rows, old_columns, seed):
    matched = match_ancestors(players(new_rows, new_columns), ancestors(old_rows, old_columns), seed)
    for role, pool_size in (("row", old_rows), ("column", old_columns)):
        uses = Counter(a.participant_code for a in matched.values() if a.role == role)
        wanted = new_rows if role == "row" else new_columns
        counts = list(uses.values()) + [0] * (pool_size - len(uses))
        assert sum(counts) == wanted
        assert max(counts) - min(counts) <= 1


def test_same_seed_same_assignment_whatever_the_input_order():
    pool = ancestors(4, 4)
    first = match_ancestors(players(6, 6), pool, seed=99)
    again = match_ancestors(dict(reversed(list(players(6, 6).items()))), list(reversed(pool)), seed=99)
    assert first == again
    assert any(match_ancestors(players(6, 6), pool, seed=s) != first for s in range(5))


def test_a_role_with_no_ancestor_is_an_error_naming_the_role():
    with pytest.raises(AncestorRoleMissingError, match="column"):
        match_ancestors(players(2, 2), ancestors(3, 0), seed=1)


def test_no_players_no_matches():
    assert match_ancestors({}, [], seed=1) == {}
