"""Our AutoTrain YAML against AutoTrain Advanced's own parsing rules.

autotrain-advanced cannot be installed beside our pins (PyPI 0.8.36 pins transformers 4.48.0, trl 0.13.0,
peft 0.14.0, datasets 3.2.0, pydantic 2.10.4), so ``parse_like_autotrain`` below re-implements, line for line,
what its parser and DPO preprocessing do with a config (huggingface/autotrain-advanced at commit
b5c98fbe3aab61101e9c8f7f6c64407cbb68e400: ``src/autotrain/parser.py`` ``AutoTrainConfigParser._parse_config``,
``src/autotrain/trainers/common.py`` ``AutoTrainParams.__init__``, ``src/autotrain/trainers/clm/params.py``
``LLMTrainingParams`` fields and ``src/autotrain/trainers/clm/utils.py`` ``apply_chat_template``). It is
written from their code, not from our writer: a KeyError here is the KeyError a user would get.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from curation.trainers import jobs

LLM_TASKS = {"llm": None, "llm-sft": "sft", "llm-orpo": "orpo", "llm-generic": "default", "llm-dpo": "dpo",
             "llm-reward": "reward"}
# LLMTrainingParams' fields (clm/params.py at that commit): anything else is "supplied but not used".
LLM_FIELDS = set(
    "model project_name data_path train_split valid_split add_eos_token block_size model_max_length padding trainer "
    "log disable_gradient_checkpointing logging_steps eval_strategy save_total_limit auto_find_batch_size "
    "mixed_precision lr epochs batch_size warmup_ratio gradient_accumulation optimizer scheduler weight_decay "
    "max_grad_norm seed chat_template quantization target_modules merge_adapter peft lora_r lora_alpha lora_dropout "
    "model_ref dpo_beta max_prompt_length max_completion_length prompt_text_column text_column rejected_text_column "
    "push_to_hub username token unsloth distributed_backend".split()
)


def parse_like_autotrain(path: Path) -> dict[str, Any]:
    """AutoTrainConfigParser(path).parsed_config, plus AutoTrainParams' checks (raises what they raise)."""
    config = yaml.safe_load(path.read_text())
    task = config.get("task")
    if task not in LLM_TASKS:
        raise ValueError(f"Task `{task}` is not supported")
    if config.get("backend") is None:
        raise ValueError("Backend is required in the configuration file")
    params: dict[str, Any] = {"model": config["base_model"], "project_name": config["project_name"]}
    params["data_path"] = config["data"]["path"]
    params["chat_template"] = config["data"]["chat_template"]
    if "-" in task:
        params["trainer"] = task.split("-")[1]
        if params["trainer"] == "generic":
            params["trainer"] = "default"
    for k, v in config["data"]["column_mapping"].items():
        params[k] = v
    params["train_split"] = config["data"]["train_split"]
    params["valid_split"] = config["data"]["valid_split"]
    params["log"] = config["log"]
    if "hub" in config:
        params["username"] = config["hub"]["username"]  # the KeyError: 'username' of issue 13
        params["token"] = config["hub"]["token"]
        params["push_to_hub"] = config["hub"]["push_to_hub"]
    else:
        params["username"], params["token"], params["push_to_hub"] = None, None, False
    params.update(config.get("params") or {})
    name = params["project_name"]
    if not name.replace("-", "").isalnum():
        raise ValueError("project_name must be alphanumeric but can contain hyphens")
    if len(name) > 50:
        raise ValueError("project_name cannot be more than 50 characters")
    unused = set(params) - LLM_FIELDS
    assert not unused, f"Parameters supplied but not used: {unused}"
    return params


def autotrain_dpo_example(row: dict[str, Any]) -> dict[str, Any]:
    """What apply_chat_template(trainer='dpo') takes from a row, before templating."""
    chosen, rejected = row["chosen"], row["rejected"]
    return {"prompt": chosen[:-1], "chosen": chosen[-1:], "rejected": rejected[-1:]}


@pytest.fixture
def offline_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no `autotrain` here: the config is written, nothing runs


def test_sft_config_parses_like_autotrain(sft_run: Path, store, offline_path: None) -> None:  # noqa: ANN001
    job = jobs.start(sft_run, "autotrain", {"model": "HuggingFaceTB/SmolLM2-135M-Instruct"}, store=store)
    params = parse_like_autotrain(Path(job.info["config"]))
    assert params["trainer"] == "sft" and params["text_column"] == "messages"
    assert params["username"] is None and params["token"] is None and params["push_to_hub"] is False
    rows = [json.loads(x) for x in (Path(params["data_path"]) / "train.jsonl").read_text().splitlines()]
    assert rows and all(r["messages"][-1]["role"] == "assistant" for r in rows)


def test_dpo_config_gives_autotrain_non_empty_prompts(dpo_run: Path, store, offline_path: None) -> None:  # noqa: ANN001
    job = jobs.start(dpo_run, "autotrain", {"model": "m"}, store=store)
    params = parse_like_autotrain(Path(job.info["config"]))
    assert params["trainer"] == "dpo"
    assert (params["prompt_text_column"], params["text_column"], params["rejected_text_column"]) == (
        "prompt", "chosen", "rejected")
    rows = [json.loads(x) for x in (Path(params["data_path"]) / "train.jsonl").read_text().splitlines()]
    assert rows
    for row in rows:
        example = autotrain_dpo_example(row)
        assert example["prompt"] and example["prompt"][-1]["role"] == "user"
        assert example["prompt"] == row["prompt"]  # the prompt AutoTrain rebuilds is ours
        assert [m["role"] for m in example["chosen"]] == ["assistant"] == [m["role"] for m in example["rejected"]]
        assert example["chosen"] != example["rejected"]


def test_the_old_config_shape_fails_as_autotrain_fails(tmp_path: Path) -> None:
    old = {"task": "llm-sft", "backend": "local", "base_model": "m", "project_name": "p", "log": "none",
           "data": {"path": ".", "train_split": "train", "valid_split": None, "chat_template": "tokenizer",
                    "column_mapping": {"text_column": "messages"}}, "hub": {"push_to_hub": False}}
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump(old))
    with pytest.raises(KeyError, match="username"):
        parse_like_autotrain(path)
