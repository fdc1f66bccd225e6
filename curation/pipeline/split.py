"""The split algorithm: seeded, stratified, group-aware train/validation/test assignment.

Works on indices and compact keys only. Records that share a group key (a conversation tree, the same
opening user turn, a near-duplicate cluster, a user's metadata field) form one unit, so they can never land
in two splits: OpenAssistant trees become one record per root-to-leaf path, and without units 39 of the 100
trees of en_100_tree.jsonl had paths in both train and validation. A unit goes to validation or test only
if it fits what is left of that split's target, so one big group cannot swell a held-out split. Targets are
computed for the whole set first and then shared out between strata by the largest-remainder method, so
small strata do not make the validation split drift away from the ratio the user asked for; train keeps at
least ``min_train`` records when the data has them.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xxhash

from curation.dedup.near import connected_components
from curation.dedup.text import normalise_for_exact
from curation.records import is_preference, message_text, metadata_value

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


def _first_user_turn(record: dict[str, Any]) -> str:
    messages = record.get("prompt") if is_preference(record) else record.get("messages")
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message)
    return ""


def group_keys(record: dict[str, Any], group_by: Sequence[str]) -> tuple[int, ...]:
    """The split group keys of one record (computed in workers): the xxhash64 of each key string, so the main
    process holds a few integers per row. The kind prefix (t:, u:, f:) is hashed too, so kinds never meet;
    0 is kept free to mean "no key"."""
    keys: list[str] = []
    for kind in group_by:
        if kind == "tree":
            tree = metadata_value(record, "fields.tree_id") or metadata_value(record, "fields.message_tree_id")
            if tree is not None:
                keys.append(f"t:{tree}")
        elif kind == "first_user_turn":
            text = normalise_for_exact(_first_user_turn(record))
            if text:
                keys.append("u:" + xxhash.xxh3_64_hexdigest(text.encode("utf-8")))
        elif kind.startswith("field:"):
            value = metadata_value(record, kind[len("field:"):])
            if value is not None and value != "":
                keys.append(f"f:{kind}={value}")
    return tuple(xxhash.xxh64_intdigest(k.encode("utf-8", "surrogatepass")) or 1 for k in keys)


def split_units(alive: Sequence[int], groups: Sequence[tuple[str, ...]], clusters: np.ndarray,
                use_clusters: bool = True) -> list[list[int]]:
    """Records linked by any shared group key (or near-duplicate cluster) as units, in first-member order."""
    alive = list(alive)
    node_of: dict[str, int] = {}
    edges: list[tuple[int, int]] = []
    n = len(alive)
    for pos, idx in enumerate(alive):
        keys = list(groups[idx]) if len(groups) else []
        if use_clusters and len(clusters) and int(clusters[idx]) >= 0:
            keys.append(f"c:{int(clusters[idx])}")
        for key in keys:
            node = node_of.setdefault(key, n + len(node_of))
            edges.append((pos, node))
    labels = connected_components(n + len(node_of), np.asarray(edges, dtype=np.int64).reshape(-1, 2))
    units: dict[int, list[int]] = {}
    for pos, idx in enumerate(alive):
        units.setdefault(int(labels[pos]), []).append(idx)
    return list(units.values())


def assign_splits(
    alive: Sequence[int],
    *,
    strata: Sequence[str],
    clusters: np.ndarray,
    config: SplitConfig,
    seed: int,
    groups: Sequence[tuple[str, ...]] = (),
) -> tuple[dict[int, str], dict[int, tuple[str, str]]]:
    """Return (index -> split name, index -> (reason, detail) for records the balance rules drop)."""
    units = split_units(alive, groups, clusters, use_clusters="near_cluster" in config.group_by)
    by_stratum: dict[str, list[list[int]]] = defaultdict(list)
    for members in units:
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
    if config.min_train:
        # held-out splits shrink first so that train keeps the provider minimum when the data has it
        val_total = min(val_total, max(0, total - config.min_train - test_total))
        test_total = min(test_total, max(0, total - config.min_train - val_total))
    val_shares = _largest_remainder(val_total, sizes)
    test_shares = _largest_remainder(test_total, [s - v for s, v in zip(sizes, val_shares, strict=True)])

    assignment: dict[int, str] = {}
    for name, val_n, test_n in zip(names, val_shares, test_shares, strict=True):
        filled = {"validation": 0, "test": 0}
        for unit in kept_strata[name]:
            # a unit goes to a held-out split only if it fits what is left of that split's share
            if filled["validation"] + len(unit) <= val_n:
                split = "validation"
            elif filled["test"] + len(unit) <= test_n:
                split = "test"
            else:
                split = "train"
            if split != "train":
                filled[split] += len(unit)
            for idx in unit:
                assignment[idx] = split
    return assignment, dropped
