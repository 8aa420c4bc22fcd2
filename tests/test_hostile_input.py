"""Hostile input: advice of any unicode through the real pages, fuzzed /lineage paths,
crafted store contents, and every route under STUDY without the admin login."""

from __future__ import annotations

import io
import json
import re
from html import escape

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from history_store import SessionManifest, advice_problem, normalize_advice, open_default_store
from tests.conftest import record
from tests.participants import Participant
from tests.test_admin_routes import DATA, PAGES, login

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

NASTY = [
    "<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>", "&amp; &lt; &#0;", "\u202eevil\u202c RTL",
    "\u200f\u200e marks", "line\r\nbreaks\rand\nmore", "🙂👩‍👩‍👧 emoji", "{{ player.payoff }}", "a" * 999 + "🙂",
    "tab\there", "\ufeffbom", "ﷺ wide", "\x1f unit separator", "javascript:alert(1)",
]


def session_with(participants: int):
    from otree.session import create_session

    return create_session("pd_advice", num_participants=participants)


def submit(app, participant_code: str, advice: str):
    person = Participant(TestClient(app), "", participant_code).start()
    person.choose("defect", advice)
    return person


@pytest.fixture(scope="module")
def big_session(otree_asgi_app, tmp_path_factory):
    import os

    root = tmp_path_factory.mktemp("hostile") / "history"
    os.environ["OTREE_HISTORY_DIR"] = str(root)
    session = session_with(120)
    codes = iter(sorted(p.code for p in session.get_participants()))
    return session, codes, root


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(advice=st.one_of(st.sampled_from(NASTY), st.text(min_size=0, max_size=1100)))
def test_any_advice_is_refused_cleanly_or_stored_exactly_and_shown_escaped(otree_asgi_app, big_session, monkeypatch, advice):
    session, codes, root = big_session
    monkeypatch.setenv("OTREE_HISTORY_DIR", str(root))
    if "\x00" in advice or any("\ud800" <= c <= "\udfff" for c in advice):
        sent = advice.encode("utf-8", "replace").decode("utf-8")  # what a browser can send at all
    else:
        sent = advice
    code = next(codes)
    person = submit(otree_asgi_app, code, sent)
    assert not person.server_errors
    problem = advice_problem(sent.replace("\r\n", "\n"))
    stored = {r["participant_code"]: r for r in open_default_store().read_records(session.code)}
    if problem:
        assert person.page == "Choice" and code not in stored  # refused; the form is shown again
        return
    assert stored[code]["advice"] == normalize_advice(sent)
    page = _admin_client(otree_asgi_app).get(f"/lineage/sessions/{session.code}").text
    assert "<script" not in page and "<img" not in page  # our pages have no script at all
    for line in normalize_advice(sent).split("\n"):
        assert escape(line) in page


def test_nul_and_10000_characters_are_refused_with_a_message(otree_asgi_app, big_session, monkeypatch):
    session, codes, root = big_session
    monkeypatch.setenv("OTREE_HISTORY_DIR", str(root))
    for advice, message in (("nul\x00byte", "NUL"), ("x" * 10_000, "at most 1000")):
        person = submit(otree_asgi_app, next(codes), advice)
        assert person.page == "Choice" and message in person.response.text and not person.server_errors
        assert escape(advice[:50]) in person.response.text or advice.startswith("x")  # what was typed stays


def test_nasty_advice_reads_back_equal_from_csv_and_parquet_and_is_escaped_everywhere(otree_asgi_app, tmp_path):
    store = open_default_store()
    store.register_session(SessionManifest("nasty", "N", 1, None, len(NASTY), 1))
    advices = [normalize_advice(a) for a in NASTY]
    store.append_records("nasty", [record(f"n{i}", advice=a) for i, a in enumerate(advices)])
    admin = login(TestClient(otree_asgi_app))
    parquet = pq.read_table(io.BytesIO(admin.get("/lineage/sessions/nasty/history.parquet").content))
    assert parquet.column("advice").to_pylist() == advices
    csv_table = pacsv.read_csv(io.BytesIO(admin.get("/lineage/sessions/nasty/history.csv").content),
                               convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
    assert csv_table.column("advice").to_pylist() == advices
    json_records = json.loads(admin.get("/lineage/sessions/nasty/history.json").content)["records"]
    assert [r["advice"] for r in json_records] == advices
    for path in ("/lineage/", "/lineage/sessions/nasty", "/lineage/sessions/nasty/participants/n0"):
        page = admin.get(path).text
        assert "<script>alert" not in page and "<img src=x" not in page


CANARY = "canary-outside-the-store-7f3a"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    segment=st.lists(st.sampled_from(list("abc./%2Ef0\\:;?#=&-_~ ") + ["%2F", "%00", "..", "%2e%2e", "lineage=A",
                                                                     "session=secret", "secret.txt"]),
                     max_size=12).map("".join),
    prefix=st.sampled_from(["/lineage/sessions/", "/lineage/lineages/", "/lineage/sessions/g1code/participants/",
                            "/lineage/", "/lineage/sessions/g1code/"]),
    suffix=st.sampled_from(["", "/history.parquet", "/history.csv", "/history.json", "/payments", "/history-excel.csv"]),
    query=st.text(max_size=20),
)
def test_fuzzed_lineage_paths_never_500_and_never_leave_the_store(otree_asgi_app, tmp_path_factory, segment, prefix,
                                                                 suffix, query):
    store = open_default_store()
    if not store.session_exists("g1code"):
        store.register_session(SessionManifest("g1code", "A", 1, None, 2, 1))
        store.append_records("g1code", [record("a1")])
        outside = store.root.parent / "lineage=A" / "session=secret"
        outside.mkdir(parents=True, exist_ok=True)
        (outside / "journal.jsonl").write_text(CANARY)
        (store.root.parent / "secret.txt").write_text(CANARY)
    admin = _admin_client(otree_asgi_app)
    response = admin.get(prefix + segment + suffix, params={"q": query}, allow_redirects=False)
    assert response.status_code < 500
    assert CANARY.encode() not in response.content


_clients: dict[int, TestClient] = {}


def _admin_client(app) -> TestClient:
    if id(app) not in _clients:
        _clients[id(app)] = login(TestClient(app))
    return _clients[id(app)]


@pytest.mark.parametrize(
    "craft, reason",
    [
        ("manifest-other-lineage", "describes lineage=Other"),
        ("manifest-html-number", "num_participants must be a whole number"),
        ("extra-field", "Unknown record field"),
        ("missing-field", "participant_code"),
        ("wrong-type", "payoff must be a finite number"),
        ("parquet-other-schema", "does not have the record schema"),
    ],
)
def test_crafted_store_contents_are_damage_never_data(otree_asgi_app, craft, reason):
    store = open_default_store()
    store.register_session(SessionManifest("fine", "A", 1, None, 2, 1))
    store.append_records("fine", [record("ok1")])
    store.register_session(SessionManifest("crafted", "A", 1, None, 2, 1))
    store.append_records("crafted", [record("c1")])
    folder = store.session_dir("crafted")
    if craft.startswith("manifest-"):
        data = json.loads((folder / "session.json").read_text())
        if craft == "manifest-other-lineage":
            data["lineage"] = "Other"
        else:
            data["num_participants"] = "<img src=x onerror=alert(1)>"
        (folder / "session.json").write_text(json.dumps(data))
    elif craft == "parquet-other-schema":
        import pyarrow as pa

        table = pa.table({"participant_code": ["c1"], "stolen": ["x"]})
        pq.write_table(table.replace_schema_metadata({b"history_store.journal_bytes": str(
            (folder / "journal.jsonl").stat().st_size).encode()}), folder / "history.parquet")
    else:
        line = {"extra-field": {"participant_code": "c2", "role": "row", "admin": True},
                "missing-field": {"role": "row", "choice": "defect"},
                "wrong-type": {"participant_code": "c2", "payoff": "lots"}}[craft]
        with open(folder / "journal.jsonl", "a") as journal:
            journal.write(json.dumps(line) + "\n")
    admin = login(TestClient(otree_asgi_app))
    overview = admin.get("/lineage/")
    assert overview.status_code == 200 and "crafted</code> is damaged" in overview.text
    assert "<img src=x" not in overview.text
    assert escape(reason) in overview.text or reason in overview.text
    for suffix in ("/history.parquet", "/history.csv", "/history.json"):
        assert admin.get(f"/lineage/sessions/crafted{suffix}").status_code in (404, 409)
    assert admin.get("/lineage/sessions/fine/history.parquet").status_code == 200
    lineage = pq.read_table(io.BytesIO(admin.get("/lineage/lineages/A/history.parquet").content))
    assert lineage.column("session_code").to_pylist() == ["fine"]


ALL_ROUTES = PAGES + DATA + ["/lineage/sessions/g2code/payments", "/lineage/sessions/g2code/payments.csv",
                             "/lineage/sessions/g1code"]


@pytest.mark.parametrize("who", ["anonymous", "participant", "forged-cookie", "after-logout"])
def test_no_lineage_data_without_the_admin_login(otree_asgi_app, who):
    store = open_default_store()
    store.register_session(SessionManifest("g1code", "A", 1, None, 2, 1))
    store.register_session(SessionManifest("g2code", "A", 2, "g1code", 2, 1))
    store.register_session(SessionManifest("g3code", "A", 3, "g2code", 2, 1))
    store.append_records("g2code", [record("secretadvice1", advice="SECRET-ADVICE")])
    client = TestClient(otree_asgi_app)
    if who == "participant":
        session = session_with(2)
        Participant(client, "", session.get_participants()[0].code).start()
    elif who == "forged-cookie":
        client.cookies.set("session", "eyJvdHJlZWFkbWluYXV0aCI6ICJ4In0=.forged.sig")
    elif who == "after-logout":
        login(client)
        assert client.get("/lineage/sessions/g2code/history.csv").status_code == 200
        client.get("/logout")
    for path in ALL_ROUTES:
        response = client.get(path, allow_redirects=False)
        assert response.status_code in (302, 403), path
        assert b"SECRET-ADVICE" not in response.content and b"secretadvice1" not in response.content
    for path in ("/lineage/sessions/g2code/exclude", "/lineage/sessions/g2code/include"):
        assert client.post(path, data={"reason": "x"}, allow_redirects=False).status_code == 403
    assert store.excluded_sessions("A") == {}


def test_downloads_carry_nosniff_and_get_never_changes_data(otree_asgi_app):
    store = open_default_store()
    store.register_session(SessionManifest("g2code", "A", 1, None, 2, 1))
    store.append_records("g2code", [record("p1")])
    admin = login(TestClient(otree_asgi_app))
    before = sorted((p, p.stat().st_size) for p in store.root.rglob("*.json*"))
    for path in ["/lineage/sessions/g2code/history.parquet", "/lineage/sessions/g2code/history.csv",
                 "/lineage/sessions/g2code/history-excel.csv", "/lineage/sessions/g2code/history.json",
                 "/lineage/lineages/A/history.parquet", "/lineage/lineages/A/history.csv",
                 "/lineage/sessions/g2code/payments.csv"]:
        response = admin.get(path)
        assert response.status_code == 200 and response.headers["x-content-type-options"] == "nosniff", path
    for path in ("/lineage/sessions/g2code/exclude", "/lineage/sessions/g2code/include"):
        assert admin.get(path, allow_redirects=False).status_code in (404, 405)
    assert sorted((p, p.stat().st_size) for p in store.root.rglob("*.json*")) == before
    assert re.search(r'name="csrftoken"', admin.get("/lineage/sessions/g2code").text)
