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

import mmap
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from curation.dedup.minhash import EMPTY

KeepPolicy = Literal["longest", "quality", "first"]
# Buckets bigger than this (templated data) are paired by sliding window in index order, not all pairs:
# the cost stays linear, and a cluster still connects through neighbours.
MAX_BUCKET_WINDOW = 32
# Signatures are read this many rows at a time (8 MB at 128 permutations), the keys of this many bands are
# built per pass over them (8 B per record and band), and candidate pairs are verified this many at a time.
CHUNK_ROWS = 16_384
BANDS_PER_PASS = 4
PAIR_CHUNK = 16_384
_GAP = 8
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


class SignatureRows:
    """Row access to a signature matrix (an ndarray, or a ``np.memmap`` of a file) that never holds all of it.

    ``block(a, b)`` and ``take(rows)`` return copies of just those rows. A memmap is read with ``os.pread``
    from its file, not through the mapping: a mapped page counts in the process's RSS once touched (and a
    fault maps its neighbours too), so a pass over a 10M x 128 file would otherwise leave 5 GB resident.
    ``SignatureRows.open(path, shape)`` reads a raw file the same way without mapping it (Ray tasks).
    """

    def __init__(self, signatures: np.ndarray | None, *, path: str | None = None, offset: int = 0,
                 shape: tuple[int, int] | None = None, dtype: np.dtype | type = np.uint32) -> None:
        self.signatures = signatures
        self.path, self.offset, self.dtype = path, offset, np.dtype(dtype)
        if signatures is not None:
            shape, self.dtype = signatures.shape, signatures.dtype
            if path is None:
                self.path, self.offset = _file_of(signatures)
        assert shape is not None
        self.n, self.num_perm = shape
        self._row_bytes = self.num_perm * self.dtype.itemsize
        self._fd: int | None = None

    @classmethod
    def open(cls, path: str, shape: tuple[int, int], offset: int = 0,
             dtype: np.dtype | type = np.uint32) -> SignatureRows:
        return cls(None, path=path, offset=offset, shape=shape, dtype=dtype)

    def __getstate__(self) -> dict[str, object]:  # ship the file's coordinates, not an open descriptor
        return {"signatures": None if self.path else self.signatures, "path": self.path, "offset": self.offset,
                "dtype": self.dtype, "shape": (self.n, self.num_perm)}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__(state["signatures"], path=state["path"], offset=state["offset"],  # type: ignore[misc, arg-type]
                      shape=state["shape"], dtype=state["dtype"])  # type: ignore[arg-type]

    def buffer(self, rows: int) -> np.ndarray | None:
        """A reusable buffer for ``block`` of up to ``rows`` rows (None when the rows are in memory)."""
        return None if self.path is None else np.empty((rows, self.num_perm), dtype=self.dtype)

    def block(self, a: int, b: int, out: np.ndarray | None = None) -> np.ndarray:
        """Rows ``a:b``; read into ``out`` (from ``buffer``, overwritten by the next call) when given."""
        if self.path is None:
            return self.signatures[a:b]  # type: ignore[index]  # a view: the array is in memory already
        if out is None:
            return self._read(a, b - a)
        view = out[: b - a]
        self._read_into(view, a)
        return view

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The rows ``rows`` (ascending, distinct) as one array, in that order."""
        if self.path is None:
            return self.signatures[rows]  # type: ignore[index]
        out = np.empty((len(rows), self.num_perm), dtype=self.dtype)
        if len(rows) == 0:
            return out
        # rows less than _GAP apart are read with one call (a page holds 8 rows): fewer system calls
        starts = np.flatnonzero(np.r_[True, np.diff(rows) > _GAP])
        ends = np.r_[starts[1:], len(rows)]
        for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
            first = int(rows[lo])
            span = self._read(first, int(rows[hi - 1]) - first + 1)
            out[lo:hi] = span[rows[lo:hi] - first]
        return out

    def _read(self, row: int, count: int) -> np.ndarray:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)  # type: ignore[arg-type]
        size = count * self._row_bytes
        data = os.pread(self._fd, size, self.offset + row * self._row_bytes)
        if len(data) != size:
            raise OSError(f"short read of signatures from {self.path}")
        return np.frombuffer(data, dtype=self.dtype).reshape(count, self.num_perm)

    def _read_into(self, out: np.ndarray, row: int) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)  # type: ignore[arg-type]
        if os.preadv(self._fd, [memoryview(out).cast("B")], self.offset + row * self._row_bytes) != out.nbytes:
            raise OSError(f"short read of signatures from {self.path}")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()


class RowSource(Protocol):
    """What the LSH steps read rows through: ``SignatureRows`` here, object-store chunks on Ray."""

    n: int
    num_perm: int

    def buffer(self, rows: int) -> np.ndarray | None: ...
    def block(self, a: int, b: int, out: np.ndarray | None = None) -> np.ndarray: ...
    def take(self, rows: np.ndarray) -> np.ndarray: ...


def _rows(signatures: np.ndarray | RowSource) -> RowSource:
    return SignatureRows(signatures) if isinstance(signatures, np.ndarray) else signatures


def _file_of(signatures: np.ndarray) -> tuple[str | None, int]:
    """(file, byte offset of row 0) of a C-contiguous memmap, or (None, 0) for anything else."""
    mm = getattr(signatures, "_mmap", None)
    if not isinstance(signatures, np.memmap) or mm is None or not signatures.filename:
        return None, 0
    if not signatures.flags.c_contiguous or getattr(signatures, "mode", "r") == "c":
        return None, 0  # a copy-on-write map may hold edits that are not in the file
    base = np.frombuffer(mm, dtype=np.uint8)
    # numpy maps the file from the allocation-granularity boundary below the requested offset
    start = signatures.offset - signatures.offset % mmap.ALLOCATIONGRANULARITY
    return str(signatures.filename), start + signatures.ctypes.data - base.ctypes.data


def active_rows(signatures: np.ndarray | RowSource, active: np.ndarray | None = None,
                chunk_rows: int | None = None) -> np.ndarray:
    """Rows (int64, ascending) with a non-empty signature and, if given, ``active``: the rows LSH looks at."""
    reader = _rows(signatures)
    chunk_rows = chunk_rows or CHUNK_ROWS
    keep = np.empty(reader.n, dtype=bool)
    buffer = reader.buffer(chunk_rows)
    for a in range(0, reader.n, chunk_rows):
        b = min(a + chunk_rows, reader.n)
        keep[a:b] = ~np.all(reader.block(a, b, buffer) == EMPTY, axis=1)
    if active is not None:
        keep &= np.asarray(active, dtype=bool)
    return np.flatnonzero(keep).astype(np.int64)


def band_keys(reader: RowSource, index: np.ndarray, bands: Sequence[int], rows: int,
              chunk_rows: int | None = None) -> np.ndarray:
    """LSH keys (uint64, len(bands) x len(index)) of the given bands for the rows ``index`` (ascending),
    reading the signatures in row chunks."""
    chunk_rows = chunk_rows or CHUNK_ROWS
    keys = np.empty((len(bands), len(index)), dtype=_U64)
    buffer = reader.buffer(chunk_rows)
    at = 0
    for a in range(0, reader.n, chunk_rows):
        b = min(a + chunk_rows, reader.n)
        lo, hi = np.searchsorted(index, [a, b])
        if lo == hi:
            continue
        sub = None if hi - lo == b - a else index[lo:hi] - a
        block = reader.block(a, b, buffer)
        for k, band in enumerate(bands):
            h = _band_hashes(block[:, band * rows : (band + 1) * rows])  # hashing all rows beats gathering some
            keys[k, at : at + hi - lo] = h if sub is None else h[sub]
        at += hi - lo
    return keys


def bucket_codes(h: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    """Sorted distinct pair codes ``i * n + j`` (uint64, i < j) of the rows ``index`` that share a key in ``h``
    (one band's keys, aligned with ``index``)."""
    order = np.argsort(h)
    hs = h[order]
    # Only rows in a bucket of two or more can pair: keep those, each bucket's members in index order
    # (what a stable sort gives, at a third of its cost: the quicksort above plus a small re-sort).
    tie = hs[1:] == hs[:-1]
    shared = np.flatnonzero(np.r_[tie, False] | np.r_[False, tie])
    del tie
    order, hs = order[shared], hs[shared]
    regroup = np.lexsort((order, hs))
    order, hs = order[regroup], hs[regroup]
    found: list[np.ndarray] = []
    for d in range(1, MAX_BUCKET_WINDOW):
        same = np.flatnonzero(hs[d:] == hs[:-d])
        if len(same) == 0:
            break
        found.append(_codes(index[order[same]], index[order[same + d]], n))
        if d == MAX_BUCKET_WINDOW - 1:
            # A bucket longer than the window: pair every later member with the bucket's first (lowest
            # index) member too, so a centre can still claim members the window does not reach.
            start = np.r_[True, hs[1:] != hs[:-1]]
            head = np.maximum.accumulate(np.where(start, np.arange(len(hs)), 0))
            far = np.flatnonzero(np.arange(len(hs)) - head >= MAX_BUCKET_WINDOW)
            if len(far):
                found.append(_codes(index[order[head[far]]], index[order[far]], n))
    return distinct(found)


def distinct(parts: Sequence[np.ndarray]) -> np.ndarray:
    """The sorted distinct pair codes of all ``parts`` (a sort, not ``np.unique``: its hash table is several
    times slower on 64-bit codes)."""
    if not parts:
        return np.zeros(0, dtype=_U64)
    codes = np.concatenate(parts)
    codes.sort()
    return codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes


def _codes(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(a, b).astype(_U64) * _U64(n) + np.maximum(a, b).astype(_U64)


def decode_pairs(codes: np.ndarray, n: int) -> np.ndarray:
    """Pair codes back to (i, j) rows (int64, m x 2)."""
    return np.stack([(codes // _U64(n)).astype(np.int64), (codes % _U64(n)).astype(np.int64)], axis=1)


def band_groups(bands: int, group: int | None = None) -> list[list[int]]:
    """The bands in passes of ``group``: one pass over the signatures computes the keys of a group's bands."""
    group = group or BANDS_PER_PASS
    return [list(range(b, min(b + group, bands))) for b in range(0, bands, group)]


def codes_for_bands(reader: RowSource, index: np.ndarray, bands: Sequence[int], rows: int,
                    chunk_rows: int | None = None) -> np.ndarray:
    """Sorted distinct pair codes of the rows ``index`` that share at least one of ``bands``."""
    keys = band_keys(reader, index, bands, rows, chunk_rows)
    return distinct([bucket_codes(keys[k], index, reader.n) for k in range(len(bands))])


def candidate_codes(signatures: np.ndarray | RowSource, bands: int, rows: int,
                    active: np.ndarray | None = None, chunk_rows: int | None = None,
                    index: np.ndarray | None = None) -> np.ndarray:
    """Sorted distinct pair codes ``i * n + j`` (uint64, i < j) of rows that share at least one band; only
    ``active`` rows take part. Holds the keys of ``BANDS_PER_PASS`` bands at a time, never all signatures."""
    reader = _rows(signatures)
    if bands * rows > reader.num_perm:
        raise ValueError(f"bands x rows = {bands * rows} exceeds num_perm = {reader.num_perm}")
    if index is None:
        index = (np.arange(reader.n, dtype=np.int64) if active is None
                 else np.flatnonzero(active).astype(np.int64))
    codes = np.zeros(0, dtype=_U64)
    for group in band_groups(bands):
        codes = distinct([codes, codes_for_bands(reader, index, group, rows, chunk_rows)])
    return codes


def candidate_pairs(signatures: np.ndarray, bands: int, rows: int, active: np.ndarray | None = None) -> np.ndarray:
    """Distinct pairs (i < j, int64, shape m x 2) that share at least one band; only ``active`` rows take part."""
    return decode_pairs(candidate_codes(signatures, bands, rows, active), signatures.shape[0])


def code_similarity(signatures: np.ndarray | RowSource, codes: np.ndarray,
                    chunk_pairs: int | None = None) -> np.ndarray:
    """Estimated Jaccard (float32) of each coded pair, reading only the two rows of each pair, a chunk of
    pairs at a time."""
    reader = _rows(signatures)
    chunk_pairs = chunk_pairs or PAIR_CHUNK
    out = np.empty(len(codes), dtype=np.float32)
    for lo in range(0, len(codes), chunk_pairs):
        pairs = decode_pairs(codes[lo : lo + chunk_pairs], reader.n)
        out[lo : lo + len(pairs)] = _similarity(reader, pairs)
    return out


def _similarity(reader: RowSource, pairs: np.ndarray) -> np.ndarray:
    rows, inverse = np.unique(pairs, return_inverse=True)  # each needed row read once, in file order
    sig = reader.take(rows)
    inverse = inverse.reshape(pairs.shape)
    return np.count_nonzero(sig[inverse[:, 0]] == sig[inverse[:, 1]], axis=1) / np.float32(reader.num_perm)


def pair_similarity(signatures: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of each pair: the share of signature slots that are equal (float32)."""
    reader = SignatureRows(signatures)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    out = np.empty(len(pairs), dtype=np.float32)
    for lo in range(0, len(pairs), PAIR_CHUNK):
        chunk = pairs[lo : lo + PAIR_CHUNK]
        out[lo : lo + len(chunk)] = _similarity(reader, chunk)
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
    guard: np.ndarray | None = None,
) -> ClusterResult:
    """Cluster near duplicates: LSH candidates, verified by estimated Jaccard >= threshold, greedy centre
    clustering in keep-policy order (``centre_clusters``). Every duplicate's ``similarity`` is to its own
    survivor and reaches the threshold. Records with an empty signature (no unit) and records outside
    ``active`` (e.g. exact duplicates already removed) never join a cluster; with ``guard`` (one key per
    record), neither do two records whose keys differ."""
    reader = SignatureRows(signatures)
    n, num_perm = signatures.shape
    if bands is None or rows is None:
        bands, rows = recall_bands(threshold, num_perm)
    codes = candidate_codes(reader, bands, rows, index=active_rows(reader, active))
    sims = code_similarity(reader, codes)
    return cluster_verified(n, codes, sims, threshold, keep=keep, lengths=lengths, quality=quality, guard=guard)


def cluster_verified(
    n: int,
    codes: np.ndarray,
    sims: np.ndarray,
    threshold: float,
    *,
    keep: KeepPolicy = "first",
    lengths: np.ndarray | None = None,
    quality: np.ndarray | None = None,
    guard: np.ndarray | None = None,
) -> ClusterResult:
    """The last step of ``find_clusters``: keep the candidate pairs (``codes``, their similarity ``sims``) at or
    above the threshold, and with equal ``guard`` keys when given, and cluster them by greedy centres in
    keep-policy order."""
    order = priority_order(n, keep, lengths=lengths, quality=quality)
    verified = sims >= np.float32(threshold)
    edges, sims = decode_pairs(codes[verified], n), sims[verified]
    if guard is not None and len(edges):
        same = guard[edges[:, 0]] == guard[edges[:, 1]]
        edges, sims = edges[same], sims[same]
    centre, similarity = centre_clusters(n, edges, sims, order)
    duplicate_of = np.where((centre >= 0) & (centre != np.arange(n)), centre, -1)
    cluster = np.full(n, -1, dtype=np.int64)
    in_cluster = centre >= 0
    roots = np.unique(centre[in_cluster])
    cluster[in_cluster] = np.searchsorted(roots, centre[in_cluster])
    return ClusterResult(cluster, duplicate_of, similarity, len(codes), len(edges))


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
        raw: bytes | np.ndarray = arr.reshape(-1).view(np.uint8)  # no copy of the keys
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
    cols = np.frombuffer(raw, dtype="<u8").reshape(n, width // 8)
    order = np.lexsort(cols.T[::-1])  # stable: each run of equal keys is in index order
    sorted_cols = cols[order]
    first = np.ones(n, dtype=bool)
    first[1:] = np.any(sorted_cols[1:] != sorted_cols[:-1], axis=1)
    del sorted_cols
    group = np.cumsum(first) - 1
    labels = np.empty(n, dtype=np.int64)
    labels[order] = order[first][group]  # the lowest index of each key: the survivor under "first"
    del order, first, group
    survivor = labels if keep == "first" else choose_survivors(labels, keep, lengths=lengths, quality=quality)
    index = np.arange(n, dtype=np.int64)
    survivor[survivor == index] = -1
    return survivor
