"""Near dedup, balance and the split on hand-built key tables of a few rows: the exact drops, clusters and
assignment each decides (exact dedup: test_exact_dedup.py; semantic dedup: test_semantic_dedup.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from curation.config import SplitConfig
from curation.dedup.config import NearDedupConfig
from curation.dedup.minhash import EMPTY
from curation.pipeline.global_stages import BalanceStage, Decision, KeyTable, NearDedupStage, SplitStage
from curation.pipeline.split import SplitAssignment, assign_splits


def _table(n: int, *, strata: list[str] | None = None, groups: list[tuple[Any, ...]] | None = None,
           signatures: np.ndarray | None = None, lengths: list[int] | None = None) -> KeyTable:
    return KeyTable(ids=[f"r{i}" for i in range(n)], exact_keys=np.zeros(n, dtype="S16"),
                    lengths=np.array(lengths or [1] * n), quality=np.zeros(n, dtype=np.float32),
                    strata=strata or [""] * n, groups=groups or [()] * n, signatures=signatures)


def _apply(table: KeyTable, decision: Decision) -> None:
    """What the runner does with a decision."""
    table.alive[list(decision.drops)] = False
    if decision.cluster is not None:
        table.cluster = decision.cluster


def _signatures() -> np.ndarray:
    """16 slots: 1 is 0 with two slots changed (0.875), 2 is 1 with two more (0.875 to 1, 0.75 to 0),
    3 and 5 are equal, 4 and 6 are empty (equal to each other, but empty never matches)."""
    sig = np.arange(7 * 16, dtype=np.uint32).reshape(7, 16)
    sig[1] = sig[0]
    sig[1, [0, 1]] = [900, 901]
    sig[2] = sig[1]
    sig[2, [2, 3]] = [902, 903]
    sig[5] = sig[3]
    sig[[4, 6]] = EMPTY
    return sig


NEAR = NearDedupConfig(num_perm=16, threshold=0.8, bands=16, rows=1)  # every slot a band: all pairs proposed


@pytest.mark.parametrize("on_disk", [False, True])
def test_near_dedup_centres_claim_their_verified_neighbours(on_disk: bool, tmp_path: Path) -> None:
    sig = _signatures()
    if on_disk:
        sig.tofile(tmp_path / "sig.u32")
        sig = np.memmap(tmp_path / "sig.u32", dtype=np.uint32, mode="r", shape=sig.shape)
    table = _table(7, signatures=sig)
    decision = NearDedupStage(NEAR).decide(table)
    # 0 claims 1; 2 is only similar to the claimed 1 (0.75 to 0: under the threshold), so it stays alone
    assert {i: (d.reason, d.duplicate_of, d.similarity) for i, d in decision.drops.items()} == {
        1: ("near_duplicate", 0, 0.875), 5: ("near_duplicate", 3, 1.0)}
    assert decision.cluster.tolist() == [0, 0, -1, 1, -1, 1, -1]
    assert decision.clusters == [
        {"id": 0, "size": 2, "keep": 0, "members": [0, 1], "min_similarity": 0.875},
        {"id": 1, "size": 2, "keep": 3, "members": [3, 5], "min_similarity": 1.0}]


def test_near_dedup_keep_policy_and_dead_rows() -> None:
    table = _table(7, signatures=_signatures(), lengths=[5, 9, 5, 1, 1, 2, 1])
    decision = NearDedupStage(NearDedupConfig(**{**NEAR.model_dump(), "keep": "longest"})).decide(table)
    assert {i: d.duplicate_of for i, d in decision.drops.items()} == {0: 1, 2: 1, 3: 5}  # the longest is the centre
    table = _table(7, signatures=_signatures())
    table.alive[[0, 5]] = False  # e.g. exact dedup removed them
    decision = NearDedupStage(NEAR).decide(table)
    assert {i: d.duplicate_of for i, d in decision.drops.items()} == {2: 1}
    assert NearDedupStage(NEAR).decide(_table(3)).drops == {}  # no signatures: nothing to decide


def test_near_dedup_joins_no_two_records_whose_prompts_hold_other_numbers() -> None:
    # AGIEval's MATH: "Compute $\\sin 135^\\circ$." and "Compute $\\tan 45^\\circ$." under one unit-circle figure
    # (similarity 0.77) are two problems, and so are "Compute $\\sin 135^\\circ$." and "Compute $\\tan 135^\\circ$."
    # (same numbers, another function); a copy that only respaces the figure is still a near duplicate.
    from curation.pipeline.global_stages.near_dedup import numbers_key

    def chat(question: str) -> dict[str, Any]:
        return {"messages": [{"role": "user", "content": question}, {"role": "assistant", "content": "x"}]}

    prompts = ["Compute $\\sin 135^\\circ$. [asy] draw((0,0)--(1,0)); [/asy]",
               "Compute $\\tan 45^\\circ$. [asy] draw((0,0)--(1,0)); [/asy]",
               "Compute $\\tan 135^\\circ$. [asy] draw((0, 0)--(01,0)); [/asy]",
               "Compute $\\sin 135^\\circ$. [asy] draw((0, 0)--(01,0)); [/asy]"]
    stage = NearDedupStage(NEAR)
    keys = stage.keys([chat(p) for p in prompts])
    assert keys.dtype == np.uint64 and len(set(keys[:3].tolist())) == 3
    assert keys[0] == keys[3]  # a multiset, leading 0s aside
    assert numbers_key(chat("no digits here")) == 0 and numbers_key(chat("\\sin x")) == 0
    table = _table(4, signatures=np.tile(np.arange(16, dtype=np.uint32), (4, 1)))  # all four signatures equal
    table.extra["near_dedup"] = keys
    assert {i: d.duplicate_of for i, d in stage.decide(table).drops.items()} == {3: 0}
    off = NearDedupStage(NearDedupConfig(**{**NEAR.model_dump(), "same_numbers": False}))
    table.extra["near_dedup"] = off.keys([chat(p) for p in prompts])
    assert {i: d.duplicate_of for i, d in off.decide(table).drops.items()} == {1: 0, 2: 0, 3: 0}


def test_near_duplicate_pairs_need_the_same_answers() -> None:
    # torchtune's stack_exchange_paired_tiny.json: 25 distinct (question, chosen, rejected) triples, 7 dropped as
    # near duplicates because they share one long question.
    question = [{"role": "user", "content": "How do I merge two dicts in Python? " * 20}]

    def pair(chosen: str, rejected: str) -> dict[str, Any]:
        return {"prompt": question, "chosen": [{"role": "assistant", "content": chosen}],
                "rejected": [{"role": "assistant", "content": rejected}]}

    stage = NearDedupStage(NEAR)
    records = [pair("Use {**a, **b}.", "You cannot."), pair("Use a | b.", "You cannot."),
               pair("use {**a,  **b}.", "You cannot.")]
    table = _table(3, signatures=np.tile(np.arange(16, dtype=np.uint32), (3, 1)))
    table.extra["near_dedup"] = stage.keys(records)
    assert {i: d.duplicate_of for i, d in stage.decide(table).drops.items()} == {2: 0}  # case and spaces aside


STRATA = ["a"] * 6 + ["b"] * 2 + ["c"]
BALANCE = SplitConfig(max_per_stratum=3, min_per_stratum=2, validation_count=2, min_train=0, stratify_by="x")


def test_balance_caps_whole_units_and_drops_small_strata() -> None:
    table = _table(9, strata=STRATA, groups=[(11,), (11,)] + [()] * 7)  # rows 0 and 1: one unit
    decision = BalanceStage(BALANCE, seed=4).decide(table)
    cap = ("stratum_cap", "stratum 'a' capped at 3 records")
    small = ("stratum_below_minimum", "stratum 'c' has 1 records, fewer than min_per_stratum 2")
    assert {i: (d.reason, d.detail) for i, d in decision.drops.items()} == {0: cap, 1: cap, 3: cap, 8: small}
    assert decision.assignment is None and decision.cluster is None  # balance only drops


def test_the_split_after_balance_walks_the_order_balance_saw() -> None:
    groups: list[tuple[Any, ...]] = [(11,), (11,)] + [()] * 7
    table = _table(9, strata=STRATA, groups=groups)
    _apply(table, BalanceStage(BALANCE, seed=4).decide(table))
    assignment = SplitStage(BALANCE, seed=4).decide(table).assignment
    assert dict(assignment.items()) == {2: "train", 4: "train", 5: "validation", 6: "validation", 7: "train"}
    # the same as the one-call algorithm that held both halves before
    together, dropped = assign_splits(range(9), strata=STRATA, clusters=np.full(9, -1), config=BALANCE, seed=4,
                                      groups=groups)
    assert together == assignment and sorted(dropped) == [0, 1, 3, 8]


def test_the_split_keeps_units_together_and_fills_held_out_shares() -> None:
    groups: list[tuple[Any, ...]] = [(7,), (7,), (8,), (), (), ("tree-9",), ("tree-9",), (), (), ()]
    table = _table(10, groups=groups)
    table.cluster = np.array([-1, -1, 0, 0, -1, -1, -1, 1, 1, -1])  # near-duplicate clusters join units too
    decision = SplitStage(SplitConfig(validation_count=3, test_count=2, min_train=0), seed=1).decide(table)
    assignment = decision.assignment
    assert isinstance(assignment, SplitAssignment) and not decision.drops
    assert dict(assignment.items()) == {0: "test", 1: "test", 2: "train", 3: "train", 4: "validation", 5: "train",
                                        6: "train", 7: "validation", 8: "validation", 9: "train"}
    assert assignment.codes.dtype == np.int8 and len(assignment) == 10 and assignment[4] == "validation"
    table.alive[[0, 1]] = False
    after = SplitStage(SplitConfig(validation_count=3, test_count=2, min_train=0), seed=1).decide(table).assignment
    assert 0 not in after and set(after) == set(range(2, 10))
    with pytest.raises(KeyError):
        after[0]
