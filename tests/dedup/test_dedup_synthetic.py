from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from curation.dedup.text import dedup_text, exact_key
from curation.synthetic import make_corpus, record_id, write_jsonl

POOL = {
    "en": [f"English sentence number {i} talks about topic {i % 7} in some detail." for i in range(50)],
    "zh": [f"这是第{i}个中文句子，讨论一些有趣的话题和细节。" for i in range(50)],
}


def test_corpus_is_deterministic_and_plants_each_kind() -> None:
    records, truth = make_corpus(600, POOL, seed=3, languages={"en": 0.6, "zh": 0.4})
    again, truth2 = make_corpus(600, POOL, seed=3, languages={"en": 0.6, "zh": 0.4})
    assert records == again and truth == truth2
    assert make_corpus(600, POOL, seed=4, languages={"en": 0.6, "zh": 0.4})[0] != records
    kinds = Counter(kind for _, kind in truth["copies"].values())
    assert set(kinds) == {"exact", "variant", "near"}
    for index, (original, kind) in truth["copies"].items():
        assert original < index and original not in truth["copies"]
        a, b = dedup_text(records[original]), dedup_text(records[index])
        assert records[index]["id"] == record_id(index)
        if kind == "exact":
            assert a == b
        elif kind == "variant":
            assert exact_key(a) == exact_key(b)
        else:
            assert exact_key(a) != exact_key(b)
    assert set(truth["language"]) == {"en", "zh"}


def test_write_jsonl_streams_invalid_lines(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    truth = write_jsonl(path, 400, POOL, seed=5, invalid_rate=0.1, languages={"en": 1.0})
    lines = path.read_bytes().splitlines()
    assert len(lines) == 400
    assert set(truth["invalid"].values()) == {"bad_json", "no_assistant", "bad_role", "empty_content", "not_object"}
    for index, kind in truth["invalid"].items():
        if kind == "bad_json":
            with pytest.raises(orjson.JSONDecodeError):
                orjson.loads(lines[index])
        elif kind == "not_object":
            assert isinstance(orjson.loads(lines[index]), list)
        elif kind == "no_assistant":
            assert all(m["role"] != "assistant" for m in orjson.loads(lines[index])["messages"])
        elif kind == "bad_role":
            assert orjson.loads(lines[index])["messages"][-1]["role"] == "narrator"
        else:
            assert orjson.loads(lines[index])["messages"][-1]["content"] == ""
    valid = [i for i in range(400) if i not in truth["invalid"]]
    assert orjson.loads(lines[valid[0]])["id"] == record_id(valid[0])
