from __future__ import annotations

import time
from typing import Any

import pytest

from curation.checks import CODES, Finding, check_record, codes_table, finding_from_reader_error, has_error


def msg(role: str, content: Any = "text", **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"role": role, **extra}
    if content is not None:
        message["content"] = content
    return message


def convo(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "x", "messages": list(messages), **extra}


def call(call_id: str | None = "call_1", name: str = "lookup", arguments: Any = '{"q": "x"}') -> dict[str, Any]:
    item: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": arguments}}
    if call_id is not None:
        item["id"] = call_id
    return item


USER = msg("user", "What is the capital of France?")
ASSISTANT = msg("assistant", "Paris.")
CLEAN = convo(msg("system", "Be brief."), USER, ASSISTANT)
CLEAN_TOOLS = convo(
    USER,
    msg("assistant", None, tool_calls=[call("c1"), call("c2", arguments='{"q": "y"}')]),
    msg("tool", "48.8N", tool_call_id="c1"),
    msg("tool", "2.3E", tool_call_id="c2"),
    msg("assistant", "Paris is at 48.8N 2.3E."),
)
CLEAN_PAIR = {"id": "p", "prompt": [USER], "chosen": [ASSISTANT], "rejected": [msg("assistant", "Lyon.")]}

# code -> a minimal record that triggers it (and, ideally, nothing else of error severity)
TRIGGERS: dict[str, Any] = {
    "data_type": ["not", "an", "object"],
    "missing_messages_list": {"id": "x", "messages": []},
    "message_missing_key": convo({"content": "no role"}, ASSISTANT),
    "message_unrecognized_key": convo(USER, msg("assistant", "Paris.", loss_weight=1.0)),
    "unrecognized_role": convo(msg("Customer", "Hi"), ASSISTANT),
    "missing_content": convo(msg("user", None), ASSISTANT),
    "example_missing_assistant_message": convo(USER),
    "empty_content": convo(USER, msg("assistant", "  \n ")),
    "empty_tool_result": convo(USER, msg("assistant", None, tool_calls=[
        {"id": "c1", "type": "function", "function": {"name": "think", "arguments": "{}"}}]),
        msg("tool", "", tool_call_id="c1"), ASSISTANT),
    "image_missing": convo(msg("user", "<image>Who is this?"), ASSISTANT),
    "unsupported_media": convo(msg("user", "<video>Why is this funny?"), ASSISTANT),
    "unfilled_placeholder": convo(msg("user", "Who are you?"), msg("assistant", "I am {{name}}, made by {{author}}.")),
    "reserved_token": convo(USER, msg("assistant", "Paris.<|endoftext|>")),
    "template_token": convo(USER, msg("assistant", "Hello!<|eot_id|>")),
    "opens_with_assistant": convo(msg("assistant", "Sure, here is the rest:"), USER, ASSISTANT),
    "over_token_limit": CLEAN,  # with token_count/max_tokens below
    "last_not_assistant": convo(USER, ASSISTANT, msg("user", "Thanks!")),
    "missing_user_message": convo(msg("system", "Be happy."), msg("assistant", "You're great!")),
    "consecutive_same_role": convo(USER, ASSISTANT, msg("assistant", "It is in France.")),
    "weight_misplaced": convo(msg("user", "Hi", weight=0), ASSISTANT),
    "invalid_weight": convo(USER, msg("assistant", "Paris.", weight=0.5)),
    # all assistant turns masked: nothing is learnt (TRL drops it silently; a provider bills it)
    "no_trained_turn": convo(USER, msg("assistant", "Paris.", weight=0), msg("user", "And Spain?"),
                             msg("assistant", "Madrid.", weight=0)),
    "tool_call_unanswered": convo(
        USER, msg("assistant", None, tool_calls=[call("c1")]), msg("user", "Well?"), ASSISTANT
    ),
    "tool_result_orphan": convo(USER, msg("tool", "42", tool_call_id="nobody"), ASSISTANT),
    "tool_arguments_not_json": convo(USER, msg("assistant", None, tool_calls=[call(arguments="{q: x")])),
    "tool_not_declared": convo(USER, msg("assistant", None, tool_calls=[call("c1", name="get_time")]),
                               msg("tool", "noon", tool_call_id="c1"), msg("assistant", "Noon."),
                               tools=[{"type": "function", "function": {"name": "lookup"}}]),
    "tool_content_not_string": convo(
        USER,
        msg("assistant", None, tool_calls=[call("c1")]),
        msg("tool", [{"type": "text", "text": "42"}], tool_call_id="c1"),
        ASSISTANT,
    ),
    "reasoning_misplaced": convo(msg("user", "Hi", reasoning="I greet"), ASSISTANT),
    "reasoning_not_string": convo(USER, msg("assistant", "Hello", reasoning=["step"])),
    "preference_missing_chosen": {"id": "p", "prompt": [USER], "chosen": [], "rejected": [ASSISTANT]},
    "preference_missing_rejected": {"id": "p", "prompt": [USER], "chosen": [ASSISTANT], "rejected": []},
    "preference_identical": {"id": "p", "prompt": [USER], "chosen": [ASSISTANT], "rejected": [dict(ASSISTANT)]},
    "preference_side_not_answer": {"id": "p", "prompt": [USER], "chosen": [ASSISTANT, USER],
                                   "rejected": [msg("assistant", "No.")]},
}
# Reader refusals (tested in tests/readers: no_preference in test_readers_ranked_and_tools, orphan_message with
# the OpenAssistant rows, prompt_mismatch and incomplete_answer in test_readers_templates_and_tool_markup,
# tool_calls_as_text in test_readers_marked_turns, placeholder_prompt in test_readers_reasoning_layouts,
# no_answer in test_readers_extractive_qa,
# one_sided_ticket and unknown_speaker in test_readers_support_desks, shared_tool_result in
# test_readers_agent_trajectories).
READER_CODES = {"not_json", "invalid_utf8", "unknown_format", "empty_record", "record_too_large", "too_deep",
                "no_preference", "orphan_message", "prompt_mismatch", "incomplete_answer", "unreviewed_tree",
                "tool_calls_as_text", "missing_history", "server_tool_call", "embedded_media", "one_sided_ticket",
                "unknown_speaker", "placeholder_prompt", "shared_tool_result", "no_answer"}
# A check that crashed on a record (a bug; tested by the crash-signature tests).
CRASH_CODES = {"check_error"}
DATASET_CODES = {"too_few_examples"}
# Whole files the readers cannot read (raised by readers.check_readable, tested in tests/readers).
FILE_CODES = {"binary_file", "utf16_file", "not_json_file", "unreadable_file"}


def codes_of(record: Any, **kwargs: Any) -> set[str]:
    return {f.code for f in check_record(record, **kwargs)}


def test_every_code_has_a_trigger() -> None:
    assert set(CODES) == set(TRIGGERS) | READER_CODES | DATASET_CODES | FILE_CODES | CRASH_CODES


def test_cookbook_codes_are_present_with_their_exact_names() -> None:
    cookbook = {
        "data_type",
        "missing_messages_list",
        "message_missing_key",
        "message_unrecognized_key",
        "unrecognized_role",
        "missing_content",
        "example_missing_assistant_message",
    }
    assert cookbook <= set(CODES)
    assert all(CODES[code][0] == "error" for code in cookbook)


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_code_is_triggered(code: str) -> None:
    kwargs = {"token_count": 70_000, "max_tokens": 65_536} if code == "over_token_limit" else {}
    findings = check_record(TRIGGERS[code], **kwargs)
    matching = [f for f in findings if f.code == code]
    assert matching, findings
    severity, hint, _ = CODES[code]
    assert all(f.severity == severity and f.hint == hint and f.message for f in matching)


@pytest.mark.parametrize("record", [CLEAN, CLEAN_TOOLS, CLEAN_PAIR], ids=["chat", "tools", "pair"])
def test_clean_records_have_no_findings(record: dict[str, Any]) -> None:
    assert check_record(record, token_count=100, max_tokens=65_536) == []


@pytest.mark.parametrize("code", sorted(READER_CODES))
def test_reader_errors_become_findings(code: str) -> None:
    finding = finding_from_reader_error(code, "line 3: unexpected end of data")
    assert finding == Finding(code, "error", "line 3: unexpected end of data", CODES[code][1], None)
    unknown = finding_from_reader_error("something_new", "detail")
    assert (unknown.code, unknown.severity) == ("something_new", "error")


def test_message_index_points_at_the_message() -> None:
    record = convo(USER, msg("assistant", "Hi <|im_start|>"), msg("user", "ok"), msg("assistant", "{{name}}"))
    found = {(f.code, f.message_index) for f in check_record(record)}
    assert ("reserved_token", 1) in found
    assert ("unfilled_placeholder", 3) in found


def test_assistant_tool_call_without_content_is_fine() -> None:
    # drone_training.jsonl: the example ends with an assistant turn that carries only tool_calls.
    record = convo(msg("system", "You fly a drone."), USER, msg("assistant", None, tool_calls=[call("call_id")]))
    assert check_record(record) == []


def test_tool_results_without_ids_answer_in_order() -> None:
    record = convo(
        USER,
        msg("assistant", None, tool_calls=[call(None), call(None)]),
        msg("tool", "a"),
        msg("tool", "b"),
        ASSISTANT,
    )
    assert check_record(record) == []
    short = convo(USER, msg("assistant", None, tool_calls=[call(None), call(None)]), msg("tool", "a"), ASSISTANT)
    assert codes_of(short) == {"tool_call_unanswered"}


def test_consecutive_tool_messages_are_not_flagged_but_assistants_are() -> None:
    assert "consecutive_same_role" not in codes_of(CLEAN_TOOLS)
    assert CODES["consecutive_same_role"][0] == "warning"
    assert "Anthropic" in CODES["consecutive_same_role"][1]


@pytest.mark.parametrize(
    "text",
    [
        'Use JSON: {"a": {"b": 1}}',
        "In Python: d = {{'a': 1}} is a set of dict? no",
        "In Jinja write `{{ name }}` to print a variable.",
        "```html\n<p>{{ user.name }}</p>\n```",
        "f-strings: f'{name}' and str.format('{0}')",
        "Sincerely, [Your Name]",
        "template literal `${value}`",
        "<|user|> is Zephyr's tag, not an OpenAI special token",
    ],
)
def test_braces_in_code_and_json_do_not_trigger(text: str) -> None:
    assert check_record(convo(USER, msg("assistant", text))) == []


@pytest.mark.parametrize(
    "text",
    [
        "Hello {{ user_name }}!",
        "Call me at <PLACEHOLDER>.",
        "[INSERT COMPANY NAME] is great",
        # Real unfilled slots: LLaMA-Factory's self_cognition (<NAME>/<AUTHOR>) and ChatGLM-Efficient-Tuning's
        # ([NAME]), LLaMA-Factory identity.json.
        "Hello! I am <NAME>, an AI assistant developed by <AUTHOR>. How can I assist you today?",
        "您好，我是 <NAME>，一个由 <AUTHOR> 开发的 AI 助手，很高兴认识您。请问我能为您做些什么？",
        "我叫ChatGLM-6B，是一个由[NAME]于2023年独立训练和开发的人工智能助手。",
        "您好，我是 {{name}}，一个由 {{author}} 开发的 AI 助手。",
        "Thank you, {name}, for your order.",
        # bitext/Bitext-customer-support-llm-chatbot-training-dataset: slots named in words
        "I've understood you have a question regarding canceling order {{Order Number}}.",
        "Call {{Customer Support Phone Number}} during {{Customer Support Hours}}.",
        # LMSYS-Chat-1M's anonymised names
        "Nice to meet you, NAME_1! I hope NAME_2 is well.",
    ],
)
def test_placeholders_outside_code_trigger(text: str) -> None:
    assert codes_of(convo(USER, msg("assistant", text))) == {"unfilled_placeholder"}


@pytest.mark.parametrize(
    "text",
    [
        # Each was rejected as unfilled_placeholder before (issue 10, item 5); all are real.
        "default: ${{ github.repository }}",  # actions/checkout action.yml
        "    token: ${{ secrets.GH_PAT }} # `GH_PAT` is a secret that contains your PAT",  # actions/checkout README
        "`name`\n    The name of the macro.  ``{{ input.name }}`` will print ``input``.",  # jinja docs/templates.rst
        "Write {{ user.name }} to print the user's name.",  # a dotted path is template code, not a slot
        "$$\\text{{J}} = \\frac{a}{b}$$",  # LaTeX group braces
        "api_key = 'YOUR_API_KEY'\nurl = f'http://api.example.org/weather?q={city_name}&appid={api_key}'",
        "Replace <YOUR_API_KEY> with the key from your dashboard.",  # an instruction, not a slot
        '    code = f"fn bubble_sort({array_name}: &mut [i32]) {{\\n"',  # OASST en_100_tree line 76
        "<NAME>Alice</NAME>",  # XML
        "{{ name | upper }} and {{#if admin}}",  # Jinja filters and Handlebars blocks
        "FIRST_NAME_1 = 'x'\nMY_NAME_10 and NAME_1234",  # identifiers, not LMSYS tokens
    ],
)
def test_template_syntax_latex_and_instructions_do_not_trigger(text: str) -> None:
    assert "unfilled_placeholder" not in codes_of(convo(USER, msg("assistant", text)))


def test_weights() -> None:
    ok = convo(USER, msg("assistant", "a", weight=0), msg("user", "b"), msg("assistant", "c", weight=1))
    assert check_record(ok) == []
    assert codes_of(convo(USER, msg("assistant", "a", weight=True))) == {"invalid_weight"}


def test_content_parts() -> None:
    parts = [{"type": "text", "text": "Look"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]
    assert check_record(convo(msg("user", parts), ASSISTANT)) == []
    image_only = [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]
    assert check_record(convo(msg("user", image_only), ASSISTANT)) == []
    assert codes_of(convo(msg("user", [{"type": "audio"}]), ASSISTANT)) == {"unsupported_media"}
    assert codes_of(convo(msg("user", [{"type": "sticker"}]), ASSISTANT)) == {"missing_content"}
    assert codes_of(convo(msg("user", [{"type": "text", "text": " "}]), ASSISTANT)) == {"empty_content"}
    assert codes_of(convo(msg("user", 42), ASSISTANT)) == {"missing_content"}


def test_preference_checks_see_both_sides() -> None:
    pair = {
        "id": "p",
        "prompt": [USER],
        "chosen": [ASSISTANT],
        "rejected": [msg("assistant", "Lyon."), msg("assistant", "Or Paris.")],
    }
    found = check_record(pair)
    assert [(f.code, f.message_index) for f in found] == [("consecutive_same_role", 3)]
    assert codes_of({"id": "p", "prompt": [USER], "chosen": [USER], "rejected": [ASSISTANT]}) >= {
        "preference_missing_chosen",
        "last_not_assistant",
    }
    assert "preference_missing_rejected" in codes_of({"id": "p", "prompt": [USER], "chosen": [ASSISTANT]})
    assert "missing_messages_list" in codes_of({"id": "p", "prompt": [], "chosen": [ASSISTANT], "rejected": [USER]})


def test_has_error_and_codes_table() -> None:
    assert has_error(check_record(TRIGGERS["empty_content"]))
    assert not has_error(check_record(TRIGGERS["consecutive_same_role"]))
    table = codes_table()
    assert all(f"`{code}`" in table for code in CODES)


def test_checks_are_fast() -> None:
    records = [CLEAN, CLEAN_TOOLS, CLEAN_PAIR, TRIGGERS["unfilled_placeholder"]] * 5000
    start = time.perf_counter()
    for record in records:
        check_record(record)
    rate = len(records) / (time.perf_counter() - start)
    assert rate > 20_000, f"{rate:.0f} records/s"


def test_every_text_finding_needs_a_trigger_character() -> None:
    """The early exit in _text_findings: the trigger characters cover every slot pattern and <|...|>, <image>."""
    from curation.checks import _SLOTS, _TEXT_TRIGGERS

    assert all(any(c in trigger for c in _TEXT_TRIGGERS) for trigger, _ in _SLOTS) and "<" in _TEXT_TRIGGERS
    for text in ("{{name}} here", "Dear <NAME>", "[INSERT DATE]", "from {author}", "<|endoftext|>", "<image>",
                 "Hi NAME_1"):
        assert any(c in text for c in _TEXT_TRIGGERS)
        assert check_record(convo(msg("user", text), ASSISTANT)), text


@pytest.mark.parametrize(("message", "codes"), [
    (msg("human", "hi"), ["unrecognized_role"]),
    (msg("user", "   "), ["empty_content"]),
    (msg("user", "say <|im_end|>\nDear {{name}},\n<image>"),
     ["reserved_token", "unfilled_placeholder", "image_missing"]),
    (msg("user", ""), ["empty_content"]),
    (msg("bot", ""), ["unrecognized_role", "empty_content"]),
])
def test_plain_messages_get_the_findings_of_the_general_rule(message: dict[str, Any], codes: list[str]) -> None:
    found = check_record(convo(USER, ASSISTANT, message, ASSISTANT))
    assert [f.code for f in found if f.message_index == 2 and f.code != "consecutive_same_role"] == codes
    # The same message with one more (valid) key takes the general path: the same findings, in order.
    general = check_record(convo(USER, ASSISTANT, {**message, "name": "x"}, ASSISTANT))
    assert [f.code for f in general if f.message_index == 2 and f.code != "consecutive_same_role"] == codes


def test_roles_are_found_in_any_message_shape() -> None:
    with_call = {"role": "assistant", "tool_calls": [call()]}
    tool = {"role": "tool", "content": "Paris", "tool_call_id": "call_1"}
    codes = [f.code for f in check_record(convo({**USER, "name": "u"}, with_call, tool, ASSISTANT))]
    assert "missing_user_message" not in codes and "example_missing_assistant_message" not in codes
    codes = [f.code for f in check_record(convo(msg("system", "be brief"), {"role": ["user"], "content": "x"}))]
    assert "missing_user_message" in codes and "example_missing_assistant_message" in codes


@pytest.mark.parametrize("text, found", [
    ("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", True),  # a rendered Llama 3 prompt
    ("Hello!<|eot_id|>", True),  # a completion that ends on the end-of-turn token
    ("<start_of_turn>user\nhi<end_of_turn>", True),
    ("<|user|>\nHi</s>\n<|assistant|>\n", True),  # Zephyr
    ("<s>[INST] What is 3+3? [/INST]", True),
    ("Use <|eot_id|> to end a turn in Llama 3.", False),  # prose about the token is not markup
    ("The tag <|assistant|> opens a reply.", False),
    ("Write [INST] before the instruction.", False),
])
def test_template_markup_is_found_where_a_template_writes_it(text: str, found: bool) -> None:
    assert ("template_token" in codes_of(convo(USER, msg("assistant", text)))) is found


def test_a_call_to_a_function_the_tools_do_not_declare_is_flagged() -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    assert not check_record({**CLEAN_TOOLS, "tools": tools})
    other = convo(USER, msg("assistant", None, tool_calls=[call("c1", name="get_time")]),
                  msg("tool", "noon", tool_call_id="c1"), msg("assistant", "Noon."), tools=tools)
    (found,) = check_record(other)
    assert (found.code, found.severity, found.message_index) == ("tool_not_declared", "warning", 1)
    assert "'get_time'" in found.message and "(lookup)" in found.message
    # no tools, or tools in a shape other checks judge: nothing to compare against
    assert not check_record({**other, "tools": []}) and not check_record({k: v for k, v in other.items()
                                                                          if k != "tools"})


def test_one_trained_turn_is_enough() -> None:
    assert not codes_of(convo(USER, msg("assistant", "Paris.", weight=0), msg("user", "And Spain?"),
                              msg("assistant", "Madrid.", weight=1)))
    assert not codes_of(convo(USER, msg("assistant", "Paris.", weight=0), msg("user", "And Spain?"),
                              msg("assistant", "Madrid.")))


def test_an_empty_tool_result_is_no_empty_content() -> None:
    # sierra-research/tau-bench gpt-4o-airline.json: 61 of 200 trajectories were rejected because the `think`
    # tool returns ""
    call = {"id": "c1", "type": "function", "function": {"name": "think", "arguments": '{"thought": "x"}'}}
    record = convo(USER, msg("assistant", None, tool_calls=[call]), msg("tool", "", tool_call_id="c1"),
                   msg("assistant", "Done."))
    assert codes_of(record) == {"empty_tool_result"} and not has_error(check_record(record))
    assert "empty_content" in codes_of(convo(USER, msg("assistant", "  ")))
