"""hf-local trains on exactly what was curated: weight-0 turns and non-assistant tokens carry no loss, tools
reach the template, a template that cannot mask fails before the job, the model is checked before any work."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from curation.cli import main
from curation.errors import TrainerError
from curation.trainers import jobs
from curation.trainers.hf_local import HFLocalBackend

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                           "parameters": {"type": "object",
                                                          "properties": {"city": {"type": "string"}}}}}]
CONVERSATION = [
    {"role": "system", "content": "Tu es un assistant météo."},
    {"role": "user", "content": "Quel temps fait-il à Lyon ?"},
    {"role": "assistant", "content": "Une mauvaise réponse à ne pas apprendre.", "weight": 0},
    {"role": "user", "content": "Regarde avec l'outil, s'il te plaît."},
    {"role": "assistant", "content": None, "weight": 1, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Lyon"}'}}]},
    {"role": "tool", "content": "18 degrés, ensoleillé", "tool_call_id": "call_1"},
    {"role": "assistant", "content": "Il fait 18 degrés et beau à Lyon.", "weight": 1},
]
# Llama-3 style: knows add_generation_prompt, has no {% generation %} markers.
LLAMA3_STYLE = (
    "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    " + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)


def _regions(tokenizer, messages, tools) -> list[tuple[int, int, dict]]:  # noqa: ANN001
    """Character span of each message in the rendered text, found by rendering each prefix (independent of
    the assistant mask); the tools block before the first message belongs to no message."""
    first = messages[:1]
    spans = []
    previous = (len(tokenizer.apply_chat_template(first, tools=tools, tokenize=False))
                - len(tokenizer.apply_chat_template(first, tokenize=False)))
    for i, message in enumerate(messages):
        end = len(tokenizer.apply_chat_template(messages[: i + 1], tools=tools, tokenize=False))
        spans.append((previous, end, message))
        previous = end
    return spans


def test_collated_labels_carry_loss_only_on_weighted_assistant_turns(tiny_model: Path, tmp_path: Path) -> None:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from curation.trainers.hf_local_worker import _sft_tokens

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    rows = Dataset.from_dict({"messages": [CONVERSATION] * 2, "tools": [json.dumps(TOOLS)] * 2})
    train = _sft_tokens(rows, tokenizer, {"max_length": 4096}, "train", tmp_path, lambda _m: None)
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny_model), processing_class=tokenizer, train_dataset=train,
        args=SFTConfig(output_dir=str(tmp_path / "out"), max_length=4096, assistant_only_loss=False,
                       report_to="none", use_cpu=True),
    )
    batch = trainer.data_collator([trainer.train_dataset[0], trainer.train_dataset[1]])
    labels = batch["labels"][0].tolist()

    text = tokenizer.apply_chat_template(CONVERSATION, tools=TOOLS, tokenize=False)
    assert "get_weather" in text.split("Tu es")[0]  # the tool schemas reached the template
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    assert encoded["input_ids"] == batch["input_ids"][0].tolist()
    regions = _regions(tokenizer, CONVERSATION, TOOLS)

    def owner(char: int) -> dict | None:
        return next((m for start, end, m in regions if start <= char < end), None)

    trained: dict[int, str] = {}
    for (start, _end), token, label in zip(encoded["offset_mapping"], encoded["input_ids"], labels, strict=True):
        message = owner(start)
        if label != -100:
            assert label == token
            assert message is not None and message["role"] == "assistant" and message.get("weight") != 0, (
                f"loss on {tokenizer.decode([token])!r} of {message and message['role']}")
            trained.setdefault(id(message), "")
            trained[id(message)] += tokenizer.decode([token])
    weighted = [m for m in CONVERSATION if m["role"] == "assistant" and m.get("weight") != 0]
    assert len(trained) == len(weighted) == 2
    assert "get_weather" in trained[id(weighted[0])] and "Il fait 18 degrés" in trained[id(weighted[1])]
    stats = json.loads((tmp_path / "data_stats.json").read_text())["train"]
    assert stats["weight0_turns"] == 2 and stats["truncated"] == 0 and stats["fully_masked"] == 0


def test_truncated_and_fully_masked_examples_are_counted(tiny_model: Path, tmp_path: Path) -> None:
    from datasets import Dataset
    from transformers import AutoTokenizer

    from curation.trainers.hf_local_worker import _sft_tokens

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    silent = [dict(m, weight=0) if m["role"] == "assistant" else m for m in CONVERSATION]
    long = [{"role": "user", "content": "Bonjour " * 200}, {"role": "assistant", "content": "Salut " * 200}]
    short = [{"role": "user", "content": "Salut"}, {"role": "assistant", "content": "Bonjour", "weight": 1}]
    rows = Dataset.from_dict({"messages": [short, silent, long]})
    train = _sft_tokens(rows, tokenizer, {"max_length": 64}, "train", tmp_path, lambda _m: None)
    stats = json.loads((tmp_path / "data_stats.json").read_text())["train"]
    # The long one is cut to 64 tokens of user text: nothing left to learn, so it is fully masked too.
    assert (stats["examples"], stats["truncated"], stats["fully_masked"], stats["trained_examples"]) == (3, 2, 2, 1)
    assert stats["weight0_turns"] == 3  # the three assistant turns of the silent conversation
    assert stats["longest_tokens"] > 400 and len(train) == 1


def _model_with_template(tiny_model: Path, folder: Path, template: str) -> Path:
    from transformers import AutoTokenizer

    shutil.copytree(tiny_model, folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.chat_template = template
    tokenizer.save_pretrained(folder)
    return folder


def test_template_without_generation_markers_fails_before_the_job(sft_run: Path, tiny_model: Path, tmp_path: Path,
                                                                  store) -> None:  # noqa: ANN001
    llama = _model_with_template(tiny_model, tmp_path / "llama-style", LLAMA3_STYLE)
    with pytest.raises(TrainerError) as caught:
        jobs.start(sft_run, "hf-local", {"model": str(llama)}, store=store)
    message = str(caught.value)
    assert "no {% generation %} markers" in message
    assert "chat_template=FILE" in message and "chatml_fallback=true" in message
    assert store.list() == []  # no job was recorded, nothing was spawned
    # Allowed explicitly, ChatML is used instead; the probe passes.
    checked = HFLocalBackend().check_params({"model": str(llama), "chatml_fallback": True})
    assert checked["chatml_fallback"] is True


def test_model_is_checked_before_any_work_and_resolved_where_typed(tiny_model: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch, capsys,
                                                                   sft_run: Path, store) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my-small-model").symlink_to(tiny_model)
    checked = HFLocalBackend().check_params({"model": "./my-small-model"})
    assert checked["model"] == str((tmp_path / "my-small-model").resolve())
    code = main(["train", str(sft_run), "--backend", "hf-local", "--model", "./no-such-model",
                 "--db", str(store.path)])
    err = capsys.readouterr().err
    assert code == 2 and "model folder './no-such-model' does not exist" in err and "curate model tiny" in err
    assert store.list() == []


def test_failed_foreground_train_exits_non_zero(tmp_path: Path, tiny_model: Path, store, capsys,
                                                conversations) -> None:  # noqa: ANN001
    from conftest import write_hf_export

    run = tmp_path / "run"
    silent = [[c[0], dict(c[1], weight=0)] for c in conversations[:12]]  # nothing to learn from
    write_hf_export(run, silent)
    code = main(["train", str(run), "--backend", "hf-local", "--model", str(tiny_model), "--poll", "0.3",
                 "--param", "max_steps=2", "--db", str(store.path)])
    out = capsys.readouterr()
    assert code == 1, out.out + out.err
    assert "fully masked" in out.out + out.err
