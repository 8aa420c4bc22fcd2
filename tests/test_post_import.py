"""admin_ext's post-import hook: the way /lineage mounts itself without importing oTree early."""

from __future__ import annotations

import subprocess
import sys

from tests.otree_project import PROJECT_ROOT

SCRIPT = """
import sys
from admin_ext._post_import import call_after_import
seen = []
call_after_import("json.tool", lambda m: seen.append(("first", m.__name__)))
call_after_import("json.tool", lambda m: seen.append(("second", m.__name__)))
assert seen == []  # nothing imported yet
import json.tool
call_after_import("json.tool", lambda m: seen.append(("late", m.__name__)))  # already imported: at once
print(seen)
"""


def test_every_callback_runs_once_after_the_module_is_imported():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[('first', 'json.tool'), ('second', 'json.tool'), ('late', 'json.tool')]"
