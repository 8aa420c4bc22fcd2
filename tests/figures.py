"""Figures the reliability tests measure (kills survived, records checked, ...), appended
to test-artifacts/figures.jsonl so RELIABILITY.md can quote a real run."""

from __future__ import annotations

import json
import time

from tests.otree_project import PROJECT_ROOT

FIGURES = PROJECT_ROOT / "test-artifacts" / "figures.jsonl"


def record_figure(test: str, **figures: object) -> None:
    FIGURES.parent.mkdir(exist_ok=True)
    with open(FIGURES, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(dict(test=test, at=time.strftime("%Y-%m-%dT%H:%M:%S"), **figures)) + "\n")
