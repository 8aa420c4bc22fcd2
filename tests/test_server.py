"""`otree prodserver` for real: killed mid-generation and restarted, a whole lab of 100
participants at once, and a large lineage downloaded while they play."""

from __future__ import annotations

import io
import json
import signal
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pyarrow.parquet as pq
import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from history_store import HistoryStore, SessionManifest, verify_store
from tests.figures import record_figure
from tests.otree_project import OtreeServer
from tests.participants import Participant

pytestmark = pytest.mark.slow
CLIENT_THREADS = 16


def create_session(server: OtreeServer, participants: int, **overrides) -> tuple[str, list[str]]:
    body = json.dumps(dict(session_config_name="pd_advice", num_participants=participants,
                           modified_session_config_fields=overrides)).encode()
    request = urllib.request.Request(server.url + "/api/sessions", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        code = json.loads(response.read())["code"]
    with urllib.request.urlopen(f"{server.url}/api/sessions/{code}", timeout=60) as response:
        return code, [p["code"] for p in json.loads(response.read())["participants"]]


def browser_like_session() -> requests.Session:
    """Like a browser, resend a request whose reused keep-alive connection the server had
    already closed (uvicorn closes idle ones after 5 s); any answer, 5xx included, counts."""
    session = requests.Session()
    retry = Retry(total=2, connect=2, read=2, status=0, allowed_methods=None, raise_on_status=False)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


def participants_of(server: OtreeServer, codes: list[str]) -> list[Participant]:
    return [Participant(browser_like_session(), server.url, code) for code in codes]


def choose(participant: Participant) -> None:
    participant.choose("cooperate", f"advice of {participant.code}\nsecond line")


def test_a_server_killed_mid_generation_loses_no_accepted_choice(project, tmp_path):
    store = HistoryStore(tmp_path / "history")
    server = OtreeServer(project, store.root).start()
    try:
        code, codes = create_session(server, 10)
        people = participants_of(server, codes)
        for person in people:
            person.start()
        accepted = people[:6]
        for person in accepted:
            choose(person)
        server.stop(signal.SIGKILL)  # the whole process group, timeout worker included

        recorded = {r["participant_code"] for r in store.read_records(code)}
        assert {p.code for p in accepted} <= recorded

        server.start()
        for person in people:
            person.reload()  # everyone continues where they were
        for person in people[6:]:
            choose(person)
        for person in people:
            person.wait_for("Results")
    finally:
        server.stop()
    rows = store.load_session(code).to_pylist()
    assert Counter(r["participant_code"] for r in rows) == Counter(codes)  # each record once
    assert all(r["payoff"] == 3.0 for r in rows)
    assert not [p for p in people if p.server_errors]
    assert not [f for f in verify_store(store).findings if f.is_damage]
    record_figure("server-sigkill", participants=len(people), accepted_before_kill=len(accepted), records=len(rows))


def big_lineage(store: HistoryStore, sessions: int = 20, per_session: int = 2500) -> int:
    for s in range(sessions):
        code = f"big{s:03d}"
        store.register_session(SessionManifest(code, "big", 1, None, per_session, s))
        store.append_records(code, [dict(participant_code=f"{code}-{i}", role=("row", "column")[i % 2],
                                          choice="cooperate", advice=f"advice {i} " + "x" * 200, payoff=3)
                                    for i in range(per_session)])
    return sessions * per_session


def test_a_whole_lab_of_100_while_a_large_lineage_downloads(project, tmp_path):
    store = HistoryStore(tmp_path / "history")
    big_rows = big_lineage(store)
    with OtreeServer(project, store.root) as server:
        code, codes = create_session(server, 100)
        people = participants_of(server, codes)
        downloaded: dict[str, object] = {}

        def download() -> None:
            started = time.monotonic()
            response = requests.get(f"{server.url}/lineage/lineages/big/history.parquet", timeout=300)
            downloaded.update(status=response.status_code, body=response.content, seconds=time.monotonic() - started)

        with ThreadPoolExecutor(CLIENT_THREADS + 1) as pool:
            downloading = pool.submit(download)
            list(pool.map(lambda p: p.start(), people))
            list(pool.map(choose, people))
            list(pool.map(lambda p: p.wait_for("Results", timeout=180), people))
            downloading.result()

        assert not [s for p in people for s in p.server_errors]
        assert downloaded["status"] == 200
        assert pq.read_table(io.BytesIO(downloaded["body"])).num_rows == big_rows

        # the background snapshot completes once the last group has its payoffs
        snapshot = store.session_dir(code) / "history.parquet"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if snapshot.exists() and pq.read_table(snapshot).column("payoff").null_count == 0 \
                    and pq.read_table(snapshot).num_rows == 100:
                break
            time.sleep(0.2)
        table = pq.read_table(snapshot)
        assert table.num_rows == 100 and table.column("payoff").null_count == 0
        assert Counter(table.column("participant_code").to_pylist()) == Counter(codes)
    requests_made = sum(len(p.statuses) for p in people)
    record_figure("lab-of-100", participants=len(people), client_threads=CLIENT_THREADS, http_responses=requests_made,
                  server_errors=0, lineage_records_downloaded=big_rows, download_seconds=round(downloaded["seconds"], 2))
