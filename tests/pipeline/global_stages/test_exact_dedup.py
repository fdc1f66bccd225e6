"""Exact dedup on tiny key tables: lists of bytes and the runner's columnar 'S16' keys decide the same."""

from __future__ import annotations

import numpy as np
import pytest

from curation.dedup.config import ExactDedupConfig
from curation.pipeline.global_stages import ExactDedupStage, KeyTable

# keys ending in NUL bytes: an 'S16' element read on its own (np.bytes_) would lose them
KEYS = [b"a" * 15 + b"\x00", b"b" * 16, b"a" * 15 + b"\x00", b"a" * 14 + b"\x00\x00", b"b" * 16, b"c" * 16,
        b"a" * 15 + b"\x00"]


def _table(keys: list[bytes] | np.ndarray, lengths: list[int], quality: list[float]) -> KeyTable:
    n = len(keys)
    return KeyTable(ids=[f"r{i}" for i in range(n)], exact_keys=keys, lengths=np.array(lengths),
                    quality=np.array(quality, dtype=np.float32), strata=[""] * n, groups=[()] * n)


@pytest.mark.parametrize("columnar", [False, True])
@pytest.mark.parametrize(("keep", "expected"), [
    ("first", {2: 0, 6: 0, 4: 1}),
    ("longest", {0: 6, 2: 6, 1: 4}),
    ("quality", {0: 2, 6: 2, 4: 1}),
])
def test_the_exact_drops_per_keep_policy(columnar: bool, keep: str, expected: dict[int, int]) -> None:
    keys = np.array(KEYS, dtype="S16") if columnar else KEYS
    table = _table(keys, lengths=[5, 3, 5, 9, 7, 1, 8], quality=[0.1, 0.9, 0.8, 0.0, 0.2, 0.5, 0.3])
    decision = ExactDedupStage(ExactDedupConfig(keep=keep)).decide(table)
    assert {row: drop.duplicate_of for row, drop in decision.drops.items()} == expected
    assert {(d.reason, d.similarity) for d in decision.drops.values()} == {("exact_duplicate", 1.0)}
    assert 3 not in decision.drops  # "a" * 14 + two NULs is another key


def test_dead_rows_take_no_part() -> None:
    table = _table(np.array(KEYS, dtype="S16"), lengths=[1] * 7, quality=[0.0] * 7)
    table.alive[[0, 1]] = False
    decision = ExactDedupStage(ExactDedupConfig()).decide(table)
    assert {row: drop.duplicate_of for row, drop in decision.drops.items()} == {6: 2}
    table.alive[:] = False
    assert ExactDedupStage(ExactDedupConfig()).decide(table).drops == {}
