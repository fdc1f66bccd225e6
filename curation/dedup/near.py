"""Near-duplicate clusters from MinHash signatures: LSH banding in numpy, every candidate pair verified.

Four plain steps, each a function: ``candidate_pairs`` (band hashes, sort, neighbours in a bucket),
``verify`` (estimated Jaccard = share of equal signature slots, >= threshold), ``connected_components``
(vectorised union-find) and ``choose_survivors`` (the keep policy). ``find_clusters`` runs them.

Why not datasketch.MinHashLSH: inserting 1M LeanMinHash objects one by one is a Python loop over
dict-of-lists buckets (scripts/bench_dedup.py measures it), and it returns candidates unverified, so a
pair that shares one band by chance is removed although it is not similar (measured-here.md counts 9
false drops). Here a band is hashed for all records at once, buckets come from one argsort, and LSH
only proposes: the verified similarity decides, so bands can be set for recall at little cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from curation.dedup.minhash import is_empty

KeepPolicy = Literal["longest", "quality", "first"]
# Buckets bigger than this (templated data) are paired by sliding window in index order, not all pairs:
# the cost stays linear, and a cluster still connects through neighbours.
MAX_BUCKET_WINDOW = 32
_PAIR_CHUNK = 200_000
_U64 = np.uint64


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Chance that a pair of this Jaccard similarity shares at least one band."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def recall_bands(threshold: float, num_perm: int, target: float = 0.98) -> tuple[int, int]:
    """(bands, rows) for verified LSH: a pair *at* the threshold becomes a candidate with chance >= target,
    with as many rows per band as allows it (fewest chance candidates).

    datasketch's rule balances false positives against false negatives because it cannot re-check its
    candidates; for 0.7 and 128 permutations it picks 14 x 9, which proposes a pair at similarity 0.7 only
    44% of the time (measured: 1.4% of English near copies lost). Here a false candidate costs one
    128-slot comparison, so recall comes first: 0.7 / 128 gives 25 x 5 (99.0% at 0.7, 6% at 0.3).
    """
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) >= target:
            return bands, rows
    return num_perm, 1


def _band_hashes(band: np.ndarray) -> np.ndarray:
    """One 64-bit hash per row of an (n x rows) uint32 band (collisions only add candidates to verify)."""
    h = np.zeros(band.shape[0], dtype=_U64)
    for c in range(band.shape[1]):
        h = (h ^ band[:, c].astype(_U64)) * _U64(0x100000001B3 + 2 * c)
        h ^= h >> _U64(29)
    h *= _U64(0xBF58476D1CE4E5B9)
    h ^= h >> _U64(32)
    return h


def candidate_pairs(signatures: np.ndarray, bands: int, rows: int, active: np.ndarray | None = None) -> np.ndarray:
    """Distinct pairs (i < j, int64, shape m x 2) that share at least one band; only ``active`` rows take part."""
    n, num_perm = signatures.shape
    if bands * rows > num_perm:
        raise ValueError(f"bands x rows = {bands * rows} exceeds num_perm = {num_perm}")
    index = np.arange(n, dtype=np.int64) if active is None else np.flatnonzero(active).astype(np.int64)
    sigs = signatures if active is None else signatures[index]
    found: list[np.ndarray] = []
    for b in range(bands):
        h = _band_hashes(sigs[:, b * rows : (b + 1) * rows])
        order = np.argsort(h, kind="stable")  # stable: equal hashes stay in index order (deterministic)
        hs = h[order]
        for d in range(1, MAX_BUCKET_WINDOW):
            same = np.flatnonzero(hs[d:] == hs[:-d])
            if len(same) == 0:
                break
            found.append(np.stack([order[same], order[same + d]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = index[np.concatenate(found)]
    pairs.sort(axis=1)
    codes = np.unique(pairs[:, 0].astype(_U64) * _U64(n) + pairs[:, 1].astype(_U64))
    return np.stack([(codes // _U64(n)).astype(np.int64), (codes % _U64(n)).astype(np.int64)], axis=1)


def pair_similarity(signatures: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of each pair: the share of signature slots that are equal (float32)."""
    out = np.empty(len(pairs), dtype=np.float32)
    for lo in range(0, len(pairs), _PAIR_CHUNK):
        chunk = pairs[lo : lo + _PAIR_CHUNK]
        out[lo : lo + len(chunk)] = np.count_nonzero(
            signatures[chunk[:, 0]] == signatures[chunk[:, 1]], axis=1
        ) / np.float32(signatures.shape[1])
    return out


def verify(signatures: np.ndarray, pairs: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """The candidate pairs whose estimated Jaccard reaches the threshold, and their similarity."""
    sims = pair_similarity(signatures, pairs)
    keep = sims >= np.float32(threshold)
    return pairs[keep], sims[keep]


def connected_components(n: int, edges: np.ndarray) -> np.ndarray:
    """Component label of each of ``n`` nodes: the smallest node index in its component."""
    labels = np.arange(n, dtype=np.int64)
    if len(edges) == 0:
        return labels
    i, j = edges[:, 0], edges[:, 1]
    while True:
        low = np.minimum(labels[i], labels[j])
        np.minimum.at(labels, i, low)
        np.minimum.at(labels, j, low)
        while True:  # pointer jumping: every node points at its root
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels[i], labels[j]):
            return labels


def choose_survivors(
    labels: np.ndarray,
    keep: KeepPolicy = "first",
    *,
    lengths: np.ndarray | None = None,
    quality: np.ndarray | None = None,
) -> np.ndarray:
    """The survivor index of each record's group under the keep policy; ties go to the lowest index.

    ``longest`` keeps the largest ``lengths`` (text length), ``quality`` the highest ``quality`` score,
    ``first`` the lowest input index.
    """
    n = len(labels)
    index = np.arange(n, dtype=np.int64)
    if keep == "first":
        score = np.zeros(n)
    elif keep == "longest":
        if lengths is None:
            raise ValueError("keep='longest' needs lengths")
        score = -np.asarray(lengths, dtype=np.float64)
    elif keep == "quality":
        if quality is None:
            raise ValueError("keep='quality' needs quality scores")
        score = -np.nan_to_num(np.asarray(quality, dtype=np.float64), nan=-np.inf)
    else:
        raise ValueError(f"unknown keep policy {keep!r}")
    order = np.lexsort((index, score, labels))  # by group, then best score, then lowest index
    first = np.ones(n, dtype=bool)
    first[1:] = labels[order[1:]] != labels[order[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    survivor = np.empty(n, dtype=np.int64)
    survivor[order] = order[group_start]
    return survivor


@dataclass(slots=True)
class ClusterResult:
    """Per record: ``cluster`` (dense id, -1 when alone), ``duplicate_of`` (survivor index, -1 for kept
    records) and ``similarity`` (estimated Jaccard to the survivor; NaN for kept records)."""

    cluster: np.ndarray
    duplicate_of: np.ndarray
    similarity: np.ndarray
    candidate_pairs: int
    verified_pairs: int

    @property
    def survivor(self) -> np.ndarray:
        return self.duplicate_of < 0

    @property
    def n_duplicates(self) -> int:
        return int(np.count_nonzero(self.duplicate_of >= 0))


def find_clusters(
    signatures: np.ndarray,
    *,
    threshold: float,
    bands: int | None = None,
    rows: int | None = None,
    keep: KeepPolicy = "first",
    lengths: np.ndarray | None = None,
    quality: np.ndarray | None = None,
    active: np.ndarray | None = None,
) -> ClusterResult:
    """Cluster near duplicates: LSH candidates, verified by estimated Jaccard >= threshold, connected
    components, one survivor per cluster by ``keep``. Records with an empty signature (no unit) and
    records outside ``active`` (e.g. exact duplicates already removed) never join a cluster."""
    n, num_perm = signatures.shape
    if bands is None or rows is None:
        bands, rows = recall_bands(threshold, num_perm)
    mask = ~is_empty(signatures)
    if active is not None:
        mask &= np.asarray(active, dtype=bool)
    pairs = candidate_pairs(signatures, bands, rows, mask)
    edges, _ = verify(signatures, pairs, threshold)
    labels = connected_components(n, edges)
    survivor = choose_survivors(labels, keep, lengths=lengths, quality=quality)
    duplicate_of = np.where(survivor == np.arange(n), -1, survivor)
    is_dup = duplicate_of >= 0
    similarity = np.full(n, np.nan, dtype=np.float32)
    dups = np.flatnonzero(is_dup)
    similarity[dups] = pair_similarity(signatures, np.stack([dups, duplicate_of[dups]], axis=1))
    in_cluster = np.bincount(labels, minlength=n)[labels] > 1
    cluster = np.full(n, -1, dtype=np.int64)
    roots = np.unique(labels[in_cluster])
    cluster[in_cluster] = np.searchsorted(roots, labels[in_cluster])
    return ClusterResult(cluster, duplicate_of, similarity, len(pairs), len(edges))


def exact_duplicates(
    keys: list[bytes] | np.ndarray,
    keep: KeepPolicy = "first",
    *,
    lengths: np.ndarray | None = None,
    quality: np.ndarray | None = None,
) -> np.ndarray:
    """``duplicate_of`` for exact keys (16-byte, from ``text.exact_key``): the survivor's index for every
    record whose key was seen in another record, -1 for survivors. The survivor follows ``keep``."""
    if isinstance(keys, np.ndarray):
        arr = np.ascontiguousarray(keys)
        raw = arr.tobytes()
        width = arr.dtype.itemsize * (arr.shape[1] if arr.ndim == 2 else 1)
    else:
        raw = b"".join(keys)
        width = len(keys[0]) if keys else 16
        if len(raw) != width * len(keys):
            raise ValueError("exact keys must all have the same length")
    if width == 0 or width % 8:
        raise ValueError(f"exact keys must be a positive multiple of 8 bytes long, got {width}")
    n = len(raw) // width
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    words = np.frombuffer(raw, dtype="<u8")
    cols = words.reshape(n, width // 8)
    order = np.lexsort(cols.T[::-1])
    sorted_cols = cols[order]
    first = np.ones(n, dtype=bool)
    first[1:] = np.any(sorted_cols[1:] != sorted_cols[:-1], axis=1)
    group = np.cumsum(first) - 1
    labels = np.empty(n, dtype=np.int64)
    labels[order] = order[first][group]  # any member works as a label; choose_survivors re-ranks
    survivor = choose_survivors(labels, keep, lengths=lengths, quality=quality)
    return np.where(survivor == np.arange(n), -1, survivor)
