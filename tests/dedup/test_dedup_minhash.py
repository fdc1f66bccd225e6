from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash

from curation.dedup import minhash
from curation.dedup.minhash import EMPTY, is_empty, signatures, signatures_csr, text_signatures
from curation.dedup.shingles import shingle_hashes


def _datasketch(hashes: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=int)
    if len(hashes):
        m.update_batch([int(h) for h in hashes])
    return m.hashvalues


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (112, 7), (16, 0)])
def test_signatures_equal_datasketch(num_perm: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    sets = [rng.integers(0, 2**32, size=int(rng.integers(0, 400)), dtype=np.uint32) for _ in range(60)]
    sets.append(np.array([0, 2**32 - 1, 5, 5, 5], dtype=np.uint32))  # extremes and repeats
    sets.append(np.zeros(0, dtype=np.uint32))
    ours = signatures(sets, num_perm, seed)
    assert ours.dtype == np.uint32 and ours.shape == (len(sets), num_perm)
    for i, hashes in enumerate(sets):
        assert np.array_equal(ours[i], _datasketch(hashes, num_perm, seed)), i


def test_set_larger_than_a_block_equals_datasketch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minhash, "_BLOCK_SHINGLES", 64)
    rng = np.random.default_rng(3)
    sets = [rng.integers(0, 2**32, size=n, dtype=np.uint32) for n in (1, 63, 64, 65, 500, 3)]
    ours = signatures(sets, 128, 1)
    for i, hashes in enumerate(sets):
        assert np.array_equal(ours[i], _datasketch(hashes, 128, 1))


def test_empty_sets_get_the_empty_signature_and_are_flagged() -> None:
    sigs = signatures_csr(np.array([9, 8], dtype=np.uint32), np.array([0, 0, 2, 2]), 32, 1)
    assert np.all(sigs[0] == EMPTY) and np.all(sigs[2] == EMPTY)
    assert is_empty(sigs).tolist() == [True, False, True]


def test_text_signatures_equal_datasketch_over_shingles() -> None:
    texts = ["The quick brown fox jumps over the lazy dog.", "今天天气很好，我们去公园散步吧。", "!!!", "x"] * 3
    sigs = text_signatures(texts, shingle_size=3, num_perm=64, seed=1, batch=5)
    for text, sig in zip(texts, sigs, strict=True):
        assert np.array_equal(sig, _datasketch(shingle_hashes(text, 3), 64, 1))
    # datasketch's own Jaccard estimate agrees with the share of equal slots
    a = MinHash(num_perm=64, seed=1, hashvalues=sigs[0], scheme="affine32")
    b = MinHash(num_perm=64, seed=1, hashvalues=sigs[1], scheme="affine32")
    assert a.jaccard(b) == float(np.mean(sigs[0] == sigs[1]))


@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (112, 7), (16, 0), (256, 2**31)])
def test_permutations_are_datasketchs_own_without_importing_it(num_perm: int, seed: int) -> None:
    minhash.permutations.cache_clear()
    a, b = minhash.permutations(num_perm, seed)
    theirs_a, theirs_b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    assert a.dtype == b.dtype == np.uint32
    assert np.array_equal(a, theirs_a) and np.array_equal(b, theirs_b)
    assert np.all(a % 2 == 1)  # odd: each permutation is a bijection of uint32


def test_every_block_layout_equals_datasketch() -> None:
    # short sets reduce across the block's sets, long ones along their own shingles, the rest in between
    rng = np.random.default_rng(5)
    sizes = [1, 2, minhash._SHORT_SETS, minhash._SHORT_SETS + 1, minhash._LONG_SETS - 1, minhash._LONG_SETS, 2000]
    sets = [rng.integers(0, 2**32, size=n, dtype=np.uint32) for n in sizes for _ in range(3)]
    ours = signatures(sets, 128, 1)
    for i, hashes in enumerate(sets):
        assert np.array_equal(ours[i], _datasketch(hashes, 128, 1)), len(hashes)
