"""Normalise text and roles so later stages, dedup and exporters see one spelling of the same thing.

Every change is safe to re-run (normalising normalised text changes nothing) and is recorded by kind
in ``metadata["normalised"]``. Whitespace is only collapsed in prose: fenced and indented code,
tool results and tool-call arguments keep every byte, because whitespace is meaning there.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from curation.pipeline.base import Drop, RecordStage
from curation.records import is_preference, record_messages
from curation.type_names import type_schema, with_items

# Aliases that readers of ShareGPT-like and vendor formats leave behind (matched case-insensitively).
DEFAULT_ROLE_ALIASES: dict[str, str] = {
    "human": "user",
    "prompter": "user",
    "customer": "user",
    "gpt": "assistant",
    "chatgpt": "assistant",
    "bot": "assistant",
    "model": "assistant",
    "ai": "assistant",
    "agent": "assistant",  # a support tool's agent answering the customer
    "observation": "tool",
    "ipython": "tool",  # Llama 3.1's role for a tool's output
    "tool_response": "tool",
    "tool_result": "tool",
    "function_response": "tool",
}
_CANONICAL_ROLES = ("system", "developer", "user", "assistant", "tool", "function")

# C0/C1 controls except \t and \n (\r is turned into \n first), plus invisible characters that carry
# no meaning in training text. ZWJ/ZWNJ (U+200D/U+200C) are kept on purpose: emoji sequences and
# Persian/Indic spelling need them.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2060\ufeff]")
# Two blanks between words ("end.  Next", a space and a tab): one space. Longer runs are layout and stay: the
# indentation after a line number in an agent's file view ("2:    if x:"), aligned columns of a terminal table
# ("100   422   5603"), a quoted code line; pure tab runs are field separators in pasted TSV.
# A row of a table drawn in text (a MySQL client's "| name  |" under "+-------+", a Markdown table): its spaces
# line its cells up with the border.
_TABLE_EDGES = ("|", "+")


def _is_table_row(line: str) -> bool:
    body = line.lstrip()
    return len(body) > 2 and body[0] in _TABLE_EDGES and body[-1] in _TABLE_EDGES


_INNER_SPACES = re.compile(r"(?<=\S)(?:  | \t|\t )(?=\S)")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
# Prose whitespace needs work only when one of these appears (or the ends are not stripped).
_WS_TRIGGERS = ("  ", "\n\n\n", " \n", "\t\n", " \t", "\t ", "\n \n", "\n\t\n")
_CANONICAL_ROLE_SET = frozenset(_CANONICAL_ROLES)
# _INVISIBLE on UTF-8 bytes, where a character-class scan of the str would cost ~10 ns a character: the
# single-byte controls become 0x00 in one translate; C1 controls, U+200B, U+2060 and U+FEFF are found by
# their UTF-8 forms, each behind a substring test of its lead byte.
_CONTROL_BYTES = bytes(0 if (i <= 0x08 or 0x0B <= i <= 0x1F or i == 0x7F) else 1 for i in range(256))  # with \r
# The same translate also spells the whitespace triggers: space and tab as S, newline as N, so that the
# triggers ("  ", " \n", "\t\n", " \t", "\t ", "\n\n\n", and the two that hold " \n" or "\t\n") are SS, SN
# and NNN (SS also finds two tabs, which are no trigger: such a text merely takes the exact path); every
# other byte is x.
_SPACE_CLASSES = bytes(
    0 if _CONTROL_BYTES[i] == 0 else 0x53 if i in (0x20, 0x09) else 0x4E if i == 0x0A else 0x78 for i in range(256)
)
_INVISIBLE_UTF8 = ((0xC2, re.compile(b"\xc2[\x80-\x9f]")), (0xE2, re.compile(b"\xe2(?:\x80\x8b|\x81\xa0)")),
                   (0xEF, re.compile(b"\xef\xbb\xbf")))
_CODE_ROLES = ("tool", "function")


class NormaliseConfig(BaseModel):
    """Settings of the ``normalise`` stage."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    enabled: bool = Field(True, description="Run this stage.")
    nfc: bool = Field(True, description="Compose text to Unicode NFC (one code-point spelling per character).")
    remove_invisible: bool = Field(
        True, description="Remove control characters (except newline and tab), zero-width spaces and BOMs."
    )
    whitespace: bool = Field(
        True,
        description="Trim content, drop trailing spaces, collapse two blanks between words and 2+ blank lines in "
        "prose (never inside code blocks, indented code or tool messages; longer space runs are layout and stay).",
    )
    map_roles: bool = Field(True, description="Map role aliases (human, gpt, bot, model, ...) to canonical roles.")
    role_aliases: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ROLE_ALIASES),
        description="Alias -> canonical role, matched case-insensitively (replaces the built-in table).",
    )
    system_prompt_mode: Literal["none", "add_if_missing", "replace"] = Field(
        "none",
        description="none: leave system prompts alone; add_if_missing: insert system_prompt where a record has "
        "none; replace: set the first system prompt to system_prompt (adding one where missing).",
    )
    system_prompt: str = Field("", description="The system prompt text used by system_prompt_mode.")
    trim_trailing_user: bool = Field(
        True, description="Cut user turns after a conversation's last assistant turn: nothing is trained on them "
        "(no reply follows) and a provider or trainer would take them for a prompt with a missing answer. "
        "Tree paths that end on an unanswered prompt (OpenAssistant) become their answered part.",
    )
    tool_schemas: bool = Field(
        True, description="Write tool parameters as JSON Schema, as every provider requires: Python type names "
        "(dict, str, 'int, optional', List[int]) as JSON types, a bare map of properties as an object schema, "
        "a function-level required list moved into parameters.",
    )


def _is_indented_code(line: str) -> bool:
    return line.startswith(("    ", "\t"))


def _normalise_prose_whitespace(text: str) -> str:
    """Trim, drop trailing spaces and collapse space runs and blank-line runs outside code."""
    lines = text.split("\n")
    out: list[str] = []
    in_fence = False
    blank_run = 0
    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append(line.rstrip())
            blank_run = 0
            continue
        if in_fence:
            out.append(line)  # code keeps every byte, trailing spaces included
            continue
        stripped = line.rstrip()
        if not stripped:
            blank_run += 1
            if blank_run > 1:  # at most one blank line between paragraphs
                continue
            out.append("")
            continue
        blank_run = 0
        if not _is_indented_code(stripped) and not _is_table_row(stripped):
            stripped = _INNER_SPACES.sub(" ", stripped)
        out.append(stripped)
    # Leading blank lines go; leading spaces go too unless the first line is indented code.
    while out and not out[0]:
        out.pop(0)
    if out and not _is_indented_code(out[0]):
        out[0] = out[0].lstrip()
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def _already_clean(messages: list[Any]) -> bool:
    """True only if ``NormaliseStage._message`` would change no message, whatever the config: every role is
    canonical and every text it would touch is free of \\r, invisible characters, non-NFC spellings, leading
    or trailing whitespace and (in prose) whitespace runs. Most records are, and one pass over their texts
    joined by "\\n" is much cheaper than the per-text steps: "\\n" is a character that no check looks for
    next to text that does not start or end with whitespace, and NFC normalises each side of it apart."""
    prose: list[str] = []
    code: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if isinstance(role, str) and role not in _CANONICAL_ROLE_SET:
            return False  # maybe an alias
        texts = code if role in _CODE_ROLES else prose
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
        reasoning = message.get("reasoning")
        if isinstance(reasoning, str):
            prose.append(reasoning)
    for texts in (prose, code):
        for text in texts:
            if text.strip() is not text:  # CPython hands back the very string when there is nothing to strip
                return False
    joined = "\n".join(prose)
    data = joined.encode("utf-8", "surrogatepass")
    classes = data.translate(_SPACE_CLASSES)
    if b"\x00" in classes or b"SS" in classes or b"SN" in classes or b"NNN" in classes:  # \r is a control
        return False
    if code:  # tool output: only controls and invisible characters matter (and the ends, done above)
        joined += "\n" + "\n".join(code)
        data = joined.encode("utf-8", "surrogatepass")
        if b"\x00" in data.translate(_SPACE_CLASSES):
            return False
    if len(data) == len(joined):  # ASCII: no other invisible character, and NFC already
        return True
    if any(lead in data and pattern.search(data) for lead, pattern in _INVISIBLE_UTF8):
        return False
    return unicodedata.is_normalized("NFC", joined)


_JSON_TYPES = frozenset({"object", "string", "integer", "number", "boolean", "array", "null"})


def _schema_fixed(node: Any, optional: list[str] | None = None, name: str | None = None) -> Any:
    """``node`` with Python type names as JSON Schema types (recursively through properties and items); the
    same object when nothing needed it. A property whose type said ", optional" is named in ``optional``."""
    if not isinstance(node, dict):
        return node
    out = node
    kind = node.get("type")
    if isinstance(kind, str) and kind not in _JSON_TYPES:
        # Python type names (LLaMA-Factory's and xLAM-derived sets: "dict", "int, optional", "List[int]")
        schema, said_optional = type_schema(kind)
        if schema is not None:
            out = {**schema, **{k: v for k, v in node.items() if k != "type"}}  # its own items win
            if said_optional and optional is not None and name is not None:
                optional.append(name)
    out = with_items(out)
    properties = out.get("properties")
    if isinstance(properties, dict):
        unsure: list[str] = []
        fixed = {k: _schema_fixed(v, unsure, k) for k, v in properties.items()}
        if any(fixed[k] is not properties[k] for k in properties):
            out = {**out, "properties": fixed}
        if unsure and isinstance(out.get("required"), list):
            out = {**out, "required": [r for r in out["required"] if r not in unsure]}
    items = out.get("items")
    if isinstance(items, dict):
        fixed_items = _schema_fixed(items)
        if fixed_items is not items:
            out = {**out, "items": fixed_items}
    return out


def _function_fixed(function: dict[str, Any]) -> dict[str, Any]:
    """A tool's function with its parameters as a JSON Schema object: a bare map of properties wrapped, a
    ``required`` list beside ``parameters`` moved into it, Python type names mapped."""
    params = function.get("parameters")
    if not isinstance(params, dict):
        return function
    fixed = params
    if "type" not in params and "properties" not in params and params and all(
            isinstance(v, dict) and "type" in v for v in params.values()):
        fixed = {"type": "object", "properties": params}  # {"city": {"type": "str"}} as the whole schema
    outer_required = function.get("required")
    if isinstance(outer_required, list) and "required" not in fixed:
        fixed = {**fixed, "required": outer_required}
    fixed = _schema_fixed(fixed)
    if fixed is params and "required" not in function:
        return function
    out = {k: v for k, v in function.items() if not (k == "required" and isinstance(outer_required, list))}
    out["parameters"] = fixed
    return out


def _tools_fixed(tools: Any) -> Any:
    """The record's tools with each function's parameters as valid JSON Schema (see ``_function_fixed``)."""
    if not isinstance(tools, list):
        return tools
    changed = False
    out = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict):
            fixed = _function_fixed(function)
            if fixed is not function:
                tool = {**tool, "function": fixed}
                changed = True
        out.append(tool)
    return out if changed else tools


class NormaliseStage(RecordStage):
    """Unicode NFC, invisible characters, safe whitespace, role aliases and an optional system prompt.

    Never drops; writes ``metadata["normalised"]`` (sorted change kinds) when it changed anything.
    """

    name: ClassVar[str] = "normalise"
    before_validation: ClassVar[bool] = True

    def __init__(self, config: NormaliseConfig | None = None) -> None:
        self.config = config or NormaliseConfig()
        self._aliases = {k.strip().lower(): v for k, v in self.config.role_aliases.items()}
        for role in _CANONICAL_ROLES:  # "User" and "ASSISTANT" are aliases too
            self._aliases.setdefault(role, role)

    def _text(self, text: str, changes: set[str], *, prose: bool) -> str:
        cfg = self.config
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            changes.add("newlines")
        if cfg.remove_invisible and _INVISIBLE.search(text):
            text = _INVISIBLE.sub("", text)
            changes.add("invisible")
        if cfg.nfc and not text.isascii() and not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
            changes.add("nfc")
        if cfg.whitespace and text:
            if prose:
                if text[0].isspace() or text[-1].isspace() or any(t in text for t in _WS_TRIGGERS):
                    new = _normalise_prose_whitespace(text)
                    if new != text:
                        text = new
                        changes.add("whitespace")
            else:
                new = text.strip()
                if new != text:
                    text = new
                    changes.add("whitespace")
        return text

    def _message(self, message: dict[str, Any], changes: set[str]) -> None:
        role = message.get("role")
        if self.config.map_roles and isinstance(role, str) and role not in _CANONICAL_ROLES:
            mapped = self._aliases.get(role.strip().lower())
            if mapped is not None and mapped != role:
                message["role"] = role = mapped
                changes.add("role")
        # Tool results are often JSON or program output: only trim them.
        prose = role not in ("tool", "function")
        content = message.get("content")
        if isinstance(content, str):
            message["content"] = self._text(content, changes, prose=prose)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                    part["text"] = self._text(part["text"], changes, prose=prose)
        if isinstance(message.get("reasoning"), str):
            message["reasoning"] = self._text(message["reasoning"], changes, prose=True)
        # tool_calls / function_call arguments are never touched: they are exact JSON the model must emit.

    def _system_prompt(self, record: dict[str, Any], changes: set[str]) -> None:
        cfg = self.config
        key = "prompt" if is_preference(record) else "messages"
        messages = record.get(key)
        if not isinstance(messages, list):
            return
        system = next((m for m in messages if isinstance(m, dict) and m.get("role") in ("system", "developer")), None)
        if system is None:
            messages.insert(0, {"role": "system", "content": cfg.system_prompt})
            changes.add("system_prompt_added")
        elif cfg.system_prompt_mode == "replace" and system.get("content") != cfg.system_prompt:
            system["content"] = cfg.system_prompt
            changes.add("system_prompt_replaced")

    @staticmethod
    def _trim_trailing_user(record: dict[str, Any], changes: set[str]) -> None:
        # Trimmed, not rejected: the answered part is a complete example, and rejecting it would lose it.
        # Records with no assistant turn at all are left for validation to reject.
        messages = record.get("messages")
        if is_preference(record) or not isinstance(messages, list) or not messages:
            return
        last = len(messages) - 1
        while last >= 0 and isinstance(messages[last], dict) and messages[last].get("role") == "user":
            last -= 1
        if last == len(messages) - 1 or last < 0:
            return
        if not (isinstance(messages[last], dict) and messages[last].get("role") == "assistant"):
            return
        del messages[last + 1:]
        changes.add("trailing_user_trimmed")

    def process(self, record: dict[str, Any]) -> Drop | None:
        changes: set[str] = set()
        messages = record_messages(record)
        if not _already_clean(messages):
            for message in messages:
                if isinstance(message, dict):
                    self._message(message, changes)
        if self.config.tool_schemas and "tools" in record:
            tools = _tools_fixed(record["tools"])
            if tools is not record["tools"]:
                record["tools"] = tools
                changes.add("tool_schema")
        if self.config.trim_trailing_user:
            self._trim_trailing_user(record, changes)
        if self.config.system_prompt_mode != "none":
            self._system_prompt(record, changes)
        if changes:
            metadata = record.setdefault("metadata", {})
            previous = metadata.get("normalised") or []
            metadata["normalised"] = sorted(changes.union(previous))
        return None
