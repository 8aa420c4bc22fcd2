"""Interleaved timing: contenders take turns (A B C A B C ...), so a noisy machine
slows all of them alike and ratios measured in one run stay meaningful."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Timings:
    samples: list[float]  # seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples)
        index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
        return ordered[index]

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)


def interleaved(contenders: dict[str, Callable[[int], object]], samples: int) -> dict[str, Timings]:
    """Call each contender with the sample number, in turn, samples times each."""
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for i in range(samples):
        for name, run in contenders.items():
            started = time.perf_counter()
            run(i)
            results[name].append(time.perf_counter() - started)
    return {name: Timings(values) for name, values in results.items()}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"
