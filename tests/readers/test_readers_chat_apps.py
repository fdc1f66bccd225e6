"""Chat UIs' own files: what a team that fine-tunes on its own chats holds (Open WebUI, SillyTavern,
text-generation-webui).

The rows are built to the apps' real shapes, with short made-up text: Open WebUI's export is the `getAllChats`
response (``ChatResponse``: id, user_id, title, chat{history{messages, currentId}, messages, params, models},
created_at, ...) and its reasoning block is what backend/open_webui/utils/middleware.py writes (BSD-3-Clause);
SillyTavern's header and message lines are those of the app's own public/chats/Aqua/1673181146000.jsonl (old:
``is_name``, no ``is_system``) and of what public/script.js saveChat writes now (``swipes``, ``swipe_id``,
``extra``) (AGPL-3.0, so no file is copied); text-generation-webui's history is what modules/chat.py saves
(``internal``/``visible`` pairs, the ``<|BEGIN-VISIBLE-CHAT|>`` greeting) (AGPL-3.0).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from read_helpers import read, refused

from curation.readers import read_path
from curation.readers.mapping import FieldMapping


def _owui_message(key: str, parent: str | None, children: list[str], role: str, content: str,
                  **extra: Any) -> dict[str, Any]:
    return {"id": key, "parentId": parent, "childrenIds": children, "role": role, "content": content,
            "timestamp": 1718000000, **extra}


def _owui_chat(messages: list[dict[str, Any]], current: str | None, **chat: Any) -> dict[str, Any]:
    inner = {"id": "", "title": "Sums", "models": ["llama3:8b"], "params": {},
             "history": {"messages": {m["id"]: m for m in messages}, "currentId": current},
             "messages": messages, "tags": [], "timestamp": 1718000000000, "files": [], **chat}
    return {"id": "9c1f0b7e", "user_id": "u-1", "title": "Sums", "chat": inner, "updated_at": 1718000100,
            "created_at": 1718000000, "share_id": None, "archived": False, "pinned": False, "meta": {},
            "folder_id": None}


_REASONING = ('<details type="reasoning" done="true" duration="3">\n<summary>Thought for 3 seconds</summary>\n'
              "&gt; Two plus two.\n&gt; Check: 4 &lt; 5.\n</details>\n2 + 2 = 4.")


def _sums() -> list[dict[str, Any]]:
    return [
        _owui_message("u1", None, ["a1", "a2"], "user", "What is 2+2?", models=["llama3:8b"]),
        _owui_message("a1", "u1", [], "assistant", "It is 5.", model="llama3:8b", modelIdx=0, done=True),
        _owui_message("a2", "u1", ["u2"], "assistant", _REASONING, model="llama3:8b", modelIdx=0, done=True),
        _owui_message("u2", "a2", ["a3"], "user", "Thanks!"),
        _owui_message("a3", "u2", [], "assistant", "You're welcome.", model="llama3:8b", done=True),
    ]


def test_an_open_webui_export_is_the_branch_the_user_kept_with_its_system_prompt_and_reasoning(
        tmp_path: Path) -> None:
    # before: unknown_format (archived, chat, created_at, ... keys), the whole export refused
    path = tmp_path / "chat-export-1718000200000.json"
    path.write_bytes(orjson.dumps([_owui_chat(_sums(), "a3", params={"system": "You are terse."})]))
    [item] = list(read_path(path))
    assert item.error is None, item.error
    record = item.record
    assert record["id"] == "9c1f0b7e" and record["metadata"]["source"]["format"] == "open_webui"
    assert [(m["role"], m["content"]) for m in record["messages"]] == [
        ("system", "You are terse."), ("user", "What is 2+2?"), ("assistant", "2 + 2 = 4."), ("user", "Thanks!"),
        ("assistant", "You're welcome.")]
    # the regenerated "It is 5." is a branch the user left, counted, not a turn; the <details> HTML is gone
    assert record["metadata"]["left_out"] == {"other_branches": 1}
    assert record["messages"][2]["reasoning"] == "Two plus two.\nCheck: 4 < 5."
    assert record["metadata"]["fields"]["title"] == "Sums"


def test_an_open_webui_chat_without_current_id_follows_the_newest_child_and_a_bare_chat_reads_too() -> None:
    record = read(_owui_chat(_sums(), None)["chat"])
    assert [m["content"] for m in record["messages"]] == ["What is 2+2?", "2 + 2 = 4.", "Thanks!",
                                                           "You're welcome."]


def test_an_open_webui_answer_that_used_a_server_tool_or_retrieval_is_refused() -> None:
    tool = ('<details type="tool_calls" done="true" id="c1" name="get_time" arguments="{}" result="&quot;10:00'
            '&quot;">\n<summary>Tool Executed</summary>\n</details>\nIt is ten.')
    messages = [_owui_message("u1", None, ["a1"], "user", "Time?"),
                _owui_message("a1", "u1", [], "assistant", tool)]
    code, detail = refused(_owui_chat(messages, "a1"))
    assert code == "server_tool_call" and 'type="tool_calls"' in detail and "'a1'" in detail
    messages[1] = _owui_message("a1", "u1", [], "assistant", "Per the doc, ten.", sources=[{"source": {}}])
    assert refused(_owui_chat(messages, "a1"))[0] == "server_tool_call"


def _st_lines(*rows: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


_ST_HEADER = {"user_name": "unused", "character_name": "unused", "create_date": "2025-09-26@15h04m33s",
              "chat_metadata": {"integrity": "1e6905db", "note_prompt": "", "scenario": ""}}


def _st(name: str, is_user: bool, mes: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "is_user": is_user, "is_system": False, "send_date": "September 26, 2025 3:05pm",
            "mes": mes, "extra": {}, **extra}


def test_a_sillytavern_chat_file_is_one_conversation_of_the_chosen_swipes(tmp_path: Path) -> None:
    # before: every line its own unknown_format reject (the header's keys, then each message's)
    path = tmp_path / "Seraphina - 2025-09-26@15h04m33s.jsonl"
    path.write_bytes(_st_lines(
        _ST_HEADER,
        _st("Seraphina", False, "*She turns.* Welcome to Eldoria.", swipes=["*She turns.* Welcome to Eldoria.",
                                                                             "*A soft glow.* You are far from home."],
            swipe_id=0),
        _st("Alex", True, "Where am I?", force_avatar="User Avatars/user-default.png"),
        _st("Seraphina", False, "In the glade, safe.", swipes=["You are lost, I fear.", "In the glade, safe."],
            swipe_id=1, extra={"api": "openai", "model": "gpt-4o", "reasoning": "Reassure them."}),
        {**_st("Alex", True, "(OOC: hidden note)"), "is_system": True},
        _st("Alex", True, "Thank you."),
        _st("Seraphina", False, "Rest now."),
    ))
    [item] = list(read_path(path))
    assert item.error is None, item.error
    record = item.record
    assert record["metadata"]["source"]["format"] == "sillytavern" and record["id"] == "1e6905db"
    assert [(m["role"], m["content"]) for m in record["messages"]] == [
        ("assistant", "*She turns.* Welcome to Eldoria."), ("user", "Where am I?"),
        ("assistant", "In the glade, safe."), ("user", "Thank you."), ("assistant", "Rest now.")]
    assert record["messages"][0]["weight"] == 0  # the card's greeting, not the model's writing
    assert "weight" not in record["messages"][2] and record["messages"][2]["reasoning"] == "Reassure them."
    assert record["metadata"]["left_out"] == {"hidden_messages": 1, "other_swipes": 2}


def test_an_old_sillytavern_chat_reads_and_a_group_chat_needs_the_assistant_named(tmp_path: Path) -> None:
    # the header and message keys of SillyTavern's own public/chats/Aqua/1673181146000.jsonl
    old = tmp_path / "1673181146000.jsonl"
    old.write_bytes(_st_lines({"user_name": "You", "character_name": "Aqua", "create_date": 1674559896839},
                              {"name": "Aqua", "is_user": False, "is_name": True, "send_date": 1674563371558,
                               "mes": "Are you new here?"},
                              {"name": "You", "is_user": True, "is_name": True, "send_date": 1674563371600,
                               "mes": "Yes."},
                              {"name": "Aqua", "is_user": False, "is_name": True, "send_date": 1674563371700,
                               "mes": "Then follow me!"}))
    [item] = list(read_path(old))
    assert [m["role"] for m in item.record["messages"]] == ["assistant", "user", "assistant"]
    group = tmp_path / "group.jsonl"
    group.write_bytes(_st_lines({"chat_metadata": {"integrity": "abc"}, "user_name": "unused",
                                 "character_name": "unused"},
                                _st("Alex", True, "Hi both."), _st("Aqua", False, "Hello!"),
                                _st("Megumin", False, "Explosion!")))
    [item] = list(read_path(group))
    assert item.error is not None and item.error[0] == "unrecognized_role"
    assert "'Aqua'" in item.error[1] and "'Megumin'" in item.error[1] and "roles" in item.error[1]
    mapping = FieldMapping(roles={"Aqua": "assistant", "Megumin": "user"})
    [item] = list(read_path(group, mapping=mapping))
    assert [m["role"] for m in item.record["messages"]] == ["user", "assistant", "user"]


def test_a_text_generation_webui_history_reads_internal_with_the_greeting_at_weight_0(tmp_path: Path) -> None:
    # before: unknown_format (internal, metadata, visible)
    path = tmp_path / "20250610-10-00-00.json"
    history = {"internal": [["<|BEGIN-VISIBLE-CHAT|>", "How can I help you today?"], ["Is 1 < 2?", "Yes, 1 < 2."]],
               "visible": [["", "How can I help you today?"], ["Is 1 &lt; 2?", "Yes, 1 &lt; 2."]],
               "metadata": {"assistant_0": {"timestamp": "Jun 10, 2025 10:00"},
                            "assistant_1": {"timestamp": "Jun 10, 2025 10:01", "current_version_index": 1,
                                            "versions": [{"content": "No."}, {"content": "Yes, 1 < 2."}]}}}
    path.write_bytes(orjson.dumps(history, option=orjson.OPT_INDENT_2))
    [item] = list(read_path(path))
    assert item.error is None, item.error
    record = item.record
    assert record["metadata"]["source"]["format"] == "textgen_webui"
    assert [(m["role"], m["content"], m.get("weight")) for m in record["messages"]] == [
        ("assistant", "How can I help you today?", 0), ("user", "Is 1 < 2?", None), ("assistant", "Yes, 1 < 2.", None)]
    assert record["metadata"]["left_out"] == {"other_versions": 1}
    assert "assistant_0" not in record["metadata"] and "fields" not in record["metadata"]


def test_an_open_webui_answer_the_user_rated_down_is_undesirable() -> None:
    # Open WebUI keeps the thumbs-down on the message (annotation.rating -1, RateComment.svelte); it was dropped
    chat = _owui_chat([_owui_message("m1", None, ["m2"], "user", "What is 17*3?"),
                       _owui_message("m2", "m1", [], "assistant", "17*3 = 41.", done=True,
                                     annotation={"rating": -1, "reason": "Not factually correct",
                                                 "comment": "it is 51"})], "m2")
    record = read(chat)
    assert record["metadata"]["label"] is False and "rated answer m2 down" in record["metadata"]["label_from"]
    chat["chat"]["history"]["messages"]["m2"]["annotation"] = {"rating": 1}
    assert read(chat)["metadata"].get("label") is None
