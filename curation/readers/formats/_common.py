"""Helpers the format converters share: role aliases, turn lists, tool schemas, tool calls and side documents."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
import xxhash

from curation.readers.mapping import FieldMapping
from curation.records import arguments_string

# ShareGPT-style speaker names -> canonical roles. Tool traffic is special-cased in ``convert_turns``.
ROLE_ALIASES: dict[str, str] = {
    "human": "user",
    "user": "user",
    "prompter": "user",
    "utilisateur": "user",  # French chat sets: UTILISATEUR / ASSISTANT
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "chatbot": "assistant",  # Cohere chat data: System / User / Chatbot
    "ai": "assistant",
    "system": "system",
    "developer": "developer",
    "function_call": "function_call",
    "tool_call": "function_call",  # ms-swift's agent format: tool_call / tool_response turns
    "observation": "tool",
    "tool": "tool",
    "function_response": "tool",
    "tool_response": "tool",
}
ROLE_KEYS = ("role", "from", "speaker", "author", "sender")
_EXCHANGE_KEYS = (("input", "output"), ("human", "assistant"), ("user", "assistant"))


class ConvertProblem(ValueError):
    """A record a converter recognises but refuses, with its own reason code (e.g. ``no_preference``)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def is_false(value: Any) -> bool:
    """A column's false: the boolean, or the word as CSV and pandas exports write it."""
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def as_number(value: Any) -> float | None:
    """A score, rank or id as a number: CSV cells arrive as text ("5.0", "1"); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if value != value else value  # NaN (pandas' missing cell) is no score: it would sort first
    if isinstance(value, str) and len(value) < 32:
        try:
            number = float(value.strip())
        except ValueError:
            return None
        if number != number:
            return None
        return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    return None


def no_preference(why: str) -> ConvertProblem:
    return ConvertProblem("no_preference", f"{why}, so there is no chosen and rejected answer to train on "
                                           "(drop such rows, or read the answers as SFT with a field mapping)")


CONTENT_KEYS = ("content", "value", "text", "message")


def map_role(raw: Any, mapping: FieldMapping | None) -> Any:
    """The canonical role for a speaker name; unknown names are kept verbatim so checks can report them."""
    if mapping is not None and mapping.roles and isinstance(raw, str | int) and raw in mapping.roles:
        return mapping.roles[raw]  # (a dict or list "role" cannot be looked up: it stays for the checks)
    if isinstance(raw, str):
        return ROLE_ALIASES.get(raw.lower(), raw)
    return raw


def row_of(payload: Any, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    """A raw payload as the row object ``matches`` accepts, or None: what a file's row assembler groups."""
    if isinstance(payload, bytes | bytearray | memoryview):
        try:
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return None
    return payload if isinstance(payload, dict) and matches(payload) else None


def parse_json_string(value: Any) -> Any:
    """Decode a JSON string (tools and tool calls are often stored as one); anything else is returned as is."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def add_tools(body: dict[str, Any], obj: dict[str, Any], mapping: FieldMapping | None) -> None:
    """``body["tools"]``: the record's tool schemas (``tools``, or the mapped field) in the OpenAI shape."""
    tools = normalize_tools(obj.get(mapping.tools if mapping is not None and mapping.tools else "tools"))
    if tools is not None:
        body["tools"] = tools


def normalize_tools(value: Any) -> Any:
    """Tool schemas in the OpenAI shape ``[{"type": "function", "function": {...}}]``.

    Accepts a JSON string, a list of bare function schemas or of already wrapped ones. Empty -> None.
    Something that is not a list after decoding is returned unchanged, for checks to report.
    """
    value = parse_json_string(value)
    if value is None or value == "" or value == []:
        return None
    if not isinstance(value, list):
        return value
    if all(isinstance(t, dict) and "type" in t for t in value):
        return value
    return [t if not isinstance(t, dict) or "type" in t else {"type": "function", "function": _function(t)}
            for t in value]


def _function(schema: dict[str, Any]) -> dict[str, Any]:
    """Anthropic's tool schema (``input_schema``) in OpenAI's shape (``parameters``); others as they are."""
    if "input_schema" in schema and "parameters" not in schema:
        return {("parameters" if k == "input_schema" else k): v for k, v in schema.items()}
    return schema


def parse_tool_calls(value: Any, first_id: int) -> list[dict[str, Any]]:
    """Tool calls from a ShareGPT ``function_call`` value: ``{"name", "arguments"}`` or a list of them.

    Ids are ``call_{n}``, numbered through the conversation, so the same input always gets the same ids.
    A value that is not JSON becomes one call with an empty name and the raw text as arguments, which the
    checks report as a broken call instead of the reader dropping it.
    """
    data = parse_json_string(value)
    calls = data if isinstance(data, list) else [data]
    result = []
    for offset, call in enumerate(calls):
        if isinstance(call, dict):
            name = call.get("name", "")
            arguments = call.get("arguments", call.get("parameters"))
        else:
            name, arguments = "", call if isinstance(call, str) else orjson.dumps(call).decode()
        result.append(
            {
                "id": f"call_{first_id + offset}",
                "type": "function",
                "function": {
                    "name": name if isinstance(name, str) else str(name),
                    "arguments": arguments_string(arguments),
                },
            }
        )
    return result


def _turn_keys(turn: dict[str, Any], mapping: FieldMapping | None) -> tuple[str | None, str | None]:
    if mapping is not None and mapping.role:
        role_key: str | None = mapping.role
    else:
        role_key = next((k for k in ROLE_KEYS if k in turn), None)
    if mapping is not None and mapping.content:
        content_key: str | None = mapping.content
    else:
        content_key = next((k for k in CONTENT_KEYS if k in turn), None)
    return role_key, content_key


def _nested(value: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _with_nested(turn: dict[str, Any], *paths: str | None) -> dict[str, Any]:
    """The turn with a mapping's dotted keys read from its nested objects (Discord's ``author.name``, Bot
    Framework's ``from.role``, Botpress's ``payload.text``): the value under the dotted name, the objects kept."""
    out = dict(turn)
    for path in paths:
        if path and "." in path and path not in turn:
            out[path] = _nested(turn, path)
    return out


def convert_turns(turns: Any, mapping: FieldMapping | None) -> Any:
    """ShareGPT-like turns (``from``/``value``, or ``role``/``content``) -> canonical messages.

    ``function_call`` turns become assistant messages with ``tool_calls`` (consecutive ones, ms-swift's parallel
    calls, one assistant message); ``observation`` / ``tool`` / ``function_response`` turns become tool
    messages answering the oldest unanswered call. Other keys of a
    turn are kept as they are. A list of plain strings alternates user and assistant. A value that is not a
    list is returned unchanged for the checks to report.
    """
    if not isinstance(turns, list):
        return turns
    messages: list[Any] = []
    pending: list[str] = []  # tool-call ids not answered yet, oldest first
    n_calls = 0
    calls_turn: int | None = None  # the index of the last message made from function_call turns
    calls_extra: dict[str, Any] = {}  # and the other keys of its turn
    for position, turn in enumerate(turns):
        if isinstance(turn, str):
            messages.append({"role": "user" if position % 2 == 0 else "assistant", "content": turn})
            continue
        if not isinstance(turn, dict):
            messages.append(turn)
            continue
        exchange = next((pair for pair in _EXCHANGE_KEYS if pair[0] in turn and pair[1] in turn), None)
        if exchange is not None and not any(k in turn for k in ROLE_KEYS):
            # each turn is one exchange: Capybara / LDJnr {"input", "output"}, Firefly / BELLE {"human", "assistant"},
            # the_cauldron {"user", "assistant"}
            asked, answered = exchange
            extra = {k: v for k, v in turn.items() if k not in exchange}
            messages.append({"role": "user", "content": turn[asked]})
            messages.append({"role": "assistant", "content": turn[answered], **extra})
            continue
        role_key, content_key = _turn_keys(turn, mapping)
        if role_key is None and type(turn.get("is_human")) is bool:
            # PIPPA and character-chat exports mark the speaker with a flag, not a name
            role_key, turn = "role", {"role": "user" if turn["is_human"] else "assistant",
                                      **{k: v for k, v in turn.items() if k != "is_human"}}
        if (role_key and "." in role_key and role_key not in turn) or (
                content_key and "." in content_key and content_key not in turn):
            turn = _with_nested(turn, role_key, content_key)
        raw_role = turn.get(role_key) if role_key else None
        role = map_role(raw_role, mapping) if role_key else None
        extra = {k: v for k, v in turn.items() if k != role_key and k != content_key}
        if role == "function_call":
            calls = parse_tool_calls(turn.get(content_key) if content_key else None, n_calls)
            n_calls += len(calls)
            pending.extend(c["id"] for c in calls)
            if calls_turn == len(messages) - 1 and extra == calls_extra:
                messages[-1]["tool_calls"].extend(calls)  # two assistant turns in a row would be refused
            else:
                messages.append({"role": "assistant", "tool_calls": calls, **extra})
                calls_turn, calls_extra = len(messages) - 1, extra
            continue
        message: dict[str, Any] = {}
        if role_key is not None:
            message["role"] = role
        if content_key is not None:
            # a mapped text key a turn leaves out (a photo-only message, a Rasa slot event): no content, for the
            # checks to name that turn; a KeyError lost the whole conversation
            message["content"] = turn.get(content_key)
        if role == "tool" and pending and "tool_call_id" not in extra:
            results = _one_result_per_call(message.get("content"), len(pending)) \
                if len(pending) > 1 and not _next_is_tool(turns, position, mapping) else None
            if results is not None:
                # one observation holding every parallel call's result (ToolACE, LLaMA-Factory): one message each
                for result in results:
                    messages.append({**message, "tool_call_id": pending.pop(0), "content": result, **extra})
                continue
            message["tool_call_id"] = pending.pop(0)
        message.update(extra)
        messages.append(message)
    return messages


def _one_result_per_call(content: Any, calls: int) -> list[str] | None:
    """The results of ``calls`` parallel calls when ``content`` is a JSON array of exactly that many (each as
    its JSON text, a string as it is); None when it is anything else, so that it answers only the first call."""
    data = parse_json_string(content) if isinstance(content, str) else content
    if not isinstance(data, list) or len(data) != calls:
        return None
    return [item if isinstance(item, str) else orjson.dumps(item).decode() for item in data]


def _next_is_tool(turns: list[Any], position: int, mapping: FieldMapping | None) -> bool:
    """Whether the turn after ``position`` is a tool result too: then each result has its own turn."""
    if position + 1 >= len(turns) or not isinstance(turns[position + 1], dict):
        return False
    following = turns[position + 1]
    role_key, _ = _turn_keys(following, mapping)
    return role_key is not None and map_role(following.get(role_key), mapping) == "tool"


def history_messages(history: Any) -> list[dict[str, Any]]:
    """LLaMA-Factory's and ChatGLM's ``history``: ``[[question, answer], ...]`` before the record's exchange.
    Anything else is refused: skipping a malformed pair would train the chat without that turn."""
    if history is None or (isinstance(history, str) and not history.strip()):
        return []  # an empty CSV cell
    if not isinstance(history, list):
        raise ConvertProblem("data_type", f"history is {type(history).__name__}, expected a list of "
                             "[question, answer] pairs (fix: write the earlier turns as such pairs)")
    messages: list[dict[str, Any]] = []
    for n, pair in enumerate(history):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            shape = f"a list of {len(pair)}" if isinstance(pair, list | tuple) else type(pair).__name__
            raise ConvertProblem("data_type", f"history[{n}] is {shape}, expected a [question, answer] pair "
                                 "(fix: write the earlier turns as such pairs)")
        messages.append({"role": "user", "content": pair[0]})
        messages.append({"role": "assistant", "content": pair[1]})
    return messages


def conversation_lists(turns: Any) -> list[list[Any]] | None:
    """``[[turns], [turns]]`` under ``messages`` or ``conversations``: several conversations saved in one record
    (each a list of turn objects), read as one record each; None for a single conversation."""
    if type(turns) is not list or not turns or type(turns[0]) is not list:
        return None
    if all(type(chat) is list and chat and all(type(turn) is dict for turn in chat) for chat in turns):
        return turns
    return None


_BACKTICKS = re.compile(r"`{3,}")


def document_text(title: Any, language: str | None, content: str) -> str:
    """A document the assistant wrote beside the chat (a ChatGPT canvas, a claude.ai artifact) as answer text,
    which is what a model trained on it should write: prose as it is (its title is its own first heading, if
    any), code as a fenced block under its title in bold. The fence is longer than any run of backticks inside."""
    if language is None:
        return content
    fence = "`" * max([3, *(len(run) + 1 for run in _BACKTICKS.findall(content))])
    head = f"**{title.strip()}**\n\n" if isinstance(title, str) and title.strip() else ""
    return f"{head}{fence}{language}\n{content.rstrip(chr(10))}\n{fence}"


def branch(nodes: dict[str, Any], leaf: Any, parent: str, children: str, where: str) -> list[dict[str, Any]]:
    """The nodes of a message tree (ChatGPT's ``mapping``, Open WebUI's ``history.messages``) from the root to
    ``leaf`` by ``parent`` links: the branch the user kept. With no leaf named, from the first root down the
    newest child of each node; [] when there is no root. Links that loop are refused: which branch was kept
    cannot be told."""
    path: list[dict[str, Any]] = []
    if isinstance(leaf, str) and leaf in nodes:
        seen: set[str] = set()
        key: Any = leaf
        while isinstance(key, str) and key in nodes:
            seen.add(key)
            node = nodes[key]
            if not isinstance(node, dict):
                raise ConvertProblem("data_type", f"{where}[{key!r}] is a {type(node).__name__}, expected a node "
                                     "object")
            path.append(node)
            up = node.get(parent)
            if isinstance(up, str) and up in seen:
                raise _cycle(where, key, parent, up)
            key = up
        return path[::-1]
    roots = [n for n in nodes.values() if isinstance(n, dict) and n.get(parent) in (None, "")]
    node = roots[0] if roots else None
    ids: set[int] = set()
    while isinstance(node, dict):
        ids.add(id(node))
        path.append(node)
        below = node.get(children) or []
        child = below[-1] if isinstance(below, list) and below else None
        node = nodes.get(child) if isinstance(child, str) else None
        if isinstance(node, dict) and id(node) in ids:
            raise _cycle(where, path[-1].get("id"), f"last of its {children}", child)
    return path


def _cycle(where: str, node: Any, link: str, other: Any) -> ConvertProblem:
    return ConvertProblem("data_type", f"the conversation's {where} has a cycle: the {link} of node {node!r} is "
                          f"{other!r}, which is already on the path (parent and children links must form a tree)")


def speaker_roles(app: str, speakers: list[str], bots: set[str], mapping: FieldMapping | None) -> dict[str, str]:
    """The role of each person in a messenger's chat export (Telegram, Discord, Slack), from the mapping's ``roles``.

    A chat between people names no assistant: which speaker the model should learn to be is the user's choice, so
    without a ``roles`` entry for every speaker the chat is refused as ``unrecognized_role``, naming the speakers
    and the mapping to pass (the bots as the assistant, when the export marks them)."""
    given = dict(mapping.roles) if mapping is not None and mapping.roles else {}
    unmapped = [name for name in speakers if name not in given]
    if not unmapped:
        return {name: given[name] for name in speakers}
    assistant = [name for name in speakers if name in bots] or speakers[1:2] or speakers[:1]
    example = ", ".join(f"{orjson.dumps(name).decode()}: \"{'assistant' if name in assistant else 'user'}\""
                        for name in speakers[:6]) + (", ..." if len(speakers) > 6 else "")
    shown = ", ".join(repr(name) for name in unmapped[:12]) + (f" and {len(unmapped) - 12} more"
                                                               if len(unmapped) > 12 else "")
    raise ConvertProblem("unrecognized_role", f"a {app} chat between people names no assistant ({shown} not in "
                         f"the mapping's roles); pass a field mapping naming each speaker's role, e.g. roles: "
                         f"{{{example}}} (the speaker the model should learn to be is the assistant; curate "
                         "inspect FILE --suggest-mapping writes the block)")


# Columns that hold the passage a question or an answer is written from, whatever the layout: RACE's article,
# MultiRC's paragraph, HaluEval's knowledge, ScienceQA's hint. Left out, the answer is trained closed-book.
PASSAGE_COLUMNS = ("passage", "article", "paragraph", "story", "background", "knowledge", "evidence", "hint")


def settle_stopped(messages: list[dict[str, Any]], stopped: dict[int, str], where: str) -> None:
    """Answers that ended early (``stopped``: turn index -> how): the last one refuses the record as
    ``incomplete_answer`` (it would be trained as a whole answer); an earlier one, after which the chat went on, is
    kept as context at weight 0."""
    answers = [n for n, m in enumerate(messages) if m.get("role") == "assistant"]
    if answers and answers[-1] in stopped:
        raise ConvertProblem("incomplete_answer", f"the last answer ended early ({where}: {stopped[answers[-1]]}): a "
                             "stopped or cut-off answer would be trained as a whole one (leave such conversations "
                             "out, or regenerate the answer)")
    for n in stopped:
        messages[n]["weight"] = 0


def rated_down_metadata(verdict: str, answers: list[str]) -> dict[str, Any]:
    """``metadata`` for a chat the user rated down (``verdict``: the app's own field and value, e.g.
    ``annotation.rating: -1``): as a KTO label false, the conversation is not trained as a good one."""
    return {"label": False, "label_from": f"{verdict} (the user rated answer {', '.join(answers)} down)"}


def passage_keys(passage: str, question: str) -> dict[str, str]:
    """``metadata`` naming the passage a question is asked of, and the question: the split keeps one passage's
    questions together (group ``passage``), and near dedup compares them by their question and answer, not by the
    passage that is most of their text (SQuAD asks ~5 questions of a paragraph, RACE ~3 of an article)."""
    return {"passage": xxhash.xxh3_64_hexdigest(passage.encode("utf-8", "surrogatepass")),
            "asked": xxhash.xxh3_64_hexdigest(question.strip().encode("utf-8", "surrogatepass"))}
