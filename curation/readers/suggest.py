"""`curate inspect FILE --suggest-mapping`: the `inputs:` config block that reads a file.

For a layout the readers recognise, the block names its format and maps any role names left over; for
an unknown layout it guesses the field that holds the turns (a list of objects sharing a role-like and a
text-like key), the role and content keys, and a role map from the role values seen. Guesses it cannot
make are written as ``FIXME``: such turns fail validation (``unrecognized_role``) until a person decides.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import yaml

from ..records import ROLES
from .containers import detect_container, iter_payloads
from .convert import detect_format, summary_layout
from .files import check_readable, expand_inputs
from .formats import discord_export, slack_export, telegram_export
from .formats._common import CONTENT_KEYS, ROLE_ALIASES, ROLE_KEYS
from .mapping import FieldMapping

SAMPLE = 50
# Words in a role name that say which canonical role it is (matched in the lower-cased name).
_ROLE_HINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("system", ("system", "système", "systeme", "instruction")),
    ("assistant", ("assistant", "bot", "gpt", "model", "agent", "ai", "answer", "response", "réponse", "support")),
    ("user", ("user", "human", "customer", "client", "question", "utilisateur", "usuario", "prompter", "person")),
    ("tool", ("tool", "function", "observation")),
)
UNKNOWN_ROLE = "FIXME"
# Messengers' exports, chats between people: their speakers, which a roles mapping must name before they are read.
_SPEAKERS = {m.NAME: m.speakers for m in (telegram_export, discord_export, slack_export)}


def _sample(path: Path, limit: int = SAMPLE) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for _line, _index, payload in iter_payloads(path, detect_container(path)):
        try:
            obj = orjson.loads(payload) if isinstance(payload, bytes | bytearray | memoryview) else payload
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            records.append(obj)
        if len(records) >= limit:
            break
    return records


def guess_role(name: str) -> str:
    """The canonical role a speaker name most likely means, or ``FIXME``."""
    lowered = name.strip().lower()
    if lowered in ROLES:
        return lowered
    if lowered in ROLE_ALIASES and ROLE_ALIASES[lowered] in ROLES:
        return ROLE_ALIASES[lowered]
    for role, words in _ROLE_HINTS:
        if any(word in lowered for word in words):
            return role
    return UNKNOWN_ROLE


def _turn_fields(records: list[dict[str, Any]]) -> tuple[str, str, str] | None:
    """(turns field, role key, content key) of the list-of-objects field that looks most like a chat."""
    scores: Counter[tuple[str, str, str]] = Counter()
    for obj in records:
        for key, value in obj.items():
            if not isinstance(value, list) or not value or not all(isinstance(t, dict) for t in value):
                continue
            first = value[0]
            role_key = next((k for k in ROLE_KEYS if k in first), None)
            content_key = next((k for k in CONTENT_KEYS if k in first), None)
            if role_key is None:  # a short string value repeated across turns is the speaker
                role_key = next((k for k, v in first.items() if isinstance(v, str) and len(v) <= 32), None)
            if content_key is None:  # the longest string is the text, never an id or a status word
                texts = [(len(v), k) for k, v in first.items()
                         if isinstance(v, str) and k != role_key and not _bookkeeping(k)]
                content_key = max(texts)[1] if texts else None
            if role_key and content_key:
                scores[(key, role_key, content_key)] += 1
    if not scores:
        return None
    return scores.most_common(1)[0][0]


def _bookkeeping(key: str) -> bool:
    """A key whose string is an identifier or a state, not what someone said."""
    name = key.lower()
    return name in _BOOKKEEPING or name.endswith(("_id", "id_"))


_BOOKKEEPING = frozenset({"id", "uuid", "status", "type", "object", "model", "name", "lang", "language", "timestamp",
                          "created_at", "date", "finish_reason", "stop_reason"})


def _uncovered(records: list[dict[str, Any]], field: str) -> list[str]:
    """Top-level text keys a mapping of ``field`` leaves unread (a Cohere log's last `message`, a `preamble`)."""
    keys: dict[str, None] = {}
    for obj in records:
        for key, value in obj.items():
            if key != field and isinstance(value, str) and value.strip() and not _bookkeeping(key):
                keys.setdefault(key, None)
    return list(keys)


def _roles_seen(records: list[dict[str, Any]], field: str, role_key: str) -> list[str]:
    seen: dict[str, None] = {}
    for obj in records:
        turns = obj.get(field)
        if isinstance(turns, list):
            for turn in turns:
                if isinstance(turn, dict) and isinstance(turn.get(role_key), str):
                    seen.setdefault(turn[role_key], None)
    return list(seen)


def suggest_input(path: str | Path) -> dict[str, Any]:
    """The `inputs:` entry (path, format, mapping) that reads ``path``, as a plain dict."""
    path = Path(path)
    check_readable(path)
    records = _sample(path)
    entry: dict[str, Any] = {"path": str(path)}
    formats = Counter(name for name in (detect_format(obj) for obj in records) if name is not None)
    if formats and sum(formats.values()) * 2 >= len(records):
        entry["format"] = formats.most_common(1)[0][0]
        if entry["format"] in _SPEAKERS:
            return _with_speakers(entry, records)
        # Role names a known format would leave unrecognised still need a map.
        fields = _turn_fields(records)
        if fields is not None:
            unknown = [r for r in _roles_seen(records, fields[0], fields[1])
                       if guess_role(r) != r and ROLE_ALIASES.get(r.lower()) not in ROLES]
            if unknown:
                entry["mapping"] = {"roles": {r: guess_role(r) for r in unknown}}
        return entry
    fields = _turn_fields(records)
    if fields is None:
        entry["format"] = "mapped"
        exchange = _exchange_fields(records)
        summary = _summary_fields(records)
        if summary is not None:  # samsum, XSum, CNN/DailyMail: the request is the text, with no instruction
            entry["mapping"] = {"prompt_template": f"Summarize this:\n\n{{{summary[0]}}}", "completion": summary[1]}
        elif exchange is not None:  # one request and one answer in two text fields (CoT-Collection, Spider, P3)
            entry["mapping"] = {"prompt": exchange[0], "completion": exchange[1]}
        else:
            entry["mapping"] = {"messages": UNKNOWN_ROLE, "role": "role", "content": "content"}
        return entry
    field, role_key, content_key = fields
    mapping: dict[str, Any] = {"messages": field, "role": role_key, "content": content_key}
    roles = {r: guess_role(r) for r in _roles_seen(records, field, role_key) if guess_role(r) != r}
    if roles:
        mapping["roles"] = roles
    FieldMapping.model_validate(mapping)  # what we print must be a valid config
    entry["format"] = "mapped"
    entry["mapping"] = mapping
    return entry


def _with_speakers(entry: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """A messenger export's entry with a role for each speaker: a bot as the assistant, a name that says its role
    as that role, any other person ``FIXME`` (which of them the model should learn to be is the user's choice)."""
    names: list[str] = []
    bots: set[str] = set()
    for obj in records:
        seen, marked = _SPEAKERS[entry["format"]](obj)
        names.extend(seen)
        bots |= marked
    roles = {name: "assistant" if name in bots else guess_role(name) for name in dict.fromkeys(names)}
    if roles:
        entry["mapping"] = {"roles": roles}
    return entry


# Field names of a one-exchange record, in the order they are taken: the request, then the answer.
_ASKED = ("question", "source", "inputs_pretokenized", "inputs", "input", "prompt", "instruction", "problem",
          "query", "text")
_ANSWERED = ("target", "targets_pretokenized", "targets", "answer", "output", "response", "completion", "solution",
             "query", "sql", "label")


def _exchange_fields(records: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(request field, answer field) when most sampled records hold text under one name of each list, else None."""
    def common(name: str) -> bool:
        return sum(isinstance(r.get(name), str) and bool(r[name].strip()) for r in records) * 5 >= len(records) * 4

    asked = next((name for name in _ASKED if common(name)), None)
    answered = next((name for name in _ANSWERED if name != asked and common(name)), None)
    return (asked, answered) if records and asked and answered else None


def _summary_fields(records: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(text field, summary field) when most sampled records are a summarisation dataset's, else None."""
    found = Counter(layout for layout in map(summary_layout, records) if layout is not None)
    if not found:
        return None
    layout, count = found.most_common(1)[0]
    return layout if count * 5 >= len(records) * 4 else None


def unread_text_keys(entry: dict[str, Any]) -> list[str]:
    """For a suggested ``mapped`` entry: the top-level text keys its mapping does not read."""
    mapping = entry.get("mapping") or {}
    if entry.get("format") != "mapped" or mapping.get("messages") in (None, UNKNOWN_ROLE):
        return []
    return _uncovered(_sample(Path(entry["path"])), mapping["messages"])


def suggest_inputs_yaml(paths: list[str]) -> str:
    """The YAML block for a run config's ``inputs:``, one entry per file under ``paths``."""
    entries = [suggest_input(path) for path in expand_inputs(list(paths))]
    text = yaml.safe_dump({"inputs": entries}, sort_keys=False, allow_unicode=True, default_flow_style=False)
    header = "# `curate run CONFIG` reads these inputs; check the role map (FIXME: a role no rule could guess)\n"
    for entry in entries:
        unread = unread_text_keys(entry)
        if unread:
            header += (f"# FIXME {entry['path']}: the mapping reads only `{entry['mapping']['messages']}`; "
                       f"{', '.join(unread)} would go to metadata.fields unread (a turn or system prompt held "
                       "outside that list needs converting into it first)\n")
    return header + text
