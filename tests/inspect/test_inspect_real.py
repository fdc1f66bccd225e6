from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from curation import inspect as inspect_module
from curation.inspect import analyse_record, inspect_paths
from curation.tokens import get_encoding

# (records read, valid, invalid, {code: records}) per real file, derived by running inspect and checked by hand
# against tests/data/real/README.md (see the comments).
EXPECTED: dict[str, tuple[int, int, int, dict[str, int]]] = {
    "IlyaGusev__rulm/ru_alpaca_seed_tasks.jsonl": (137, 137, 0, {}),
    # One tree holds many conversations: one record per path; paths that end on a prompter turn warn.
    # 226 paths end on an unanswered prompt: the shared repairs trim them to their answered part
    "LAION-AI__Open-Assistant/en_100_tree.jsonl": (626, 626, 0, {}),
    # 4 transcripts lost a turn's blank line ("... kings.  Human: Then how ..."): read with it, their chosen side
    # continues the talk past the answer (user turns in it), so they are no preference pair
    "anthropics__hh-rlhf/harmless-base_test.jsonl.gz": (
        2312,
        2304,
        8,
        {"consecutive_same_role": 4, "empty_content": 4, "preference_side_not_answer": 4},
    ),
    "axolotl-ai-cloud__axolotl/alpaca.json": (2, 2, 0, {}),
    "axolotl-ai-cloud__axolotl/conversation.json": (1, 1, 0, {}),
    # README: "an empty reply".
    "axolotl-ai-cloud__axolotl/conversation.missingturns.json": (1, 0, 1, {"empty_content": 1}),
    # README: role name `Customer`: normalise maps it to user before validation, in inspect as in run.
    "axolotl-ai-cloud__axolotl/mistral_example_data.jsonl": (10, 10, 0, {}),
    "bofenghuang__vigogne/oasst_20230412_fr_top1.jsonl": (256, 256, 0, {}),
    "hiyouga__LLaMA-Factory/glaive_toolcall_en_demo.json": (300, 300, 0, {}),
    # README says 77 outputs hold {{name}}/{{author}}: 77 hold {{name}}, 8 more hold only {{author}} -> 85.
    "hiyouga__LLaMA-Factory/identity.json": (91, 6, 85, {"unfilled_placeholder": 85}),
    # KTO labels are a run decision (the label stage), not validation: all 40 are valid conversations.
    "hiyouga__LLaMA-Factory/kto_en_demo.first40.json": (40, 40, 0, {}),
    # Typed reasoning / tool_call parts and id-less tool results are read into reasoning, tool_calls and
    # tool_call_id before validation: nothing to report.
    "hiyouga__LLaMA-Factory/reason_tool_use_demo_50.jsonl": (50, 50, 0, {}),
    # The reader keeps per-message loss_weight as `weight`, user turns included (OpenAI rejects that); the same
    # identity texts ({{name}}) appear in 50 records.
    # loss_weight is kept only on assistant turns (OpenAI rejects weight elsewhere), so only placeholders remain.
    "hiyouga__LLaMA-Factory/v1_sft_demo.jsonl": (500, 450, 50, {"unfilled_placeholder": 50}),
    "lm-sys__FastChat/dummy_conversation.json": (500, 500, 0, {}),
    # Tasks whose output is empty (their authors' "ERROR" rows).
    "mobarski__alpaca-libre/alpaca_libre_tasks_v1.jsonl": (2375, 2138, 237, {"empty_content": 237}),
    "nlpai-lab__KULLM/user_oriented_instructions_eval.jsonl": (252, 252, 0, {}),
    # Assistant turns with tool_calls and no content are fine.
    "openai__openai-cookbook/drone_training.jsonl": (103, 103, 0, {}),
    # README: one record has no user turn (a warning); the 26,000-character reply is under any limit.
    "openai__openai-cookbook/toy_chat_fine_tuning.jsonl": (5, 5, 0, {"missing_user_message": 1}),
    "teknium1__GPTeacher/roleplay-simple-deduped-roleplay-instruct.json": (1923, 1923, 0, {}),
    "yizhongw__self-instruct/user_oriented_instructions.jsonl": (252, 252, 0, {}),
    "hiyouga__LLaMA-Factory/dpo_en_demo.arithmetic.json": (3, 3, 0, {}),
    # The raw line breaks inside strings are read as line breaks: 11 valid conversations.
    "openai__openai-cookbook/01-testing-example.jsonl": (11, 11, 0, {}),
    # Support-desk API examples: 13 of Intercom's 14 hold no exchange (events, a note, a bot's summary, a reply
    # nothing answers); the Freshdesk ticket and its conversations, read apart, are one-sided too.
    "NovaSky-AI__SkyThought/aime24_sky_t1_14b_3rows.jsonl": (3, 3, 0, {}),
    "intercom__Intercom-OpenAPI/conversation_examples.json": (14, 1, 13, {"one_sided_ticket": 13}),
    "sjkingo__python-freshdesk/conversations.json": (2, 0, 2, {"one_sided_ticket": 2}),
    "sjkingo__python-freshdesk/ticket_1.json": (1, 0, 1, {"one_sided_ticket": 1}),
    # ToolBench's steps and answer files: every step reads (127's run gave up: labelled undesirable, read all the same)
    "OpenBMB__ToolBench/G1_demo_DFS_woFilter_w2.json": (4, 4, 0, {}),
    "OpenBMB__ToolBench/82217_ChatGPT_DFS_woFilter_w2.json": (4, 4, 0, {}),
    "OpenBMB__ToolBench/127_ChatGPT_DFS_woFilter_w2.json": (3, 3, 0, {}),
}


@pytest.fixture(scope="module")
def real_report(real_dir: Path) -> dict[str, Any]:
    return inspect_paths([real_dir], model="gpt-4o-mini")


def test_every_real_file_is_expected(real_report: dict[str, Any], real_dir: Path) -> None:
    seen = {str(Path(f["path"]).relative_to(real_dir)) for f in real_report["files"]}
    assert seen == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_file_counts(name: str, real_report: dict[str, Any], real_dir: Path) -> None:
    by_path = {f["path"]: f for f in real_report["files"]}
    report = by_path[str(real_dir / name)]
    records, valid, invalid, codes = EXPECTED[name]
    assert (report["records"], report["valid"], report["invalid"]) == (records, valid, invalid)
    assert report["records"] == report["valid"] + report["invalid"]
    assert report["findings_by_code"] == codes
    for code, info in report["codes"].items():
        assert info["records"] == codes[code]
        assert 1 <= len(info["first"]) <= 5
        assert all(loc["where"].startswith(str(real_dir / name)) for loc in info["first"])


def test_real_totals(real_report: dict[str, Any]) -> None:
    records = sum(e[0] for e in EXPECTED.values())
    valid = sum(e[1] for e in EXPECTED.values())
    assert (real_report["records"], real_report["valid"], real_report["invalid"]) == (records, valid, records - valid)
    assert real_report["records"] == real_report["valid"] + real_report["invalid"]
    tokens = real_report["tokens"]
    assert tokens["total"] == sum(f["tokens"]["total"] for f in real_report["files"])
    assert set(tokens["distribution"]) == {"min", "mean", "p50", "p95", "max"}
    assert tokens["over_limit"] == 0
    training = real_report["training"]
    assert training["examples"] == valid
    assert training["billed_tokens"] == training["tokens_per_epoch"] * training["epochs"]
    assert training["cost_usd"] == round(training["billed_tokens"] / 1e6 * 3.00, 2)


def test_first_locations_point_at_lines(real_report: dict[str, Any], real_dir: Path) -> None:
    toy = real_dir / "openai__openai-cookbook/toy_chat_fine_tuning.jsonl"
    by_path = {f["path"]: f for f in real_report["files"]}
    first = by_path[str(toy)]["codes"]["missing_user_message"]["first"]
    assert first == [{"where": f"{toy}:4", "message": "the example has no user message"}]
    # totals keep the first five locations over all files, in file order: empty replies occur in hh-rlhf (4),
    # then axolotl's missingturns (1), then alpaca-libre
    where = [loc["where"] for loc in real_report["codes"]["empty_content"]["first"]]
    assert len(where) == 5
    assert ["anthropics" in w for w in where] == [True] * 4 + [False]
    assert "conversation.missingturns.json" in where[4]
    lines = toy.read_text().splitlines()
    roles = [m["role"] for m in json.loads(lines[3])["messages"]]
    assert roles == ["system", "assistant"]


def test_small_model_limit_flags_long_records(real_dir: Path) -> None:
    toy = real_dir / "openai__openai-cookbook/toy_chat_fine_tuning.jsonl"
    report = inspect_paths([toy], model="my-small", extra_models={"my-small": {"max_tokens_per_example": 1000}})
    # the 26,000-character reply is the only record over 1,000 tokens
    assert report["findings_by_code"]["over_token_limit"] == 1
    assert report["tokens"]["over_limit"] == 1
    assert (report["valid"], report["invalid"]) == (4, 1)
    assert report["training"]["cost_usd"] is None
    assert any("no published training price" in n for n in report["notes"])


def _write_corpus(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            if i % 997 == 0:
                out.write('{"messages": [{"role": "user", "content": "trunc\n')
                continue
            reply = "{{name}} here." if i % 501 == 0 else f"Réponse numéro {i}, 答案 {i * 7}."
            record = {
                "messages": [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": reply}]
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def test_pool_gives_the_same_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "corpus.jsonl"
    _write_corpus(corpus, 6_500)
    serial = inspect_paths([corpus], workers=1)
    switched = inspect_paths([corpus], workers=2)  # in-process for 5,000 payloads, then a pool
    monkeypatch.setattr(inspect_module, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(inspect_module, "BATCH_SIZE", 700)
    pooled = inspect_paths([corpus], workers=2)  # a pool from the start, other batch boundaries
    assert serial == switched == pooled
    assert serial["records"] == 6_500
    assert serial["findings_by_code"]["not_json"] == 7
    assert serial["findings_by_code"]["unfilled_placeholder"] == 12  # i % 501 == 0, but line 1 is truncated
    assert serial["invalid"] == 19


def test_analyse_record() -> None:
    enc = get_encoding("o200k_base")
    record = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    assert analyse_record(record, enc, 65_536) == (True, [], 13, 2)
    valid, codes, n_tokens, turns = analyse_record(record, enc, 10)
    assert (valid, [c for c, _ in codes], n_tokens) == (False, ["over_token_limit"], 13)


def test_what_the_readers_left_out_is_counted_and_said(real_dir: Path) -> None:
    """A support-desk export's events, notes and bot replies never reach the records: `curate run` said so in a
    warning, `curate inspect` said nothing (its counts looked like the whole ticket was read)."""
    from collections import Counter

    from curation.inspect import inspect_paths
    from curation.readers import read_path

    path = real_dir / "intercom__Intercom-OpenAPI" / "conversation_examples.json"
    expected: Counter[str] = Counter()
    for item in read_path(path):
        if item.record is not None:
            expected.update(item.record["metadata"].get("left_out") or {})
    assert expected  # the fixture holds events the reader leaves out
    report = inspect_paths([path])
    assert report["left_out"] == dict(sorted(expected.items()))
    assert any(note.startswith("left out of the records read") and "events" in note for note in report["notes"])
