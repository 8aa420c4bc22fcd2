"""A real browser against `otree prodserver`: a participant's Choice page, and an admin's
visit to /lineage. Needs Debian's chromium (scripts/test installs it when run as root)."""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from history_store import HistoryStore, normalize_advice
from tests.otree_project import PROJECT_ROOT, OtreeServer, run_session

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
ADMIN_PASSWORD = "browser-test-pw"
REST_KEY = "browser-test-rest-key"


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists() or shutil.which("chromium") is None:
        message = "Debian's chromium is not installed: run `sudo apt-get install chromium` (scripts/test does it as root)."
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: a skip there would hide a broken set-up
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def served_chain(tmp_path_factory):
    """Generation 1 played by bots, then a server with a fresh generation 2 waiting for people."""
    project = Path(tmp_path_factory.mktemp("browser"))
    from tests.otree_project import make_project

    project = make_project(project / "project")
    store = project.parent / "history"
    first = run_session(project, store, participants=2)
    assert first.code, first.output
    with OtreeServer(project, store, OTREE_AUTH_LEVEL="STUDY", OTREE_ADMIN_PASSWORD=ADMIN_PASSWORD,
                     OTREE_REST_KEY=REST_KEY) as server:
        yield server, first.code, HistoryStore(store)


def create_session_over_rest(server, **overrides) -> dict:
    import json
    import urllib.request

    body = json.dumps(dict(session_config_name="pd_advice", num_participants=2,
                           modified_session_config_fields=overrides)).encode()
    request = urllib.request.Request(server.url + "/api/sessions", data=body, method="POST",
                                     headers={"otree-rest-key": REST_KEY})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_choice_page_counts_like_the_server_shows_advice_as_text_and_keeps_what_was_typed(browser, served_chain):
    server, first_code, store = served_chain
    created = create_session_over_rest(server, ancestor_session=first_code)
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(created["session_wide_url"])
    page.wait_for_selector("#id_advice")

    shown = page.inner_text("#ancestor-advice")
    ancestors = {r["advice"] for r in store.load_session(first_code).to_pylist()}
    assert shown in ancestors and "<script>alert('x')</script>" in shown  # shown as text, not run
    assert dialogs == []
    assert page.locator("#payoff-matrix").count() == 1

    typed = "  🙂 two\r\nlines\t  "
    page.fill("#id_advice", typed)
    expected = 1000 - len(normalize_advice(typed.replace("\r\n", "\n")))
    assert page.inner_text("#advice-remaining") == str(expected)

    too_long = "é" * 1001
    page.fill("#id_advice", too_long)
    assert page.inner_text("#advice-remaining") == "-1"
    page.check("input[value=cooperate]")
    page.click("button.otree-btn-next, .otree-btn-next, button[type=submit]")
    page.wait_for_load_state()
    assert "at most 1000" in page.content()
    assert page.input_value("#id_advice") == too_long  # nothing typed is lost
    page.close()


def test_admin_logs_in_sees_the_session_in_the_tree_and_downloads_its_parquet(browser, served_chain):
    server, first_code, store = served_chain
    page = browser.new_page(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page.goto(server.url + "/lineage/")
    assert page.url.endswith("/login")  # no admin login yet
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()
    page.goto(server.url + "/lineage/")
    node = page.locator(f'a.session-node[data-session="{first_code}"]')
    assert node.count() == 1
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lineage-overview.png"), full_page=True)

    page.goto(server.url + f"/lineage/sessions/{first_code}")
    with page.expect_download() as download_info:
        page.click(f'a[href="/lineage/sessions/{first_code}/history.parquet"]')
    download = download_info.value
    assert first_code in download.suggested_filename and download.suggested_filename.endswith(".parquet")
    table = pq.read_table(io.BytesIO(Path(download.path()).read_bytes()))
    assert table.to_pylist() == store.load_session(first_code).to_pylist()
    assert re.fullmatch(r"[0-9a-z]+", first_code)
    page.close()
