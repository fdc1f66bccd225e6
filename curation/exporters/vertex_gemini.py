"""Gemini supervised tuning files on Vertex AI: ``{"systemInstruction"?, "contents": [...], "tools"?}``.

From Google's "Prepare supervised fine-tuning data for Gemini models": ``systemInstruction`` is a
Content ``{"role": "system", "parts": [{"text"}]}`` (its role is ignored); ``contents`` alternate
``user`` and ``model`` turns whose ``parts`` hold text, ``functionCall`` ``{name, args}`` or
``functionResponse`` ``{name, response}``; ``tools`` is ``[{"functionDeclarations": [...]}]``, each declaration
kept to the keys Vertex's FunctionDeclaration and Schema have (``_SCHEMA``).
A Content holds several parts, so consecutive same-role turns (parallel tool results, split user turns)
merge without loss. Tool results go back as a ``user`` turn with ``functionResponse`` parts (the Gemini
API convention); arguments and results that are JSON objects are parsed, other results are wrapped as
``{"content": text}``. Preference pairs (``--method dpo``) are written in Vertex's preference-tuning shape
(``_PREFERENCE``): the prompt's turns as ``contents`` ending with a user turn, the chosen and rejected answers as
two scored ``completions`` (1 and 0) of one model turn each; text only. Weight 0 has no equivalent
(``weight_unsupported``). Images would need ``gs://``
URIs (``fileData``), so image parts are refused. Assistant reasoning has no field in the tuning format
(``reasoning_dropped``).

Limits per tunable model live in :data:`GEMINI_LIMITS` (source and date on each row, ready to move into the
provider table): for Gemini 2.5 Flash ("About supervised fine-tuning", read 2026-12-02) up to 131,072 tokens
per example, up to 5,000 validation examples and files up to 1 GB. The token check is a warning: Gemini's
tokenizer is not available offline, so counts are tiktoken estimates. The documented minimum of 16 training
examples (older pages) is a warning too.
"""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from ..records import has_image, message_text
from .base import ExportOptions
from .chat import encode_line
from .jsonl import JsonlExporter, Target

DEFAULT_MODEL = "gemini-2.5-flash"
_SUPERVISED = "cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-supervised-tuning, read 2026-12-02"
GB = 1024 * 1024 * 1024
# Tunable Gemini models: per-example tokens, validation examples, file bytes, and where each row comes from.
# 2.5 Pro and Flash-Lite are assumed to share the 2.5 Flash row (same page; not re-read per model).
GEMINI_LIMITS: dict[str, dict[str, Any]] = {
    "gemini-2.5-flash-lite": {"max_tokens": 131_072, "max_validation": 5_000, "max_file_bytes": GB,
                              "source": _SUPERVISED + " (assumed as 2.5 Flash)"},
    "gemini-2.5-flash": {"max_tokens": 131_072, "max_validation": 5_000, "max_file_bytes": GB,
                         "source": _SUPERVISED},
    "gemini-2.5-pro": {"max_tokens": 131_072, "max_validation": 5_000, "max_file_bytes": GB,
                       "source": _SUPERVISED + " (assumed as 2.5 Flash)"},
    "gemini-2.0-flash": {"max_tokens": 131_072, "max_validation": 5_000, "max_file_bytes": GB,
                         "source": _SUPERVISED + " (assumed as 2.5 Flash)"},
}


def gemini_limits(model: str) -> dict[str, Any]:
    for prefix in sorted(GEMINI_LIMITS, key=len, reverse=True):
        if model.startswith(prefix):
            return GEMINI_LIMITS[prefix]
    return GEMINI_LIMITS["gemini-2.5-flash"]


def _json_object(text: Any) -> dict[str, Any] | None:
    if isinstance(text, dict):
        return text
    if isinstance(text, str):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None
    return None


def _add_turn(contents: list[dict[str, Any]], role: str, parts: list[dict[str, Any]], flags: set[str]) -> None:
    """Append a Content; a turn of the same role as the last one merges into it (a Content holds many parts)."""
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
        flags.add("merged_consecutive")
    else:
        contents.append({"role": role, "parts": parts})


_SCHEMA = ("Vertex AI v1 FunctionDeclaration and Schema, as the client references give them (googleapis "
           "aiplatform_v1 GoogleCloudAiplatformV1Schema, @google-cloud/aiplatform ISchema), read 2026-12-07")
# The keys of Vertex's FunctionDeclaration and Schema (``_SCHEMA``, a subset of OpenAPI 3.0) a declaration keeps.
# OpenAI's ``strict`` and JSON Schema's ``additionalProperties``, ``$schema``, ``const``, ``oneOf``... are not
# among them. additionalProperties, defs and ref are in the newest v1 references but not in the older ones: left
# out too, rather than risk a file that a tuning job refuses (they only constrain, so the calls lose nothing).
_DECLARATION_KEYS = ("name", "description", "parameters")
_SCHEMA_KEYS = frozenset({
    "type", "format", "title", "description", "nullable", "default", "example", "enum", "properties", "required",
    "propertyOrdering", "items", "minItems", "maxItems", "minimum", "maximum", "minLength", "maxLength", "pattern",
    "minProperties", "maxProperties", "anyOf",
})


def _schema(schema: Any) -> Any:
    """A JSON Schema as a Vertex Schema: unknown keys left out, down through properties, items and anyOf; a type
    list ``["integer", "null"]`` is one type and ``nullable`` (a Vertex Schema has one type)."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _SCHEMA_KEYS:
            continue
        if key == "type" and isinstance(value, list):
            kinds = [k for k in value if k != "null"]
            if len(kinds) == 1:  # (a union of several types is left as it is, for Vertex to refuse, not guessed at)
                if len(kinds) < len(value):
                    out["nullable"] = True
                value = kinds[0]
        if key == "properties" and isinstance(value, dict):
            value = {name: _schema(v) for name, v in value.items()}
        elif key == "items":
            value = _schema(value)
        elif key == "anyOf" and isinstance(value, list):
            value = [_schema(v) for v in value]
        out[key] = value
    return out


def _declaration(function: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI function as a Vertex FunctionDeclaration: name, description and parameters only. A ``required``
    written beside ``parameters`` (some sets do) is moved into it, where a Schema keeps it."""
    out = {k: function[k] for k in _DECLARATION_KEYS if k in function}
    parameters = out.get("parameters")
    if isinstance(parameters, dict):
        parameters = _schema(parameters)
        if isinstance(function.get("required"), list) and "required" not in parameters:
            parameters["required"] = function["required"]
        out["parameters"] = parameters
    return out


_PREFERENCE = "cloud.google.com/vertex-ai/generative-ai/docs/models/gemini-preference-tuning-prepare, read 2026-12-07"


class VertexGeminiExporter(JsonlExporter):
    name: ClassVar[str] = "vertex-gemini"
    title: ClassVar[str] = "Gemini tuning on Vertex AI"
    description: ClassVar[str] = ("Gemini supervised tuning JSONL for Vertex AI (systemInstruction + contents), and "
                                  "preference tuning JSONL (contents + scored completions)")
    kinds: ClassVar[frozenset[str]] = frozenset({"sft", "dpo"})

    def target(self, options: ExportOptions) -> Target:
        model = options.model if options.model and "gemini" in options.model else DEFAULT_MODEL
        limits = gemini_limits(model)
        return Target(
            model=model,
            max_tokens_per_example=limits["max_tokens"],
            min_train_examples=16,
            min_severity="warning",
            max_validation_examples=limits["max_validation"],
            max_file_bytes=limits["max_file_bytes"],
            tokens_exact=False,
            source=limits["source"],
            counts_reasoning=False,  # the file holds no thought parts: reasoning is dropped
        )

    def convert(self, record: dict[str, Any], kind: str, options: ExportOptions, flags: set[str]) -> bytes | None:
        if kind == "dpo":
            return self._preference(record, flags)
        messages = record.get("messages")
        if not isinstance(messages, list) or not messages:
            flags.add("missing_messages")
            return None
        system: list[str] = []
        contents: list[dict[str, Any]] = []
        call_names: dict[str, str] = {}
        call_order: dict[str, int] = {}
        # consecutive tool results, held until the run ends so that they are written in the order of the calls
        # they answer: the reader pairs a response with its call by name, same-name calls in order, so Lima's
        # weather written before Paris's would answer the Paris call
        answers: list[tuple[int | None, dict[str, Any]]] = []

        def write_answers() -> None:
            if all(order is not None for order, _ in answers):
                answers.sort(key=lambda answer: answer[0] or 0)
            for _, part in answers:
                _add_turn(contents, "user", [part], flags)
            answers.clear()

        for message in messages:
            if not isinstance(message, dict):
                flags.add("missing_content")
                return None
            role = message.get("role")
            if role not in ("tool", "function"):
                write_answers()
            content = message.get("content")
            if has_image(message):
                flags.add("image_unsupported")
                return None
            text = message_text(message)
            if role in ("system", "developer"):
                if contents or system:
                    flags.add("system_merged")
                if text:
                    system.append(text)
                continue
            parts: list[dict[str, Any]] = []
            if role == "user":
                turn = "user"
                if text:
                    parts.append({"text": text})
            elif role == "assistant":
                turn = "model"
                if text:
                    parts.append({"text": text})
                calls = list(message.get("tool_calls") or ())
                if message.get("function_call"):
                    calls.append({"id": None, "function": message["function_call"]})
                for call in calls:
                    function = (call.get("function") or {}) if isinstance(call, dict) else {}
                    name = function.get("name") or ""
                    args = function.get("arguments")
                    parsed = _json_object(args)
                    if parsed is None:
                        flags.add("arguments_not_json")
                        parsed = {}
                    if isinstance(call, dict) and call.get("id"):
                        call_names[str(call["id"])] = name
                        call_order[str(call["id"])] = len(call_order)
                    parts.append({"functionCall": {"name": name, "args": parsed}})
                if message.get("weight") == 0:
                    flags.add("weight_unsupported")
                if message.get("reasoning"):
                    flags.add("reasoning_dropped")
            elif role in ("tool", "function"):
                turn = "user"
                name = message.get("name") or call_names.get(str(message.get("tool_call_id")), "")
                if not name:
                    # a function message answers no call id: only its own name could say which function it was
                    flags.add("function_call_legacy" if role == "function" else "tool_missing_call_id")
                    return None
                response = _json_object(content) if isinstance(content, str) else None
                answers.append((call_order.get(str(message.get("tool_call_id"))),
                                {"functionResponse": {"name": name, "response": response or {"content": text}}}))
                continue
            else:
                flags.add("unrecognized_role")
                return None
            if not parts:
                flags.add("missing_content")
                return None
            _add_turn(contents, turn, parts, flags)
        write_answers()
        if not contents or contents[0]["role"] != "user":
            flags.add("first_not_user")
            return None
        while contents and contents[-1]["role"] != "model":
            contents.pop()
            flags.add("last_not_assistant")
        if len(contents) < 2:
            flags.add("too_few_turns")
            return None
        out: dict[str, Any] = {}
        if system:
            out["systemInstruction"] = {"role": "system", "parts": [{"text": "\n\n".join(system)}]}
        out["contents"] = contents
        tools = record.get("tools")
        if isinstance(tools, str):
            tools = _json_object(f'{{"t": {tools}}}') or {}
            tools = tools.get("t")
        declarations = []
        for tool in tools or ():
            if isinstance(tool, dict):
                function = tool.get("function") if tool.get("type", "function") == "function" else None
                if isinstance(function, dict):
                    declarations.append(_declaration(function))
        for function in record.get("functions") or ():
            if isinstance(function, dict):
                declarations.append(_declaration(function))
        if declarations:
            out["tools"] = [{"functionDeclarations": declarations}]
        return encode_line(out, flags, False)

    @staticmethod
    def _preference(record: dict[str, Any], flags: set[str]) -> bytes | None:
        """Vertex preference tuning (``_PREFERENCE``): ``{"system_instruction"?, "contents": [...] ending with a
        user turn, "completions": [{"score": 1, "completion": {model turn}}, {"score": 0, ...}]}``, text only;
        each completion is one model turn."""
        prompt = record.get("prompt")
        if not isinstance(prompt, list) or not prompt:
            flags.add("dpo_empty_prompt")
            return None
        system: list[str] = []
        contents: list[dict[str, Any]] = []
        for message in prompt:
            if not isinstance(message, dict):
                flags.add("missing_content")
                return None
            role = message.get("role")
            if has_image(message):
                flags.add("image_unsupported")  # preference tuning is text only
                return None
            if message.get("tool_calls") or message.get("function_call") or role in ("tool", "function"):
                flags.add("tools_unsupported")
                return None
            text = message_text(message)
            if role in ("system", "developer"):
                if text:
                    system.append(text)
                continue
            if role not in ("user", "assistant") or not text:
                flags.add("unrecognized_role" if role not in ("user", "assistant") else "missing_content")
                return None
            _add_turn(contents, "user" if role == "user" else "model", [{"text": text}], flags)
        if not contents or contents[-1]["role"] != "user":
            flags.add("dpo_prompt_not_user")
            return None
        completions = []
        for score, key in ((1, "chosen"), (0, "rejected")):
            side = record.get(key)
            if not isinstance(side, list) or not side:
                flags.add("dpo_missing_output")
                return None
            if len(side) != 1 or not isinstance(side[0], dict) or side[0].get("role") != "assistant":
                flags.add("dpo_output_not_single")
                return None
            if side[0].get("tool_calls") or has_image(side[0]):
                flags.add("tools_unsupported" if side[0].get("tool_calls") else "image_unsupported")
                return None
            text = message_text(side[0])
            if not text:
                flags.add("dpo_missing_output")
                return None
            if side[0].get("reasoning"):
                flags.add("reasoning_dropped")
            completions.append({"score": score, "completion": {"role": "model", "parts": [{"text": text}]}})
        out: dict[str, Any] = {}
        if system:
            out["system_instruction"] = {"parts": [{"text": "\n\n".join(system)}]}
        out["contents"] = contents
        out["completions"] = completions
        return encode_line(out, flags, False)
