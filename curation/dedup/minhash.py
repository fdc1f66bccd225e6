"""Batched MinHash signatures in numpy, equal to datasketch's.

datasketch 2.x (default scheme ``affine32``) mixes each input hash once with the 32-bit MurmurHash3
finalizer, then applies ``num_perm`` permutations ``a * h + b mod 2^32`` (``a`` odd, so each is a
bijection) and keeps the minimum per permutation. We take ``a`` and ``b`` from ``datasketch.MinHash(num_perm,
seed)``'s own generator (reproduced here with numpy, so that start-up never imports datasketch and its
scipy), so a signature here equals ``MinHash(num_perm, seed, hashfunc=int)`` updated with the same
32-bit hashes (tests/dedup/test_dedup_minhash.py proves it), and both stay uint32: 1M x 128 = 512 MB.

Speed: one record at a time costs ~30 numpy calls of overhead, so shingles of many records are processed
together in blocks of a few thousand shingles whose (shingles x num_perm) matrix stays in the CPU cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's value for a permutation that saw no input
_BLOCK_SHINGLES = 4096
_LONG_SETS = 64  # shingles per set from which the minimum is taken along a set's own shingles
_SHORT_SETS = 16  # ... and up to which along the sets of a block


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) permutation parameters datasketch 2.x draws for ``num_perm`` and ``seed`` (uint32).

    datasketch's ``MinHash._init_permutations`` for ``affine32``: ``a = 2 * randint(0, 2^31) + 1`` (odd) and
    ``b = randint(0, 2^32)`` from ``RandomState(seed)``, in that order. Drawn here without importing datasketch
    (which imports scipy: ~0.35 CPU-s per process); tests/dedup/test_dedup_minhash.py checks both agree.
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a = np.ascontiguousarray(a, dtype=np.uint32)
    b = np.ascontiguousarray(b, dtype=np.uint32)
    a.flags.writeable = False
    b.flags.writeable = False
    return a, b


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (datasketch's pre-mix), on a uint32 array."""
    h = h.astype(np.uint32, copy=True)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def signatures_csr(hashes: np.ndarray, offsets: np.ndarray, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """Signatures of many sets given as one array of uint32 hashes and set offsets (CSR layout).

    Set ``i`` is ``hashes[offsets[i]:offsets[i+1]]``; duplicates inside a set do not matter. An empty set
    gets the all-``EMPTY`` signature, as in datasketch (``is_empty(signature)`` tells).
    """
    n = len(offsets) - 1
    out = np.full((n, num_perm), EMPTY, dtype=np.uint32)
    if n <= 0 or len(hashes) == 0:
        return out
    a, b = permutations(num_perm, seed)
    mixed = fmix32(np.asarray(hashes, dtype=np.uint32))
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = offsets[1:] - offsets[:-1]
    nonempty = np.flatnonzero(lengths > 0)
    # Sets sorted by size, then taken in blocks of similar size padded to a rectangle (a set's last hash
    # repeats, which cannot change a minimum): a (sets x size x num_perm) block is reduced along its middle
    # axis, about twice as fast as np.minimum.reduceat over ragged segments (measured 90 vs 170 ns/shingle).
    order = nonempty[np.argsort(lengths[nonempty], kind="stable")]
    sorted_lengths = lengths[order]
    n_sets = len(order)
    # One work buffer for every block (a fresh 2 MB array per block costs page faults each time).
    buffer = np.empty(num_perm * _BLOCK_SHINGLES, dtype=np.uint32)
    column_a, column_b = a[:, None, None], b[:, None, None]
    i = 0
    while i < n_sets:
        size = int(sorted_lengths[i])
        if size > _BLOCK_SHINGLES:
            out[order[i]] = _one_large_set(mixed[offsets[order[i]] : offsets[order[i] + 1]], a, b)
            i += 1
            continue
        count = max(1, _BLOCK_SHINGLES // size)
        size = int(sorted_lengths[min(i + count, n_sets) - 1])
        count = max(1, _BLOCK_SHINGLES // size)
        j = min(i + count, n_sets)
        size = int(sorted_lengths[j - 1])
        block = order[i:j]
        sets = j - i
        index = offsets[block, None] + np.minimum(np.arange(size), lengths[block, None] - 1)
        # numpy multiplies a contiguous row by one scalar about 3x faster than it broadcasts a row of 128
        # permutations over each hash, so the work is laid out permutation-major, (num_perm, ...), and the
        # minimum taken along whichever axis is long enough to reduce fast: a set's shingles when sets are
        # long, the sets of the block when they are short.
        if size >= _LONG_SETS:
            work = buffer[: num_perm * sets * size].reshape(num_perm, sets, size)
            np.multiply(column_a, mixed[index][None], out=work)
            np.add(work, column_b, out=work)
            out[block] = work.min(axis=2).T
        elif size <= _SHORT_SETS:
            work = buffer[: num_perm * sets * size].reshape(num_perm, size, sets)
            np.multiply(column_a, mixed[index.T][None], out=work)
            np.add(work, column_b, out=work)
            out[block] = work.min(axis=1).T
        else:
            work = buffer[: num_perm * sets * size].reshape(sets, size, num_perm)
            np.multiply(mixed[index][:, :, None], a, out=work)
            np.add(work, b, out=work)
            out[block] = work.min(axis=1)
        i = j
    return out


def _one_large_set(mixed: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The signature of one set larger than a block, in cache-sized chunks."""
    result = np.full(len(a), EMPTY, dtype=np.uint32)
    for lo in range(0, len(mixed), _BLOCK_SHINGLES):
        work = np.multiply(mixed[lo : lo + _BLOCK_SHINGLES, None], a)
        np.add(work, b, out=work)
        np.minimum(result, work.min(axis=0), out=result)
    return result


def signatures(hash_sets: Sequence[np.ndarray], num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """MinHash signatures (n x num_perm, uint32) of a list of uint32 hash arrays."""
    offsets = np.zeros(len(hash_sets) + 1, dtype=np.int64)
    np.cumsum([len(h) for h in hash_sets], out=offsets[1:])
    hashes = np.concatenate(hash_sets).astype(np.uint32) if hash_sets else np.zeros(0, dtype=np.uint32)
    return signatures_csr(hashes, offsets, num_perm, seed)


def text_signatures(
    texts: Sequence[str], *, shingle_size: int, num_perm: int = 128, seed: int = 1, batch: int = 256
) -> np.ndarray:
    """Shingle and sign many texts (the fast path). Texts go through in batches of ``batch``: large enough
    to spread numpy's per-call overhead, small enough to stay in cache (256 measured best of 200-5000)."""
    from curation.dedup.shingles import batch_shingle_hashes

    out = np.empty((len(texts), num_perm), dtype=np.uint32)
    for lo in range(0, len(texts), batch):
        hashes, offsets = batch_shingle_hashes(texts[lo : lo + batch], shingle_size)
        out[lo : lo + batch] = signatures_csr(hashes, offsets, num_perm, seed)
    return out


def is_empty(sigs: np.ndarray) -> np.ndarray | bool:
    """True for signatures of empty sets (texts with no unit): they must never count as duplicates."""
    return np.all(sigs == EMPTY, axis=-1)
