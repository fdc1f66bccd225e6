"""The memory-lean near dedup (row chunks, a few bands per pass, pair codes) decides exactly as the plain
in-memory algorithm it replaced, on ndarrays and on read-only memmaps, whatever the chunk sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from curation.dedup import near
from curation.dedup.minhash import EMPTY
from curation.dedup.near import centre_clusters, find_clusters, priority_order

NUM_PERM = 128


def _reference(signatures: np.ndarray, threshold: float, bands: int, rows: int, keep: Any = "first",
               lengths: np.ndarray | None = None, active: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """The previous implementation, whole matrix in memory: all bands' pairs, one unique, one verification."""
    n = len(signatures)
    mask = ~np.all(signatures == EMPTY, axis=1)
    if active is not None:
        mask &= active
    index = np.flatnonzero(mask).astype(np.int64)
    sigs = signatures[index]
    found = []
    for b in range(bands):
        h = near._band_hashes(sigs[:, b * rows:(b + 1) * rows])
        order = np.argsort(h, kind="stable")
        hs = h[order]
        for d in range(1, near.MAX_BUCKET_WINDOW):
            same = np.flatnonzero(hs[d:] == hs[:-d])
            if len(same) == 0:
                break
            found.append(np.stack([order[same], order[same + d]], axis=1))
            if d == near.MAX_BUCKET_WINDOW - 1:
                start = np.r_[True, hs[1:] != hs[:-1]]
                head = np.maximum.accumulate(np.where(start, np.arange(len(hs)), 0))
                far = np.flatnonzero(np.arange(len(hs)) - head >= near.MAX_BUCKET_WINDOW)
                found.append(np.stack([order[head[far]], order[far]], axis=1))
    pairs = index[np.concatenate(found)]
    pairs.sort(axis=1)
    codes = np.unique(pairs[:, 0].astype(np.uint64) * np.uint64(n) + pairs[:, 1].astype(np.uint64))
    pairs = np.stack([(codes // np.uint64(n)).astype(np.int64), (codes % np.uint64(n)).astype(np.int64)], axis=1)
    sims = (np.count_nonzero(signatures[pairs[:, 0]] == signatures[pairs[:, 1]], axis=1)
            / np.float32(NUM_PERM)).astype(np.float32)
    ok = sims >= np.float32(threshold)
    centre, similarity = centre_clusters(n, pairs[ok], sims[ok], priority_order(n, keep, lengths=lengths))
    duplicate_of = np.where((centre >= 0) & (centre != np.arange(n)), centre, -1)
    cluster = np.full(n, -1, dtype=np.int64)
    roots = np.unique(centre[centre >= 0])
    cluster[centre >= 0] = np.searchsorted(roots, centre[centre >= 0])
    return cluster, duplicate_of, similarity, np.array([len(pairs), int(ok.sum())])


def _planted(n: int, seed: int) -> np.ndarray:
    """Random signatures; ~17% near copies (0-40 slots changed) of an earlier row, a templated block of 80 rows
    sharing their first 30 slots (a bucket longer than the window), and a few empty rows."""
    rng = np.random.default_rng(seed)
    sig = rng.integers(0, 2**32 - 1, size=(n, NUM_PERM), dtype=np.uint32)
    copies = np.flatnonzero(rng.random(n) < 0.17)
    copies = copies[copies > 0]
    sig[copies] = sig[(rng.random(len(copies)) * copies).astype(np.int64)]
    for row, k in zip(copies.tolist(), rng.integers(0, 41, size=len(copies)).tolist(), strict=True):
        slots = rng.choice(NUM_PERM, size=k, replace=False)
        sig[row, slots] = rng.integers(0, 2**32 - 1, size=k, dtype=np.uint32)
    template = rng.choice(n, size=80, replace=False)
    sig[template, :30] = sig[template[0], :30]
    sig[rng.choice(n, size=40, replace=False)] = EMPTY
    return sig


@pytest.fixture(scope="module")
def planted() -> np.ndarray:
    return _planted(20_000, seed=3)


def _same(result: Any, reference: tuple[np.ndarray, ...]) -> None:
    cluster, duplicate_of, similarity, counts = reference
    assert np.array_equal(result.cluster, cluster)
    assert np.array_equal(result.duplicate_of, duplicate_of)
    assert np.array_equal(result.similarity, similarity, equal_nan=True)
    assert [result.candidate_pairs, result.verified_pairs] == counts.tolist()


def test_identical_to_the_in_memory_algorithm(planted: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    bands, rows = near.recall_bands(0.7, NUM_PERM)
    lengths = np.random.default_rng(1).integers(1, 500, size=len(planted))
    active = np.random.default_rng(2).random(len(planted)) > 0.05
    reference = _reference(planted, 0.7, bands, rows, "longest", lengths, active)
    assert reference[3][1] > 2000  # the planted copies are found
    result = find_clusters(planted, threshold=0.7, bands=bands, rows=rows, keep="longest", lengths=lengths,
                           active=active)
    _same(result, reference)
    # chunk boundaries everywhere: rows, bands per pass and pairs per verification
    monkeypatch.setattr(near, "CHUNK_ROWS", 997)
    monkeypatch.setattr(near, "BANDS_PER_PASS", 3)
    monkeypatch.setattr(near, "PAIR_CHUNK", 501)
    _same(find_clusters(planted, threshold=0.7, bands=bands, rows=rows, keep="longest", lengths=lengths,
                        active=active), reference)


def test_a_read_only_memmap_gives_the_same_result_and_is_not_copied(planted: np.ndarray, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sig.u32"
    planted.tofile(path)
    sig = np.memmap(path, dtype=np.uint32, mode="r", shape=planted.shape)
    reference = _reference(planted, 0.6, 32, 4)
    monkeypatch.setattr(near, "CHUNK_ROWS", 4096)
    reads: list[int] = []
    block = near.SignatureRows.block

    def counting(self: near.SignatureRows, a: int, b: int, out: np.ndarray | None = None) -> np.ndarray:
        reads.append(b - a)
        return block(self, a, b, out)

    monkeypatch.setattr(near.SignatureRows, "block", counting)
    _same(find_clusters(sig, threshold=0.6, bands=32, rows=4), reference)
    assert max(reads) <= 4096  # never more than a chunk of rows at once


def test_the_public_steps_agree_with_find_clusters(planted: np.ndarray) -> None:
    sig = planted[:3000]
    pairs = near.candidate_pairs(sig, 25, 5)
    assert pairs.dtype == np.int64 and np.all(pairs[:, 0] < pairs[:, 1])
    edges, sims = near.verify(sig, pairs, 0.7)
    assert np.all(sims >= np.float32(0.7))
    direct = np.count_nonzero(sig[edges[:, 0]] == sig[edges[:, 1]], axis=1) / NUM_PERM
    assert np.allclose(sims, direct)
    assert find_clusters(sig, threshold=0.7, bands=25, rows=5).verified_pairs <= len(edges)


def test_rows_are_read_from_the_file_of_any_memmap_view(planted: np.ndarray, tmp_path: Path) -> None:
    path = tmp_path / "sig.npy"
    np.save(path, planted[:5000])  # a header before the rows: the memmap has an offset
    whole = np.load(path, mmap_mode="r")
    view = whole[1234:4321]
    reader = near.SignatureRows(view)
    assert reader.path == str(path)
    assert np.array_equal(reader.block(10, 300), planted[1244:1534])
    rows = np.array([0, 1, 2, 5, 40, 41, 900, 3086])
    assert np.array_equal(reader.take(rows), planted[1234 + rows])
    raw = tmp_path / "sig.u32"
    planted[:5000].tofile(raw)
    opened = near.SignatureRows.open(str(raw), (5000, NUM_PERM))
    assert np.array_equal(opened.take(rows), planted[rows])
    assert near.SignatureRows(np.load(path, mmap_mode="c")).path is None  # copy-on-write: read via the map
