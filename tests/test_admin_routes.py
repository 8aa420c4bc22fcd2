"""The lineage browser inside oTree's real app: routes, downloads, login, bad input."""

from __future__ import annotations

import io
import json
import re

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from history_store import HistoryStore, SessionManifest, open_default_store
from history_store._snapshot import manifests_from_metadata
from tests.conftest import ADMIN_PASSWORD, record

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EVIL = "<script>alert('x')</script>\nsecond \"line\" & more"


@pytest.fixture
def lineage_store() -> HistoryStore:
    """Three generations in lineage A (g2 has two participants), one session in B."""
    store = open_default_store()
    g1 = SessionManifest("g1code", "A", 1, None, 2, 11, created_at="2026-01-01T09:00:00+00:00")
    g2 = SessionManifest("g2code", "A", 2, "g1code", 2, 12, created_at="2026-01-02T09:00:00+00:00")
    g3 = SessionManifest("g3code", "A", 3, "g2code", 2, 13, created_at="2026-01-03T09:00:00+00:00")
    b1 = SessionManifest("b1code", "B", 1, None, 2, 14, created_at="2026-01-04T09:00:00+00:00")
    for manifest in (g1, g2, g3, b1):
        store.register_session(manifest)
    store.append_records("g1code", [record("a1", advice=EVIL, payoff=3), record("a2", "column", payoff=3)])
    store.append_records("g2code", [
        record("b1", choice="defect", ancestor_session_code="g1code", ancestor_participant_code="a1", ancestor_advice=EVIL),
        record("b2", "column", ancestor_session_code="g1code", ancestor_participant_code="a2", ancestor_advice="advice of a2"),
    ])
    store.append_records("g3code", [record("c1", ancestor_session_code="g2code", ancestor_participant_code="b1",
                                           ancestor_advice="advice of b1")])
    store.append_records("b1code", [record("z1"), record("z2", "column")])
    return store


@pytest.fixture
def anonymous(otree_asgi_app) -> TestClient:
    return TestClient(otree_asgi_app)


def login(client: TestClient) -> TestClient:
    form = client.get("/login").text
    token = re.search(r'name="csrftoken" value="(\d+)"', form).group(1)
    response = client.post("/login", data=dict(username="admin", password=ADMIN_PASSWORD, csrftoken=token),
                           allow_redirects=False)
    assert response.status_code in (302, 303), response.text
    return client


@pytest.fixture
def admin(otree_asgi_app) -> TestClient:
    return login(TestClient(otree_asgi_app))


PAGES = ["/lineage/", "/lineage/sessions/g2code", "/lineage/sessions/g3code/participants/c1"]
DATA = [
    "/lineage/sessions/g2code/history.parquet", "/lineage/sessions/g2code/history.csv",
    "/lineage/sessions/g2code/history-excel.csv", "/lineage/sessions/g2code/history.json",
    "/lineage/lineages/A/history.parquet", "/lineage/lineages/A/history.csv", "/lineage/lineages/A/history-excel.csv",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_strangers_to_otrees_login(anonymous, lineage_store, path):
    response = anonymous.get(path, allow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/login"


@pytest.mark.parametrize("path", DATA)
def test_downloads_refuse_strangers_with_403(anonymous, lineage_store, path):
    response = anonymous.get(path, allow_redirects=False)
    assert response.status_code == 403
    assert b"a1" not in response.content and b"PAR1" not in response.content


def test_a_forged_session_cookie_or_a_logout_gets_no_data(otree_asgi_app, lineage_store):
    forged = TestClient(otree_asgi_app)
    forged.cookies.set("session", "eyJvdHJlZWFkbWluYXV0aCI6ICJ4In0=.forged.sig")
    assert forged.get(DATA[0], allow_redirects=False).status_code == 403
    client = login(TestClient(otree_asgi_app))
    assert client.get(DATA[0]).status_code == 200
    client.get("/logout")
    assert client.get(DATA[0], allow_redirects=False).status_code == 403


def test_exclusion_posts_are_refused_to_strangers(anonymous, lineage_store):
    response = anonymous.post("/lineage/sessions/g2code/exclude", data=dict(reason="x"), allow_redirects=False)
    assert response.status_code == 403
    assert lineage_store.excluded_sessions("A") == {}


def test_bare_lineage_redirects_to_the_overview(admin, lineage_store):
    response = admin.get("/lineage", allow_redirects=False)
    assert response.status_code in (301, 302, 307, 308)
    assert response.headers["location"].endswith("/lineage/")


def test_overview_shows_every_lineage_as_a_tree_and_the_cooperation_chart(admin, lineage_store):
    page = admin.get("/lineage/").text
    assert "Lineage A" in page and "Lineage B" in page
    assert page.count('class="session-node') == 4
    for code in ("g1code", "g2code", "g3code", "b1code"):
        assert f'data-session="{code}"' in page
    assert 'class="cooperation-chart"' in page and "<polyline" in page
    assert "2/2 recorded" in page and "1/2 recorded" in page
    assert 'href="/static/bootstrap5/css/bootstrap.min.css"' in page
    assert 'href="/sessions"' in page  # back to oTree's admin
    assert "admin login is off" not in page  # STUDY: no banner


def test_overview_warns_when_otrees_login_is_off(admin, lineage_store, monkeypatch):
    import otree.settings

    monkeypatch.setattr(otree.settings, "AUTH_LEVEL", None)
    page = TestClient(admin.app).get("/lineage/").text
    assert "admin login is off" in page


def test_session_page_shows_records_ancestor_descendants_and_downloads(admin, lineage_store):
    page = admin.get("/lineage/sessions/g2code").text
    assert 'href="/lineage/sessions/g1code"' in page  # ancestor
    assert 'href="/lineage/sessions/g3code"' in page  # descendant
    assert 'href="/lineage/sessions/g1code#p-a1"' in page  # the record's ancestor
    for name in ("history.parquet", "history.csv", "history-excel.csv", "history.json"):
        assert f'href="/lineage/sessions/g2code/{name}"' in page
    assert "defect" in page


@pytest.mark.parametrize("path", PAGES + ["/lineage/sessions/g1code"])
def test_participant_text_is_escaped_on_every_page(admin, lineage_store, path):
    page = admin.get(path).text
    assert "<script>alert" not in page
    if path != "/lineage/":
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_advice_trail_goes_back_to_generation_one(admin, lineage_store):
    page = admin.get("/lineage/sessions/g3code/participants/c1").text
    trail = page[page.index('id="trail"'):]
    assert [m for m in re.findall(r"<td>(\d)</td>", trail)] == ["3", "2", "1"]
    assert "advice of c1" in trail and "advice of b1" in trail and "&lt;script&gt;" in trail


def check_attachment(response, media_type: str, *names: str) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert all(name in disposition for name in names)


def test_session_parquet_download_equals_the_store_and_carries_the_manifest(admin, lineage_store):
    response = admin.get("/lineage/sessions/g2code/history.parquet")
    check_attachment(response, "application/vnd.apache.parquet", "A", "g2code", ".parquet")
    table = pq.read_table(io.BytesIO(response.content))
    assert table.to_pylist() == lineage_store.load_session("g2code").to_pylist()
    assert [m.session_code for m in manifests_from_metadata(table.schema)] == ["g2code"]


def test_session_csv_downloads_read_back_equal_with_and_without_bom(admin, lineage_store):
    plain = admin.get("/lineage/sessions/g1code/history.csv")
    check_attachment(plain, "text/csv", "A", "g1code", ".csv")
    assert not plain.content.startswith(b"\xef\xbb\xbf")
    excel = admin.get("/lineage/sessions/g1code/history-excel.csv")
    check_attachment(excel, "text/csv", "A", "g1code", "excel")
    assert excel.content == b"\xef\xbb\xbf" + plain.content
    table = pacsv.read_csv(io.BytesIO(plain.content))
    assert table.column("advice").to_pylist()[0] == EVIL
    assert table.column("participant_code").to_pylist() == ["a1", "a2"]


def test_session_json_download(admin, lineage_store):
    response = admin.get("/lineage/sessions/g2code/history.json")
    check_attachment(response, "application/json", "g2code")
    document = json.loads(response.content)
    assert document["session"]["ancestor_session_code"] == "g1code"
    assert [r["participant_code"] for r in document["records"]] == ["b1", "b2"]
    assert document["records"][0]["ancestor_advice"] == EVIL


def test_lineage_parquet_download_holds_every_generation(admin, lineage_store):
    response = admin.get("/lineage/lineages/A/history.parquet")
    check_attachment(response, "application/vnd.apache.parquet", "lineage-A")
    table = pq.read_table(io.BytesIO(response.content))
    assert table.column("generation").to_pylist() == [1, 1, 2, 2, 3]
    assert table.to_pylist() == lineage_store.load_lineage("A").to_pylist()
    assert [m.generation for m in manifests_from_metadata(table.schema)] == [1, 2, 3]


def test_lineage_csv_download(admin, lineage_store):
    response = admin.get("/lineage/lineages/B/history.csv")
    check_attachment(response, "text/csv", "lineage-B")
    assert pacsv.read_csv(io.BytesIO(response.content)).column("participant_code").to_pylist() == ["z1", "z2"]


def test_excluding_a_pilot_needs_otrees_csrf_token_and_can_be_undone(admin, lineage_store):
    assert admin.post("/lineage/sessions/g3code/exclude", data=dict(reason="pilot"),
                      allow_redirects=False).status_code == 403
    page = admin.get("/lineage/sessions/g3code").text
    token = re.search(r'name="csrftoken" value="(\d+)"', page).group(1)
    response = admin.post("/lineage/sessions/g3code/exclude", data=dict(reason="pilot <b>run</b>", csrftoken=token),
                          allow_redirects=False)
    assert response.status_code == 303
    assert lineage_store.resolve_latest("A").session_code == "g2code"
    overview = admin.get("/lineage/").text
    assert "excluded: pilot &lt;b&gt;run&lt;/b&gt;" in overview  # still listed, greyed, with the reason
    lineage_download = pq.read_table(io.BytesIO(admin.get("/lineage/lineages/A/history.parquet").content))
    assert 3 not in lineage_download.column("generation").to_pylist()
    assert admin.post("/lineage/sessions/g3code/include", data=dict(csrftoken=token),
                      allow_redirects=False).status_code == 303
    assert lineage_store.resolve_latest("A").session_code == "g3code"
    assert (lineage_store.session_dir("g3code") / "journal.jsonl").exists()


def test_excluding_without_a_reason_is_refused(admin, lineage_store):
    token = re.search(r'name="csrftoken" value="(\d+)"', admin.get("/lineage/sessions/g3code").text).group(1)
    response = admin.post("/lineage/sessions/g3code/exclude", data=dict(reason="  ", csrftoken=token))
    assert response.status_code == 400 and "why" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/lineage/sessions/nosuch", "/lineage/sessions/nosuch/history.parquet", "/lineage/lineages/nosuch/history.csv",
        "/lineage/sessions/%2e%2e", "/lineage/sessions/nosuch/participants/a1", "/lineage/sessions/%2e%2e/history.csv", "/lineage/sessions/..%2F..%2Fetc%2Fpasswd",
        "/lineage/sessions/..%2Fsession=g1code/history.json", "/lineage/lineages/..%2F..%2F/history.parquet",
        "/lineage/lineages/%2Fetc/history.csv", "/lineage/sessions/%00/history.json", "/lineage/sessions/g1%00code",
        "/lineage/lineages/lineage=A/history.csv", "/lineage/sessions/g1code/participants/..%2F..",
        "/lineage/nothing/here",
    ],
)
def test_unknown_and_escaping_paths_are_404_never_500(admin, lineage_store, path):
    response = admin.get(path, allow_redirects=False)
    assert response.status_code == 404
    assert b"root:" not in response.content and b"Traceback" not in response.content


def test_damaged_sessions_are_listed_with_the_reason_and_the_rest_still_works(admin, lineage_store):
    folder = lineage_store.session_dir
    with open(folder("g2code") / "journal.jsonl", "ab") as journal:
        journal.write(b"garbage\n" + json.dumps(record("late")).encode() + b"\n")  # damage before the last line
    (folder("b1code") / "history.parquet").write_bytes(b"not parquet at all")
    with open(folder("g1code") / "journal.jsonl", "ab") as journal:
        journal.write(b'{"participant_code": "torn')  # a crash mid-write: not damage
    overview = admin.get("/lineage/")
    assert overview.status_code == 200
    assert "g2code</code> is damaged" in overview.text and "not valid JSON" in overview.text
    assert "b1code</code> is damaged" in overview.text
    assert "g1code</code> is damaged" not in overview.text
    assert admin.get("/lineage/sessions/g1code/history.parquet").status_code == 200
    assert admin.get("/lineage/sessions/g2code").status_code == 200
    assert admin.get("/lineage/sessions/g2code/history.csv").status_code == 409
    lineage = pq.read_table(io.BytesIO(admin.get("/lineage/lineages/A/history.parquet").content))
    assert set(lineage.column("session_code").to_pylist()) == {"g1code", "g3code"}


def test_missing_or_contradicting_manifests_are_damage(admin, lineage_store):
    (lineage_store.session_dir("g3code") / "session.json").unlink()
    moved = lineage_store.root / "lineage=B" / "session=g2copy"
    moved.mkdir()
    (moved / "session.json").write_text((lineage_store.session_dir("g2code") / "session.json").read_text())
    (moved / "journal.jsonl").write_bytes(b"")
    page = admin.get("/lineage/").text
    assert "g3code</code> is damaged" in page and "is missing" in page
    assert "g2copy</code> is damaged" in page and "lies in" in page


def test_session_admin_report_shows_the_lineage(admin, otree_asgi_app):
    from otree.session import create_session

    session = create_session("pd_advice", num_participants=2)
    page = admin.get(f"/AdminReport/{session.code}").text
    assert 'id="lineage-report"' in page
    assert "none (first generation)" in page
    assert f'href="/lineage/sessions/{session.code}"' in page
    assert open_default_store().load_manifest(session.code).generation == 1


def test_participant_links_never_reach_lineage_data(otree_asgi_app, lineage_store):
    from otree.session import create_session

    session = create_session("pd_advice", num_participants=2)
    participant = TestClient(otree_asgi_app)
    start = participant.get(f"/InitializeParticipant/{session.participant_set[0].code}" if hasattr(session, "participant_set")
                            else f"/join/{session._anonymous_code}")
    assert start.status_code == 200
    for path in PAGES + DATA:
        response = participant.get(path, allow_redirects=False)
        assert response.status_code in (302, 403)


@pytest.fixture
def linked_store() -> HistoryStore:
    """alpha = 0.5: p1 (3 points) has successors s1 (5) and s2 (1); p2 (0 points) has s3,
    who dropped out (matched, never recorded), and s4 still playing (no payoff yet)."""
    store = open_default_store()
    config = dict(successor_weight=0.5, real_world_currency_per_point=0.5, participation_fee=2.0)
    store.register_session(SessionManifest("parent", "L", 1, None, 2, 1, config=config))
    store.append_records("parent", [record("p1", payoff=3, participant_label="seat1"),
                                    record("p2", "column", payoff=0)])
    assignment = {"s1": dict(role="row", ancestor_participant_code="p1"),
                  "s2": dict(role="row", ancestor_participant_code="p1"),
                  "s3": dict(role="column", ancestor_participant_code="p2"),
                  "s4": dict(role="column", ancestor_participant_code="p2")}
    store.register_session(SessionManifest("child", "L", 2, "parent", 4, 2, config=config, assignment=assignment))
    store.append_records("child", [
        record("s1", ancestor_participant_code="p1", ancestor_session_code="parent", payoff=5),
        record("s2", ancestor_participant_code="p1", ancestor_session_code="parent", payoff=1),
        record("s4", "column", ancestor_participant_code="p2", ancestor_session_code="parent"),
    ])
    return store


def test_payment_report_adds_alpha_times_the_successors_mean_and_lists_who_is_missing(admin, linked_store):
    page = admin.get("/lineage/sessions/parent/payments")
    assert page.status_code == 200 and 'id="payments"' in page.text
    response = admin.get("/lineage/sessions/parent/payments.csv")
    check_attachment(response, "text/csv", "parent", "payments")
    rows = {r["participant_code"]: r for r in pacsv.read_csv(io.BytesIO(response.content)).to_pylist()}
    # p1: 3 + 0.5 * mean(5, 1) = 4.5 points; 4.5 * 0.5 + 2 = 4.25 money
    assert rows["p1"]["total_points"] == 4.5 and rows["p1"]["total_money"] == 4.25
    assert rows["p1"]["participant_label"] == "seat1" and rows["p1"]["final"] == "yes"
    assert rows["p1"]["successor_payoffs"] == "s1:5 s2:1"
    # p2: no successor payoff known yet: own payoff only, s3 and s4 missing
    assert rows["p2"]["total_points"] == 0 and rows["p2"]["total_money"] == 2
    assert rows["p2"]["missing_successors"] == "s3 s4" and rows["p2"]["final"] == "no"


def test_session_page_counts_dropouts(admin, linked_store):
    page = admin.get("/lineage/sessions/child").text
    assert "1 without a record" in page and "1 recorded without payoff" in page
    assert 'href="/lineage/sessions/child/payments"' in page


def test_payment_routes_need_the_admin_login(anonymous, linked_store):
    assert anonymous.get("/lineage/sessions/parent/payments", allow_redirects=False).status_code == 302
    assert anonymous.get("/lineage/sessions/parent/payments.csv", allow_redirects=False).status_code == 403


def test_a_non_ascii_csrf_token_is_refused_not_a_500(admin, lineage_store):
    admin.get("/lineage/sessions/g3code")
    response = admin.post("/lineage/sessions/g3code/exclude", data={"reason": "x", "csrftoken": "ü" * 10},
                          allow_redirects=False)
    assert response.status_code == 403
