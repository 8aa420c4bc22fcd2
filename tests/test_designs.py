"""Each design end to end: oTree bots over generations (the bots check what participants
see, in choice/tests.py), then what the store recorded and what the payment report says."""

from __future__ import annotations

import pytest

from history_store import HistoryStore, successor_payments
from tests.otree_project import run_session

pytestmark = pytest.mark.slow


def play(project, store_root, config, **kwargs):
    result = run_session(project, store_root, config=config, **kwargs)
    assert result.code, result.output
    return result.code


def test_public_advice_shows_every_same_role_advice_and_records_their_codes(project, tmp_path):
    store_root = tmp_path / "history"
    first = play(project, store_root, "pd_public_advice", participants=6)
    second = play(project, store_root, "pd_public_advice", participants=4, case=1, ancestor_session="latest")
    store = HistoryStore(store_root)
    ancestors = store.load_session(first).to_pylist()
    for row in store.load_session(second).to_pylist():
        same_role = sorted(a["participant_code"] for a in ancestors if a["role"] == row["role"])
        assert row["shown_advice_codes"] == ",".join(same_role)
        # the ancestor_* columns still name the one matched (designated) predecessor
        assert row["ancestor_participant_code"] in same_role
        assert row["lineage"] == "public"


def test_private_advice_records_the_one_advice_shown(project, tmp_path):
    store_root = tmp_path / "history"
    play(project, store_root, "pd_advice", participants=2)
    second = play(project, store_root, "pd_advice_next", participants=2)
    for row in HistoryStore(store_root).load_session(second).to_pylist():
        assert row["shown_advice_codes"] == row["ancestor_participant_code"]


def test_history_design_over_three_generations(project, tmp_path):
    # The bots check that generation 3 sees a table of two earlier generations.
    store_root = tmp_path / "history"
    play(project, store_root, "pd_history", participants=2)
    play(project, store_root, "pd_history", participants=2, case=1, ancestor_session="latest")
    third = play(project, store_root, "pd_history", participants=2, ancestor_session="latest")
    assert HistoryStore(store_root).load_manifest(third).generation == 3


def test_successor_linked_payment_report_by_hand(project, tmp_path):
    store_root = tmp_path / "history"
    # Generation 1: one pair, both cooperate: 3 points each. alpha = 0.5,
    # 0.5 currency units per point and a participation fee of 2.
    first = play(project, store_root, "pd_linked_payoff", participants=2,
                 real_world_currency_per_point=0.5, participation_fee=2.0)
    store = HistoryStore(store_root)
    before = successor_payments(store, first)
    assert [(p.own_payoff, p.total_points, p.is_final) for p in before] == [(3.0, 3.0, False)] * 2

    # Generation 2: two pairs, all defect: 1 point each; each ancestor has two successors.
    second = play(project, store_root, "pd_linked_payoff", participants=4, case=1, ancestor_session=first)
    lines = successor_payments(store, first)
    for line in lines:
        assert sorted(line.successor_payoffs.values()) == [1.0, 1.0]
        assert line.missing_successors == ()
        assert line.total_points == pytest.approx(3 + 0.5 * 1)
        assert line.total_money == pytest.approx(3.5 * 0.5 + 2)
        assert line.is_final
    successors = {r["participant_code"] for r in store.load_session(second).to_pylist()}
    assert set().union(*(line.successor_payoffs for line in lines)) == successors


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(advice_mode="secret"), "'advice_mode'"),
        (dict(show_history="yes"), "'show_history'"),
        (dict(successor_weight=-1.0), "'successor_weight'"),
        (dict(successor_weight="half"), "'successor_weight'"),
        (dict(payoff_reward=True), "'payoff_reward'"),
    ],
)
def test_bad_design_values_are_refused_at_creation(project, tmp_path, overrides, message):
    result = run_session(project, tmp_path / "history", **overrides)
    assert result.error_type == "LineageSetupError" and message in result.error
    assert not (tmp_path / "history").exists() or not list((tmp_path / "history").rglob("session.json"))
