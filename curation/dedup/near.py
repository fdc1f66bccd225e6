"""Near-duplicate clusters from MinHash signatures: LSH banding in numpy, every candidate pair verified.

Four plain steps, each a function: ``candidate_pairs`` (band hashes, sort, neighbours in a bucket),
``verify`` (estimated Jaccard = share of equal signature slots, >= threshold), ``centre_clusters``
(greedy centre clustering in keep-policy order) and the keep policy itself (``priority_order``).
``find_clusters`` runs them.

Why centres and not connected components: components chain. A~B and B~C put A and C in one cluster
although A and C may share little; on real files that gave clusters of 739 members whose lowest
similarity to the kept record was 0.195. With centres, every dropped record is a verified neighbour of
the record that survives in its place, so its reported similarity is to that survivor and is always at or
above the threshold. Records are visited best-first under the keep policy (first: input order; longest;
quality), each unclaimed record becomes a centre and claims its unclaimed verified neighbours, so the
result is deterministic and the survivor of a cluster is the best record of it that nothing better claimed.

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
            if d == MAX_BUCKET_WINDOW - 1:
                # A bucket longer than the window: pair every later member with the bucket's first (lowest
                # index) member too, so a centre can still claim members the window does not reach.
                start = np.r_[True, hs[1:] != hs[:-1]]
                head = np.maximum.accumulate(np.where(start, np.arange(len(hs)), 0))
                far = np.flatnonzero(np.arange(len(hs)) - head >= MAX_BUCKET_WINDOW)
                if len(far):
                    found.append(np.stack([order[head[far]], order[far]], axis=1))
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


def priority_order(
    n: int,
    keep: KeepPolicy = "first",
    *,
    lengths: np.ndarray | None = None,
    quality: np.ndarray | None = None,
) -> np.ndarray:
    """Record indices best-first under the keep policy; ties go to the lowest index."""
    index = np.arange(n, dtype=np.int64)
    return np.lexsort((index, _keep_score(n, keep, lengths, quality)))


def _keep_score(n: int, keep: KeepPolicy, lengths: np.ndarray | None, quality: np.ndarray | None) -> np.ndarray:
    """Lower is better."""
    if keep == "first":
        return np.zeros(n)
    if keep == "longest":
        if lengths is None:
            raise ValueError("keep='longest' needs lengths")
        return -np.asarray(lengths, dtype=np.float64)
    if keep == "quality":
        if quality is None:
            raise ValueError("keep='quality' needs quality scores")
        return -np.nan_to_num(np.asarray(quality, dtype=np.float64), nan=-np.inf)
    raise ValueError(f"unknown keep policy {keep!r}")


def centre_clusters(
    n: int, edges: np.ndarray, similarity: np.ndarray, order: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy centre clustering over verified ``edges`` (m x 2) with their ``similarity``.

    Visits records in ``order`` (best first); an unclaimed record becomes a centre and claims every unclaimed
    neighbour. Returns ``(centre, sim)``: per record the index of its centre (itself for a centre, -1 for a
    record with no verified neighbour) and the similarity to that centre (NaN for centres and loners).
    """
    centre = np.full(n, -1, dtype=np.int64)
    sim = np.full(n, np.nan, dtype=np.float32)
    if len(edges) == 0:
        return centre, sim
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    weight = np.concatenate([similarity, similarity]).astype(np.float32)
    by_src = np.argsort(src, kind="stable")
    src, dst, weight = src[by_src], dst[by_src], weight[by_src]
    starts = np.searchsorted(src, np.arange(n + 1))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    linked = np.unique(src)
    claimed = np.zeros(n, dtype=bool)
    for v in linked[np.argsort(rank[linked], kind="stable")].tolist():
        if claimed[v]:
            continue
        claimed[v] = True
        lo, hi = starts[v], starts[v + 1]
        neighbours = dst[lo:hi]
        free = ~claimed[neighbours]
        if not free.any():
            continue  # every neighbour already belongs to a better centre: v stays on its own
        members = neighbours[free]
        claimed[members] = True
        centre[v] = v
        centre[members] = v
        sim[members] = weight[lo:hi][free]
    return centre, sim


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
    # by group, then best score, then lowest index
    order = np.lexsort((index, _keep_score(n, keep, lengths, quality), labels))
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
    """Cluster near duplicates: LSH candidates, verified by estimated Jaccard >= threshold, greedy centre
    clustering in keep-policy order (``centre_clusters``). Every duplicate's ``similarity`` is to its own
    survivor and reaches the threshold. Records with an empty signature (no unit) and records outside
    ``active`` (e.g. exact duplicates already removed) never join a cluster."""
    n, num_perm = signatures.shape
    if bands is None or rows is None:
        bands, rows = recall_bands(threshold, num_perm)
    order = priority_order(n, keep, lengths=lengths, quality=quality)
    mask = ~is_empty(signatures)
    if active is not None:
        mask &= np.asarray(active, dtype=bool)
    pairs = candidate_pairs(signatures, bands, rows, mask)
    edges, sims = verify(signatures, pairs, threshold)
    centre, similarity = centre_clusters(n, edges, sims, order)
    duplicate_of = np.where((centre >= 0) & (centre != np.arange(n)), centre, -1)
    cluster = np.full(n, -1, dtype=np.int64)
    in_cluster = centre >= 0
    roots = np.unique(centre[in_cluster])
    cluster[in_cluster] = np.searchsorted(roots, centre[in_cluster])
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
