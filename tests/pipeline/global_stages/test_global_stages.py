"""The global stages on tiny key tables: what each decides, without the runner."""

from __future__ import annotations

import numpy as np
import pytest
import xxhash

from curation.config import SplitConfig
from curation.dedup.config import ExactDedupConfig, NearDedupConfig
from curation.dedup.minhash import text_signatures
from curation.dedup.near import pair_similarity
from curation.dedup.text import exact_key
from curation.pipeline.global_stages import ExactDedupStage, KeyTable, NearDedupStage, SplitStage
from curation.pipeline.split import group_keys


def _table(texts: list[str], groups: list[tuple[str, ...]] | None = None) -> KeyTable:
    n = len(texts)
    return KeyTable(
        ids=[f"r{i}" for i in range(n)], exact_keys=[exact_key(t) for t in texts],
        lengths=np.array([len(t) for t in texts]), quality=np.zeros(n), strata=[""] * n,
        groups=groups or [()] * n, signatures=text_signatures(texts, shingle_size=3, num_perm=128, seed=1),
    )


BASE = "please summarise the quarterly sales report for the northern region and list the top three risks"


def test_exact_dedup_names_the_first_copy() -> None:
    table = _table([BASE, BASE.upper(), "something else entirely", BASE + "  "])
    decision = ExactDedupStage(ExactDedupConfig()).decide(table)
    assert {i: d.duplicate_of for i, d in decision.drops.items()} == {1: 0, 3: 0}
    assert all(d.reason == "exact_duplicate" for d in decision.drops.values())


def test_exact_dedup_sees_only_alive_rows() -> None:
    table = _table([BASE, BASE])
    table.alive[0] = False
    assert ExactDedupStage(ExactDedupConfig()).decide(table).drops == {}


def test_near_dedup_does_not_chain_and_reports_survivor_similarity() -> None:
    words = BASE.split()
    a = " ".join(words)
    b = " ".join(words[:-3] + ["alpha", "beta", "gamma"])  # near a
    c = " ".join(words[:-6] + ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"])  # near b, less near a
    table = _table([a, b, c])
    config = NearDedupConfig(threshold=0.6)
    decision = NearDedupStage(config).decide(table)
    assert decision.drops
    for idx, drop in decision.drops.items():
        assert drop.similarity is not None and drop.similarity >= config.threshold
        assert drop.duplicate_of not in decision.drops  # survivors are kept records
        # the reported similarity is the one to that survivor, recomputed from the signatures
        again = pair_similarity(table.signatures, np.array([[idx, drop.duplicate_of]]))[0]
        assert drop.similarity == pytest.approx(float(again))
    assert 0 not in decision.drops
    assert decision.clusters and decision.clusters[0]["keep"] == 0


def test_split_keeps_groups_together_and_train_minimum() -> None:
    n = 40
    # 4 trees of 10 paths each: a tree never straddles splits
    groups = [(f"t:{i // 10}",) for i in range(n)]
    table = _table([f"conversation number {i} about topic {i * 7}" for i in range(n)], groups)
    decision = SplitStage(SplitConfig(validation=0.25, train=0.75), seed=3).decide(table)
    by_tree: dict[str, set[str]] = {}
    for idx, split in decision.assignment.items():
        by_tree.setdefault(groups[idx][0], set()).add(split)
    assert all(len(s) == 1 for s in by_tree.values())
    assert sorted(decision.assignment.values()).count("validation") == 10  # exactly one tree fits
    small = _table([f"record {i} with some words in it" for i in range(10)])
    assignment = SplitStage(SplitConfig(), seed=0).decide(small).assignment
    assert list(assignment.values()).count("train") == 10  # the provider minimum stays in train


def test_group_keys_from_tree_first_turn_and_field() -> None:
    record = {"messages": [{"role": "system", "content": "be nice"}, {"role": "user", "content": " Hello  World"},
                           {"role": "assistant", "content": "hi"}],
              "metadata": {"fields": {"tree_id": "T1", "session": "s9"}}}
    keys = group_keys(record, ["tree", "first_user_turn", "field:fields.session"])
    same_prompt = {"messages": [{"role": "user", "content": "hello world"}, {"role": "assistant", "content": "yo"}]}
    # compact ints: the xxhash64 of each key string, its kind prefix included (so kinds never meet); the top bit
    # marks an opening user turn (the only kind whose groups are capped, split.shared_opening_max)
    top = 1 << 63
    assert keys[0] == xxhash.xxh64_intdigest(b"t:T1") & ~top
    assert keys[2] == xxhash.xxh64_intdigest(b"f:field:fields.session=s9") & ~top
    assert keys[1] & top and not keys[0] & top
    assert all(isinstance(k, int) and k for k in keys)
    assert group_keys(same_prompt, ["first_user_turn"])[0] == keys[1]  # case and spacing folded
    assert group_keys({"messages": [], "metadata": {"fields": {"tree_id": "T1"}}}, ["tree"]) == (keys[0],)
