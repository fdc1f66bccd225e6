"""Aggregates: means, latency percentiles, win/tie/loss and seeded bootstrap confidence intervals."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

BOOTSTRAP_SAMPLES = 2000
CONFIDENCE = 0.95


def mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def bootstrap_ci(values: Sequence[float], *, seed: int = 0, samples: int = BOOTSTRAP_SAMPLES) -> list[float] | None:
    """Percentile bootstrap interval of the mean (seeded: the same values give the same interval)."""
    if not values:
        return None
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(samples))
    low = means[int((1 - CONFIDENCE) / 2 * samples)]
    high = means[min(samples - 1, int((1 + CONFIDENCE) / 2 * samples))]
    return [round(low, 4), round(high, 4)]


def win_tie_loss(outcomes: Sequence[str], *, seed: int = 0) -> dict[str, Any]:
    """Counts and rates of ``win``/``tie``/``loss``, each rate and win-minus-loss with a bootstrap CI."""
    n = len(outcomes)
    out: dict[str, Any] = {"n": n}
    for name in ("win", "tie", "loss"):
        flags = [1.0 if o == name else 0.0 for o in outcomes]
        out[name] = int(sum(flags))
        out[f"{name}_rate"] = mean(flags)
        out[f"{name}_rate_ci"] = bootstrap_ci(flags, seed=seed)
    margin = [1.0 if o == "win" else -1.0 if o == "loss" else 0.0 for o in outcomes]
    out["net"] = mean(margin)
    out["net_ci"] = bootstrap_ci(margin, seed=seed)
    return out
