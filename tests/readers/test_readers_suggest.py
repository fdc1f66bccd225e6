"""`curate inspect FILE --suggest-mapping` prints an `inputs:` block that `curate run` then reads."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
import yaml

from curation.cli import main
from curation.config import commented_default_config, load_config
from curation.pipeline.runner import run_pipeline
from curation.readers.suggest import guess_role, suggest_input

DIALOG = [
    {"verlauf": [{"speaker": "Kunde", "utterance": "Wo ist meine Bestellung?"},
                 {"speaker": "Agent", "utterance": "Sie kommt morgen an."}], "ticket": n}
    for n in range(3)
]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "role"),
    [("UTILISATEUR", "user"), ("ASSISTANT", "assistant"), ("Customer", "user"), ("Agent", "assistant"),
     ("gpt", "assistant"), ("Système", "system"), ("Kunde", "FIXME")],
)
def test_guess_role(name: str, role: str) -> None:
    assert guess_role(name) == role


def test_unknown_layout_gets_a_mapping_that_run_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "tickets.jsonl", DIALOG)
    assert main(["inspect", str(path), "--suggest-mapping"]) == 0
    snippet = yaml.safe_load(capsys.readouterr().out)
    assert snippet == {"inputs": [{"path": str(path), "format": "mapped", "mapping": {
        "messages": "verlauf", "role": "speaker", "content": "utterance",
        "roles": {"Kunde": "FIXME", "Agent": "assistant"}}}]}
    # The person fixes the one role no rule could guess, and the snippet is a working config.
    snippet["inputs"][0]["mapping"]["roles"]["Kunde"] = "user"
    snippet.update({"out": str(tmp_path / "run"), "export": {"formats": []}, "runner": {"progress": False}})
    config_path = tmp_path / "run.yaml"
    config_path.write_text(yaml.safe_dump(snippet), encoding="utf-8")
    result = run_pipeline(load_config(config_path), quiet=True)
    kept = [orjson.loads(line) for p in (result.run_dir / "splits").glob("*.jsonl")
            for line in p.read_bytes().splitlines()]
    rejects = (result.run_dir / "rejects.jsonl").read_bytes().splitlines()
    assert result.records_in == 3 and len(kept) + len(rejects) == 3
    assert all(orjson.loads(r)["stage"] not in ("ingest", "validate") for r in rejects)  # only duplicates
    assert [m["role"] for m in kept[0]["messages"]] == ["user", "assistant"]
    assert kept[0]["metadata"]["fields"]["ticket"] in (0, 1, 2)


def test_known_layout_names_its_format_and_maps_leftover_roles(real_dir: Path, tmp_path: Path) -> None:
    mistral = real_dir / "axolotl-ai-cloud__axolotl/mistral_example_data.jsonl"
    assert suggest_input(mistral) == {"path": str(mistral), "format": "sharegpt",
                                      "mapping": {"roles": {"Customer": "user"}}}
    french = _write(tmp_path / "fr.jsonl", [{"conversation": [{"role": "UTILISATEUR", "content": "Bonjour"},
                                                              {"role": "ASSISTANT", "content": "Bonjour !"}]}])
    assert suggest_input(french) == {"path": str(french), "format": "sharegpt"}


def test_init_shows_the_inputs_path_format_mapping_form(tmp_path: Path) -> None:
    text = commented_default_config()
    assert "inputs:\n  - path: samples/raw\n    # format:" in text
    assert "#   messages: conversation" in text and "--suggest-mapping" in text
    assert "filters: []" in text
    # The file `curate init` writes is a valid config, and so is its inputs block once uncommented.
    config_path = tmp_path / "curation.yaml"
    assert main(["init", str(config_path)]) == 0
    assert load_config(config_path).inputs[0].path.endswith("samples/raw")
    uncommented = text.replace("    # format: sharegpt", "    format: mapped")
    uncommented = uncommented.replace("    # mapping:", "    mapping:")
    for key in ("messages", "role", "content", "roles"):
        uncommented = uncommented.replace(f"    #   {key}:", f"      {key}:")
    config_path.write_text(uncommented, encoding="utf-8")
    spec = load_config(config_path).inputs[0]
    assert spec.format == "mapped" and spec.mapping is not None
    assert (spec.mapping.messages, spec.mapping.roles) == ("conversation", {"UTILISATEUR": "user",
                                                                            "ASSISTANT": "assistant"})


def test_a_suggestion_says_which_top_level_text_it_leaves_unread(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # An app's own log: the last user turn and the system prompt sit beside the history, not in it.
    rows = [{"system_text": "You are concise.", "question": "And on Saturday?", "reply": "Closed.", "id": "c1",
             "history": [{"role": "USER", "message": "Your hours?"}, {"role": "CHATBOT", "message": "9-5."}]}]
    path = _write(tmp_path / "app.jsonl", rows)
    assert main(["inspect", str(path), "--suggest-mapping"]) == 0
    out = capsys.readouterr().out
    assert "FIXME" in out and "system_text, question, reply would go to metadata.fields unread" in out
    assert yaml.safe_load(out)["inputs"][0]["mapping"]["messages"] == "history"
    # Cohere's own v1 log of that shape needs no mapping: it is read as it is
    cohere = _write(tmp_path / "cohere.jsonl", [
        {"preamble": "You are concise.", "message": "And on Saturday?", "response": "Closed.", "id": "c1",
         "chat_history": [{"role": "USER", "message": "Your hours?"}, {"role": "CHATBOT", "message": "9-5."}]}])
    assert main(["inspect", str(cohere), "--suggest-mapping"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["inputs"][0]["format"] == "cohere_chat"


def test_an_id_is_never_suggested_as_the_text(tmp_path: Path) -> None:
    # OpenAI Responses output items: {"type": "reasoning", "id": "rs_1"} first; "rs_1" is not what was said
    rows = [{"input": "2+2?", "output": [{"type": "reasoning", "id": "rs_1", "summary": []},
                                        {"type": "message", "id": "msg_2", "role": "assistant",
                                         "content": [{"type": "output_text", "text": "4"}]}]}]
    entry = suggest_input(_write(tmp_path / "responses.jsonl", rows))
    assert entry["mapping"].get("content") != "id"


def test_a_one_exchange_layout_gets_a_prompt_completion_mapping_that_reads_it(tmp_path: Path) -> None:
    # CoT-Collection's source/target and Spider's question/query got "messages: FIXME", which nothing could fill
    from curation.readers import read_path
    from curation.readers.mapping import FieldMapping
    from curation.readers.suggest import suggest_input

    path = tmp_path / "cot.jsonl"
    path.write_text('{"source": "Which gas do plants take in?", "target": "CO2", "rationale": "r"}\n'
                    '{"source": "Which planet is red?", "target": "Mars", "rationale": "r"}\n')
    entry = suggest_input(path)
    assert entry["format"] == "mapped" and entry["mapping"] == {"prompt": "source", "completion": "target"}
    items = list(read_path(path, entry["format"], FieldMapping(**entry["mapping"])))
    assert [i.record["messages"][1]["content"] for i in items] == ["CO2", "Mars"]


def test_a_summarisation_layout_gets_a_prompt_template_that_reads_it(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # samsum's dialogue/summary got "messages: FIXME": the request is the dialogue, with no instruction to map
    from curation.readers import read_path
    from curation.readers.mapping import FieldMapping

    path = _write(tmp_path / "samsum.jsonl", [
        {"id": "13818513", "dialogue": "Amanda: I baked cookies. Do you want some?\r\nJerry: Sure!",
         "summary": "Amanda baked cookies for Jerry."},
        {"id": "13728867", "dialogue": "Olivia: Who are you voting for?\r\nOliver: Liberals as always.",
         "summary": "Olivia and Oliver are voting for liberals."}])
    assert main(["inspect", str(path), "--suggest-mapping"]) == 0
    [entry] = yaml.safe_load(capsys.readouterr().out)["inputs"]
    assert entry["mapping"] == {"prompt_template": "Summarize this:\n\n{dialogue}", "completion": "summary"}
    items = list(read_path(path, entry["format"], FieldMapping(**entry["mapping"])))
    assert [i.record["messages"][0]["content"] for i in items] == [
        "Summarize this:\n\nAmanda: I baked cookies. Do you want some?\r\nJerry: Sure!",
        "Summarize this:\n\nOlivia: Who are you voting for?\r\nOliver: Liberals as always."]
