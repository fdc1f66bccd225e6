"""The split stage (global): seeded, stratified, cluster-aware train/validation/test assignment.

Works on indices and compact keys only. A near-duplicate cluster is one unit, so its members can
never land in two splits. Targets are computed for the whole set first and then shared out between
strata by the largest-remainder method, so small strata do not make the validation split drift away
from the ratio the user asked for.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..config import SplitConfig


def _largest_remainder(total: int, weights: list[int]) -> list[int]:
    """Share ``total`` between buckets in proportion to ``weights``; the shares add up to ``total`` exactly."""
    if total <= 0 or not weights or sum(weights) == 0:
        return [0] * len(weights)
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    shares = [min(int(r), w) for r, w in zip(raw, weights, strict=True)]
    order = sorted(range(len(weights)), key=lambda i: (-(raw[i] - int(raw[i])), i))
    left = total - sum(shares)
    while left > 0:
        progressed = False
        for i in order:
            if left == 0:
                break
            if shares[i] < weights[i]:
                shares[i] += 1
                left -= 1
                progressed = True
        if not progressed:
            break
    return shares


def _rng(seed: int, stratum: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(stratum.encode("utf-8"))])


def assign_splits(
    alive: Sequence[int],
    *,
    strata: Sequence[str],
    clusters: np.ndarray,
    config: SplitConfig,
    seed: int,
) -> tuple[dict[int, str], dict[int, tuple[str, str]]]:
    """Return (index -> split name, index -> (reason, detail) for records the balance rules drop)."""
    # Units: a near-duplicate cluster (all its surviving members) or a single record.
    units: dict[tuple[int, int], list[int]] = {}
    for idx in alive:
        cid = int(clusters[idx]) if len(clusters) else -1
        key = (0, cid) if cid >= 0 else (1, idx)
        units.setdefault(key, []).append(idx)
    by_stratum: dict[str, list[list[int]]] = defaultdict(list)
    for members in units.values():
        by_stratum[strata[members[0]]].append(members)

    dropped: dict[int, tuple[str, str]] = {}
    kept_strata: dict[str, list[list[int]]] = {}
    for name in sorted(by_stratum):
        stratum_units = by_stratum[name]
        size = sum(len(u) for u in stratum_units)
        label = name or "(empty)"
        if config.min_per_stratum and size < config.min_per_stratum:
            for unit in stratum_units:
                for idx in unit:
                    dropped[idx] = ("stratum_below_minimum",
                                    f"stratum {label!r} has {size} records, fewer than min_per_stratum "
                                    f"{config.min_per_stratum}")
            continue
        order = _rng(seed, name).permutation(len(stratum_units))
        shuffled = [stratum_units[i] for i in order]
        if config.max_per_stratum and size > config.max_per_stratum:
            kept: list[list[int]] = []
            count = 0
            for unit in shuffled:
                if count + len(unit) <= config.max_per_stratum:
                    kept.append(unit)
                    count += len(unit)
                else:
                    for idx in unit:
                        dropped[idx] = ("stratum_cap", f"stratum {label!r} capped at {config.max_per_stratum} records")
            shuffled = kept
        kept_strata[name] = shuffled

    names = sorted(kept_strata)
    sizes = [sum(len(u) for u in kept_strata[n]) for n in names]
    total = sum(sizes)
    if config.validation_count is not None or config.test_count is not None:
        val_total = min(config.validation_count or 0, total)
        test_total = min(config.test_count or 0, total - val_total)
    else:
        val_total = int(round(total * config.validation))
        test_total = int(round(total * config.test))
        if config.validation > 0 and val_total == 0 and total >= 2:
            val_total = 1
    val_shares = _largest_remainder(val_total, sizes)
    test_shares = _largest_remainder(test_total, [s - v for s, v in zip(sizes, val_shares, strict=True)])

    assignment: dict[int, str] = {}
    for name, val_n, test_n in zip(names, val_shares, test_shares, strict=True):
        filled = {"validation": 0, "test": 0}
        for unit in kept_strata[name]:
            if filled["validation"] < val_n:
                split = "validation"
            elif filled["test"] < test_n:
                split = "test"
            else:
                split = "train"
            if split != "train":
                filled[split] += len(unit)
            for idx in unit:
                assignment[idx] = split
    return assignment, dropped
