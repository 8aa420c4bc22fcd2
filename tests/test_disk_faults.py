"""Disk trouble injected at the store's I/O layer (OSError, as a full or read-only disk
gives; tests run as root, so chmod would prove nothing): the game goes on, nothing
recorded is damaged, and the missing records arrive once the disk is back."""

from __future__ import annotations

import errno
import logging
import os

import pytest
from starlette.testclient import TestClient

import history_store._journal
import history_store._store
from history_store import open_default_store, verify_store
from tests.participants import Participant

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

FAULTS = [errno.ENOSPC, errno.EROFS, errno.EACCES]


def failing(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))
    return fail


def new_session(participants: int = 2, **config):
    from otree.session import create_session

    return create_session("pd_advice", num_participants=participants, modified_session_config_fields=config)


def players_of(session):
    from choice import Player
    from otree.database import db

    db.expire_all()  # read what the requests committed, not this test's cached rows
    return sorted(Player.objects_filter(session=session), key=lambda p: p.participant.code)


def play_pair(app, session, advice_prefix="advice"):
    pair = [Participant(TestClient(app), "", p.code).start() for p in sorted(session.get_participants(), key=lambda p: p.code)]
    for index, participant in enumerate(pair):
        participant.choose("cooperate", f"{advice_prefix} {index}")
    for participant in pair:
        participant.wait_for("Results")
    return pair


@pytest.mark.parametrize("code", FAULTS, ids=[errno.errorcode[c] for c in FAULTS])
def test_session_creation_refuses_with_a_clear_message_when_the_disk_fails(otree_asgi_app, monkeypatch, code):
    from choice.lineage import LineageSetupError

    from otree.database import db

    monkeypatch.setattr(history_store._store.os, "fsync", failing(code))
    with pytest.raises(LineageSetupError, match="cannot be written") as refused:
        try:
            new_session()
        finally:
            db.rollback()  # as oTree's request middleware does after a failed request
    assert os.strerror(code) in str(refused.value) and "OTREE_HISTORY_DIR" in str(refused.value)


@pytest.mark.parametrize("code", FAULTS, ids=[errno.errorcode[c] for c in FAULTS])
def test_a_failing_append_never_stops_the_game_and_is_written_later(otree_asgi_app, monkeypatch, caplog, code):
    store = open_default_store()
    earlier = new_session()
    play_pair(otree_asgi_app, earlier, "kept")
    before = store.load_session(earlier.code).to_pylist()

    session = new_session()
    with monkeypatch.context() as disk, caplog.at_level(logging.ERROR, logger="choice.lineage"):
        disk.setattr(history_store._store, "append_to_journal", failing(code))
        pair = play_pair(otree_asgi_app, session)
        # the game went on: payoffs set, both on Results, no error page
        assert all(p.page == "Results" and not p.server_errors for p in pair)
        players = players_of(session)
        assert [p.payoff for p in players] == [3, 3]
        assert [p.history_recorded for p in players] == [False, False]
        for player in players:
            assert any(player.participant.code in r.message and os.strerror(code) in r.message for r in caplog.records)
        assert store.read_records(session.code) == []
        assert store.load_session(earlier.code).to_pylist() == before  # nothing recorded is damaged

    # the disk is back
    pair[0].reload()  # a later request of the participant writes their record
    assert [r["participant_code"] for r in store.read_records(session.code)] == [pair[0].code]
    admin = TestClient(otree_asgi_app)
    from tests.test_admin_routes import login

    report = login(admin).get(f"/AdminReport/{session.code}").text  # an admin action writes the rest
    assert "Written just now" in report
    rows = store.load_session(session.code).to_pylist()
    assert sorted(r["participant_code"] for r in rows) == sorted(p.code for p in pair)
    assert all(r["payoff"] == 3.0 and r["advice"].startswith("advice") for r in rows)
    assert all(p.history_recorded for p in players_of(session))
    assert verify_store(store).clean


def test_a_participant_the_experimenter_advances_past_choice_is_a_dropout_not_an_error(otree_asgi_app):
    from otree.common import ADMIN_SECRET_CODE

    session = new_session()
    present, advanced = [Participant(TestClient(otree_asgi_app), "", p.code).start()
                         for p in sorted(session.get_participants(), key=lambda p: p.code)]
    present.choose("cooperate", "I stayed")
    # what oTree's "advance slowest participants" sends
    advanced._record(advanced.client.post(advanced.response.url, data={
        "timeout_happened": "True", "admin_secret_code": ADMIN_SECRET_CODE}))
    present.wait_for("Results")
    advanced.wait_for("Results")
    assert not present.server_errors and not advanced.server_errors
    players = {p.participant.code: p for p in players_of(session)}
    assert players[present.code].payoff == 0  # cooperated; the partner counts as defecting
    assert players[advanced.code].payoff == 0
    rows = open_default_store().load_session(session.code).to_pylist()
    assert [(r["participant_code"], r["payoff"]) for r in rows] == [(present.code, 0.0)]
