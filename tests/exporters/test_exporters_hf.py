"""The Hugging Face export: loads with load_from_disk and load_dataset("parquet"), renders with a real chat
template, carries a dataset card the Hub can read, and keeps every message, tool call and weight."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from export_fixtures import preference_records, sft_records, write_run

from curation.exporters import ExportCheckError, ExportOptions, export_run

CHATML = (
    "{% if tools %}<|im_start|>system\n{{ tools | tojson }}<|im_end|>\n{% endif %}"
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content or '' }}"
    "{% if m.tool_calls %}{% for c in m.tool_calls %}<tool_call>{{ c.function.name }} {{ c.function.arguments }}"
    "</tool_call>{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, real_dir: Path) -> Path:
    path = write_run(tmp_path_factory.mktemp("hf") / "run", sft_records(real_dir))
    export_run(path, ["hf"])
    return path


def tiny_tokenizer(texts: list[str]) -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel()
    bpe.train_from_iterator(
        texts, trainers.BpeTrainer(vocab_size=400, special_tokens=["<unk>", "<|im_start|>", "<|im_end|>"])
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, unk_token="<unk>", eos_token="<|im_end|>")
    tokenizer.chat_template = CHATML
    return tokenizer


def test_hf_export_loads_both_ways_and_round_trips(run: Path) -> None:
    import datasets

    disk = datasets.load_from_disk(str(run / "exports/hf/sft"))
    parquet = datasets.load_dataset(
        "parquet",
        data_files={
            s: str(run / f"exports/hf/sft/data/{s}-00000-of-00001.parquet") for s in ("train", "validation", "test")
        },
    )
    assert set(disk) == set(parquet) == {"train", "validation", "test"}
    for split in disk:
        originals = [json.loads(x) for x in open(run / f"splits/{split}.jsonl")]
        assert disk[split].num_rows == parquet[split].num_rows == len(originals)
        assert disk[split]["id"] == parquet[split]["id"] == [r["id"] for r in originals]
        for row, record in zip(disk[split], originals, strict=True):
            assert len(row["messages"]) == len(record["messages"])
            for got, want in zip(row["messages"], record["messages"], strict=True):
                assert got["role"] == want["role"]
                content = want.get("content")
                text = content[0]["text"] if isinstance(content, list) else content
                assert got["content"] == text
                assert got["weight"] == want.get("weight")
                assert (got["tool_calls"] or None) == want.get("tool_calls")
                assert got["tool_call_id"] == want.get("tool_call_id")
            assert (json.loads(row["tools"]) if row["tools"] else None) == record.get("tools")
            # the source file by its name alone when the run had it by an absolute path (it names the machine)
            source = record["metadata"]["source"]
            assert json.loads(row["metadata"])["source"] == {**source, "path": Path(source["path"]).name} \
                if Path(source["path"]).is_absolute() else source


def test_every_record_renders_with_a_chat_template(run: Path) -> None:
    import datasets

    ds = datasets.load_from_disk(str(run / "exports/hf/sft"))
    texts = [m["content"] or "" for row in ds["train"] for m in row["messages"]]
    tokenizer = tiny_tokenizer(texts)
    rendered = 0
    for split in ds:
        for row in ds[split]:
            tools = json.loads(row["tools"]) if row["tools"] else None
            ids = tokenizer.apply_chat_template(row["messages"], tools=tools, tokenize=True)
            ids = ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids
            text = tokenizer.apply_chat_template(row["messages"], tools=tools, tokenize=False)
            assert len(ids) > 0 and text.count("<|im_start|>") >= len(row["messages"])
            rendered += 1
    assert rendered == sum(ds[s].num_rows for s in ds)


def test_dataset_card_front_matter(run: Path) -> None:
    text = (run / "exports/hf/sft/README.md").read_text()
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["license"] == "other" and front["task_categories"] == ["text-generation"]
    assert front["size_categories"] == ["n<1K"] and front["language"] == ["en"]
    files = {c["split"]: c["path"] for c in front["configs"][0]["data_files"]}
    assert files["train"] == "data/train-00000-of-00001.parquet"
    counts = {s["name"]: s["num_examples"] for s in front["dataset_info"]["splits"]}
    assert counts == {s: sum(1 for _ in open(run / f"splits/{s}.jsonl")) for s in ("train", "validation", "test")}
    assert "## Curation summary" in text and "`exact_duplicate` 5" in text
    import datasets

    by_card = datasets.load_dataset(str(run / "exports/hf/sft"))  # the card's configs point at the parquet files
    assert by_card["train"].num_rows == counts["train"]


def test_preference_pairs_become_trl_columns(tmp_path: Path, real_dir: Path) -> None:
    import datasets

    run = write_run(tmp_path / "run", preference_records(real_dir))
    export_run(run, ["hf"])
    ds = datasets.load_from_disk(str(run / "exports/hf/dpo"))
    assert ds["train"].column_names == ["id", "prompt", "chosen", "rejected", "metadata"]
    row = ds["train"][0]
    original = json.loads(open(run / "splits/train.jsonl").readline())
    assert [m["content"] for m in row["chosen"]] == [m["content"] for m in original["chosen"]]
    assert row["prompt"][-1]["role"] == "user"


def test_push_to_hub_needs_a_token_and_is_never_implicit(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    stamp = (run / "exports/hf/sft/README.md").stat().st_mtime_ns
    with pytest.raises(ExportCheckError) as info:
        export_run(run, ["hf"], ExportOptions(push_to_hub="me/data"))
    assert info.value.issues[0].code == "hub_token_missing"
    assert (run / "exports/hf/sft/README.md").stat().st_mtime_ns == stamp  # nothing rewritten


def test_a_kto_export_of_one_label_only_is_warned_about(tmp_path: Path) -> None:
    # `curate export RUN --to hf --method kto` on a run without labels.keep_undesirable wrote 150 desirable rows
    # and 0 undesirable ones with rc 0 and no word: KTO learns from both
    def kto(i: int, label: bool) -> dict[str, Any]:
        return {"id": f"k{i}", "messages": [{"role": "user", "content": f"Say hi {i}"},
                                            {"role": "assistant", "content": "Hi!" if label else "Go away."}],
                "metadata": {"label": label}}

    only_good = write_run(tmp_path / "good", [kto(i, True) for i in range(12)])
    result = export_run(only_good, ["hf"], ExportOptions(method="kto"))
    [warning] = [w for w in result.warnings if w.code == "kto_one_label"]
    assert "no undesirable example" in warning.message and "keep_undesirable" in warning.hint
    both = write_run(tmp_path / "both", [kto(i, i % 2 == 0) for i in range(12)])
    assert not [w for w in export_run(both, ["hf"], ExportOptions(method="kto")).warnings if w.code == "kto_one_label"]


def test_records_left_out_with_skip_invalid_are_not_written_stripped(tmp_path: Path) -> None:
    # "[hf] image_unsupported: 6 records ... left out (--skip-invalid)" and then all 6 were in the dataset,
    # their user turn written as "" (the image part dropped); no skipped.jsonl
    from datasets import load_from_disk

    def text(i: int) -> dict[str, Any]:
        return {"id": f"t{i}", "messages": [{"role": "user", "content": f"Say hi {i}"},
                                            {"role": "assistant", "content": "Hi!"}]}

    image = {"id": "img", "messages": [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://example.org/cheese.png"}}]},
        {"role": "assistant", "content": "Danbo"}]}
    run = write_run(tmp_path / "run", [text(i) for i in range(12)] + [image])
    export_run(run, ["hf"], ExportOptions(skip_invalid=True))
    ds = load_from_disk(str(run / "exports/hf/sft"))
    ids = [r["id"] for split in ds for r in ds[split]]
    assert "img" not in ids and len(ids) == 12
    skipped = [json.loads(line) for line in (run / "exports/hf/sft/skipped.jsonl").read_text().splitlines()]
    assert skipped == [{"id": "img", "split": skipped[0]["split"], "rules": ["image_unsupported"]}]


def test_the_same_run_exported_twice_gives_byte_identical_files(tmp_path: Path, real_dir: Path) -> None:
    # `datasets` fingerprinted the scratch Arrow file's path (it holds the pid): state.json differed every time
    records = sft_records(real_dir)
    folders = []
    for name in ("a", "b"):
        path = write_run(tmp_path / name / "run", records)  # the same folder name: the card's heading is equal
        export_run(path, ["hf"])
        folders.append(path / "exports" / "hf" / "sft")
    files = sorted(p.relative_to(folders[0]) for p in folders[0].rglob("*") if p.is_file())
    assert Path("train/state.json") in files
    for rel in files:
        assert (folders[0] / rel).read_bytes() == (folders[1] / rel).read_bytes(), rel
    state = json.loads((folders[0] / "train" / "state.json").read_text())
    assert len(state["_fingerprint"]) == 16


def test_the_published_metadata_names_no_local_folder(run: Path) -> None:
    # a dataset pushed to the Hub carried /home/<user>/... in every row's metadata.source.path
    import datasets

    rows = datasets.load_from_disk(str(run / "exports/hf/sft"))["train"]
    paths = {json.loads(m)["source"]["path"] for m in rows["metadata"]}
    assert paths and not any(p.startswith("/") for p in paths)
    originals = {json.loads(x)["metadata"]["source"]["path"] for x in open(run / "splits/train.jsonl")}
    assert any(p.startswith("/") for p in originals)  # the run's own splits keep the path it read
