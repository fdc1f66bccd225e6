"""Conversations already rendered into one ``text`` field with a chat template's markup.

Recognised (the markup is unambiguous, so parsing it loses nothing): ChatML (``<|im_start|>role ...
<|im_end|>``), Llama 3 (``<|start_header_id|>role<|end_header_id|> ... <|eot_id|>``), Llama 2
(``<s>[INST] <<SYS>>...<</SYS>> q [/INST] a </s>``), the ``### Human: ... ### Assistant: ...`` style
of openassistant-guanaco, Gemma (``<start_of_turn>user ... <end_of_turn>``), Zephyr and Phi-3 (``<|user|>
... </s>`` or ``<|end|>``), Vicuna v1.1 (``... USER: q ASSISTANT: a</s>``, the preamble is the system prompt)
the Alpaca prompt template (``### Instruction:`` / ``### Input:`` / ``### Response:``) and plain speaker
lines (Anthropic HH's ``\n\nHuman: ... \n\nAssistant: ...``, DeepSeek's ``User: ... Assistant: ...``, OIG's
``<human>: ... <bot>: ...``). A ``text``
without such markup is pretraining text, not a conversation, and is reported as such by the reader.
"""

from __future__ import annotations

import re
from typing import Any

from curation.readers.formats._common import map_role
from curation.readers.mapping import FieldMapping

NAME = "chat_text"
# Anthropic's red-team attempts hold their chat as `transcript`
TEXT_KEYS = ("text", "transcript")
KEYS = frozenset(TEXT_KEYS)

_CHATML = re.compile(r"<\|im_start\|>\s*(\w+)\s*\n(.*?)(?:<\|im_end\|>|(?=<\|im_start\|>)|\Z)", re.S)
_LLAMA3 = re.compile(
    r"<\|start_header_id\|>\s*(\w+)\s*<\|end_header_id\|>\s*(.*?)(?:<\|eot_id\|>|(?=<\|start_header_id\|>)|\Z)", re.S)
_LLAMA2 = re.compile(r"\[INST\](.*?)\[/INST\](.*?)(?:</s>|(?=<s>\s*\[INST\])|(?=\[INST\])|\Z)", re.S)
_LLAMA2_SYS = re.compile(r"<<SYS>>(.*?)<</SYS>>", re.S)
_HASH_TURN = re.compile(r"\s*###\s*(Human|Assistant|User|Bot)\s*:\s*", re.I)
_GEMMA = re.compile(r"<start_of_turn>\s*(\w+)\s*\n(.*?)(?:<end_of_turn>|(?=<start_of_turn>)|\Z)", re.S)
_PIPE_ROLES = r"(system|user|assistant)"
_PIPE = re.compile(r"<\|" + _PIPE_ROLES + r"\|>\s*(.*?)(?:</s>|<\|end\|>|(?=<\|" + _PIPE_ROLES + r"\|>)|\Z)", re.S)
_VICUNA_TURN = re.compile(r"(?:^|\s|</s>)(USER|ASSISTANT):\s?")
# The headings in English and as Japanese and Chinese Alpaca sets write them (llm-jp-sft and oasst-ja:
# 指示/入力/応答 or 出力; Chinese: 指令/输入/回答 or 输出), with an ASCII or a full-width colon.
_ALPACA_NAMES = {"Instruction": "Instruction", "Input": "Input", "Response": "Response",
                 "指示": "Instruction", "指令": "Instruction", "入力": "Input", "输入": "Input", "輸入": "Input",
                 "応答": "Response", "出力": "Response", "回答": "Response", "输出": "Response", "輸出": "Response"}
_ALPACA_HEAD = re.compile(r"(?:^|\n)[ \t]*### (" + "|".join(_ALPACA_NAMES) + r")[:：][ \t]*\n?")
# Alpaca's opening and its Japanese and Chinese translations (llm-jp-sft, Chinese-Alpaca); other prose before
# the headings ("以下是Alpaca数据格式的一个例子") quotes the template.
_ALPACA_PREAMBLES = ("Below is an instruction", "以下は、タスクを説明する指示", "以下是描述任务的指令",
                     "下面是描述任务的指令", "以下是一个描述任务的指令", "下面是一个描述任务的指令",
                     "下面是一条描述任务的指令")
_ALPACA_ASK = re.compile(r"### (?:Instruction|指示|指令)[:：]")
_ALPACA_ANSWER = re.compile(r"### (?:Response|応答|出力|回答|输出|輸出)[:：]")
# End-of-text markers the templates leave after a turn; they are not part of what anyone said.
_EOS_MARKERS = ("</s>", "<|endoftext|>", "<eos>", "<|end|>", "<｜end▁of▁sentence｜>")
_BOS_MARKERS = ("<s>", "<bos>", "<|begin_of_text|>")


def _strip_eos(text: str) -> str:
    """A turn's text without the end-of-text markers templates leave after it (a regex anchored at the end
    backtracks over every whitespace run: seconds on 40,000 spaces)."""
    text = text.strip()
    while text.endswith(_EOS_MARKERS):
        marker = next(m for m in _EOS_MARKERS if text.endswith(m))
        text = text[: -len(marker)].rstrip()
    return text


def _only_markup_left(rest: str) -> bool:
    """Whether what a template pattern did not match is only whitespace and begin/end markers: prose that
    quotes a template ("Phi-3 uses <|user|> and <|assistant|>") keeps words outside the turns."""
    for marker in (*_EOS_MARKERS, *_BOS_MARKERS):
        rest = rest.replace(marker, "")
    return not rest.strip()
_SPEAKER = re.compile(r"(?:^|\n)[ \t]*(Human|User|Assistant)[ \t]*:[ \t]?")
# OpenChatKit's template, which LAION's OIG writes: "<human>: ...\n<bot>: ..."
_TAG_SPEAKER = re.compile(r"(?:^|\n)[ \t]*<(human|bot)>:[ \t]?")
_USER_SPEAKERS = frozenset({"Human", "User", "human"})

def style(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    if "<|im_start|>" in text:
        return "chatml"
    if "<|start_header_id|>" in text:
        return "llama3"
    if "[INST]" in text and "[/INST]" in text:
        return "llama2"
    if re.search(r"###\s*(Human|User)\s*:", text, re.I) and re.search(r"###\s*(Assistant|Bot)\s*:", text, re.I):
        return "hash"
    if "<start_of_turn>" in text and _only_markup_left(_GEMMA.sub("", text)):
        return "gemma"
    if ("<|user|>" in text or "<|system|>" in text) and "<|assistant|>" in text and _only_markup_left(
            _PIPE.sub("", text)):
        return "pipe"
    if "### " in text and _ALPACA_ASK.search(text) and _ALPACA_ANSWER.search(text) and _alpaca_preamble(text):
        return "alpaca"
    if _vicuna_turns(text):
        return "vicuna"
    if ("Human:" in text or "User:" in text) and "Assistant:" in text and _speaker_turns(text):
        return "speaker"
    if "<human>:" in text and "<bot>:" in text and _speaker_turns(_after_background(text), pattern=_TAG_SPEAKER):
        return "tag_speaker"
    return None


def _background(text: str) -> str:
    """OIG's retrieval sets open with the passage the chat is about ("Background: ...") before the first
    ``<human>:``; the tags are markup, not prose, so text before them is that passage."""
    match = _TAG_SPEAKER.search(text)
    return text[: match.start()].strip() if match is not None else ""


def _after_background(text: str) -> str:
    match = _TAG_SPEAKER.search(text)
    return text[match.start() :] if match is not None else text


def _alpaca_preamble(text: str) -> bool:
    """Alpaca's own template opens with "Below is an instruction..." or with the first heading; other text
    before the headings is prose that quotes the template."""
    preamble = text[: text.find("### ")].strip()
    return not preamble or preamble.startswith(_ALPACA_PREAMBLES)


def _speaker_turns(text: str, min_turns: int = 2, pattern: re.Pattern[str] = _SPEAKER,
                   ) -> list[tuple[str, str]] | None:
    """Turns of a transcript whose lines open with ``Human:`` / ``User:`` and ``Assistant:``; None unless the text
    opens with the user's turn, the speakers alternate and every turn says something (prose before the first
    speaker, a story quoting a chat log, is not a transcript)."""
    parts = pattern.split(text)
    if parts[0].strip():
        return None
    turns = [("user" if parts[i] in _USER_SPEAKERS else "assistant", _strip_eos(parts[i + 1]))
             for i in range(1, len(parts) - 1, 2)]
    if len(turns) < min_turns or any(role != ("user" if n % 2 == 0 else "assistant")
                                     for n, (role, _) in enumerate(turns)) \
            or not all(body for _, body in turns):
        return None
    return turns


def _vicuna_turns(text: str) -> list[tuple[str, str]] | None:
    """(speaker, text) pairs of a ``USER: ... ASSISTANT: ...`` transcript, and the preamble as ``SYSTEM``; None
    unless the speakers alternate from USER and every turn says something (prose that merely contains "USER:"
    is not a transcript)."""
    if "USER:" not in text or "ASSISTANT:" not in text or "</s>" not in text:
        return None  # Vicuna's template ends each answer with </s>: without one it is prose quoting the markers
    parts = _VICUNA_TURN.split(text)
    turns = [(parts[i], _strip_eos(parts[i + 1])) for i in range(1, len(parts) - 1, 2)]
    if len(turns) < 2 or any(speaker != ("USER" if n % 2 == 0 else "ASSISTANT") for n, (speaker, _) in
                             enumerate(turns)) or not all(body for _, body in turns):
        return None
    preamble = parts[0].strip()
    if "\n" in preamble:
        return None  # the template's system prompt is one line; a paragraph before "USER:" is prose
    return ([("SYSTEM", preamble)] if preamble else []) + turns


def is_chat_text(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return _text_key(obj) is not None


def _text_key(obj: dict[str, Any]) -> str | None:
    return next((key for key in TEXT_KEYS if style(obj.get(key)) is not None), None)


def _tagged(pattern: re.Pattern[str], text: str, mapping: FieldMapping | None) -> list[dict[str, Any]]:
    return [{"role": map_role(role, mapping), "content": body.strip()} for role, body in pattern.findall(text)]


def _llama2(text: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for user, answer in _LLAMA2.findall(text):
        system = _LLAMA2_SYS.search(user)
        if system:
            if not messages:
                messages.append({"role": "system", "content": system.group(1).strip()})
            user = _LLAMA2_SYS.sub("", user)
        messages.append({"role": "user", "content": user.strip()})
        if answer.strip():
            messages.append({"role": "assistant", "content": answer.strip()})
    return messages


def _hash(text: str) -> list[dict[str, Any]]:
    parts = _HASH_TURN.split(text)
    messages: list[dict[str, Any]] = []
    for i in range(1, len(parts) - 1, 2):
        role = "user" if parts[i].lower() in ("human", "user") else "assistant"
        messages.append({"role": role, "content": parts[i + 1].strip()})
    return messages


def history_in_text(text: Any) -> list[dict[str, Any]] | None:
    """BELLE's multi-turn rows keep the dialogue so far in ``instruction``: ``Human:...\nAssistant:...\nHuman:...
    \nAssistant:`` ending on the open assistant cue; its turns, or None when the text is not such a dialogue."""
    if not isinstance(text, str) or not text.lstrip().startswith("Human:"):
        return None
    body = text.rstrip()
    if not body.endswith("\nAssistant:"):  # the open cue on a line of its own, as BELLE writes it
        return None
    turns = _speaker_turns(body[: -len("Assistant:")], min_turns=1)
    if not turns or turns[-1][0] != "user":
        return None
    return [{"role": role, "content": content} for role, content in turns]


def _pipe(text: str, mapping: FieldMapping | None) -> list[dict[str, Any]]:
    return [{"role": map_role(role, mapping), "content": _strip_eos(body)}
            for role, body, *_ in _PIPE.findall(text)]


def _gemma(text: str, mapping: FieldMapping | None) -> list[dict[str, Any]]:
    return [{"role": map_role(role, mapping), "content": _strip_eos(body)}
            for role, body in _GEMMA.findall(text)]


def _alpaca(text: str) -> list[dict[str, Any]]:
    parts = _ALPACA_HEAD.split(text)
    messages: list[dict[str, Any]] = []
    if parts[0].strip():
        messages.append({"role": "system", "content": parts[0].strip()})
    user: list[str] = []
    for i in range(1, len(parts) - 1, 2):
        body = _strip_eos(parts[i + 1])
        if _ALPACA_NAMES[parts[i]] == "Response":
            messages.append({"role": "user", "content": "\n\n".join(user)})
            messages.append({"role": "assistant", "content": body})
            user = []
        elif body:
            user.append(body)
    return messages


_RENDERED = frozenset({"chatml", "llama3", "llama2", "gemma", "pipe"})


def rendered_turns(prompt: Any, answer: Any, mapping: FieldMapping | None) -> list[dict[str, Any]] | None:
    """The turns of a prompt rendered with a chat template (``apply_chat_template``: ChatML, Llama 2/3, Gemma,
    Zephyr/Phi-3) followed by its answer, or None unless both are text, the prompt is in such a template and the
    turns read from both end on the assistant's answer."""
    if not (isinstance(prompt, str) and isinstance(answer, str)) or style(prompt) not in _RENDERED:
        return None
    [(_, body, _)] = convert({"text": prompt + answer}, mapping)
    messages = body["messages"]
    if len(messages) < 2 or messages[-1].get("role") != "assistant" or not messages[-1].get("content"):
        return None
    return messages


def convert(obj: dict[str, Any], mapping: FieldMapping | None,
            ) -> list[tuple[str | None, dict[str, Any], dict[str, Any] | None]]:
    key = _text_key(obj)
    assert key is not None  # is_chat_text found it
    text = obj[key]
    other = {k: obj[k] for k in TEXT_KEYS if k != key and k in obj}  # not this record's chat: kept as a field
    return [(None, body, other or None) for _, body, _ in _convert(text, mapping)]


def _convert(text: str, mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    kind = style(text)
    if kind == "gemma":
        return [(None, {"messages": _gemma(text, mapping)}, None)]
    if kind == "pipe":
        return [(None, {"messages": _pipe(text, mapping)}, None)]
    if kind == "alpaca":
        return [(None, {"messages": _alpaca(text)}, None)]
    if kind == "speaker":
        pairs = _speaker_turns(text) or []
        return [(None, {"messages": [{"role": r, "content": body} for r, body in pairs]}, None)]
    if kind == "tag_speaker":
        pairs = _speaker_turns(_after_background(text), pattern=_TAG_SPEAKER) or []
        messages = [{"role": r, "content": body} for r, body in pairs]
        background = _background(text)
        if background and messages:  # the passage is what the user's question is about: it opens that turn
            messages[0]["content"] = f"{background}\n\n{messages[0]['content']}"
        return [(None, {"messages": messages}, None)]
    if kind == "vicuna":
        roles = {"SYSTEM": "system", "USER": "user", "ASSISTANT": "assistant"}
        turns = _vicuna_turns(text) or []
        return [(None, {"messages": [{"role": roles[s], "content": body} for s, body in turns]}, None)]
    if kind == "chatml":
        messages = _tagged(_CHATML, text, mapping)
    elif kind == "llama3":
        messages = _tagged(_LLAMA3, text, mapping)
    elif kind == "llama2":
        messages = _llama2(text)
    else:
        messages = _hash(text)
    return [(None, {"messages": messages}, None)]
