from __future__ import annotations

import numpy as np
import pytest

from curation.config import SplitConfig
from curation.pipeline.split import _largest_remainder, assign_splits


def test_largest_remainder_adds_up() -> None:
    assert sum(_largest_remainder(10, [5, 3, 2])) == 10
    assert _largest_remainder(0, [5, 3]) == [0, 0]
    assert _largest_remainder(3, [1, 1, 1, 1]) in ([1, 1, 1, 0],)


def test_ratios_are_respected_and_deterministic() -> None:
    n = 1000
    alive = list(range(n))
    strata = ["en" if i % 3 else "fr" for i in range(n)]
    clusters = np.full(n, -1)
    cfg = SplitConfig(train=0.8, validation=0.1, test=0.1, stratify_by="language")
    a1, dropped = assign_splits(alive, strata=strata, clusters=clusters, config=cfg, seed=7)
    a2, _ = assign_splits(alive, strata=strata, clusters=clusters, config=cfg, seed=7)
    assert a1 == a2 and not dropped
    counts = {s: sum(1 for v in a1.values() if v == s) for s in ("train", "validation", "test")}
    assert counts == {"train": 800, "validation": 100, "test": 100}
    # Stratified: each language keeps its share in validation.
    fr_val = sum(1 for i, s in a1.items() if s == "validation" and strata[i] == "fr")
    fr_total = strata.count("fr")
    assert abs(fr_val - fr_total * 0.1) <= 1
    a3, _ = assign_splits(alive, strata=strata, clusters=clusters, config=cfg, seed=8)
    assert a3 != a1


def test_clusters_never_straddle_splits() -> None:
    n = 300
    clusters = np.array([i // 5 if i < 150 else -1 for i in range(n)])
    cfg = SplitConfig(train=0.5, validation=0.5)
    assignment, _ = assign_splits(list(range(n)), strata=[""] * n, clusters=clusters, config=cfg, seed=0)
    by_cluster: dict[int, set[str]] = {}
    for idx, split in assignment.items():
        if clusters[idx] >= 0:
            by_cluster.setdefault(int(clusters[idx]), set()).add(split)
    assert by_cluster and all(len(s) == 1 for s in by_cluster.values())
    assert {"train", "validation"} <= {s for sets in by_cluster.values() for s in sets}


def test_counts_caps_and_minimums() -> None:
    strata = ["a"] * 50 + ["b"] * 30 + ["c"] * 3
    n = len(strata)
    cfg = SplitConfig(validation_count=8, max_per_stratum=40, min_per_stratum=5, stratify_by="x")
    assignment, dropped = assign_splits(list(range(n)), strata=strata, clusters=np.full(n, -1), config=cfg, seed=1)
    reasons = {r for r, _ in dropped.values()}
    assert reasons == {"stratum_cap", "stratum_below_minimum"}
    assert sum(1 for i, (r, _) in dropped.items() if r == "stratum_cap") == 10
    assert sum(1 for i, (r, _) in dropped.items() if r == "stratum_below_minimum") == 3
    assert sum(1 for s in assignment.values() if s == "validation") == 8
    assert len(assignment) + len(dropped) == n


def test_ratios_must_add_up() -> None:
    with pytest.raises(ValueError):
        SplitConfig(train=0.5, validation=0.1)


def test_a_greeting_many_conversations_open_with_does_not_glue_them_into_one_unit(tmp_path) -> None:
    """200 chats that all open with "Hello!" used to be one first_user_turn unit: all in train, validation empty."""
    import orjson

    from curation.config import load_config
    from curation.pipeline.runner import run_pipeline

    lines = []
    for i in range(200):
        lines.append({"messages": [
            {"role": "user", "content": "Hello!"}, {"role": "assistant", "content": "Hi! How can I help?"},
            {"role": "user", "content": f"Question number {i}: what is {i} times {i + 7} exactly?"},
            {"role": "assistant", "content": f"{i} times {i + 7} is {i * (i + 7)}."}]})
    for i in range(3):  # one real prompt asked three times with different answers: still one unit
        lines.append({"messages": [{"role": "user", "content": "Name a prime number larger than one hundred."},
                                   {"role": "assistant", "content": f"{[101, 103, 107][i]} is prime."}]})
    corpus = tmp_path / "hello.jsonl"
    corpus.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in lines))
    config = load_config(None, values={"inputs": [str(corpus)], "out": str(tmp_path / "run"), "export.formats": [],
                                       "runner.executor": "inprocess", "near_dedup.enabled": False})
    result = run_pipeline(config, quiet=True)
    assert result.split_counts["validation"] == 20
    assert any("1 opening user turn shared by more than 50 records (largest: 200)" in w for w in result.warnings)
    assert any("opening user turn" in w for w in result.report["warnings"])
    prime_splits = set()
    for split in ("train", "validation"):
        for line in (tmp_path / "run" / "splits" / f"{split}.jsonl").read_bytes().splitlines():
            if b"Name a prime" in line:
                prime_splits.add(split)
    assert len(prime_splits) == 1

    grouped = run_pipeline(config.model_copy(update={
        "out": str(tmp_path / "run2"), "split": config.split.model_copy(update={"shared_opening_max": None})}),
        quiet=True)
    assert grouped.split_counts["validation"] < 20
    assert not any("opening user turn" in w for w in grouped.warnings)


def test_questions_asked_of_one_passage_stay_in_one_split(tmp_path) -> None:
    """SQuAD asks ~5 questions of each paragraph: split record by record, a validation question was about a
    paragraph train had (15 of 40 paragraphs straddled train and validation before the `passage` group)."""
    import orjson

    from curation.config import load_config
    from curation.pipeline.runner import run_pipeline

    rows = []
    words = ["river", "castle", "engine", "garden", "harbour", "library", "market", "mountain", "orchard", "valley"]
    for p in range(40):
        context = " ".join(f"The {words[(p + k) % 10]} of town {p} was built in year {1800 + p * 3 + k}."
                           for k in range(6))
        for q in range(5):
            rows.append({"id": f"p{p}q{q}", "title": f"Town_{p}", "context": context,
                         "question": f"In which year was the {words[(p + q) % 10]} of town {p} built?",
                         "answers": {"text": [str(1800 + p * 3 + q)], "answer_start": [0]}})
    corpus = tmp_path / "squad.jsonl"
    corpus.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    config = load_config(None, values={"inputs": [str(corpus)], "out": str(tmp_path / "run"), "export.formats": [],
                                       "runner.executor": "inprocess", "quality.enabled": False,
                                       "near_dedup.enabled": False})  # its clusters are not what is tested
    result = run_pipeline(config, quiet=True)
    where: dict[str, set[str]] = {}
    for split in ("train", "validation"):
        for line in (tmp_path / "run" / "splits" / f"{split}.jsonl").read_bytes().splitlines():
            where.setdefault(orjson.loads(line)["id"].split("q")[0], set()).add(split)
    assert result.split_counts["validation"] > 0 and len(where) == 40
    assert all(len(splits) == 1 for splits in where.values())
