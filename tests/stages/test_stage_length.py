from __future__ import annotations

import pickle

import pytest
from pydantic import ValidationError

from curation import tokens
from curation.errors import CurationError
from curation.pipeline.stages.length import LengthConfig, TokenLengthStage, TurnsConfig, TurnsStage


def test_tokens_written_and_match_chat_tokens(conv, pair) -> None:
    stage = TokenLengthStage()
    stage.load()
    for record in (conv("Hello there", "General Kenobi!"), pair("q", "a longer chosen answer", "b")):
        assert stage.process(record) is None
        assert record["metadata"]["tokens"] == tokens.chat_tokens(record, "o200k_base") > 0


def test_per_message_path_gives_the_same_total(conv, pair) -> None:
    plain = TokenLengthStage()
    per_message = TokenLengthStage(LengthConfig(max_message_tokens=10_000))
    for make in (
        lambda: conv("Hello there, how are you?", "Fine, thanks!", system="Be brief."),
        lambda: pair("q " * 20, "chosen " * 5, "rejected " * 9),
    ):
        a, b = make(), make()
        a["tools"] = b["tools"] = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
        plain.process(a)
        per_message.process(b)
        assert a["metadata"]["tokens"] == b["metadata"]["tokens"]


@pytest.mark.parametrize(
    ("config", "reply", "reason"),
    [
        ({"max_tokens": 20}, "word " * 50, "over_token_limit"),
        ({"max_tokens": 200}, "word " * 50, None),
        ({"model": "gpt-3.5-turbo-0613"}, "word " * 5000, "over_token_limit"),
        ({"model": "gpt-4o-mini"}, "word " * 5000, None),
        ({"max_message_tokens": 10}, "word " * 30, "message_too_long"),
        ({"max_message_tokens": 100}, "word " * 30, None),
        ({"min_tokens": 50}, "ok", "too_short"),
        ({"min_tokens": 5}, "ok", None),
    ],
)
def test_token_reasons(conv, config: dict, reply: str, reason: str | None) -> None:
    drop = TokenLengthStage(LengthConfig(**config)).process(conv("hi", reply))
    if reason is None:
        assert drop is None
    else:
        assert drop is not None and drop.reason == reason and "tokens" in drop.detail


def test_model_limit_named_in_detail(conv) -> None:
    drop = TokenLengthStage(LengthConfig(model="gpt-3.5-turbo-0613")).process(conv("hi", "word " * 5000))
    assert drop is not None and "limit of gpt-3.5-turbo-0613" in drop.detail


def test_user_defined_model_and_unknown_model() -> None:
    stage = TokenLengthStage(LengthConfig(model="tiny", models={"tiny": {"max_tokens_per_example": 30}}))
    assert stage.max_tokens == 30
    with pytest.raises(CurationError):
        TokenLengthStage(LengthConfig(model="no-such-model"))


def test_token_stage_pickles_without_encoding(conv) -> None:
    stage = TokenLengthStage(LengthConfig(model="gpt-3.5-turbo"))
    stage.load()
    clone = pickle.loads(pickle.dumps(stage))
    assert clone._encoding is None
    clone.load()
    a, b = conv("hi", "there"), conv("hi", "there")
    stage.process(a)
    clone.process(b)
    assert a == b and a["metadata"]["tokens"] == tokens.chat_tokens(a, "cl100k_base")


@pytest.mark.parametrize(
    ("config", "turns", "reason"),
    [
        ({}, ("hi",), "too_few_turns"),
        ({}, ("hi", "hello"), None),
        ({"min_turns": 0}, (), None),
        ({"max_turns": 3}, ("a", "b", "c", "d"), "too_many_turns"),
        ({"max_turns": 4}, ("a", "b", "c", "d"), None),
    ],
)
def test_turn_reasons(conv, config: dict, turns: tuple[str, ...], reason: str | None) -> None:
    record = conv(*turns, system="system prompts are not turns")
    drop = TurnsStage(TurnsConfig(**config)).process(record)
    assert record["metadata"]["turns"] == len(turns)
    if reason is None:
        assert drop is None
    else:
        assert drop is not None and drop.reason == reason


def test_turns_of_a_pair_and_tool_messages(conv, pair) -> None:
    record = pair("q", "a", "b")
    TurnsStage().process(record)
    assert record["metadata"]["turns"] == 2  # prompt + chosen, not rejected
    tool = conv("q", "a")
    tool["messages"].append({"role": "tool", "tool_call_id": "c", "content": "x"})
    TurnsStage().process(tool)
    assert tool["metadata"]["turns"] == 2
    stage = pickle.loads(pickle.dumps(TurnsStage(TurnsConfig(min_turns=0, max_turns=1))))
    assert stage.process(tool).reason == "too_many_turns"


def test_config_validation() -> None:
    with pytest.raises(ValidationError):
        LengthConfig(max_tokens=0)
    with pytest.raises(ValidationError):
        TurnsConfig(min_turn=1)  # type: ignore[call-arg]


def test_reasoning_counts_only_for_a_target_whose_files_hold_it() -> None:
    # NovaSky-AI/SkyThought traces: 96,129 tokens of reasoning_content made a ~100-token OpenAI/Azure example
    # over_token_limit, and the cost estimate 48x too high, though those exports leave reasoning out
    def record() -> dict:
        return {"messages": [{"role": "user", "content": "Q?"},
                             {"role": "assistant", "content": "A.", "reasoning": "step " * 70_000}]}

    azure = record()
    assert TokenLengthStage(LengthConfig(model="azure/gpt-4.1-mini")).process(azure) is None
    assert azure["metadata"]["tokens"] < 50
    keeps = record()
    stage = TokenLengthStage(LengthConfig(model="r1", models={"r1": {"provider": "together",
                                                                     "max_tokens_per_example": 65_536}}))
    drop = stage.process(keeps)
    assert drop is not None and drop.reason == "over_token_limit"
