"""More chat apps' own files: LibreChat's conversation export; LM Studio's chats, Telegram, Discord and Slack
exports below, each with the sources its rows are built to.

LibreChat (MIT): the rows are built to what client/src/hooks/Conversations/useExportConversation.ts (commit ffec453)
and useBuildMessageTree.ts (aedebe8) write, with the keys, nesting and values of the app's own import fixtures
api/server/utils/import/__data__/librechat-tree.json (0b4ce67: ``recursive`` under ``messages``, later messages
without ``createdAt``), librechat-opts-nonr-branches.json (70e7331: every branch flat, two roots, a cut-off answer)
and librechat-export.json (49b2a91: the older ``messagesTree``); the texts are short and made up. An agent's answer
holds the ``content`` parts of packages/data-provider/src/types/agents.ts (34cb6d7: ``think``, ``text``,
``tool_call`` with ``args`` and ``output``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from read_helpers import read, refused

from curation.readers import read_path
from curation.readers.convert import convert_payload
from curation.readers.mapping import FieldMapping

_CONVO = "4a86c40e-e627-4454-b158-889680e23ad3"
_NO_PARENT = "00000000-0000-0000-0000-000000000000"


def _lc(key: str, parent: str, by_user: bool, text: str, children: list[dict[str, Any]] | None = None,
        **extra: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"messageId": key, "parentMessageId": parent, "conversationId": _CONVO,
                               "sender": "User" if by_user else "Software Engineer", "text": text,
                               "isCreatedByUser": by_user, **extra}
    if not by_user:
        message.update({"model": "gpt-4-turbo", "endpoint": "openAI", "finish_reason": "stop"})
    if children is not None:
        message["children"] = children
    return message


def _export(messages: list[dict[str, Any]], *, recursive: bool, branches: bool = True, key: str = "messages",
            **options: Any) -> dict[str, Any]:
    return {"conversationId": _CONVO, "endpoint": "openAI", "title": "Venv trouble",
            "exportAt": "13:18:04 GMT-0400 (Eastern Daylight Time)", "branches": branches, "recursive": recursive,
            "options": {"presetId": None, "model": "gpt-4-turbo", "chatGptLabel": "Software Engineer",
                        "promptPrefix": "You are an expert software engineer.", "temperature": 0.8,
                        "endpoint": "openAI", "title": "Venv trouble", **options},
            key: messages}


def _tree() -> list[dict[str, Any]]:
    """librechat-tree.json's shape: a question, its answer, then two follow-ups (the later one written last)."""
    return [_lc("q1", _NO_PARENT, True, "How do I activate venv?", createdAt="2024-05-01T16:35:11.530Z", children=[
        _lc("a1", "q1", False, "Run python3 -m venv venv first.", createdAt="2024-05-01T16:35:12.604Z", children=[
            _lc("q2", "a1", True, "thanks", children=[
                _lc("a2", "q2", False, "You're welcome! Good luck.", children=[]),
                _lc("a3", "q2", False, "You're welcome! Happy coding!", children=[
                    _lc("q3", "a3", True, "does coding make you happy", children=[
                        _lc("a4", "q3", False, "It can be.", children=[])])])]),
            _lc("q4", "a1", True, "lol", children=[
                _lc("a5", "q4", False, "Glad it amused you!", children=[])])])])]


def test_a_librechat_tree_export_is_the_newest_branch_with_the_preset_prompt(tmp_path: Path) -> None:
    # before: read as openai, the assistant's role its display name ('Software Engineer') and every branch a turn
    path = tmp_path / "Venv trouble.json"
    path.write_bytes(orjson.dumps(_export(_tree(), recursive=True), option=orjson.OPT_INDENT_2))
    [item] = list(read_path(path))
    assert item.error is None, item.error
    record = item.record
    assert record["id"] == _CONVO and record["metadata"]["source"]["format"] == "librechat"
    assert [(m["role"], m["content"]) for m in record["messages"]] == [
        ("system", "You are an expert software engineer."), ("user", "How do I activate venv?"),
        ("assistant", "Run python3 -m venv venv first."), ("user", "lol"), ("assistant", "Glad it amused you!")]
    # the "thanks" branch (5 messages) is one the user left, counted, not turns; the options stay visible
    assert record["metadata"]["left_out"] == {"other_branches": 5}
    assert record["metadata"]["fields"]["options"]["model"] == "gpt-4-turbo"
    # the older layout: the same tree under messagesTree
    older = read(_export(_tree(), recursive=True, key="messagesTree", promptPrefix=None))
    assert [m["content"] for m in older["messages"]][-1] == "Glad it amused you!"
    assert older["messages"][0]["role"] == "user"


def _flat(final: str) -> list[dict[str, Any]]:
    """librechat-opts-nonr-branches.json's shape: a question answered twice, then edited into a second root."""
    return [
        _lc("m1", _NO_PARENT, True, "tell me a long story", createdAt="2024-05-28T18:08:55.014Z"),
        _lc("m2", "m1", False, "Once upon a time...", createdAt="2024-05-28T18:08:55.390Z"),
        _lc("m3", "m1", False, "In an age long forgotten", createdAt="2024-05-28T18:09:27.444Z", unfinished=True),
        _lc("m4", _NO_PARENT, True, "tell me a long long story", createdAt="2024-05-28T18:14:07.988Z"),
        {**_lc("m5", "m4", False, "The Legend of Eldoria. The end.", createdAt="2024-05-28T18:14:08.403Z",
               isEdited=True), "finish_reason": final},
    ]


def test_a_librechat_flat_export_of_every_branch_keeps_the_latest_and_refuses_a_cut_off_answer() -> None:
    record = read(_export(_flat("stop"), recursive=False))
    assert [(m["role"], m["content"]) for m in record["messages"]][1:] == [
        ("user", "tell me a long long story"), ("assistant", "The Legend of Eldoria. The end.")]
    assert record["metadata"]["left_out"] == {"other_branches": 3}
    code, detail = refused(_export(_flat("incomplete"), recursive=False))
    assert code == "incomplete_answer" and "'m5'" in detail and "'incomplete'" in detail
    one = _flat("stop")[3:]  # the branch on screen only: the whole list is the conversation
    assert "left_out" not in read(_export(one, recursive=False, branches=False)).get("metadata", {})


def test_a_librechat_agent_answer_reads_its_reasoning_and_tool_calls_and_is_flagged() -> None:
    parts = [{"type": "think", "think": "The user wants the weather."},
             {"type": "tool_call", "tool_call": {"id": "call_w1", "name": "get_weather", "args": '{"city":"Oslo"}',
                                                 "type": "tool_call", "output": "4°C, rain", "progress": 1}},
             {"type": "agent_update", "agent_update": {"index": 1, "runId": "r1", "agentId": "agent_x"}},
             {"type": "text", "text": "It is 4°C and raining in Oslo."}]
    messages = [_lc("u1", _NO_PARENT, True, "Weather in Oslo?", createdAt="2025-01-01T10:00:00.000Z"),
                {**_lc("b1", "u1", False, "", createdAt="2025-01-01T10:00:01.000Z"), "content": parts,
                 "endpoint": "agents"}]
    record = read(_export(messages, recursive=False, agent_id="agent_x", promptPrefix=None))
    assistant, tool, final = record["messages"][1:]
    assert assistant["reasoning"] == "The user wants the weather." and assistant["tool_calls"] == [
        {"id": "call_w1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}]
    assert tool == {"role": "tool", "tool_call_id": "call_w1", "content": "4°C, rain"}
    assert final["role"] == "assistant" and final["content"] == "It is 4°C and raining in Oslo."
    assert record["metadata"]["flags"] == ["custom_gpt"]  # the agent's instructions are not in the export
    del parts[1]["tool_call"]["output"]
    code, detail = refused(_export(messages, recursive=False))
    assert code == "server_tool_call" and "'get_weather'" in detail


def test_a_librechat_upload_the_export_only_links_is_refused() -> None:
    messages = [_lc("u1", _NO_PARENT, True, "What is this?", createdAt="2025-01-01T10:00:00.000Z",
                    files=[{"file_id": "f1", "filepath": "/images/u/f1.png", "type": "image/png", "width": 8,
                            "height": 8}]),
                _lc("b1", "u1", False, "A cat.", createdAt="2025-01-01T10:00:01.000Z")]
    assert refused(_export(messages, recursive=False))[0] == "image_missing"
    messages[0]["files"] = [{"file_id": "f2", "filename": "notes.pdf", "type": "application/pdf"}]
    assert refused(_export(messages, recursive=False))[0] == "server_tool_call"


# LM Studio is closed source: its chat files' layout is what the third-party tools that read and write them agree on:
# YorkieDev/lm-studio-conversation-converter script.js (6023304: versions/currentlySelected, singleStep and
# multiStep, contentBlock steps with genInfo.stats, perChatPredictionConfig's llm.prediction.systemPrompt), and
# writers of .conversation.json found by their keys (a "thinking" style block with <think> prefix and suffix; a
# C# converter "measured on 12 files LM Studio wrote": toolCallRequest parts with callId, toolCallRequestId, name
# and parameters, toolCallResult parts in a block with roleOverride "tool"). Stop reasons are those of
# lmstudio-python's LlmPredictionStopReason.
def _block(*parts: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "contentBlock", "stepIdentifier": "1718000000000-0.5", "content": list(parts),
            "defaultShouldIncludeInContext": True, "shouldIncludeInContext": True, **extra}


def _said(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text, "fromDraftModel": False, "tokensCount": 3, "isStructural": False}


def _stats(reason: str) -> dict[str, Any]:
    return {"genInfo": {"indexedModelIdentifier": "qwen/qwen3-8b", "identifier": "qwen/qwen3-8b",
                        "stats": {"stopReason": reason, "tokensPerSecond": 40.2, "predictedTokensCount": 9}}}


def _user(text: str) -> dict[str, Any]:
    return {"versions": [{"type": "singleStep", "role": "user", "content": [{"type": "text", "text": text}]}],
            "currentlySelected": 0}


def _answer(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"type": "multiStep", "role": "assistant", "steps": list(steps), "senderInfo": {"senderName": "qwen3-8b"}}


def _chat(messages: list[dict[str, Any]], system: str = "") -> dict[str, Any]:
    return {"name": "Sums", "pinned": False, "createdAt": 1718000000000, "preset": "", "tokenCount": 120,
            "systemPrompt": "", "messages": messages, "usePerChatPredictionConfig": True,
            "perChatPredictionConfig": {"fields": [{"key": "llm.prediction.systemPrompt", "value": system}]},
            "clientInput": "", "clientInputFiles": [], "userFilesSizeBytes": 0,
            "lastUsedModel": {"identifier": "qwen/qwen3-8b", "indexedModelIdentifier": "qwen/qwen3-8b",
                              "instanceLoadTimeConfig": {"fields": []}, "instanceOperationTimeConfig": {"fields": []}},
            "notes": [], "plugins": [], "pluginConfigs": {}, "disabledPluginTools": [], "looseFiles": []}


def test_an_lm_studio_chat_is_its_chosen_versions_with_reasoning_and_the_system_prompt(tmp_path: Path) -> None:
    # before: read as openai, every message refused for its versions and currentlySelected keys and no role
    thinking = _block(_said("Two plus two."), style={"type": "thinking", "ended": True, "title": "Thought for 1s"},
                      prefix="<think>", suffix="</think>")
    messages = [_user("What is 2+2?"),
                {"versions": [_answer(_block(_said("5."), **_stats("eosFound"))),
                              _answer(thinking, _block(_said("4."), **_stats("eosFound")))], "currentlySelected": 1},
                _user("Thanks!"), {"versions": [_answer(_block(_said("Any time."), **_stats("eosFound")))],
                                   "currentlySelected": 0}]
    path = tmp_path / "1718000000000.conversation.json"
    path.write_bytes(orjson.dumps(_chat(messages, "You are terse."), option=orjson.OPT_INDENT_2))
    [item] = list(read_path(path))
    assert item.error is None, item.error
    record = item.record
    assert record["metadata"]["source"]["format"] == "lmstudio"
    assert [(m["role"], m["content"]) for m in record["messages"]] == [
        ("system", "You are terse."), ("user", "What is 2+2?"), ("assistant", "4."), ("user", "Thanks!"),
        ("assistant", "Any time.")]
    assert record["messages"][2]["reasoning"] == "Two plus two."
    assert record["metadata"]["left_out"] == {"other_versions": 1}  # the "5." the user regenerated away
    assert record["metadata"]["fields"]["name"] == "Sums"


def test_an_lm_studio_answer_with_a_tool_call_reads_as_calls_and_results_and_a_stopped_one_is_refused() -> None:
    request = {"type": "toolCallRequest", "callId": 146510887, "toolCallRequestId": "612077381",
               "name": "get_time", "parameters": {"zone": "UTC"}, "pluginIdentifier": "mcp/clock"}
    result = {"type": "toolCallResult", "callId": 146510887, "toolCallRequestId": "612077381", "content": "10:00"}
    status = {"type": "toolStatus", "stepIdentifier": "1718000000000-0.7",
              "callId": 146510887, "statusState": {"status": {"type": "toolCallSucceeded"}}}
    answer = _answer(_block(_said("Let me check."), request, **_stats("toolCalls")), status,
                     _block(result, roleOverride="tool"), _block(_said("It is 10:00 UTC."), **_stats("eosFound")))
    record = read(_chat([_user("Time?"), {"versions": [answer], "currentlySelected": 0}]))
    call, tool, final = record["messages"][1:]
    assert call["content"] == "Let me check." and call["tool_calls"] == [
        {"id": "146510887", "type": "function", "function": {"name": "get_time", "arguments": '{"zone":"UTC"}'}}]
    assert tool == {"role": "tool", "tool_call_id": "146510887", "content": "10:00"}
    assert final == {"role": "assistant", "content": "It is 10:00 UTC."}
    stopped = _chat([_user("Tell me a story."), {"versions": [_answer(_block(_said("Once upon"),
                                                                              **_stats("userStopped")))],
                                                 "currentlySelected": 0}])
    code, detail = refused(stopped)
    assert code == "incomplete_answer" and "'userStopped'" in detail


# Messengers' exports, chats between people: Telegram Desktop's result.json is what
# Telegram/SourceFiles/export/output/export_output_json.cpp writes (telegramdesktop/tdesktop 35f5d5a, GPL-3.0, so no
# file is copied: a service message's actor/action, text as a string or a list of strings and {"type", "text"}
# pieces, photo and file paths); DiscordChatExporter's JSON is what DiscordChatExporter.Core/Exporting/
# JsonMessageWriter.cs writes (Tyrrrz/DiscordChatExporter 4e3deb4: guild, channel, dateRange, exportedAt, messages
# with type, content, author{name, nickname, isBot}, attachments{fileName}, stickers).
def _tg(key: int, who: str, text: Any, **extra: Any) -> dict[str, Any]:
    pieces = [{"type": "plain", "text": text}] if isinstance(text, str) else text
    return {"id": key, "type": "message", "date": "2023-03-12T10:15:32", "date_unixtime": "1678616132",
            "from": who, "from_id": f"user{len(who)}", "text": text, "text_entities": pieces, **extra}


def test_a_telegram_chat_needs_the_assistant_named_and_then_reads_its_words(tmp_path: Path) -> None:
    # before: read as openai with the senders' names for roles, each turn an unrecognized_role finding that said
    # nothing of how to name the assistant
    chat = {"name": "Ann", "type": "personal_chat", "id": 4821731, "messages": [
        {"id": 1, "type": "service", "date": "2023-03-12T10:15:00", "actor": "Ann", "actor_id": "user3",
         "action": "phone_call", "discard_reason": "missed"},
        _tg(2, "Ann", "Is the **build** green?"),
        _tg(3, "Bob", ["Yes, see ", {"type": "link", "text": "https://ci.example/1"}, "."]),
        _tg(4, "Bob", "", file="(File not included. Change data exporting settings to download.)",
            media_type="sticker", sticker_emoji="👍")]}
    path = tmp_path / "result.json"
    path.write_bytes(orjson.dumps(chat, option=orjson.OPT_INDENT_2))
    [item] = list(read_path(path))
    code, detail = item.error
    assert code == "unrecognized_role" and "Telegram" in detail and "'Ann', 'Bob'" in detail
    assert 'roles: {"Ann": "user", "Bob": "assistant"}' in detail
    [item] = list(read_path(path, mapping=FieldMapping(roles={"Bob": "assistant", "Ann": "user"})))
    assert item.error is None, item.error
    record = item.record
    assert record["metadata"]["source"]["format"] == "telegram_export" and record["id"] == "4821731"
    assert [(m["role"], m["content"]) for m in record["messages"]] == [
        ("user", "Is the **build** green?"), ("assistant", "Yes, see https://ci.example/1.")]
    assert record["metadata"]["left_out"] == {"media": 1, "service_messages": 1}
    chat["messages"].append(_tg(5, "Ann", "", photo="photos/photo_1@12-03-2023_10-16-00.jpg", width=800,
                                height=600))
    path.write_bytes(orjson.dumps(chat))
    [item] = list(read_path(path, mapping=FieldMapping(roles={"Bob": "assistant", "Ann": "user"})))
    assert item.error is not None and item.error[0] == "image_missing"


def _dc(key: str, name: str, content: str, *, bot: bool = False, **extra: Any) -> dict[str, Any]:
    return {"id": key, "type": "Default", "timestamp": "2024-01-01T00:00:00+00:00", "timestampEdited": None,
            "callEndedTimestamp": None, "isPinned": False, "content": content,
            "author": {"id": str(len(name)), "name": name, "discriminator": "0000", "nickname": name.title(),
                       "color": None, "isBot": bot, "roles": [], "avatarUrl": "https://cdn.example/a.png"},
            "attachments": [], "embeds": [], "stickers": [], "reactions": [], "mentions": [], **extra}


def test_a_discord_channel_export_names_its_bot_as_the_likely_assistant_and_reads_once_mapped() -> None:
    export = {"guild": {"id": "1", "name": "Dev", "iconUrl": "https://cdn.example/g.png"},
              "channel": {"id": "42", "type": "GuildTextChat", "categoryId": "3", "category": "Text",
                          "name": "help", "topic": None},
              "dateRange": {"after": None, "before": None}, "exportedAt": "2024-01-02T00:00:00+00:00",
              "messages": [{**_dc("9", "ann", "Ann joined the server."), "type": "GuildMemberJoin"},
                           _dc("10", "ann", "How do I reset my key?"),
                           _dc("11", "helper", "Run /reset in #keys.", bot=True),
                           _dc("12", "ann", "", stickers=[{"id": "5", "name": "thanks", "format": "Png",
                                                           "sourceUrl": "s.png"}])],
              "messageCount": 4}
    code, detail = refused(export)
    assert code == "unrecognized_role" and 'roles: {"ann": "user", "helper": "assistant"}' in detail
    items = convert_payload(orjson.dumps(export), None, FieldMapping(roles={"ann": "user", "helper": "assistant"}),
                            "help.json", None, 0)
    record = items[0].record
    assert record["metadata"]["source"]["format"] == "discord_export" and record["id"] == "42"
    assert [(m["role"], m["content"]) for m in record["messages"]] == [
        ("user", "How do I reset my key?"), ("assistant", "Run /reset in #keys.")]
    assert record["metadata"]["left_out"] == {"stickers": 1, "system_messages": 1}
    assert record["metadata"]["fields"]["channel"]["name"] == "help"
    export["messages"][1]["attachments"] = [{"id": "7", "url": "https://cdn.example/e.png", "fileName": "err.png",
                                             "fileSizeBytes": 1200}]
    assert refused(export)[0] == "image_missing"


# Slack's export: a channel's day file is a JSON array of Slack's message objects (the keys of a user's message,
# client_msg_id, type, text, user, ts, team, user_profile, blocks, thread_ts, reply_count, replies, parent_user_id,
# are those of the published export schema, gist viccro/734581d3c9777f9733d1f665279e5b54; a bot's is subtype
# bot_message with bot_id and username; a notice is a subtype such as channel_join).
def _sl(ts: str, name: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"client_msg_id": f"m{ts}", "type": "message", "text": text, "user": f"U{len(name)}", "ts": ts,
            "team": "T1", "user_team": "T1", "source_team": "T1",
            "user_profile": {"avatar_hash": "g1", "first_name": name, "real_name": name, "display_name": name.lower(),
                             "team": "T1", "name": name.lower(), "is_restricted": False,
                             "is_ultra_restricted": False},
            "blocks": [{"type": "rich_text", "block_id": "b1", "elements": []}], **extra}


def test_a_slack_day_file_is_a_conversation_per_thread_read_once_the_speakers_are_mapped(tmp_path: Path) -> None:
    # before: every message its own unknown_format reject, with no word of how to read a chat between people
    bot = {"type": "message", "subtype": "bot_message", "text": "Restart the runner, then retry.",
           "ts": "1678616200.000400", "bot_id": "B01", "username": "helper", "thread_ts": "1678616140.000300",
           "parent_user_id": "U3"}
    day = [{"type": "message", "subtype": "channel_join", "ts": "1678616100.000100", "user": "U3",
            "text": "<@U3> has joined the channel"},
           _sl("1678616132.000200", "Ann", "Morning all"),
           _sl("1678616140.000300", "Ann", "CI is red, ideas?", thread_ts="1678616140.000300", reply_count=2,
               reply_users_count=2, latest_reply="1678616300.000500", reply_users=["B01", "U5"],
               replies=[{"user": "B01", "ts": "1678616200.000400"}, {"user": "U5", "ts": "1678616300.000500"}],
               is_locked=False, subscribed=False),
           bot,
           _sl("1678616300.000500", "Carol", "That fixed it for me.", thread_ts="1678616140.000300",
               parent_user_id="U3")]
    path = tmp_path / "2023-03-12.json"
    path.write_bytes(orjson.dumps(day, option=orjson.OPT_INDENT_2))
    first, second = list(read_path(path))
    assert first.error[0] == "unrecognized_role" and "'Ann'" in first.error[1]
    assert second.error[0] == "unrecognized_role" and 'roles: {"Ann": "user", "helper": "assistant"' in second.error[1]
    mapping = FieldMapping(roles={"Ann": "user", "Carol": "user", "helper": "assistant"})
    channel, thread = (item.record for item in read_path(path, mapping=mapping))
    assert channel["metadata"]["source"]["format"] == "slack_export"
    assert [(m["role"], m["content"]) for m in channel["messages"]] == [("user", "Morning all")]
    assert channel["metadata"]["left_out"] == {"system_messages": 1}
    assert thread["id"] == "thread-1678616140.000300" and [(m["role"], m["content"]) for m in thread["messages"]] == [
        ("user", "CI is red, ideas?"), ("assistant", "Restart the runner, then retry."),
        ("user", "That fixed it for me.")]
    day[1]["files"] = [{"id": "F1", "name": "ci.png", "mimetype": "image/png", "filetype": "png"}]
    path.write_bytes(orjson.dumps(day))
    assert next(iter(read_path(path, mapping=mapping))).error[0] == "image_missing"


def test_suggest_mapping_writes_a_role_for_each_speaker_of_a_messenger_export(tmp_path: Path) -> None:
    # before: `format: discord_export` with no roles, which the run would refuse again as unrecognized_role
    from curation.readers.suggest import suggest_input

    path = tmp_path / "help.json"
    messages = [_dc("10", "ann", "Key?"), _dc("11", "helper", "Run /reset.", bot=True)]
    path.write_bytes(orjson.dumps({"guild": {"id": "1", "name": "Dev"}, "channel": {"id": "42", "name": "help"},
                                   "messages": messages, "messageCount": 2}))
    entry = suggest_input(path)
    assert entry["format"] == "discord_export" and entry["mapping"] == {"roles": {"ann": "FIXME",
                                                                                  "helper": "assistant"}}


def test_a_librechat_answer_the_user_rated_down_is_undesirable() -> None:
    # LibreChat's message schema keeps the thumbs-down as feedback.rating (packages/data-schemas message.ts)
    messages = [_lc("q1", _NO_PARENT, True, "What is 17*3?"),
                _lc("a1", "q1", False, "17*3 = 41.", feedback={"rating": "thumbsDown", "text": "It is 51"})]
    record = read(_export(messages, recursive=False))
    assert record["metadata"]["label"] is False and "thumbsDown" in record["metadata"]["label_from"]


def _hc(key: str, who: str, text: str, ancestors: list[str], children: list[str], **extra: Any) -> dict[str, Any]:
    """A HuggingChat message as huggingface/chat-ui's src/lib/types/Message.ts declares it (01b4c430)."""
    return {"id": key, "from": who, "content": text, "ancestors": ancestors, "children": children,
            "createdAt": "2025-01-01T00:00:00.000Z", "updatedAt": "2025-01-01T00:00:00.000Z", **extra}


def test_a_huggingchat_conversation_is_the_newest_branch_and_a_stopped_or_rated_down_answer_is_not_good() -> None:
    # read as plain messages before: the regenerated answer came after the one it replaced, both trained
    chat = {"title": "chat", "rootMessageId": "m0", "preprompt": "Be terse.", "model": "meta-llama/Llama-3.3-70B",
            "messages": [_hc("m0", "system", "Be terse.", [], ["m1"]),
                         _hc("m1", "user", "Capital of France?", ["m0"], ["m2", "m3"]),
                         _hc("m2", "assistant", "Lyon.", ["m0", "m1"], []),
                         _hc("m3", "assistant", "Paris.", ["m0", "m1"], [])]}
    record = read(chat)
    assert [(m["role"], m["content"]) for m in record["messages"]] == [
        ("system", "Be terse."), ("user", "Capital of France?"), ("assistant", "Paris.")]
    assert record["metadata"]["left_out"] == {"other_branches": 1}
    # chat-ui writes the root system message with "" when the chat has no system prompt: no turn, no refusal
    bare = {**chat, "preprompt": "", "messages": [_hc("m0", "system", "", [], ["m1"]), *chat["messages"][1:]]}
    assert [m["role"] for m in read(bare)["messages"]] == ["user", "assistant"]
    stopped = {**chat, "messages": [*chat["messages"][:3], _hc("m3", "assistant", "Par", ["m0", "m1"], [],
                                                                interrupted=True)]}
    assert refused(stopped)[0] == "incomplete_answer"
    down = {**chat, "messages": [*chat["messages"][:3], _hc("m3", "assistant", "Paris.", ["m0", "m1"], [],
                                                             score=-1)]}
    assert read(down)["metadata"]["label"] is False


def test_a_llamacpp_webui_export_is_the_branch_that_ends_at_its_current_node() -> None:
    # ggml-org/llama.cpp tools/server/webui ExportedConversation {conv, messages} (database.d.ts, 114c3425)
    def msg(key: str, role: str, text: str, parent: Any, children: list[str], kind: str = "text") -> dict[str, Any]:
        return {"id": key, "convId": "conv-1", "type": kind, "timestamp": 1, "role": role, "content": text,
                "parent": parent, "children": children}

    export = {"conv": {"id": "conv-1", "lastModified": 1, "currNode": "m2", "name": "France"},
              "messages": [msg("m0", "system", "", -1, ["m1"], "root"),
                           msg("m1", "user", "Capital of France?", "m0", ["m2", "m3"]),
                           msg("m2", "assistant", "Paris.", "m1", []),
                           msg("m3", "assistant", "A later, unkept answer.", "m1", [])]}
    record = read(export)
    assert [(m["role"], m["content"]) for m in record["messages"]] == [
        ("user", "Capital of France?"), ("assistant", "Paris.")]
    assert record["metadata"]["left_out"] == {"other_branches": 1}
