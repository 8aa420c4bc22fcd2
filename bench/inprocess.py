"""oTree's real app with the lineage browser, in this process (in-memory oTree database),
for the /lineage benchmarks: the overview and a large lineage download."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def otree_app(workdir: Path):
    folder = workdir / "otree-project"
    folder.mkdir(exist_ok=True)
    for name in ("settings.py", "choice", "history_store", "admin_ext", "_static"):
        if not (folder / name).exists():
            (folder / name).symlink_to(PROJECT_ROOT / name)
    saved = os.getcwd()
    os.chdir(folder)
    os.environ["OTREE_IN_MEMORY"] = "1"
    os.environ.pop("OTREE_AUTH_LEVEL", None)
    try:
        import otree.main

        otree.main.setup()
        from otree.asgi import app
    finally:
        os.chdir(saved)
    return app
