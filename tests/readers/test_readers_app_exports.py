"""The data exports of ChatGPT and claude.ai (``conversations.json``): what a team holds of its own chats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from curation.readers import read_path


def _node(key: str, parent: str | None, children: list[str], role: str | None, content: Any = None,
          **message: Any) -> dict[str, Any]:
    body = None if role is None else {"id": key, "author": {"role": role, "name": None, "metadata": {}},
                                      "create_time": 1.7e9, "content": content, "status": "finished_successfully",
                                      "weight": 1.0, "metadata": {}, "recipient": "all", **message}
    return {"id": key, "message": body, "parent": parent, "children": children}


def _text(*parts: Any) -> dict[str, Any]:
    return {"content_type": "text", "parts": list(parts)}


def _chatgpt(title: str, nodes: list[dict[str, Any]], current: str) -> dict[str, Any]:
    return {"title": title, "create_time": 1.7e9, "update_time": 1.7e9, "mapping": {n["id"]: n for n in nodes},
            "moderation_results": [], "current_node": current, "plugin_ids": None, "conversation_id": f"c-{title}",
            "default_model_slug": "gpt-4o", "id": f"c-{title}"}


def _chats(tmp_path: Path, name: str, chats: list[dict[str, Any]]) -> list[Any]:
    path = tmp_path / name
    path.write_bytes(orjson.dumps(chats, option=orjson.OPT_INDENT_2))
    return list(read_path(path))


def test_a_chatgpt_export_is_one_record_per_conversation_along_the_branch_the_user_kept(tmp_path: Path) -> None:
    hidden = {"is_visually_hidden_from_conversation": True}
    plain = _chatgpt("Capital", [
        _node("root", None, ["sys"], None),
        _node("sys", "root", ["ctx"], "system", _text(""), metadata=hidden),
        _node("ctx", "sys", ["q1", "q1b"], "user", {"content_type": "user_editable_context",
                                                   "user_profile": "I teach.", "user_instructions": "Be brief."}),
        _node("q1", "ctx", ["a1"], "user", _text("Capital of France?")),
        _node("a1", "q1", [], "assistant", _text("Paris.")),
        # the user edited the question: the new branch is the conversation, the old one is not
        _node("q1b", "ctx", ["t", "a2"], "user", _text("Capital of Italy?")),
        _node("t", "q1b", ["recap"], "assistant", {"content_type": "thoughts", "thoughts": [
            {"summary": "Recall", "content": "Italy's capital is Rome."}]}),
        _node("recap", "t", ["a2"], "assistant", {"content_type": "reasoning_recap", "content": "Thought for 2s"}),
        _node("a2", "recap", [], "assistant", _text("Rome.")),
    ], current="a2")
    image = _chatgpt("Photo", [
        _node("r", None, ["u"], None),
        _node("u", "r", ["a"], "user", {"content_type": "multimodal_text", "parts": [
            {"content_type": "image_asset_pointer", "asset_pointer": "file-service://file-abc", "width": 10},
            "What is this?"]}),
        _node("a", "u", [], "assistant", _text("A cat.")),
    ], current="a")
    python = _chatgpt("Sum", [
        _node("r", None, ["u"], None),
        _node("u", "r", ["c"], "user", _text("Sum 1..100?")),
        _node("c", "u", ["o"], "assistant", {"content_type": "code", "language": "unknown",
                                             "text": "sum(range(101))"}, recipient="python"),
        _node("o", "c", ["a"], "tool", {"content_type": "execution_output", "text": "5050"}),
        _node("a", "o", [], "assistant", _text("5050.")),
    ], current="a")
    items = _chats(tmp_path, "conversations.json", [plain, image, python])
    assert [i.format for i in items] == ["chatgpt_export"] * 3
    first = items[0]
    assert first.error is None and first.record["id"] == "c-Capital"
    assert first.record["messages"] == [
        {"role": "system", "content": "I teach.\n\nBe brief."}, {"role": "user", "content": "Capital of Italy?"},
        {"role": "assistant", "content": "Rome.", "reasoning": "Italy's capital is Rome."}]
    assert first.record["metadata"]["fields"]["title"] == "Capital"
    assert "mapping" not in first.record["metadata"]["fields"]
    # the export names the uploaded image, not its bytes: the answer describes what the data lacks
    assert items[1].error[0] == "image_missing" and "file-service://file-abc" in items[1].error[1]
    assert items[2].error[0] == "server_tool_call" and "'python'" in items[2].error[1]


def test_a_claude_export_reads_attachments_thinking_and_refuses_server_tools(tmp_path: Path) -> None:
    def message(sender: str, text: str, **extra: Any) -> dict[str, Any]:
        return {"uuid": f"m-{text[:3]}", "text": text, "sender": sender, "created_at": "2025-01-01T00:00:00Z",
                "attachments": [], "files": [], **extra}

    doc = {"file_name": "notes.txt", "file_size": 20, "file_type": "txt", "extracted_content": "Q3 revenue: 4M."}
    chats = [
        {"uuid": "u1", "name": "Revenue", "created_at": "2025", "updated_at": "2025", "account": {"uuid": "a"},
         "chat_messages": [message("human", "Summarise the notes.", attachments=[doc]),
                           message("assistant", "Revenue was 4M.", content=[
                               {"type": "thinking", "thinking": "The notes give 4M."},
                               {"type": "text", "text": "Revenue was 4M."}])]},
        {"uuid": "u2", "name": "News", "chat_messages": [
            message("human", "News today?"),
            message("assistant", "", content=[{"type": "tool_use", "name": "web_search", "input": {"q": "news"}},
                                              {"type": "text", "text": "Today..."}])]},
    ]
    first, second = _chats(tmp_path, "conversations.json", chats)
    assert first.error is None and first.format == "claude_export" and first.record["id"] == "u1"
    assert first.record["messages"] == [
        {"role": "user", "content": "Summarise the notes.\n\nQ3 revenue: 4M."},
        {"role": "assistant", "content": "Revenue was 4M.", "reasoning": "The notes give 4M."}]
    assert first.record["metadata"]["fields"]["name"] == "Revenue"
    assert second.error[0] == "server_tool_call" and "web_search" in second.error[1]


def test_an_unzipped_export_folder_reads_its_conversations_not_its_account_files(tmp_path: Path) -> None:
    from curation.readers import expand_inputs

    # each account file was one or more unknown_format rejects in every run over the export folder
    (tmp_path / "conversations.json").write_bytes(b"[]")
    (tmp_path / "user.json").write_bytes(b'{"id": "user-1", "email": "a@example.com", "chatgpt_plus_user": true}')
    (tmp_path / "message_feedback.json").write_bytes(b'[{"id": "f1", "conversation_id": "c1", "rating": "thumbsUp"}]')
    (tmp_path / "shared_conversations.json").write_bytes(b'[{"id": "s1", "conversation_id": "c1", "title": "T"}]')
    (tmp_path / "users.json").write_bytes(b'[{"uuid": "u", "full_name": "A"}]')
    (tmp_path / "projects.json").write_bytes(b'[{"uuid": "p", "name": "P", "docs": []}]')
    assert [p.name for p in expand_inputs([tmp_path])] == ["conversations.json"]
    # without conversations.json beside them the names mean nothing special; named directly, a file is read
    (tmp_path / "conversations.json").unlink()
    assert len(expand_inputs([tmp_path])) == 5
    (tmp_path / "conversations.json").write_bytes(b"[]")
    assert expand_inputs([tmp_path / "user.json"]) == [tmp_path / "user.json"]


def test_chatgpt_export_faults_found_by_an_adversarial_pass(tmp_path: Path) -> None:
    hidden = {"is_visually_hidden_from_conversation": True, "is_user_system_message": True}
    chat = _chatgpt("Stop", [
        _node("r", None, ["ctx"], None),
        # real exports hide the custom instructions too: they were dropped
        _node("ctx", "r", ["u1"], "user", {"content_type": "user_editable_context", "user_instructions": "Be brief."},
              metadata=hidden),
        _node("u1", "ctx", ["t"], "user", _text("hello")),
        _node("t", "u1", ["u2"], "assistant", {"content_type": "thoughts", "thoughts": [{"content": "THINK-1"}]}),
        # the user stopped the answer and asked again: the thoughts were given to the next answer
        _node("u2", "t", ["err"], "user", _text("next")),
        _node("err", "u2", ["a"], "system", {"content_type": "system_error", "text": "Error getting link"}),
        _node("a", "err", ["a2"], "assistant", _text("ans2")),
        _node("a2", "a", [], "assistant", _text("more")),
    ], current="a2")
    bad = _chatgpt("Bad", [_node("r", None, ["u"], None), _node("u", "r", [], "user", {"content_type": ["text"]})],
                   current="u")
    items = _chats(tmp_path, "conversations.json", [chat, bad])
    assert items[0].record["messages"] == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"},
        {"role": "user", "content": "next"}, {"role": "assistant", "content": "ans2\n\nmore"}]
    assert items[1].error[0] == "data_type" and "Error" not in items[1].error[1]
    # another record's plain `mapping` column is not an export tree; `messages` beside chat_messages win
    other = _chats(tmp_path, "other.json", [
        {"instruction": "2+2?", "output": "4", "mapping": {"a": "b"}, "current_node": "a"},
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
         "chat_messages": [{"sender": "human", "text": "x"}]}])
    assert [i.format for i in other] == ["alpaca", "openai"]


def test_chatgpt_blank_assistant_messages_add_no_blank_lines_and_a_mapping_cycle_is_named(tmp_path: Path) -> None:
    start = [_node("r", None, ["u"], None), _node("u", "r", ["e"], "user", _text("q"))]
    # a blank message ChatGPT wrote before the answer (and one after it): no blank lines around the answer
    blank_first = _chatgpt("Blank", [*start, _node("e", "u", ["a"], "assistant", _text("\n")),
                                     _node("a", "e", ["z"], "assistant", _text("ans")),
                                     _node("z", "a", [], "assistant", _text(" "))], current="z")
    # a blank message, then the thoughts of the answer: one answer turn, not an empty turn before it
    blank_thoughts = _chatgpt("Think", [
        *start, _node("e", "u", ["t"], "assistant", _text("")),
        _node("t", "e", ["a"], "assistant", {"content_type": "thoughts", "thoughts": [{"content": "hmm"}]}),
        _node("a", "t", [], "assistant", _text("ans"))], current="a")
    # parent links that loop: walked up from current_node, and down from the root with no current_node
    loop_up = _chatgpt("LoopUp", [_node("x", "y", ["y"], "user", _text("q")),
                                  _node("y", "x", ["x"], "assistant", _text("a"))], current="y")
    loop_down = _chatgpt("LoopDown", [_node("r", None, ["u"], None), _node("u", "r", ["a"], "user", _text("q")),
                                      _node("a", "u", ["u"], "assistant", _text("a"))], current="gone")
    blank, thoughts, up, down = _chats(tmp_path, "conversations.json",
                                       [blank_first, blank_thoughts, loop_up, loop_down])
    assert blank.record["messages"] == [{"role": "user", "content": "q"}, {"role": "assistant", "content": "ans"}]
    assert thoughts.record["messages"] == [{"role": "user", "content": "q"},
                                           {"role": "assistant", "content": "ans", "reasoning": "hmm"}]
    for item, node in ((up, "'x'"), (down, "'u'")):
        assert item.error[0] == "data_type" and "cycle" in item.error[1] and node in item.error[1], item.error


def test_claude_export_placeholder_blocks_are_no_answer_and_a_message_that_is_no_object_is_data_type(
        tmp_path: Path) -> None:
    from curation.checks import check_record

    placeholder = "```\nThis block is not supported on your current device yet.\n```"
    question = {"uuid": "m1", "sender": "human", "text": "Plot it.", "attachments": [], "files": []}

    def chat(uuid: str, *answer: dict[str, Any]) -> dict[str, Any]:
        return {"uuid": uuid, "name": uuid, "chat_messages": [question, *answer]}

    chats = [
        # old exports: the text stands in a placeholder, fenced, where a block the app could not show was
        chat("old", {"uuid": "m2", "sender": "assistant", "text": f"Here it is:\n{placeholder}\n\nDone."}),
        chat("blocks", {"uuid": "m2", "sender": "assistant", "text": "", "content": [
            {"type": "text", "text": "Here it is:"}, {"type": "text", "text": placeholder},
            {"type": "text", "text": "Done."}]}),
        chat("only", {"uuid": "m2", "sender": "assistant", "text": f"\n{placeholder}\n"}),
        chat("empty", {"uuid": "m2", "sender": "assistant", "text": ""}),
        {"uuid": "bad", "name": "bad", "chat_messages": [question, "Sure."]},
    ]
    old, blocks, only, empty, bad = _chats(tmp_path, "conversations.json", chats)
    assert old.record["messages"][1] == {"role": "assistant", "content": "Here it is:\n\nDone."}
    assert blocks.record["messages"][1] == {"role": "assistant", "content": "Here it is:\n\nDone."}
    # nothing left: refused as an empty answer is
    assert only.record["messages"][1]["content"] == ""
    assert {f.code for f in check_record(only.record)} == {f.code for f in check_record(empty.record)} \
        == {"empty_content"}
    assert bad.format == "claude_export" and bad.error[0] == "data_type" and "chat_messages[1]" in bad.error[1]


def _audio(pointer: str, **part: Any) -> dict[str, Any]:
    return {"content_type": "audio_asset_pointer", "asset_pointer": pointer, "format": "wav", "size_bytes": 90318,
            "metadata": {"start": 0.0, "end": 1.9, "transcription": None}, **part}


def test_a_chatgpt_voice_chat_reads_its_transcripts_as_the_turns(tmp_path: Path) -> None:
    spoken = {"content_type": "real_time_user_audio_video_asset_pointer", "expiry_datetime": None,
              "audio_asset_pointer": _audio("sediment://file_0001"), "frames_asset_pointers": [],
              "video_container_asset_pointer": None, "audio_start_timestamp": 19.3}
    voice = _chatgpt("Voice", [
        _node("r", None, ["u"], None),
        _node("u", "r", ["a"], "user", {"content_type": "multimodal_text", "parts": [
            {"content_type": "audio_transcription", "text": "Which part fits my car?", "direction": "in",
             "decoding_id": None}, spoken]}),
        _node("a", "u", ["u2"], "assistant", {"content_type": "multimodal_text", "parts": [
            {"content_type": "audio_transcription", "text": "The 5W-30 filter.", "direction": "out",
             "decoding_id": None}, _audio("sediment://file_0002", tool_audio_direction=None)]}),
        # typed beside the voice turn: both are the user's words
        _node("u2", "a", ["a2"], "user", {"content_type": "multimodal_text", "parts": [
            "And the price?", {"content_type": "audio_transcription", "text": "Roughly.", "direction": "in"}]}),
        _node("a2", "u2", [], "assistant", {"content_type": "multimodal_text", "parts": [
            {"content_type": "audio_transcription", "text": "About 12 dollars.", "direction": "out"},
            _audio("sediment://file_0003")]}),
    ], current="a2")
    (item,) = _chats(tmp_path, "conversations.json", [voice])
    assert item.error is None and item.record["messages"] == [
        {"role": "user", "content": "Which part fits my car?"}, {"role": "assistant", "content": "The 5W-30 filter."},
        {"role": "user", "content": "And the price?\nRoughly."}, {"role": "assistant", "content": "About 12 dollars."}]


def _canvas_call(key: str, parent: str, child: str, tool: str, document: dict[str, Any], *,
                 as_parts: bool = False) -> dict[str, Any]:
    body = orjson.dumps(document).decode()
    content = {"content_type": "text", "parts": [body]} if as_parts else {
        "content_type": "code", "language": "json", "response_format_name": None, "text": body}
    return _node(key, parent, [child], "assistant", content, recipient=tool)


def _canvas_receipt(key: str, parent: str, child: str, tool: str) -> dict[str, Any]:
    node = _node(key, parent, [child], "tool", _text(
        "Successfully created text document 'hello.py' which will be referenced in all future messages with the "
        "unique identifier textdoc_id: '690cd7970d24'"), metadata={"canvas": {"textdoc_id": "690cd7970d24"}})
    node["message"]["author"]["name"] = tool
    return node


def test_chatgpt_canvas_documents_are_the_answer_text_and_their_receipts_are_left_out(tmp_path: Path) -> None:
    create, update = "canmore.create_textdoc", "canmore.update_textdoc"
    code = _chatgpt("Code", [
        _node("r", None, ["u"], None), _node("u", "r", ["c"], "user", _text("Write hello.py")),
        _canvas_call("c", "u", "k", create, {"name": "hello.py", "type": "code/python", "content": "print('hi')"}),
        _canvas_receipt("k", "c", "a", create),
        _node("a", "k", ["u2"], "assistant", _text("I've written it in the canvas.")),
        _node("u2", "a", ["e"], "user", _text("Make it say bye")),
        _canvas_call("e", "u2", "k2", update,
                     {"updates": [{"pattern": ".*", "multiple": True, "replacement": "print('bye')"}]}),
        _canvas_receipt("k2", "e", "a2", update),
        _node("a2", "k2", [], "assistant", _text("Done.")),
    ], current="a2")
    plan = {"name": "Plan", "type": "document", "content": "# Plan\n\nStep one.\n\nStep one again."}
    document = _chatgpt("Doc", [
        _node("r", None, ["u"], None), _node("u", "r", ["c"], "user", _text("Plan my week")),
        _canvas_call("c", "u", "k", create, plan, as_parts=True), _canvas_receipt("k", "c", "u2", create),
        _node("u2", "k", ["e"], "user", _text("Second step")),
        _canvas_call("e", "u2", "k2", update, {"updates": [{"pattern": "one", "multiple": False,
                                                             "replacement": "two"}]}),
        _canvas_receipt("k2", "e", "a", update), _node("a", "k2", [], "assistant", _text("Changed.")),
    ], current="a")
    # an edit whose pattern the document does not hold: what the canvas showed cannot be told
    lost = _chatgpt("Lost", [
        _node("r", None, ["u"], None), _node("u", "r", ["c"], "user", _text("Plan my week")),
        _canvas_call("c", "u", "e", create, plan),
        _canvas_call("e", "c", "a", update, {"updates": [{"pattern": "Friday", "replacement": "Monday"}]}),
        _node("a", "e", [], "assistant", _text("Changed.")),
    ], current="a")
    code_item, doc_item, lost_item = _chats(tmp_path, "conversations.json", [code, document, lost])
    assert code_item.error is None and code_item.record["messages"] == [
        {"role": "user", "content": "Write hello.py"},
        {"role": "assistant",
         "content": "**hello.py**\n\n```python\nprint('hi')\n```\n\nI've written it in the canvas."},
        {"role": "user", "content": "Make it say bye"},
        {"role": "assistant", "content": "**hello.py**\n\n```python\nprint('bye')\n```\n\nDone."}]
    assert doc_item.error is None and doc_item.record["messages"] == [
        {"role": "user", "content": "Plan my week"}, {"role": "assistant", "content": plan["content"]},
        {"role": "user", "content": "Second step"},
        {"role": "assistant", "content": "# Plan\n\nStep two.\n\nStep one again.\n\nChanged."}]
    assert lost_item.error[0] == "server_tool_call" and "'Friday'" in lost_item.error[1]


def test_claude_artifacts_are_the_answer_text(tmp_path: Path) -> None:
    def artifact(**command: Any) -> dict[str, Any]:
        return {"type": "tool_use", "name": "artifacts", "input": command}

    receipt = {"type": "tool_result", "name": "artifacts", "content": [{"type": "text", "text": "OK"}],
               "is_error": False}

    def says(sender: str, *blocks: dict[str, Any], text: str = "") -> dict[str, Any]:
        return {"uuid": f"m{len(blocks)}", "sender": sender, "text": text, "content": list(blocks),
                "attachments": [], "files": []}

    counter = {"uuid": "c1", "name": "Counter", "chat_messages": [
        says("human", text="Write a counter"),
        says("assistant", {"type": "text", "text": "Here it is:"},
             artifact(id="counter", command="create", type="application/vnd.ant.code", language="python",
                      title="Counter", content="x = 0\n"), receipt, {"type": "text", "text": "Run it."}),
        says("human", text="Count by two"),
        says("assistant", artifact(id="counter", command="update", old_str="x = 0\n", new_str="x = 0\nx += 2\n"),
             receipt, {"type": "text", "text": "Updated."}),
        says("human", text="Some notes"),
        says("assistant", artifact(id="notes", command="create", type="text/markdown", title="Notes",
                                   content="# Notes\n\nCount by two.")),
    ]}
    lost = {"uuid": "c2", "name": "Lost", "chat_messages": [
        says("human", text="Fix it"),
        says("assistant", artifact(id="counter", command="update", old_str="y = 1", new_str="y = 2"), receipt)]}
    first, second = _chats(tmp_path, "conversations.json", [counter, lost])
    assert first.error is None and [m["content"] for m in first.record["messages"][1::2]] == [
        "Here it is:\n\n**Counter**\n\n```python\nx = 0\n```\n\nRun it.",
        "**Counter**\n\n```python\nx = 0\nx += 2\n```\n\nUpdated.",
        "# Notes\n\nCount by two."]
    assert second.error[0] == "server_tool_call" and "'counter'" in second.error[1]


def test_chatgpt_uploads_the_export_lacks_are_refused_and_custom_gpt_chats_flagged(tmp_path: Path) -> None:
    def asked(title: str, content: dict[str, Any], **message: Any) -> dict[str, Any]:
        return _chatgpt(title, [_node("r", None, ["u"], None), _node("u", "r", ["a"], "user", content, **message),
                                _node("a", "u", [], "assistant", _text("It shows a cat."))], current="a")

    def image(pointer: str) -> dict[str, Any]:
        return {"content_type": "multimodal_text", "parts": [
            {"content_type": "image_asset_pointer", "asset_pointer": pointer, "size_bytes": 1000, "width": 10,
             "height": 10, "fovea": None, "metadata": None}, "What is this?"]}

    pdf = {"id": "file-pdf1", "name": "report.pdf", "size": 52000, "mime_type": "application/pdf"}
    png = {"id": "file-png1", "name": "chart.png", "size": 9000, "mime_type": "image/png", "width": 10, "height": 10}
    video = {"content_type": "real_time_user_audio_video_asset_pointer", "audio_asset_pointer": _audio("sediment://a"),
             "frames_asset_pointers": [{"content_type": "image_asset_pointer", "asset_pointer": "sediment://f"}],
             "video_container_asset_pointer": None}
    gpt = asked("GPT", _text("Hi"))
    gpt.update(gizmo_id="g-abc123", gizmo_type="gpt")
    mentioned = asked("Mention", _text("Hi"), metadata={"gizmo_id": "g-xyz"})
    chats = [asked("Sediment", image("sediment://file_00000000a3bc")),
             asked("Pdf", _text("Summarise this."), metadata={"attachments": [pdf]}),
             asked("Png", _text("Read the chart."), metadata={"attachments": [png]}),
             asked("Video", {"content_type": "multimodal_text", "parts": [
                 {"content_type": "audio_transcription", "text": "What is this?", "direction": "in"}, video]}),
             gpt, mentioned, asked("Plain", _text("Hi"))]
    sediment, pdf_item, png_item, video_item, gpt_item, mention_item, plain = _chats(
        tmp_path, "conversations.json", chats)
    assert sediment.error[0] == "image_missing" and "sediment://file_00000000a3bc" in sediment.error[1]
    assert pdf_item.error[0] == "server_tool_call" and "'report.pdf'" in pdf_item.error[1]
    assert png_item.error[0] == "image_missing" and "'chart.png'" in png_item.error[1]
    assert video_item.error[0] == "image_missing" and "video" in video_item.error[1]
    # a custom GPT's (or project's) instructions are not exported: kept, flagged for review or `flags:` drop
    for item in (gpt_item, mention_item):
        assert item.error is None and item.record["metadata"]["flags"] == ["custom_gpt"], item
    assert "flags" not in plain.record["metadata"]


def test_claude_uploads_the_export_lacks_are_refused(tmp_path: Path) -> None:
    def asked(uuid: str, **upload: Any) -> dict[str, Any]:
        question = {"uuid": "m1", "sender": "human", "text": "What does it say?", "attachments": [], "files": [],
                    **upload}
        return {"uuid": uuid, "name": uuid, "chat_messages": [
            question, {"uuid": "m2", "sender": "assistant", "text": "It says hello."}]}

    notes = {"file_name": "notes.txt", "file_size": 20, "file_type": "txt", "extracted_content": "hello"}
    chats = [asked("photo", files=[{"file_name": "photo.png"}]),
             asked("paper", files=[{"file_name": "paper.pdf", "file_uuid": "f1"}]),
             asked("scan", attachments=[{"file_name": "scan.pdf", "file_size": 900, "file_type": "pdf"}]),
             # the same document listed in files and, with its text, in attachments: the export holds it
             asked("notes", attachments=[notes], files=[{"file_name": "notes.txt"}])]
    photo, paper, scan, kept = _chats(tmp_path, "conversations.json", chats)
    assert photo.error[0] == "image_missing" and "'photo.png'" in photo.error[1]
    assert paper.error[0] == "server_tool_call" and "'paper.pdf'" in paper.error[1]
    assert scan.error[0] == "server_tool_call" and "'scan.pdf'" in scan.error[1]
    assert kept.error is None and kept.record["messages"][0]["content"] == "What does it say?\n\nhello"


def test_a_chatgpt_chat_that_saved_a_memory_keeps_its_turns_without_the_memory_call(tmp_path: Path) -> None:
    chat = _chatgpt("Units", [
        _node("r", None, ["u"], None), _node("u", "r", ["b"], "user", _text("Use metric units from now on.")),
        _node("b", "u", ["k"], "assistant", _text("User prefers metric units."), recipient="bio"),
        _node("k", "b", ["a"], "tool", _text("Model set context updated."),
              author={"role": "tool", "name": "bio", "metadata": {}}),
        _node("a", "k", [], "assistant", _text("Got it: metric from now on.")),
    ], current="a")
    (item,) = _chats(tmp_path, "conversations.json", [chat])
    assert item.error is None and item.record["messages"] == [
        {"role": "user", "content": "Use metric units from now on."},
        {"role": "assistant", "content": "Got it: metric from now on."}]


def test_a_chatgpt_answer_the_user_stopped_is_not_trained_as_whole(tmp_path: Path) -> None:
    # finish_details.type "interrupted" (the stop button) or "max_tokens": read as a finished answer before
    def chat(title: str, ended: str, then_more: bool) -> dict[str, Any]:
        nodes = [_node("r", None, ["u"], None), _node("u", "r", ["a"], "user", _text("Tell me about Rome.")),
                 _node("a", "u", ["u2"] if then_more else [], "assistant",
                       _text("Rome was founded in 753 BC and"), end_turn=False,
                       metadata={"finish_details": {"type": ended}})]
        if then_more:
            nodes += [_node("u2", "a", ["a2"], "user", _text("Shorter, please.")),
                      _node("a2", "u2", [], "assistant", _text("Rome: founded 753 BC."),
                            metadata={"finish_details": {"type": "stop", "stop_tokens": [200002]}})]
        return _chatgpt(title, nodes, current="a2" if then_more else "a")

    stopped, cut, went_on = _chats(tmp_path, "conversations.json", [
        chat("Stopped", "interrupted", False), chat("Cut", "max_tokens", False), chat("On", "interrupted", True)])
    assert stopped.error[0] == "incomplete_answer" and "interrupted" in stopped.error[1]
    assert cut.error[0] == "incomplete_answer" and "max_tokens" in cut.error[1]
    # stopped, then the chat went on: the partial answer is context, not trained
    turns = went_on.record["messages"]
    assert [t.get("weight") for t in turns if t["role"] == "assistant"] == [0, None]
