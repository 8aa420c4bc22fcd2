"""The benchmark harness runs end to end on tiny sizes (no timing is asserted here:
timings belong to `python -m bench`, see bench/RESULTS.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.otree_project import PROJECT_ROOT, otree_env

pytestmark = pytest.mark.slow


def test_the_benchmark_harness_runs_end_to_end_on_tiny_sizes(tmp_path):
    results = PROJECT_ROOT / "bench" / "RESULTS.md"
    before = results.read_bytes() if results.exists() else None
    env = otree_env(tmp_path / "unused")
    result = subprocess.run([sys.executable, "-m", "bench", "--quick"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    for heading in ("## Record append", "## Matching", "## The lineage browser", "## Against otree prodserver",
                    "## Targets"):
        assert heading in result.stdout
    assert "seed side table" in result.stdout and "fsync floor" in result.stdout
    assert (results.read_bytes() if results.exists() else None) == before  # --quick never overwrites results
