"""The README's Python recipes run as written, against a store in data/history."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from history_store import HistoryStore, SessionManifest
from tests.conftest import record
from tests.otree_project import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_SNIPPETS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_starts_with_the_run_and_test_commands():
    commands = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    assert "otree devserver" in commands[0] and "requirements.txt" in commands[0]
    assert commands[1].strip() == "scripts/test"
    assert "scripts/test" in (PROJECT_ROOT / ".ci" / "run").read_text()


@pytest.fixture(scope="module")
def lab_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lab")
    store = HistoryStore(folder / "data" / "history")
    g1 = SessionManifest("gen1code", "A", 1, None, 2, 1)
    g2 = SessionManifest("gen2code", "A", 2, "gen1code", 2, 1)
    for manifest in (g1, g2):
        store.register_session(manifest)
    store.append_records("gen1code", [record("p1", payoff=3), record("p2", "column", payoff=3)])
    store.append_records("gen2code", [record("q1", choice="defect"), record("q2", "column")])
    for manifest in (g1, g2):
        store.load_session(manifest.session_code)
    (folder / "history_store").symlink_to(PROJECT_ROOT / "history_store")
    return folder


@pytest.mark.parametrize("snippet", PYTHON_SNIPPETS, ids=[s.split("\n")[0][:40] for s in PYTHON_SNIPPETS])
def test_readme_python_snippet_runs(lab_folder, snippet):
    result = subprocess.run([sys.executable, "-c", snippet], cwd=lab_folder, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Error" not in result.stderr


def test_there_are_recipes_for_every_reader():
    joined = "\n".join(PYTHON_SNIPPETS)
    for reader in ("pandas", "polars", "duckdb", "HistoryStore"):
        assert reader in joined


def test_readme_design_entries_are_the_ones_in_settings():
    import settings

    entries = [s for s in PYTHON_SNIPPETS if s.lstrip().startswith("dict(")]
    assert entries, "the README shows ready-to-copy SESSION_CONFIGS entries"
    documented = eval(f"[{entries[0]}]")  # noqa: S307 - our own README
    configured = {c["name"]: c for c in settings.SESSION_CONFIGS}
    assert {d["name"] for d in documented} == {"pd_public_advice", "pd_history", "pd_linked_payoff"}
    for entry in documented:
        assert configured[entry["name"]] == entry
