"""The app under oTree: generations chained through the store, and refused sessions."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from history_store import HistoryStore, SessionManifest
from tests.conftest import record
from tests.otree_project import OtreeServer, otree_env, run_otree, run_session

pytestmark = pytest.mark.slow


def check_ancestry(store: HistoryStore, child_code: str, parent_code: str) -> None:
    parent = {r["participant_code"]: r for r in store.load_session(parent_code).to_pylist()}
    children = store.load_session(child_code).to_pylist()
    assert children
    for child in children:
        assert child["ancestor_session_code"] == parent_code
        ancestor = parent[child["ancestor_participant_code"]]
        assert ancestor["role"] == child["role"]
        assert child["ancestor_advice"] == ancestor["advice"]
        assert ancestor["advice"].startswith(f"From {ancestor['participant_code']}:")


def test_three_generations_read_their_ancestors_advice_and_outlive_resetdb(project, tmp_path, database_env):
    """On SQLite and on a real PostgreSQL server, with `otree resetdb` between days."""
    store_root = tmp_path / "history"
    env = otree_env(store_root, **database_env)
    gen1 = run_session(project, store_root, participants=4, env=env)
    gen2 = run_session(project, store_root, participants=6, case=1, ancestor_session=gen1.code, env=env)
    assert gen1.code and gen2.code, (gen1.output, gen2.output)

    reset = run_otree(project, store_root, "resetdb", "--noinput", env=env)
    assert reset.returncode == 0, reset.stderr
    if database_env:
        assert "postgresql" in reset.stdout + reset.stderr  # oTree really used PostgreSQL
    gen3 = run_session(project, store_root, participants=4, ancestor_session="latest", env=env)
    assert gen3.code, gen3.output

    store = HistoryStore(store_root)
    generations = {m.session_code: m.generation for m in store.list_sessions("default")}
    assert generations == {gen1.code: 1, gen2.code: 2, gen3.code: 3}
    check_ancestry(store, gen2.code, gen1.code)
    check_ancestry(store, gen3.code, gen2.code)
    gen2_rows = store.load_session(gen2.code).to_pylist()
    assert len(gen2_rows) == 6 and all(r["payoff"] == 1.0 for r in gen2_rows)  # case 1: both defect
    # gen 1 had two players per role and gen 2 three: one ancestor serves twice (balanced reuse)
    uses = sorted(list(map(lambda r: r["ancestor_participant_code"], gen2_rows)).count(a)
                  for a in {r["ancestor_participant_code"] for r in gen2_rows})
    assert uses == [1, 1, 2, 2]
    manifest = store.load_manifest(gen2.code)
    assert manifest.ancestor_session_code == gen1.code
    assert {code: a["ancestor_participant_code"] for code, a in manifest.assignment.items()} == {
        r["participant_code"]: r["ancestor_participant_code"] for r in gen2_rows
    }


def test_otree_test_command_plays_a_first_and_a_next_generation(project, tmp_path):
    store_root = tmp_path / "history"
    first = run_otree(project, store_root, "test", "pd_advice", "4")
    assert first.returncode == 0, first.stdout + first.stderr
    following = run_otree(project, store_root, "test", "pd_advice_next", "2")
    assert following.returncode == 0, following.stdout + following.stderr
    sessions = HistoryStore(store_root).list_sessions("default")
    # one session per bot case: two first generations, then 'latest' chains two more
    assert sorted(m.generation for m in sessions) == [1, 1, 2, 3]


def seeded_store(root) -> HistoryStore:
    store = HistoryStore(root)
    only_rows = SessionManifest("onlyrows", "default", 1, None, 2, 1)
    store.register_session(only_rows)
    store.append_records("onlyrows", [record("r1", "row"), record("r2", "row")])
    elsewhere = SessionManifest("elsewhere", "other", 1, None, 2, 1)
    store.register_session(elsewhere)
    store.append_records("elsewhere", [record("e1", "row"), record("e2", "column")])
    return store


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(ancestor_session="nosuch1"), "is not in the history store"),
        (dict(ancestor_session="elsewhere"), "belongs to lineage 'other'"),
        (dict(ancestor_session="onlyrows"), "no records of the column role"),
        (dict(ancestor_session="latest", lineage="fresh"), "Run a first generation"),
        (dict(lineage="../escape"), "Invalid lineage name"),
        (dict(ancestor_session="../../etc"), "use an earlier session's code"),
        (dict(payoff_temptation="lots"), "payoff_temptation"),
        (dict(lineage=5), "Invalid lineage name"),
        (dict(ancestor_session=5), "must be text"),
    ],
)
def test_bad_lineage_settings_refuse_the_session_and_leave_the_store_untouched(project, tmp_path, overrides, message):
    store = seeded_store(tmp_path / "history")
    before = sorted(p.relative_to(store.root) for p in store.root.rglob("*"))
    result = run_session(project, store.root, **overrides)
    assert result.code is None
    assert result.error_type == "LineageSetupError"
    assert message in result.error
    assert sorted(p.relative_to(store.root) for p in store.root.rglob("*")) == before


def test_unwritable_store_refuses_the_session_with_what_to_do(project, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = run_session(project, blocker / "history")
    assert result.error_type == "LineageSetupError"
    assert "cannot be written" in result.error and "OTREE_HISTORY_DIR" in result.error


def test_rest_api_answers_400_with_the_message_and_creates_a_good_session(project, tmp_path):
    store = seeded_store(tmp_path / "history")
    with OtreeServer(project, store.root) as server:
        def create(**overrides):
            body = json.dumps(dict(session_config_name="pd_advice", num_participants=2,
                                   modified_session_config_fields=overrides)).encode()
            request = urllib.request.Request(server.url + "/api/sessions", data=body, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                return error.code, error.read().decode()

        status, text = create(ancestor_session="elsewhere")
        assert status == 400 and "belongs to lineage 'other'" in text
        status, text = create()
        assert status == 200
        code = json.loads(text)["code"]
    assert HistoryStore(store.root).load_manifest(code).generation == 1


def test_custom_export_puts_the_lineage_records_on_otrees_data_page(project, tmp_path):
    import csv

    store_root = tmp_path / "history"
    result = run_otree(project, store_root, "test", "pd_advice", "2", "--export", str(tmp_path / "export"))
    assert result.returncode == 0, result.stdout + result.stderr
    with open(tmp_path / "export" / "choice_custom.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    store = HistoryStore(store_root)
    expected = [r for m in store.list_sessions() for r in store.load_session(m.session_code).to_pylist()]
    assert sorted(r["participant_code"] for r in rows) == sorted(r["participant_code"] for r in expected)
    assert {r["generation"] for r in rows} == {"1"} and all(r["advice"].startswith("From ") for r in rows)
