"""Layouts of widely used public datasets, each as its own documentation writes a record: read into the
canonical model with nothing lost (per-turn bookkeeping goes to ``metadata.fields.turn_fields``)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from read_helpers import read, refused

from curation.checks import check_record
from curation.readers.convert import convert_payload

Q, A = "What is the capital of France?", "Paris is the capital of France."
QA = [{"role": "user", "content": Q}, {"role": "assistant", "content": A}]


@pytest.mark.parametrize(("obj", "messages"), [
    ({"question": Q, "answer": A}, QA),
    ({"query": Q, "response": A, "type": "GSM"}, QA),  # MetaMathQA
    ({"question": Q, "answer": "Paris", "output": A, "original_question": Q}, QA),  # MetaMath's GSM8K files
    ({"question": Q, "std_answer": A, "class": "generation"}, QA),  # BELLE's eval_set.json
    ({"problem": Q, "solution": A, "lang": "python"}, QA),  # Magicoder
    ({"input": Q, "output": A}, QA),
    ({"prompt": Q, "response": A}, QA),
    ({"user": Q, "assistant": A}, QA),
    ({"system_prompt": "Be brief.", "question": Q, "response": A},  # OpenOrca
     [{"role": "system", "content": "Be brief."}, *QA]),
    ({"instruction": Q, "context": "Passage.", "response": A, "category": "closed_qa"},  # Dolly
     [{"role": "user", "content": Q + "\n\nPassage."}, QA[1]]),
    ({"id": "u1", "data": [Q, A]}, QA),  # UltraChat
    ({"conversation": [{"input": Q, "output": A}]}, QA),  # Capybara
    ({"messages": [{"role": "User", "content": Q}, {"role": "Chatbot", "content": A}]}, QA),  # Cohere
    ({"contents": [{"role": "user", "parts": [{"text": Q}]}, {"role": "model", "parts": [{"text": A}]}]}, QA),
    ({"text": f"<|im_start|>user\n{Q}<|im_end|>\n<|im_start|>assistant\n{A}<|im_end|>"}, QA),
    ({"text": f"<s>[INST] {Q} [/INST] {A} </s>"}, QA),
    ({"text": f"<|start_header_id|>user<|end_header_id|>\n\n{Q}<|eot_id|><|start_header_id|>assistant"
              f"<|end_header_id|>\n\n{A}<|eot_id|>"}, QA),
    ({"text": f"### Human: {Q}### Assistant: {A}"}, QA),  # openassistant-guanaco
    # a tracing export (Langfuse): the call's messages as `input`, the reply as a message
    ({"input": [{"role": "system", "content": "Be brief."}, QA[0]], "output": QA[1], "model": "gpt-4o"},
     [{"role": "system", "content": "Be brief."}, *QA]),
    # a prompt's turns and the reply they got beside them (the reply was unread and the row refused)
    ({"messages": [QA[0]], "response": A}, QA),
    ({"messages": [QA[0]], "completion": QA[1]}, QA),
    # an Ollama /api/chat log: the request's messages and the response's message (no assistant turn before)
    ({"model": "llama3", "messages": [QA[0]], "message": QA[1], "done": True, "done_reason": "stop"}, QA),
    # an OpenAI evals sample
    ({"input": [{"role": "system", "content": "Be brief."}, QA[0]], "ideal": A},
     [{"role": "system", "content": "Be brief."}, *QA]),
    # LangSmith dataset examples
    ({"inputs": {"messages": [QA[0]]}, "outputs": {"messages": [QA[1]]}}, QA),
    ({"inputs": {"question": Q}, "outputs": {"answer": A}}, QA),
    # layouts that were unknown_format, or read with no roles
    ({"conv_id": "c1", "user_input": Q, "model_output": A, "toxicity": 0, "jailbreaking": 0}, QA),  # ToxicChat
    ({"role_1": "AI Assistant", "message_1": Q, "message_2": A, "sub_topic": "Geography"}, QA),  # CAMEL
    ({"text": f"<human>: {Q}\n<bot>: {A}"}, QA),  # LAION OIG (OpenChatKit's template)
    ({"bot_name": "Ann", "conversation": [{"message": Q, "is_human": True}, {"message": A, "is_human": False}]},
     QA),  # PIPPA: the speaker is a flag
    ({"conversations": [{"sender": "user", "text": Q}, {"sender": "assistant", "text": A}]}, QA),
    # the same turns under `messages` were read with no roles at all
    ({"messages": [{"message": Q, "is_human": True}, {"message": A, "is_human": False}]}, QA),
    ({"messages": [{"speaker": "user", "text": Q}, {"speaker": "assistant", "text": A}]}, QA),
    # CAMEL ai_society: numbered message dicts, the AI user instructs (unknown_format)
    ({"role_1": "Python Programmer_AI Assistant", "role_2": "Trader_AI User", "specified_task": "Write a bot.",
      "message_2": {"role_type": "ASSISTANT", "role_name": "Python Programmer", "role": "assistant", "content": A},
      "message_1": {"role_type": "USER", "role_name": "Trader", "role": "user", "content": Q, "meta_dict": None},
      "termination_reason": "<CAMEL_TASK_DONE>", "num_messages": 2}, QA),
    # OIG's retrieval sets: the passage before the first <human>: opens the question (unknown_format)
    ({"text": f"Background: Paris is in France.\n<human>: {Q}\n<bot>: {A}", "metadata": {"source": "oig"}},
     [{"role": "user", "content": f"Background: Paris is in France.\n\n{Q}"}, QA[1]]),
    # Anthropic's red-team attempts: the chat is the `transcript` (unknown_format)
    ({"transcript": f"\n\nHuman: {Q}\n\nAssistant: {A}", "rating": 0, "min_harmlessness_score_transcript": 1.2},
     QA),
    ({"human": Q, "bot": A}, QA),
], ids=["qa", "metamath", "metamath_gsm8k", "belle_eval", "magicoder", "input_output", "prompt_response",
        "user_assistant", "orca", "dolly",
        "ultrachat", "capybara", "cohere", "gemini", "chatml", "llama2", "llama3", "guanaco", "langfuse",
        "messages_response", "messages_completion_message", "ollama_log", "evals_ideal", "langsmith_messages",
        "langsmith_fields",
        "toxicchat", "camel", "oig", "pippa", "sender_chat", "pippa_messages", "speaker_messages",
        "camel_society", "oig_background", "redteam_transcript", "human_bot"])
def test_layout_read(obj: dict[str, Any], messages: list[dict[str, Any]]) -> None:
    assert read(obj)["messages"] == messages


def test_two_candidate_answers_are_not_guessed() -> None:
    items = convert_payload(orjson.dumps({"question": Q, "answer": A, "response": "x"}), None, None, "x.jsonl", 1)
    assert items[0].error is not None and items[0].error[0] == "unknown_format"
    # beside a prompt's turns too: the row stays as it is, with both in metadata.fields
    (item,) = convert_payload(orjson.dumps({"messages": [QA[0]], "response": A, "answer": "x"}), None, None,
                              "x.jsonl", 1)
    record = item.record
    assert record["messages"] == [QA[0]] and record["metadata"]["fields"] == {"response": A, "answer": "x"}
    # a column beside a conversation that already ends in its answer is that row's field, not a second answer
    record = read({"messages": QA, "response": "a judge's verdict"})
    assert record["messages"] == QA and record["metadata"]["fields"] == {"response": "a judge's verdict"}


def test_plain_text_is_reported_as_pretraining_text() -> None:
    items = convert_payload(orjson.dumps({"text": "Just an article."}), None, None, "x.jsonl", 1)
    assert items[0].error[0] == "unknown_format" and "pretraining text" in items[0].error[1]


def test_wildchat_turn_bookkeeping_is_set_aside_not_rejected() -> None:
    obj = {"conversation_hash": "h", "conversation": [
        {"content": Q, "role": "user", "language": "English", "country": "France", "toxic": False},
        {"content": A, "role": "assistant", "language": "English", "timestamp": None, "toxic": False}]}
    record = read(obj)
    assert record["messages"] == QA
    assert record["metadata"]["fields"]["turn_fields"] == [
        {"side": "messages", "index": 0, "fields": {"language": "English", "country": "France", "toxic": False}},
        {"side": "messages", "index": 1, "fields": {"language": "English", "timestamp": None, "toxic": False}}]


def test_openhermes_weights_null_and_on_prompt_turns() -> None:
    obj = {"conversations": [{"from": "system", "value": "Be brief.", "weight": None},
                             {"from": "human", "value": Q, "weight": 0.0}, {"from": "gpt", "value": A, "weight": 1.0}]}
    assert read(obj)["messages"] == [{"role": "system", "content": "Be brief."}, QA[0], {**QA[1], "weight": 1}]


@pytest.mark.parametrize("flag", ["loss", "training"])
def test_a_boolean_loss_or_training_flag_is_the_turns_weight(flag: str) -> None:
    # xtuner and ms-swift mask a turn with "loss": false, axolotl with "training": false; it was set aside in
    # turn_fields, and the masked answer was trained on.
    obj = {"messages": [{"role": "user", "content": Q, flag: False},
                        {"role": "assistant", "content": "Hm.", flag: False},
                        {"role": "user", "content": Q}, {"role": "assistant", "content": A, flag: True}]}
    record = read(obj)
    assert [m.get("weight") for m in record["messages"]] == [None, 0, None, 1]
    assert record["metadata"]["fields"]["turn_fields"] == [{"side": "messages", "index": 0, "fields": {flag: False}}]
    both = {"messages": [QA[0], {**QA[1], "weight": 1, flag: False}]}  # an explicit weight wins
    assert read(both)["messages"][1]["weight"] == 1


def test_bedrock_conversation_blocks() -> None:
    obj = {"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "Be brief."}],
           "messages": [{"role": "user", "content": [{"text": Q}]}, {"role": "assistant", "content": [{"text": A}]}]}
    messages = read(obj)["messages"]
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert messages[1] == {"role": "user", "content": [{"type": "text", "text": Q}]}


def test_v1_image_part_keeps_its_url() -> None:
    obj = {"messages": [{"role": "user", "content": [{"type": "image_url", "value": "img/1.jpg"},
                                                    {"type": "text", "value": Q}]},
                        {"role": "assistant", "content": [{"type": "text", "value": A}]}]}
    assert read(obj)["messages"][0]["content"][0] == {"type": "image_url", "image_url": {"url": "img/1.jpg"}}


def test_gemini_function_calls_become_tool_calls() -> None:
    obj = {"contents": [
        {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "weather", "args": {"city": "Paris"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "weather", "response": {"temp": 20}}}]},
        {"role": "model", "parts": [{"text": "It is 20 degrees."}]}]}
    messages = read(obj)["messages"]
    assert messages[1]["tool_calls"][0]["function"] == {"name": "weather", "arguments": '{"city":"Paris"}'}
    assert messages[2] == {"role": "tool", "content": '{"temp":20}', "tool_call_id": "call_0"}


def _flatten(node: dict[str, Any], tree_id: str, parent: str | None, rows: list[dict[str, Any]]) -> None:
    rows.append({"message_id": node["message_id"], "parent_id": parent, "message_tree_id": tree_id,
                 "role": node["role"], "text": node["text"], "lang": node.get("lang"), "rank": node.get("rank")})
    for reply in node.get("replies") or []:
        _flatten(reply, tree_id, node["message_id"], rows)


def test_oasst_message_rows_read_like_the_export_trees(real_dir, tmp_path) -> None:
    """oasst1/oasst2 on Hugging Face are flat rows; put back together they give the trees' conversations."""
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq

    from curation.readers import read_path

    trees = real_dir / "LAION-AI__Open-Assistant" / "en_100_tree.jsonl"
    rows: list[dict[str, Any]] = []
    for line in trees.read_bytes().splitlines():
        tree = orjson.loads(line)
        _flatten(tree["prompt"], tree["message_tree_id"], None, rows)
    random.Random(0).shuffle(rows)  # the file's order is not the tree's order
    rows.append({"message_id": "lost", "parent_id": "nowhere", "message_tree_id": "t", "role": "assistant",
                 "text": "an answer to a prompt that is not in the file"})
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "oasst.parquet")

    def paths(items) -> dict[str, tuple[list, str]]:
        return {i.record["id"]: ([m["content"] for m in i.record["messages"]],
                                i.record["metadata"]["fields"]["tree_id"])
                for i in items if i.record is not None}

    from_trees = paths(read_path(trees))
    items = list(read_path(tmp_path / "oasst.parquet"))
    assert paths(items) == from_trees and len(from_trees) > 100
    assert [i.error[0] for i in items if i.record is None] == ["orphan_message"]


def test_images_beside_the_turns_are_put_in_place() -> None:
    obj = {"messages": [{"role": "user", "content": "<image>Who are they?"}, {"role": "assistant", "content": A},
                        {"role": "user", "content": "And here?<image>"}, {"role": "assistant", "content": A}],
           "images": ["img/1.jpg", "img/2.jpg"]}
    record = read(obj)
    assert record["messages"][0]["content"] == [{"type": "image_url", "image_url": {"url": "img/1.jpg"}},
                                                {"type": "text", "text": "Who are they?"}]
    assert record["messages"][2]["content"][1] == {"type": "image_url", "image_url": {"url": "img/2.jpg"}}
    assert "images" not in record["metadata"].get("fields", {})


def test_two_records_about_different_images_are_not_duplicates() -> None:
    from curation.dedup.text import exact_text

    one, two = ({"messages": [{"role": "user", "content": "<image>Who?"}, {"role": "assistant", "content": A}],
                 "images": [name]} for name in ("a.jpg", "b.jpg"))
    assert exact_text(read(one)) != exact_text(read(two))


def test_an_image_token_without_its_image_is_an_error() -> None:
    obj = {"messages": [{"role": "user", "content": "<image>Who?"}, {"role": "assistant", "content": A}]}
    items = convert_payload(orjson.dumps(obj), None, None, "x.jsonl", 1)
    assert [f.code for f in check_record(items[0].record) if f.severity == "error"] == ["image_missing"]


def _chats(n: int) -> list[dict[str, Any]]:
    return [{"messages": [{"role": "user", "content": f"Question {i}?"},
                          {"role": "assistant", "content": f"Answer {i}."}]} for i in range(n)]


def test_pretty_printed_records_one_after_another(tmp_path) -> None:
    from curation.readers import read_path

    path = tmp_path / "pretty.jsonl"  # json.dump(record, indent=2) per record, as people write them
    path.write_text("\n".join(orjson.dumps(r, option=orjson.OPT_INDENT_2).decode() for r in _chats(3)) + "\n")
    items = list(read_path(path))
    assert [i.record["messages"][0]["content"] for i in items] == ["Question 0?", "Question 1?", "Question 2?"]
    assert [i.line for i in items] == [1, 13, 25]


def test_pretty_printed_records_with_raw_line_breaks_and_one_broken_record(tmp_path) -> None:
    # OpenAI cookbook examples/data/01-testing-example.jsonl: pretty-printed records, some with line breaks
    # typed raw inside a string. One such record cost the whole file (0 records, one not_json for element 0).
    from curation.readers import read_path

    pretty = [orjson.dumps(r, option=orjson.OPT_INDENT_2).decode() for r in _chats(4)]
    pretty[1] = pretty[1].replace("Answer 1.", "The criteria is:\n\n   OPTION #1")  # raw breaks in a string
    pretty[2] = pretty[2].replace('"role": "assistant",', '"role": "assistant"')  # a comma left out
    path = tmp_path / "pretty.jsonl"
    path.write_text("\n".join(pretty) + "\n")
    items = list(read_path(path))
    assert [i.line for i in items] == [1, 13, 27, 39]
    assert [i.error for i in items[:2]] == [None, None]
    assert items[1].record["messages"][1]["content"] == "The criteria is:\n\n   OPTION #1"
    assert items[2].record is None and items[2].error[0] == "not_json"
    assert items[2].error[1].startswith("line 35: Expecting ',' delimiter"), items[2].error  # its own line
    assert items[3].record["messages"][0]["content"] == "Question 3?"


def test_a_jsonl_line_with_a_raw_tab_in_a_string_is_read(tmp_path) -> None:
    # A hand-edited or naively written line: a raw tab or control character inside a string is what it says.
    from curation.readers import read_path

    path = tmp_path / "tabs.jsonl"
    path.write_bytes(b'{"messages": [{"role": "user", "content": "a\tb"}, {"role": "assistant", "content": "ok"}]}\n')
    (item,) = read_path(path)
    assert item.error is None and item.record["messages"][0]["content"] == "a\tb"


def test_records_wrapped_in_one_object(tmp_path) -> None:
    from curation.readers import read_path

    wrapped = tmp_path / "wrapped.json"
    wrapped.write_bytes(orjson.dumps({"version": "1.0", "data": _chats(2)}))
    splits = tmp_path / "splits.json"
    splits.write_bytes(orjson.dumps({"train": _chats(2), "test": _chats(3)[2:]}))
    assert [i.record["metadata"]["fields"]["source_key"] for i in read_path(wrapped)] == ["data", "data"]
    assert [i.record["metadata"]["fields"]["source_key"] for i in read_path(splits)] == ["train", "train", "test"]
    # the wrapper's own short values go with each record (the version was dropped unseen before)
    assert [i.record["metadata"]["fields"]["version"] for i in read_path(wrapped)] == ["1.0", "1.0"]


def test_llama_factory_v1_preference_pair_with_typed_parts_and_loss_weights() -> None:
    """LLaMA-Factory v1 DPO rows (data/v1_dpo_demo.jsonl): `value` parts and `loss_weight` on every side."""
    def side(answer: str) -> list[dict[str, Any]]:
        return [{"role": "system", "content": [{"type": "text", "value": "Be brief."}], "loss_weight": 0.0},
                {"role": "user", "content": [{"type": "text", "value": Q}], "loss_weight": 0.0},
                {"role": "assistant", "content": [{"type": "text", "value": answer}], "loss_weight": 1.0}]

    record = read({"chosen_messages": side(A), "rejected_messages": side("London.")})
    assert record["prompt"] == [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
                                {"role": "user", "content": [{"type": "text", "text": Q}]}]
    assert record["chosen"] == [{"role": "assistant", "content": [{"type": "text", "text": A}], "weight": 1}]
    assert record["rejected"][0]["content"] == [{"type": "text", "text": "London."}]


@pytest.mark.parametrize(("obj", "fields"), [
    ({"conversation_id": "dlg-1", "utterances": [  # Taskmaster
        {"index": 0, "speaker": "USER", "text": Q}, {"index": 1, "speaker": "ASSISTANT", "text": A}]}, None),
    # MultiWOZ / SGD call the agent SYSTEM: it answers the user, it is no system prompt
    ({"dialogue_id": "d1", "turns": [{"speaker": "USER", "utterance": Q}, {"speaker": "SYSTEM", "utterance": A}]},
     {"dialogue_id": "d1"}),
    ({"chat": [{"sender": "user", "text": Q}, {"sender": "assistant", "text": A}], "app": "web"}, {"app": "web"}),
    ({"dialogue": [Q, A]}, None),
], ids=["taskmaster", "multiwoz", "chat", "dialogue_strings"])
def test_turns_under_other_names(obj: dict[str, Any], fields: dict[str, Any] | None) -> None:
    # Each was an unknown_format reject pointing at a field mapping.
    (item,) = convert_payload(orjson.dumps(obj), None, None, "x.jsonl", 1)
    assert item.error is None and item.record["messages"] == QA
    if fields is not None:
        assert item.record["metadata"]["fields"] == fields


def test_mt_bench_turns_are_questions_not_a_dialogue() -> None:
    # MT-Bench lists the user's two questions as `turns`: alternating them would make the second an answer.
    (item,) = convert_payload(orjson.dumps({"question_id": 81, "turns": [Q, "And its population?"]}), None, None,
                              "question.jsonl", 1)
    assert item.error is not None and item.error[0] == "unknown_format"


def test_argilla_chosen_and_rejected_response_columns_are_a_preference_pair() -> None:
    # argilla/ultrafeedback-binarized-preferences: refused as unknown_format
    record = read({"source": "evol_instruct", "instruction": Q, "chosen_response": A, "chosen_rating": 5.0,
                   "rejected_response": "Lyon.", "rejected_rating": 2.0})
    assert record["prompt"] == [QA[0]] and record["chosen"] == [QA[1]]
    assert record["rejected"] == [{"role": "assistant", "content": "Lyon."}]


@pytest.mark.parametrize("obj", [
    {"query": Q, "response": A, "history": [["Hi.", "Hello!"]]},  # ChatGLM, LLaMA-Factory's query/response
    {"prompt": Q, "response": A, "history": [["Hi.", "Hello!"]]},
    {"instruction": Q, "output": A, "history": [["Hi.", "Hello!"]]},
])
def test_history_before_a_single_exchange_opens_the_conversation(obj: dict[str, Any]) -> None:
    # query/response with history: the earlier turns sat in metadata.fields and trained as a one-turn chat
    record = read(obj)
    assert record["messages"] == [{"role": "user", "content": "Hi."}, {"role": "assistant", "content": "Hello!"},
                                  *QA]
    assert "history" not in record["metadata"].get("fields", {})


@pytest.mark.parametrize("history", [[["Hi.", "Hello!", "extra"]], [{"q": "Hi."}], "Hi. Hello!", [None]])
def test_a_history_that_is_not_question_answer_pairs_is_refused_not_dropped(history: Any) -> None:
    # a pair that was not two items was skipped without a word: the chat trained without that turn
    for obj in ({"instruction": Q, "output": A, "history": history}, {"query": Q, "response": A, "history": history}):
        (item,) = convert_payload(orjson.dumps(obj), None, None, "x.jsonl", 1)
        assert item.error is not None and item.error[0] == "data_type", (obj, item.error)
        assert "history" in item.error[1]
    # an empty history is no history
    assert read({"query": Q, "response": A, "history": []})["messages"] == QA


def test_a_text_beside_the_chat_transcript_is_kept_as_a_field() -> None:
    record = read({"transcript": f"\n\nHuman: {Q}\n\nAssistant: {A}", "text": "a note, not a chat"})
    assert record["messages"] == QA and record["metadata"]["fields"] == {"text": "a note, not a chat"}


@pytest.mark.parametrize("key", ["messages", "conversations"])
def test_several_conversations_saved_in_one_record_are_one_record_each(key: str) -> None:
    # {"conversations": [[turns], [turns]]}: one record whose messages were lists, refused as data_type
    other = [{"role": "user", "content": "And 3+3?"}, {"role": "assistant", "content": "6."}]
    items = convert_payload(orjson.dumps({key: [QA, other], "source": "app"}), None, None, "x.jsonl", 1)
    assert [i.record["messages"] for i in items] == [QA, other]
    assert all(i.record["metadata"]["fields"] == {"source": "app"} for i in items)
    assert len({i.record["id"] for i in items}) == 2


def test_records_keyed_by_their_id_are_read_with_that_id() -> None:
    # json.dump({id: record}): the whole file was one unknown_format reject
    obj = {"q1": {"instruction": Q, "output": A}, "q2": {"id": "own", "question": "2+2?", "answer": "4."}}
    items = convert_payload(orjson.dumps(obj), None, None, "x.json", None)
    assert [i.record["id"] for i in items] == ["q1", "own"]
    assert items[0].record["messages"] == QA
    # a mix of records and other values is not guessed at
    (item,) = convert_payload(orjson.dumps({"q1": {"instruction": Q, "output": A}, "n": 1}), None, None, "x.json",
                              None)
    assert item.error is not None and item.error[0] == "unknown_format"


def test_an_answer_cut_at_the_token_limit_beside_messages_is_refused() -> None:
    line = {"model": "llama3", "messages": [QA[0]], "message": QA[1], "done": True, "done_reason": "length"}
    (item,) = convert_payload(orjson.dumps(line), None, None, "x.jsonl", 1)
    assert item.error is not None and item.error[0] == "incomplete_answer"
    # Cohere's `message` is the user's words, not an answer
    (cohere,) = convert_payload(orjson.dumps({"messages": [QA[0]], "message": "And Spain?"}), None, None, "x", 1)
    assert cohere.record is not None and cohere.record["messages"] == [QA[0]]


# --- images and other media beside or inside the turns ---------------------------------------------------
PIC = "https://example.com/demo.jpeg"


def _raw(obj: dict[str, Any]) -> dict[str, Any]:
    """The record ``obj`` reads to, whatever the checks say of it."""
    (item,) = convert_payload(orjson.dumps(obj), None, None, "x.jsonl", 1, 0)
    return item.record


def _image(url: str = PIC) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


@pytest.mark.parametrize("part", [{"type": "image", "image": PIC}, {"type": "image", "url": PIC},
                                  {"type": "image", "path": PIC}, {"type": "image_url", "image_url": PIC}])
def test_image_parts_written_the_qwen_or_hugging_face_way_are_image_url_parts(part: dict[str, Any]) -> None:
    # xtuner's qwen35 test data: {"type": "image", "image": URL} was a content part of unknown type (missing_content)
    record = read({"messages": [{"role": "user", "content": [part, {"type": "text", "text": Q}]},
                                {"role": "assistant", "content": A}]})
    assert record["messages"][0]["content"] == [_image(), {"type": "text", "text": Q}]
    assert not [f for f in check_record(record) if f.severity == "error"]


def test_image_placeholder_parts_take_the_records_images_in_order() -> None:
    # TRL's vision layout: {"type": "image"} parts in the turns, the files in `images`
    record = read({"messages": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": Q},
                                                             {"type": "image"}]},
                                {"role": "assistant", "content": A}], "images": ["a.png", "b.png"]})
    assert record["messages"][0]["content"] == [_image("a.png"), {"type": "text", "text": Q}, _image("b.png")]
    assert "images" not in record["metadata"].get("fields", {})
    lone = _raw({"messages": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": Q}]},
                              {"role": "assistant", "content": A}]})
    assert [f.code for f in check_record(lone) if f.severity == "error"] == ["image_missing"]


@pytest.mark.parametrize("obj", [
    {"input": "What is presented on image?", "output": "PyTorch logo.", "image": "tests/assets/rgb_pytorch.png"},
    {"query": "What is presented on image?", "response": "PyTorch logo.", "images": ["tests/assets/rgb_pytorch.png"]},
])
def test_images_with_no_place_marked_open_the_first_user_turn(obj: dict[str, Any]) -> None:
    # torchtune's vqa_tiny.json and ms-swift's multi_modal_2.jsonl: the image sat in metadata.fields, unflagged,
    # and the model was trained to describe a picture it never saw
    record = read(obj)
    assert record["messages"][0]["content"] == [_image("tests/assets/rgb_pytorch.png"),
                                                {"type": "text", "text": "What is presented on image?"}]
    assert not {"image", "images"} & set(record["metadata"].get("fields", {}))


def test_qwen_vl_img_tags_are_image_parts() -> None:
    record = read({"query": f"Picture 1: <img>{PIC}</img>\nWhat is this? <img>not an image</img>", "response": A})
    assert record["messages"][0]["content"] == [_image(), {"type": "text", "text": "What is this? <img>not an "
                                                                                 "image</img>"}]


def test_video_and_audio_are_refused_as_unsupported_media() -> None:
    # LLaMA-Factory's mllm_video_demo.json: kept as text SFT with a literal <video>, exported so
    from read_helpers import refused

    code, detail = refused({"messages": [{"role": "user", "content": "<video>Why is this video funny?"},
                                         {"role": "assistant", "content": "A baby is reading."}],
                            "videos": ["mllm_demo_data/1.mp4"]})
    assert code == "unsupported_media" and "videos" in detail
    video_part = _raw({"messages": [{"role": "user", "content": [{"type": "video", "path": "tennis.mp4"},
                                                                 {"type": "text", "text": "Describe it."}]},
                                    {"role": "assistant", "content": "Tennis."}]})
    token = _raw({"messages": [{"role": "user", "content": "<audio>What is said?"},
                               {"role": "assistant", "content": "Hello."}]})
    for record in (video_part, token):
        assert [f.code for f in check_record(record) if f.severity == "error"] == ["unsupported_media"]


@pytest.mark.parametrize("obj", [{"question": "What is 6*7?", "answer": 42},
                                 {"instruction": "What is 6*7?", "input": "", "output": 42.0},
                                 {"messages": [{"role": "user", "content": "What is 6*7?"},
                                               {"role": "assistant", "content": 42}]}])
def test_a_number_typed_as_the_answer_is_its_text(obj: dict[str, Any]) -> None:
    # an Excel cell holding 42 (or JSON's {"answer": 42}) was missing_content ("content is a int") or unknown_format
    assert read(obj)["messages"][1] == {"role": "assistant", "content": "42"}


def test_an_images_column_of_hugging_face_image_structs_is_read() -> None:
    # datasets' Sequence(Image()) stored with paths: [{"bytes": None, "path": ...}] was image_missing
    record = read({"messages": [{"role": "user", "content": "<image>Who are they?"},
                                {"role": "assistant", "content": A}],
                   "images": [{"bytes": None, "path": "img/1.jpg"}]})
    assert record["messages"][0]["content"] == [_image("img/1.jpg"), {"type": "text", "text": "Who are they?"}]


def test_a_langfuse_generation_logged_with_tools_keeps_its_tools_and_call() -> None:
    weather = {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}}}}
    call = {"id": "call_m", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Madrid"}'}}
    record = read({"id": "obs-3", "type": "GENERATION", "model": "gpt-4o",
                   "input": {"messages": [{"role": "user", "content": "What's the weather in Madrid?"}],
                             "tools": [weather], "temperature": 0},
                   "output": {"role": "assistant", "content": None, "tool_calls": [call]}})
    assert record["messages"] == [{"role": "user", "content": "What's the weather in Madrid?"},
                                  {"role": "assistant", "content": None, "tool_calls": [call]}]
    assert record["tools"] == [weather]
    assert record["metadata"]["fields"]["model"] == "gpt-4o"
    assert record["metadata"]["fields"]["request"] == {"temperature": 0}


def test_a_helicone_request_export_is_a_logged_call() -> None:
    # Helicone's export names the halves request_body / response_body (was unknown_format)
    record = read({"request_id": "r1", "request_body": {"model": "gpt-4o", "messages": [
        {"role": "user", "content": "Hi there"}]}, "response_body": {"choices": [
            {"message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}]}})
    assert record["messages"] == [{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello!"}]
    assert record["metadata"]["source"]["format"] == "api_log"


def test_classification_rows_are_refused_saying_how_to_make_them_chat() -> None:
    # GLUE/IMDB layouts on the Hub: text columns and a class number, no instruction and no reply to train
    for row, column in (({"text": "I rented I AM CURIOUS-YELLOW from my video store.", "label": 0}, "text"),
                        ({"idx": 0, "sentence": "hide new secretions from the parental units ", "label": 0},
                         "sentence"),
                        ({"premise": "Conceptually cream skimming has two basic dimensions.",
                          "hypothesis": "Product and geography are what make cream skimming work.", "label": 1,
                          "idx": 0}, "premise")):
        code, detail = refused(row)
        assert code == "unknown_format"
        assert "it is a classification row" in detail and f"{{{column}}}" in detail and "label's name" in detail


def test_a_bfcl_question_without_its_answer_is_refused_naming_the_answer_file() -> None:
    row = {"id": "simple_0",
           "question": [[{"role": "user", "content": "Find the area of a triangle with a base of 10 units and "
                                                     "height of 5 units."}]],
           "function": [{"name": "calculate_triangle_area", "description": "Calculate the area of a triangle.",
                         "parameters": {"type": "dict", "properties": {"base": {"type": "integer"}},
                                        "required": ["base"]}}]}
    code, detail = refused(row)
    assert code == "unknown_format" and "possible_answer" in detail and "decontaminate.paths" in detail


def test_the_cauldron_texts_are_one_conversation_about_its_images() -> None:
    # HuggingFaceM4/the_cauldron and Docmatix: {"images", "texts": [{"user", "assistant", "source"}]}. Read through
    # the wrapper path before, each exchange became a text-only pair and the images were dropped without a word.
    row = {"images": [{"bytes": None, "path": "ai2d/0.png"}],
           "texts": [{"user": "Question: What does label A represent?\nChoices:\nA. Egg\nB. Larva\nAnswer with the "
                              "letter.", "assistant": "Answer: A", "source": "AI2D"},
                     {"user": "And label B?", "assistant": "Answer: B", "source": "AI2D"}]}
    record = read(row)
    messages = record["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0]["content"][0] == {"type": "image_url", "image_url": {"url": "ai2d/0.png"}}
    assert messages[3]["content"] == "Answer: B"
    assert record["metadata"]["fields"]["turn_fields"][0]["fields"] == {"source": "AI2D"}


def test_an_image_under_another_column_name_is_attached() -> None:
    # allenai/pixmo-ask-model-anything keeps its image as a URL in image_url, TheoremQA in Picture: left in
    # metadata.fields before, so "What is shown in this image?" was trained without the image
    pixmo = read({"image_url": "https://example.com/img/1.jpg", "image_sha256": "ab",
                  "question": "What is shown in this image?", "answer": "A red bus on a city street."})
    assert pixmo["messages"][0]["content"][0] == {"type": "image_url",
                                                  "image_url": {"url": "https://example.com/img/1.jpg"}}
    theorem = read({"Question": "What is the area of the triangle shown?", "Answer": "6", "Answer_type": "integer",
                    "Picture": "images/tri.png", "id": "t1", "theorem": "area"})
    assert theorem["messages"][0]["content"][0]["image_url"] == {"url": "images/tri.png"}
    assert "Picture" not in theorem["metadata"]["fields"]


def test_answers_their_logs_mark_cut_off_or_failed_are_refused() -> None:
    # Ollama's /api/generate log, a prompt/completion log and a chat log that say the length limit cut the answer
    for row in ({"model": "llama3.2", "prompt": "Write a long essay about Rome.",
                 "response": "Rome was founded in 753 BC and grew", "done": True, "done_reason": "length"},
                {"prompt": "Write an essay about Rome.", "completion": "Rome was founded in",
                 "finish_reason": "length"},
                {"messages": [{"role": "user", "content": "Write an essay about Rome."},
                              {"role": "assistant", "content": "Rome was founded in"}], "stop_reason": "max_tokens"}):
        code, detail = refused(row)
        assert code == "incomplete_answer" and "cut off" in detail
    # ChatBox keeps the partial text of a failed answer beside its error
    code, detail = refused({"messages": [{"role": "user", "content": "List three fruits."},
                                         {"role": "assistant", "content": "1. Apple\n2.", "error": "Network Error",
                                          "errorCode": 10001}]})
    assert code == "incomplete_answer" and "Network Error" in detail
    # Langfuse's observation level, Braintrust's span error
    for row in ({"id": "o2", "traceId": "t2", "type": "GENERATION", "input": [{"role": "user", "content": "a poem"}],
                 "output": {"role": "assistant", "content": "Roses are"}, "level": "ERROR",
                 "statusMessage": "Stream interrupted"},
                {"id": "b3", "input": [{"role": "user", "content": "What year did WW2 end?"}], "output": "1945",
                 "error": "Error: stream aborted", "span_attributes": {"type": "llm"}}):
        code, detail = refused(row)
        assert code == "incomplete_answer" and "failed" in detail
    assert read({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
                 "finish_reason": "stop"})["messages"][1]["content"] == "hello"


def test_an_anythingllm_answer_rated_bad_is_undesirable() -> None:
    # Mintplex-Labs/anything-llm server/utils/helpers/chat/convertTo.js: rating GOOD / BAD / --
    row = {"id": 2, "prompt": "What is 12*12?", "response": "124", "sent_at": "2024-05-01T10:01:00.000Z",
           "attachments": [], "workspace": "WS", "username": "alice", "rating": "BAD"}
    record = read(row)
    assert record["metadata"]["label"] is False and record["metadata"]["label_from"].startswith("rating: BAD")
    assert read({**row, "rating": "GOOD"})["metadata"]["fields"]["rating"] == "GOOD"
