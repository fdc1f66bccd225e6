from __future__ import annotations

import copy
import pickle
import unicodedata

import pytest
from pydantic import ValidationError

from curation.pipeline.stages.normalise import NormaliseConfig, NormaliseStage


def run(record: dict, **config: object) -> dict:
    assert NormaliseStage(NormaliseConfig(**config)).process(record) is None  # never drops
    return record


def test_nfc_composes_and_is_recorded(conv) -> None:
    decomposed = unicodedata.normalize("NFD", "café naïve")
    record = run(conv("x", decomposed))
    assert record["messages"][1]["content"] == "café naïve"
    assert record["metadata"]["normalised"] == ["nfc"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  hello  ", "hello"),
        ("one  two   three", "one two   three"),
        ("a\n\n\n\nb", "a\n\nb"),
        ("a \nb\t\n", "a\nb"),
        ("\n\nfirst line", "first line"),
        ("line one\r\nline two", "line one\nline two"),
    ],
)
def test_prose_whitespace_collapsed(conv, raw: str, expected: str) -> None:
    record = run(conv("x", raw))
    assert record["messages"][1]["content"] == expected
    assert set(record["metadata"]["normalised"]) <= {"whitespace", "newlines"}


@pytest.mark.parametrize(
    "text",
    [
        "Code:\n```python\ndef f():\n    x  =  1\n\n\n\n    return x   \n```\nDone.",
        "Indented:\n\n    for i in range(3):\n        print(i,  i)\n\nEnd.",
        "name\tage\tcity\nbob\t\t42",  # TSV keeps its (empty) tab-separated fields
        "1. item\n   - nested  item",  # leading indentation of lists is kept
    ],
)
def test_code_and_indentation_untouched(conv, text: str) -> None:
    record = run(conv("x", text))
    content = record["messages"][1]["content"]
    if "```" in text:
        assert "    x  =  1\n\n\n\n    return x   \n" in content
    elif "range" in text:
        assert "        print(i,  i)" in content
    elif "\t" in text:
        assert content == text
    else:
        assert content == "1. item\n   - nested item"


def test_tool_arguments_and_tool_results_keep_their_bytes(conv) -> None:
    arguments = '{"query":  "a   b",\n\n\n "n": 1}'
    record = conv("x")
    record["messages"] += [
        {
            "role": "assistant",
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": arguments}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": '{"rows":  [1,   2]}\n'},
    ]
    run(record)
    assert record["messages"][1]["tool_calls"][0]["function"]["arguments"] == arguments
    assert record["messages"][2]["content"] == '{"rows":  [1,   2]}'  # trimmed only


def test_invisible_and_control_characters_removed_but_zwj_kept(conv) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    record = run(conv("x", f"he\u200bllo\x00 wor\ufeffld\x07 {family}\tend"))
    assert record["messages"][1]["content"] == f"hello world {family}\tend"
    assert record["metadata"]["normalised"] == ["invisible"]


@pytest.mark.parametrize(
    ("alias", "role"),
    [
        ("human", "user"),
        ("GPT", "assistant"),
        ("bot", "assistant"),
        ("model", "assistant"),
        ("User", "user"),
        ("observation", "tool"),
        ("ipython", "tool"),
        ("tool_result", "tool"),
        ("Agent", "assistant"),
    ],
)
def test_role_aliases(conv, alias: str, role: str) -> None:
    record = run(conv((alias, "hi")))
    assert record["messages"][0]["role"] == role
    assert record["metadata"]["normalised"] == ["role"]


def test_unknown_role_left_for_checks(conv) -> None:
    record = run(conv(("narrator", "hi")))
    assert record["messages"][0]["role"] == "narrator"
    assert "normalised" not in record["metadata"]


def test_system_prompt_modes(conv, pair) -> None:
    added = run(conv("hi", "hello"), system_prompt_mode="add_if_missing", system_prompt="Be brief.")
    assert added["messages"][0] == {"role": "system", "content": "Be brief."}
    assert added["metadata"]["normalised"] == ["system_prompt_added"]

    kept = run(conv("hi", "hello", system="Old."), system_prompt_mode="add_if_missing", system_prompt="Be brief.")
    assert kept["messages"][0]["content"] == "Old." and "normalised" not in kept["metadata"]

    replaced = run(conv("hi", "hello", system="Old."), system_prompt_mode="replace", system_prompt="Be brief.")
    assert replaced["messages"][0]["content"] == "Be brief."
    assert replaced["metadata"]["normalised"] == ["system_prompt_replaced"]

    none = run(conv("hi", "hello"), system_prompt_mode="none", system_prompt="Be brief.")
    assert none["messages"][0]["role"] == "user"

    preference = run(pair("q", "a", "b"), system_prompt_mode="add_if_missing", system_prompt="S")
    assert preference["prompt"][0] == {"role": "system", "content": "S"}
    assert "system" not in {m["role"] for m in preference["chosen"]}


def test_preference_pairs_and_content_parts(pair) -> None:
    record = pair("  q  ", "a  b", "c")
    record["chosen"][0]["content"] = [
        {"type": "text", "text": " x  y "},
        {"type": "image_url", "image_url": {"url": "u"}},
    ]
    run(record)
    assert record["prompt"][0]["content"] == "q"
    assert record["chosen"][0]["content"][0]["text"] == "x y"
    assert record["metadata"]["normalised"] == ["whitespace"]


def test_idempotent_and_deterministic(conv) -> None:
    raw = conv(("human", " Caf\u0065\u0301  au\u200b lait \n\n\n\n?"), ("gpt", "```\n a  b \n```\n\n\n\nok  ok"))
    once = run(copy.deepcopy(raw))
    twice = run(copy.deepcopy(once))
    assert once["messages"] == twice["messages"]
    assert once == run(copy.deepcopy(raw))
    assert once["metadata"]["normalised"] == ["invisible", "nfc", "role", "whitespace"]


def test_clean_record_untouched(conv) -> None:
    record = run(conv("What is 2+2?", "It is 4."))
    assert record == conv("What is 2+2?", "It is 4.")


def test_pickle_round_trip(conv) -> None:
    stage = pickle.loads(
        pickle.dumps(NormaliseStage(NormaliseConfig(system_prompt_mode="replace", system_prompt="S")))
    )
    stage.load()
    record = conv("hi  there", "x")
    stage.process(record)
    assert record["messages"][0]["content"] == "S"


def test_config_rejects_unknown_keys() -> None:
    with pytest.raises(ValidationError):
        NormaliseConfig(collapse=True)  # type: ignore[call-arg]


def test_tool_parameters_written_with_python_type_names_become_json_schema() -> None:
    # LLaMA-Factory's reason_tool_use_demo_50.jsonl: "dict"/"str"/"int, optional"/"List[int]", bare property
    # maps and a function-level required list were exported as they were (OpenAI and Vertex refuse them)
    record = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "tools": [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "dict", "properties": {
            "id": {"type": "str", "description": "the id"}, "n": {"type": "int, optional"},
            "xs": {"type": "List[int]"}, "opts": {"type": "Dict[str, Any]"}, "when": {"type": "datetime"}}},
            "required": ["id", "n"]}},
        {"type": "function", "function": {"name": "g", "parameters": {"city": {"type": "str"}}}},
        {"type": "function", "function": {"name": "h", "parameters": {"type": "object", "properties": {
            "q": {"type": "string"}}, "required": ["q"]}}},
    ]}
    valid = record["tools"][2]
    NormaliseStage().process(record)
    f, g, h = (t["function"] for t in record["tools"])
    assert f["parameters"] == {"type": "object", "required": ["id"], "properties": {
        "id": {"type": "string", "description": "the id"}, "n": {"type": "integer"},
        "xs": {"type": "array", "items": {"type": "integer"}}, "opts": {"type": "object"},
        "when": {"type": "datetime"}}}  # an unknown name stays, for the exporters' schema checks to name
    assert "required" not in f
    assert g["parameters"] == {"type": "object", "properties": {"city": {"type": "string"}}}
    assert record["tools"][2] is valid  # valid JSON Schema is left as it is
    assert record["metadata"]["normalised"] == ["tool_schema"]
    again = copy.deepcopy(record)
    NormaliseStage().process(again)
    assert again["tools"] == record["tools"]  # idempotent


def test_tool_arrays_without_items_get_items() -> None:
    # OpenAI refuses an array schema without items ("array schema missing items"); "list" and bare "List" too
    record = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "tools": [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {
            "a": {"type": "array"}, "b": {"type": "list"}, "c": {"type": "List"}, "d": {"type": "Any"},
            "e": {"type": "array", "items": {"type": "array"}}, "u": {"type": "Union[int, str]"}}}}}]}
    NormaliseStage().process(record)
    properties = record["tools"][0]["function"]["parameters"]["properties"]
    strings = {"type": "array", "items": {"type": "string"}}
    assert properties == {"a": strings, "b": strings, "c": strings, "d": {"type": "string"},
                          "e": {"type": "array", "items": strings},
                          "u": {"anyOf": [{"type": "integer"}, {"type": "string"}]}}


def test_layout_spaces_in_an_agents_observation_are_kept() -> None:
    # princeton-nlp/SWE-agent trajectories: "2:    if x:" became "2: if x:" (the file view lost its indentation),
    # "add the line '        print(x)'" lost its indentation, and a curl progress table collapsed into
    # "100 422 5603", which redaction then took for a phone number
    view = "[File: a.py]\n1:def f(x):\n2:    if x:\n3:        return 1"
    table = "  % Total    % Received\n100   422   5603      0 --:--:--"
    record = {"messages": [{"role": "user", "content": view}, {"role": "user", "content": table},
                           {"role": "assistant", "content": "Let me run it.  It works."}]}
    NormaliseStage().process(record)
    assert record["messages"][0]["content"] == view
    assert record["messages"][1]["content"] == table.lstrip()
    assert record["messages"][2]["content"] == "Let me run it. It works."


def test_a_table_drawn_in_text_keeps_its_alignment() -> None:
    # a MySQL client's output pasted unfenced: "| name  |" became "| name |", off its "+-------+" border
    table = "+-------+-----+\n| name  | age |\n+-------+-----+\n| alice |  31 |\n| bob   |   4 |\n+-------+-----+"
    record = {"id": "x", "messages": [{"role": "user", "content": "Show the users."},
                                      {"role": "assistant", "content": f"Here it is:\n{table}\nDone.  Next."}]}
    NormaliseStage().process(record)
    assert record["messages"][1]["content"] == f"Here it is:\n{table}\nDone. Next."
