"""Semantic dedup: a tiny model2vec model built in the library's own on-disk format, loaded through
``StaticModel.from_pretrained`` from a folder (nothing downloads), on tiny key tables and through a real run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

from curation.config import load_config
from curation.errors import CurationError
from curation.pipeline.global_stages.base import KeyTable
from curation.pipeline.global_stages.semantic_dedup import SemanticDedupConfig, SemanticDedupStage
from curation.pipeline.runner import run_pipeline

WORDS = ["rivers", "flow", "downhill", "to", "the", "sea", "why", "do", "cats", "sleep", "much", "so", "a", "lot",
         "water", "moves", "they", "are", "tired", "because", "gravity", "pulls", "it", "nap", "often"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from model2vec import StaticModel
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    vocab = {"[UNK]": 0, "[PAD]": 1} | {w: i + 2 for i, w in enumerate(WORDS)}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(len(vocab), 16)).astype(np.float32)
    folder = tmp_path_factory.mktemp("tiny-model2vec")
    StaticModel(vectors, tokenizer, normalize=True).save_pretrained(str(folder))
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    return folder


def _table(n: int, lengths: list[int] | None = None) -> KeyTable:
    return KeyTable(ids=[f"r{i}" for i in range(n)], exact_keys=[bytes([i]) for i in range(n)],
                    lengths=np.asarray(lengths or [10] * n, dtype=np.int64), quality=np.zeros(n),
                    strata=[""] * n, groups=[()] * n)


def test_decide_drops_paraphrases_of_a_kept_record_and_never_chains() -> None:
    # rows 0 and 1 are close (0.99); 2 is close to 1 (0.95) but not to 0 (0.89): with threshold 0.9 greedy
    # centres keep 0, drop 1 as its paraphrase, and keep 2 (it is not similar enough to any survivor).
    a = np.array([1.0, 0.0])
    b = np.array([np.cos(0.14), np.sin(0.14)])
    c = np.array([np.cos(0.46), np.sin(0.46)])
    table = _table(4)
    table.extra["semantic_dedup"] = np.stack([a, b, c, -a]).astype(np.float32)
    decision = SemanticDedupStage(SemanticDedupConfig(enabled=True, threshold=0.9)).decide(table)
    assert list(decision.drops) == [1]
    drop = decision.drops[1]
    assert (drop.reason, drop.duplicate_of) == ("semantic_duplicate", 0)
    assert drop.similarity == pytest.approx(np.cos(0.14), abs=1e-5)


def test_decide_keeps_the_longest_copy_and_skips_rows_already_dropped() -> None:
    table = _table(3, lengths=[5, 50, 7])
    table.extra["semantic_dedup"] = np.tile(np.array([[0.6, 0.8]], dtype=np.float32), (3, 1))
    table.alive[2] = False  # dropped by an earlier stage: not compared
    decision = SemanticDedupStage(SemanticDedupConfig(enabled=True, keep="longest")).decide(table)
    assert {i: d.duplicate_of for i, d in decision.drops.items()} == {0: 1}


def test_the_model_loads_from_its_folder_and_embeds_unit_rows(model_dir: Path) -> None:
    stage = SemanticDedupStage(SemanticDedupConfig(enabled=True, model=str(model_dir)))
    stage.load()
    rows = stage.keys([{"messages": [{"role": "user", "content": "why do rivers flow downhill"}]},
                       {"messages": [{"role": "user", "content": "cats sleep a lot"}]}])
    assert rows.shape == (2, 16) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)


def test_a_missing_model_folder_is_one_error_with_the_download_line(tmp_path: Path) -> None:
    stage = SemanticDedupStage(SemanticDedupConfig(enabled=True, model=str(tmp_path / "nope")))
    with pytest.raises(CurationError, match=r"semantic_dedup.model: no model2vec model in .*huggingface-cli download"):
        stage.load()


def _conversation(i: int, user: str, reply: str) -> bytes:
    return orjson.dumps({"id": f"c{i}", "messages": [{"role": "user", "content": user},
                                                     {"role": "assistant", "content": reply}]}) + b"\n"


def test_a_run_drops_a_paraphrase_the_other_dedups_miss(tmp_path: Path, model_dir: Path) -> None:
    rows = [
        _conversation(0, "why do rivers flow downhill to the sea", "because gravity pulls water to the sea"),
        # same words reordered and one more: exact dedup and MinHash (3-word shingles) both miss it
        _conversation(1, "to the sea why do rivers flow downhill", "gravity pulls water to the sea because"),
        _conversation(2, "why do cats sleep so much", "they nap often because they are tired"),
    ]
    (tmp_path / "in.jsonl").write_bytes(b"".join(rows))
    config = load_config(None, values={
        "inputs": [str(tmp_path / "in.jsonl")], "out": str(tmp_path / "run"), "export.formats": [],
        "runner.progress": False, "language.enabled": False, "quality.enabled": False, "length.enabled": False,
        "semantic_dedup": {"enabled": True, "model": str(model_dir), "threshold": 0.95}})
    result = run_pipeline(config, quiet=True)
    rejects = [orjson.loads(line) for line in (tmp_path / "run" / "rejects.jsonl").read_bytes().splitlines()]
    assert [(r["id"], r["stage"], r["reason"], r["duplicate_of"]) for r in rejects] == [
        ("c1", "semantic_dedup", "semantic_duplicate", "c0")]
    assert rejects[0]["similarity"] >= 0.95
    funnel = {row["stage"]: row for row in result.report["funnel"]}
    assert funnel["semantic_dedup"]["by_reason"] == {"semantic_duplicate": 1}
    assert result.records_out == 2
