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
from collections.abc import Hashable, Iterator, Mapping, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
import xxhash

from curation.dedup.near import connected_components
from curation.dedup.text import normalise_for_exact
from curation.records import is_preference, message_text, metadata_value, tree_id

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
    process holds a few integers per row. The kind prefix (t:, p:, u:, f:) is hashed too, so kinds never meet;
    0 is kept free to mean "no key"."""
    keys: list[str] = []
    for kind in group_by:
        if kind == "tree":
            tree = tree_id(record)
            if tree is not None:
                keys.append(f"t:{tree}")
        elif kind == "passage":
            passage = (record.get("metadata") or {}).get("passage")
            if passage:
                keys.append(f"p:{passage}")
        elif kind == "first_user_turn":
            text = normalise_for_exact(_first_user_turn(record))
            if text:
                keys.append("u:" + xxhash.xxh3_64_hexdigest(text.encode("utf-8")))
        elif kind.startswith("field:"):
            value = metadata_value(record, kind[len("field:"):])
            if value is not None and value != "":
                keys.append(f"f:{kind}={value}")
    # The top bit says "an opening user turn" (see OPENING_BIT), the only kind whose groups are capped.
    return tuple((xxhash.xxh64_intdigest(k.encode("utf-8", "surrogatepass")) & ~OPENING_BIT or 1)
                 | (OPENING_BIT if k.startswith("u:") else 0) for k in keys)


OPENING_BIT = 1 << 63


def _is_opening(key: Hashable) -> bool:
    if isinstance(key, (int, np.integer)):
        return bool(int(key) & OPENING_BIT)
    return isinstance(key, str) and key.startswith("u:")


SPLITS = ("train", "validation", "test")


class SplitAssignment(Mapping[int, str]):
    """Row -> split name, held as one int8 code per row of the key table (-1: not in a split), not a dict."""

    def __init__(self, codes: np.ndarray) -> None:
        self.codes = codes

    def __getitem__(self, row: int) -> str:
        code = int(self.codes[row]) if 0 <= row < len(self.codes) else -1
        if code < 0:
            raise KeyError(row)
        return SPLITS[code]

    def __iter__(self) -> Iterator[int]:
        return iter(np.flatnonzero(self.codes >= 0).tolist())

    def __len__(self) -> int:
        return int(np.count_nonzero(self.codes >= 0))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SplitAssignment):
            return np.array_equal(self.codes, other.codes)
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]


def _group_nodes(alive: np.ndarray, groups: Sequence[tuple[Hashable, ...]],
                 opening_cap: int | None = None) -> tuple[np.ndarray, np.ndarray, int, list[int]]:
    """(position in ``alive``, node id) of every group key of the alive rows, the number of distinct keys, and
    the sizes of the opening-turn groups left out for being larger than ``opening_cap``.
    Keys are opaque: 64-bit ints or strings are numbered through numpy, anything else through a dict."""
    rows = alive.tolist()
    counts = np.fromiter((len(groups[row]) for row in rows), dtype=np.int64, count=len(rows))
    keys = list(chain.from_iterable(groups[row] for row in rows))
    if not keys:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0, []
    positions = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
    column = np.asarray(keys) if all(type(k) is type(keys[0]) for k in keys) else None
    if column is not None and column.ndim == 1 and column.dtype.kind in "iuUS":
        distinct_keys, node = np.unique(column, return_inverse=True)
        distinct: list[Hashable] | np.ndarray = distinct_keys
        node = node.astype(np.int64)
    else:
        node_of: dict[Hashable, int] = {}
        node = np.asarray([node_of.setdefault(key, len(node_of)) for key in keys], dtype=np.int64)
        distinct = list(node_of)
    left_out: list[int] = []
    if opening_cap and len(node):
        # An opening turn that very many conversations share ("Hello!", a fixed template) is a greeting, not
        # one prompt asked again: grouping on it would glue them into one unit that no held-out split can take.
        size = np.bincount(node, minlength=len(distinct))
        big = [i for i in np.flatnonzero(size > opening_cap).tolist() if _is_opening(distinct[i])]
        if big:
            left_out = sorted((int(size[i]) for i in big), reverse=True)
            keep = ~np.isin(node, big)
            positions, node = positions[keep], node[keep]
    return positions, node, len(distinct), left_out


def unit_labels(alive: Sequence[int] | np.ndarray, groups: Sequence[tuple[Hashable, ...]], clusters: np.ndarray,
                use_clusters: bool = True, opening_cap: int | None = None,
                left_out: list[int] | None = None) -> np.ndarray:
    """Per position of ``alive``: its unit (records linked by any shared group key or near-duplicate cluster),
    numbered 0, 1, ... in first-member order. Opening-turn groups larger than ``opening_cap`` link nothing;
    their sizes are appended to ``left_out``."""
    alive = np.asarray(alive, dtype=np.int64)
    n = len(alive)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pos, node, n_keys, big = (_group_nodes(alive, groups, opening_cap) if len(groups)
                              else (np.zeros(0, np.int64), np.zeros(0, np.int64), 0, []))
    if left_out is not None:
        left_out.extend(big)
    edges = [np.stack([pos, n + node], axis=1)]
    n_nodes = n + n_keys
    if use_clusters and len(clusters):
        cluster = np.asarray(clusters)[alive]
        member = np.flatnonzero(cluster >= 0)
        ids, cnode = np.unique(cluster[member], return_inverse=True)
        edges.append(np.stack([member, n_nodes + cnode], axis=1))
        n_nodes += len(ids)
    # every component holds a record, and records are the lowest nodes: a record's label is the first
    # (lowest) position of its unit, so ranking labels numbers units in first-member order
    labels = connected_components(n_nodes, np.concatenate(edges).astype(np.int64).reshape(-1, 2))[:n]
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)


def split_units(alive: Sequence[int], groups: Sequence[tuple[Hashable, ...]], clusters: np.ndarray,
                use_clusters: bool = True) -> list[list[int]]:
    """Records linked by any shared group key (or near-duplicate cluster) as units, in first-member order."""
    rows = np.asarray(alive, dtype=np.int64)
    unit = unit_labels(rows, groups, clusters, use_clusters)
    order = np.argsort(unit, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(unit[order]) != 0, True])
    return [rows[order[a:b]].tolist() for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


class StratumUnits:
    """The units of a set of rows, by stratum: what balance caps and the split shares out.

    ``rows`` ascending; ``unit`` per row; ``size`` per unit; ``strata`` maps each stratum name to its units in
    first-member order. ``shuffled(name, seed)`` is the seeded order both stages walk a stratum's units in.
    """

    def __init__(self, rows: Sequence[int] | np.ndarray, strata: Sequence[str], groups: Sequence[tuple[Hashable, ...]],
                 clusters: np.ndarray, config: SplitConfig) -> None:
        self.rows = np.asarray(rows, dtype=np.int64)
        self.shared_openings: list[int] = []  # sizes of the opening-turn groups that linked nothing
        self.cap = config.shared_opening_max
        self.unit = unit_labels(self.rows, groups, clusters, use_clusters="near_cluster" in config.group_by,
                                opening_cap=config.shared_opening_max, left_out=self.shared_openings)
        n_units = int(self.unit.max()) + 1 if len(self.unit) else 0
        self.size = np.bincount(self.unit, minlength=n_units)
        first = np.full(n_units, len(self.rows), dtype=np.int64)
        np.minimum.at(first, self.unit, np.arange(len(self.rows)))
        code_of: dict[str, int] = {}
        codes = np.asarray([code_of.setdefault(strata[r], len(code_of)) for r in self.rows[first].tolist()],
                           dtype=np.int64)
        by_code = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[by_code], np.arange(len(code_of) + 1))
        self.strata = {name: by_code[bounds[c]:bounds[c + 1]] for name, c in code_of.items()}

    def notes(self) -> list[str]:
        """What the report should say about the units (opening turns not used to group records)."""
        if not self.shared_openings:
            return []
        n, largest = len(self.shared_openings), self.shared_openings[0]
        return [f"split: {n} opening user turn{'s' if n > 1 else ''} shared by more than {self.cap} records "
                f"(largest: {largest}) did not keep those records together: a greeting or template many "
                "conversations open with is not one prompt asked again (raise split.shared_opening_max to group "
                "them anyway)"]

    def shuffled(self, name: str, seed: int) -> np.ndarray:
        units = self.strata[name]
        return units[_rng(seed, name).permutation(len(units))]

    def rows_of(self, units: np.ndarray) -> np.ndarray:
        """The rows of ``units``, ascending."""
        return self.rows[np.isin(self.unit, units)]


def stratum_balance(units: StratumUnits, config: SplitConfig, seed: int) -> dict[int, tuple[str, str]]:
    """Rows the balance rules drop: whole strata under ``min_per_stratum``, and the units of a stratum past
    ``max_per_stratum`` in its seeded order (a unit that does not fit is skipped, later smaller ones may)."""
    dropped: dict[int, tuple[str, str]] = {}
    for name in sorted(units.strata):
        stratum = units.strata[name]
        size = int(units.size[stratum].sum())
        label = name or "(empty)"
        if config.min_per_stratum and size < config.min_per_stratum:
            detail = (f"stratum {label!r} has {size} records, fewer than min_per_stratum "
                      f"{config.min_per_stratum}")
            dropped.update(dict.fromkeys(units.rows_of(stratum).tolist(), ("stratum_below_minimum", detail)))
        elif config.max_per_stratum and size > config.max_per_stratum:
            over: list[int] = []
            count = 0
            shuffled = units.shuffled(name, seed)
            for unit, unit_size in zip(shuffled.tolist(), units.size[shuffled].tolist(), strict=True):
                if count + unit_size <= config.max_per_stratum:
                    count += unit_size
                else:
                    over.append(unit)
            detail = f"stratum {label!r} capped at {config.max_per_stratum} records"
            dropped.update(dict.fromkeys(units.rows_of(np.asarray(over, dtype=np.int64)).tolist(),
                                         ("stratum_cap", detail)))
    return dropped


def _held_out_totals(total: int, config: SplitConfig) -> tuple[int, int]:
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
    return val_total, test_total


def split_codes(units: StratumUnits, alive: np.ndarray, n: int, config: SplitConfig, seed: int) -> np.ndarray:
    """Per row of a table of ``n`` rows: its split code (index into ``SPLITS``; -1 outside ``alive``).

    Each stratum's units are walked in their seeded order with the units no longer ``alive`` (capped by
    balance) left out, so balance never reorders what it keeps."""
    unit_alive = np.zeros(len(units.size), dtype=bool)
    unit_alive[units.unit[alive[units.rows]]] = True
    order: dict[str, np.ndarray] = {}
    for name in sorted(units.strata):
        shuffled = units.shuffled(name, seed)
        shuffled = shuffled[unit_alive[shuffled]]
        if len(shuffled):
            order[name] = shuffled
    names = sorted(order)
    sizes = [int(units.size[order[name]].sum()) for name in names]
    val_total, test_total = _held_out_totals(sum(sizes), config)
    val_shares = _largest_remainder(val_total, sizes)
    test_shares = _largest_remainder(test_total, [s - v for s, v in zip(sizes, val_shares, strict=True)])
    unit_split = np.zeros(len(units.size), dtype=np.int8)
    for name, val_n, test_n in zip(names, val_shares, test_shares, strict=True):
        val_filled = test_filled = 0
        for unit, size in zip(order[name].tolist(), units.size[order[name]].tolist(), strict=True):
            # a unit goes to a held-out split only if it fits what is left of that split's share
            if val_filled + size <= val_n:
                unit_split[unit] = 1
                val_filled += size
            elif test_filled + size <= test_n:
                unit_split[unit] = 2
                test_filled += size
    codes = np.full(n, -1, dtype=np.int8)
    kept = alive[units.rows]
    codes[units.rows[kept]] = unit_split[units.unit[kept]]
    return codes


def assign_splits(
    alive: Sequence[int],
    *,
    strata: Sequence[str],
    clusters: np.ndarray,
    config: SplitConfig,
    seed: int,
    groups: Sequence[tuple[Hashable, ...]] = (),
) -> tuple[SplitAssignment, dict[int, tuple[str, str]]]:
    """Balance, then the split: (row -> split name, row -> (reason, detail) for rows the balance rules drop).
    The global stages run the two halves separately (``BalanceStage``, ``SplitStage``)."""
    rows = np.asarray(alive, dtype=np.int64)
    units = StratumUnits(rows, strata, groups, clusters, config)
    dropped = stratum_balance(units, config, seed)
    n = max(len(strata), int(rows.max()) + 1 if len(rows) else 0)
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    mask[list(dropped)] = False
    return SplitAssignment(split_codes(units, mask, n, config, seed)), dropped
