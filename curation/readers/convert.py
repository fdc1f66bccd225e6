"""The converter layer: one raw payload -> canonical record dicts wrapped in ``SourceItem``.

``convert_payload`` is pure and picklable so the runner can call it in worker processes. Parse failures
become ``SourceItem.error`` with a reason code; conversion itself is lenient (unknown roles and keys stay)
so that ``checks`` reports them with their own codes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from curation.errors import CurationError, InputError
from curation.readers.base import FileProblem, SourceItem
from curation.readers.containers import (
    BrokenPayload,
    cp1252_text,
    detect_container,
    is_bare_turn,
    iter_payloads,
    legacy_encoding_guess,
)
from curation.readers.files import check_readable
from curation.readers.formats import (
    ASSEMBLERS,
    FORMAT_NAMES,
    FORMATS,
    bracket_calls,
    consumed_keys,
    kto,
    react_calls,
    tool_markup,
    zendesk,
)
from curation.readers.formats._common import (
    ROLE_KEYS,
    ConvertProblem,
    as_number,
    is_false,
    normalize_tools,
    parse_json_string,
)
from curation.readers.formats.agent_trajectory import failed_run
from curation.readers.formats.media import attach_images, image_paths, inline_image_tags
from curation.readers.formats.turn_fields import set_aside
from curation.readers.mapping import FieldMapping
from curation.reasoning import UnclosedReasoning, maybe_lift_record
from curation.records import content_hash
from curation.suggest import did_you_mean

SNIFF_RECORDS = 20
ID_KEYS = ("id", "conversation_id")
# Fields that hold JSON documents when a dataset went through CSV or a string-typed parquet column.
_JSON_FIELDS = (
    "messages",
    "conversations",
    "tools",
    "instances",
    "preferred_output",
    "non_preferred_output",
    "history",
)
_JSON_FIELD_SET = frozenset(_JSON_FIELDS)
# Turn lists a CSV or string column may hold as text: decoded only when the text is a list of turns, since a
# prompt such as "[1, 2, 3]" is text. pandas writes them as Python's repr ([{'role': 'user', ...}]), which is
# read too (literal_eval evaluates no code).
_TURN_FIELDS = frozenset({"messages", "conversations", "conversation", "chosen", "rejected", "prompt", "completion",
                          "chosen_messages", "rejected_messages", "history", "trajectory"})


def detect_format(obj: dict[str, Any], mapping: FieldMapping | None = None) -> str | None:
    """The input format a record's keys announce (first match in ``FORMATS`` order), or None."""
    for fmt in FORMATS.values():
        if fmt.matches(obj, mapping):
            return fmt.name
    return None


def _where(line: int | None, index: int) -> str:
    return f"line {line}" if line is not None else f"element {index}"


def _json_error(payload: bytes, line: int | None, index: int) -> tuple[str, str]:
    """Reason code and a message in the style of Python's json module (what users see from OpenAI too)."""
    try:
        text = bytes(payload).decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = payload[exc.start : exc.start + 1].hex()
        guess = legacy_encoding_guess(bytes(payload[max(0, exc.start - 40) : exc.start + 40]))
        return "invalid_utf8", f"{_where(line, index)}: invalid UTF-8 byte 0x{bad} at byte {exc.start}{guess}"
    try:
        json.loads(text.rstrip("\r\n"))
    except json.JSONDecodeError as exc:
        msg = exc.msg.removesuffix(" at")  # "Invalid control character at" reads badly before "at column"
        if line is not None and exc.lineno > 1:  # a record over several lines: the line of the fault itself
            return "not_json", (f"line {line + exc.lineno - 1}: {msg} at column {exc.colno} (in the record "
                                f"starting at line {line})")
        return "not_json", f"{_where(line, index)}: {msg} at column {exc.colno}" + (
            f" of line {exc.lineno} of the element" if line is None and exc.lineno > 1 else ""
        )
    except (ValueError, RecursionError) as exc:
        return "not_json", f"{_where(line, index)}: {exc}"
    # orjson is stricter than json in a few corners (e.g. lone surrogates, NaN, numbers out of range).
    return "not_json", f"{_where(line, index)}: not strict JSON (NaN, Infinity, a lone surrogate or a huge number)"


def _drop_none(value: Any) -> Any:
    """Tabular rows carry null for every key some other row has (struct columns); canonical dicts omit them."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


_JSON_OPENERS = frozenset("[{ \n")
# Keys decoded only as a pair: a completion that is a JSON messages list beside a plain-text prompt is more
# likely the JSON the model should learn to write than a conversation.
_PAIRED = {"prompt": "completion", "completion": "prompt", "chosen": "rejected", "rejected": "chosen"}


def _turns_from_text(value: str, key: str) -> Any:
    """A list of turns (or history pairs) held as JSON or Python-repr text; None when it is not one. Turns must
    each name a speaker (``role`` or ``from``): a list of other objects is data, not a conversation."""
    head = value[:3]
    if not (head.startswith(("[{", "[[")) or head.replace(" ", "")[:2] in ("[{", "[[")):
        return None
    if key != "history" and not any(f"{q}{k}{q}" in value[:512] for k in ROLE_KEYS for q in "'\""):
        return None  # no speaker key near the start: data, and not worth a parse
    data = tool_markup.parse_loose(value)
    if data is None and value.lstrip().startswith("[{"):
        data = _numpy_printed_list(value)
    if isinstance(data, list) and data and all(isinstance(t, dict) and any(k in t for k in ROLE_KEYS)
                                               for t in data):
        return data
    if key == "history" and isinstance(data, list) and data and all(
            isinstance(t, list | tuple) and len(t) == 2 and all(isinstance(x, str) for x in t) for t in data):
        return [list(t) for t in data]
    return None


def _parse_json_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """Turns or tools held as a JSON string (a CSV column, a string-typed parquet column, or a JSONL line
    written from such a table) are decoded in place; a string that is not JSON stays for the checks."""
    decoded: dict[str, Any] | None = None
    for key, value in obj.items():  # a record has a handful of keys: fewer steps than looking up each field
        if type(value) is not str or value[:1] not in _JSON_OPENERS:
            continue
        if decoded is None:
            decoded = {}
        if key in _TURN_FIELDS:
            turns = _turns_from_text(value.strip(), key)
            if turns is not None:
                decoded[key] = turns
                continue
        if key in _JSON_FIELD_SET and value.lstrip()[:1] in ("[", "{"):
            try:
                decoded[key] = orjson.loads(value)
            except orjson.JSONDecodeError:
                pass
    if decoded is None:
        return obj
    for key, turns in decoded.items():
        other = _PAIRED.get(key)
        if other is None or other in decoded or isinstance(obj.get(other), list) or other not in obj:
            obj[key] = turns
    return obj


# Columns in which a dataset itself says an answer is not one to learn (OpenMathInstruct's generated solutions,
# BeaverTails' judged answers): false makes the conversation undesirable, as a KTO label false does.
_VERDICT_KEYS = ("is_correct", "is_safe")
# Every column a verdict below reads: a record with none of them (nearly every record) pays one set test.
_VERDICT_COLUMNS = frozenset({*_VERDICT_KEYS, "kto_tag", "qwq_critique", "transcript", "helpfulness", "toxic",
                              "openai_moderation", "toxic_chat_tag", "toxicity", "jailbreaking", "llama_guard_2",
                              "adherence_score", "instance_id"})


def _numpy_printed_list(value: str) -> list[Any] | None:
    """A list of dicts as numpy prints an object array: ``[{'role': 'user', ...}\n {'role': 'assistant', ...}]``,
    elements parted by white space and no comma (``Dataset.to_pandas().to_csv()`` writes list columns so). The
    dict literals are found by Python's own tokenizer, so braces inside the strings do not count; None when the
    text is anything else."""
    import io
    import tokenize

    if len(value) > 1 << 22:
        return None
    cuts: list[int] = []  # offsets just after a top-level '}' that a '{' follows
    depth, last_close = 0, -1
    lines = value.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    try:
        for token in tokenize.generate_tokens(io.StringIO(value).readline):
            if token.type != tokenize.OP:
                if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.ENDMARKER, tokenize.INDENT,
                                      tokenize.DEDENT):
                    last_close = -1
                continue
            offset = starts[token.start[0] - 1] + token.start[1]
            if token.string in "[{(":
                if token.string == "{" and depth == 1 and last_close >= 0:
                    cuts.append(last_close)
                depth += 1
            elif token.string in "]})":
                depth -= 1
                last_close = offset + 1 if depth == 1 and token.string == "}" else -1
            else:
                last_close = -1
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    if not cuts:
        return None
    for cut in reversed(cuts):
        value = value[:cut] + "," + value[cut:]
    data = tool_markup.parse_loose(value)
    return data if isinstance(data, list) else None


def _apply_verdicts(obj: dict[str, Any], body: dict[str, Any], mapping: FieldMapping | None = None) -> None:
    """Carry a dataset's own judgement of an answer onto the record: a verdict against an SFT conversation
    (``is_correct``/``is_safe`` false, a KTO label, a critique, a red-team success, HelpSteer's low ratings, an
    unsupported RAG answer, a failed agent run) labels
    it undesirable (the label stage rejects it: ``undesirable_label``), and a conversation or pair its dataset
    marks toxic, moderation-flagged or unsafe is flagged ``toxic``."""
    if _VERDICT_COLUMNS.isdisjoint(obj) and (mapping is None or not mapping.label):
        return  # nearly every record: one set test
    if "messages" in body:
        metadata = body.setdefault("metadata", {})
        if metadata.get("label") is None:  # a converter's own label (KTO) stands
            verdict = _label_verdict(obj, mapping)
            if verdict is not None:
                metadata["label"], metadata["label_from"] = verdict
    if _marked_toxic(obj):
        metadata = body.setdefault("metadata", {})
        metadata["flags"] = sorted({*(metadata.get("flags") or []), "toxic"})


def _label_verdict(obj: dict[str, Any], mapping: FieldMapping | None) -> tuple[bool, str] | None:
    """The label a dataset's columns give its answer, with where it came from; None when they give none."""
    for key in _VERDICT_KEYS:
        if is_false(obj.get(key)):
            return False, f"{key}: false"
    beside = kto.label_beside(obj, mapping)  # a KTO label on an Alpaca or question/answer row
    if beside is not None:
        return beside[0], f"{beside[1]}: {str(beside[0]).lower()}"
    if "qwq_critique" in obj and _fold(obj.get("judgement")) == "wrong":
        # OpenCodeReasoning-2: QwQ's critique of R1's solution ends in <judgement>wrong</judgement>
        return False, "judgement: wrong (the dataset's critique judged the solution wrong)"
    if isinstance(obj.get("transcript"), str):
        verdict = _red_team_verdict(obj)
        if verdict is not None:
            return False, verdict
    if "helpfulness" in obj:
        verdict = _helpsteer_verdict(obj)
        if verdict is not None:
            return False, verdict
    if "documents" in obj and is_false(obj.get("adherence_score")):
        # ragbench: its annotator found the response unsupported by the retrieved documents (a hallucination)
        return False, "adherence_score: false (the response is not supported by its documents)"
    why = failed_run(obj)  # an agent run its dataset marks failed (SWE-smith, SWE-Gym, nebius)
    return (False, why) if why is not None else None


def _marked_toxic(obj: dict[str, Any]) -> bool:
    """Whether the dataset itself marks the exchange toxic, moderation-flagged or unsafe: WildChat's ``toxic``,
    an OpenAI moderation result that is ``flagged`` (WildChat and LMSYS-Chat-1M: one per turn; Chatbot Arena: one
    for the conversation), Chatbot Arena's ToxicChat classifiers (``toxic_chat_tag``), ToxicChat's own human
    annotation (``toxicity``/``jailbreaking`` 1) and Magpie's Llama Guard 2 verdict (``unsafe\nS2``)."""
    if obj.get("toxic") is True:
        return True
    moderation = obj.get("openai_moderation")
    if isinstance(moderation, list):
        if any(isinstance(m, dict) and m.get("flagged") is True for m in moderation):
            return True
    elif isinstance(moderation, dict) and moderation.get("flagged") is True:
        return True
    tags = obj.get("toxic_chat_tag")  # {"roberta-large": {"flagged": true, "probability": ..}, "t5-large": ..}
    if isinstance(tags, dict) and any(isinstance(t, dict) and t.get("flagged") is True for t in tags.values()):
        return True
    if "user_input" in obj and "toxicity" in obj:  # lmsys/toxic-chat's own columns: another dataset's score is not
        if as_number(obj["toxicity"]) == 1 or as_number(obj.get("jailbreaking")) == 1:
            return True
    guard = obj.get("llama_guard_2")  # the model's raw output: "safe", or "unsafe" and the categories' line
    return isinstance(guard, str) and guard.lstrip()[:6].lower() == "unsafe"


# nvidia/HelpSteer and HelpSteer2: five attributes its annotators rate 0-4 on every answer. An answer rated 0 or 1
# for helpfulness or correctness is no answer to imitate.
_HELPSTEER = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")
_HELPSTEER_LOW = 1
_HELPSTEER_WORDS = {"helpfulness": "unhelpful", "correctness": "incorrect"}


def _helpsteer_verdict(obj: dict[str, Any]) -> str | None:
    """Why HelpSteer's annotators' ratings make the answer undesirable, or None: only with the whole attribute set,
    each a number on its 0-4 scale (a CSV's text too), so another dataset's lone `helpfulness` is not misread."""
    ratings = [as_number(obj.get(key)) for key in _HELPSTEER]
    if not all(r is not None and 0 <= r <= 4 for r in ratings):
        return None
    low = [(key, r) for key, r in zip(_HELPSTEER[:2], ratings[:2], strict=True) if r is not None and
           r <= _HELPSTEER_LOW]
    if not low:
        return None
    said = ", ".join(f"{key}: {r:g}" for key, r in low)
    return f"{said} (HelpSteer annotators rated it {' and '.join(_HELPSTEER_WORDS[key] for key, _ in low)})"


def _empty_instruction(turn: Any) -> bool:
    """A system or developer turn with no text and nothing else (a name at most)."""
    if type(turn) is not dict or turn.get("role") not in ("system", "developer"):  # a role may be any value
        return False
    content = turn.get("content")
    return (content is None or (type(content) is str and not content.strip())) and set(turn) <= {
        "role", "content", "name"}


def _drop_empty_system(body: dict[str, Any]) -> None:
    """Leave out system and developer turns with no text (``{"from": "system", "value": ""}``, as ShareGPT
    conversions of OpenOrca-style data write an empty system prompt): they instruct nothing, and as a message
    they made the whole conversation an ``empty_content`` reject."""
    turns = _turns(body)
    if type(turns) is not list or not any(_empty_instruction(t) for t in turns):
        return  # nearly every record: one pass, its list kept
    kept = [t for t in turns if not _empty_instruction(t)]
    if kept:
        body[_turns_key(body)] = kept


_DASHES = frozenset({"-", "--", "\u2013", "\u2014"})
_POINTERS = ("dataset", "split", "index")


# How a logged call says its answer did not finish: OpenAI's and Ollama's length limit, the content filter,
# Anthropic's max_tokens, the Responses API's max_output_tokens.
_CUT_OFF = frozenset({"length", "max_tokens", "content_filter", "max_output_tokens"})


def _refuse_cut_off(obj: dict[str, Any], body: dict[str, Any]) -> None:
    """Refuse a record whose answer its log marks cut off (a top-level ``finish_reason``, ``done_reason`` or
    ``stop_reason``), or whose last answer the app recorded an error for (ChatBox's ``error`` beside the partial
    text): trained, the model learns to stop mid-sentence."""
    for key in ("finish_reason", "done_reason", "stop_reason"):
        value = obj.get(key)
        if isinstance(value, str) and value in _CUT_OFF:
            raise ConvertProblem("incomplete_answer", f"{key} is {value!r}: the answer was cut off, and would be "
                                 "trained as a whole one (drop such calls, or log them again with a larger limit)")
    messages = body.get("chosen") if "chosen" in body else body.get("messages")
    last = messages[-1] if isinstance(messages, list) and messages else None
    if isinstance(last, dict) and last.get("role") == "assistant" and last.get("error"):
        error = str(last["error"])[:80]
        raise ConvertProblem("incomplete_answer", f"the last answer carries the app's error ({error!r}): what it "
                             "holds is what came before the failure (leave such conversations out, or regenerate "
                             "the answer)")


def _refuse_placeholder_prompt(obj: dict[str, Any], body: dict[str, Any]) -> None:
    """Refuse a record whose one question is a bare dash: OpenCodeReasoning (split_1) and OpenCodeReasoning-2 keep
    "-" for the questions of TACO, APPS and CodeContests and point to them by dataset/split/index, and a pair
    exported without its question reads the same; trained, the model learns to answer "-" with a whole answer."""
    messages = body.get("prompt") if "prompt" in body else body.get("messages")
    if not isinstance(messages, list):
        return  # the checks say what is wrong with it
    user = None
    for message in messages:
        if type(message) is dict and message.get("role") == "user":
            if user is not None:
                return  # a conversation: a "-" turn in it is something a user said
            user = message
    content = user.get("content") if user is not None else None
    if not isinstance(content, str) or len(content) > 8 or content.strip() not in _DASHES:
        return
    pointer = ", ".join(f"{k}={obj[k]!r}" for k in _POINTERS if isinstance(obj.get(k), str | int)
                        and not isinstance(obj.get(k), bool))
    where = (f"; the row points to it ({pointer}): join the questions from that dataset into the rows first "
             "(the dataset card shows how), or leave these rows out") if pointer else \
        ": fill in the question, or leave the row out"
    raise ConvertProblem("placeholder_prompt", f"the question is a placeholder ({content.strip()!r}), "
                         f"not the question the answer answers{where}")


# Anthropic's red-team attempts (hh-rlhf red-team-attempts): `rating` is how well the attacker says they broke the
# assistant (0-4), `min_harmlessness_score_transcript` a preference model's score of its most harmful reply.
_RED_TEAM_SUCCESS = 2
_RED_TEAM_HARMFUL = 0.0


def _red_team_verdict(obj: dict[str, Any]) -> str | None:
    """Why a red-team transcript is no conversation to imitate (the attack worked, or a reply scores harmful), or
    None: a transcript whose assistant held firm is kept."""
    if "min_harmlessness_score_transcript" not in obj and "task_description" not in obj:
        return None  # a support transcript's customer rating is no attack
    rating, harm = obj.get("rating"), obj.get("min_harmlessness_score_transcript")
    if isinstance(rating, int | float) and not isinstance(rating, bool) and rating >= _RED_TEAM_SUCCESS:
        return f"rating: {rating:g} (a red-team attack its attacker rates successful)"
    if isinstance(harm, int | float) and not isinstance(harm, bool) and harm < _RED_TEAM_HARMFUL:
        return f"min_harmlessness_score_transcript: {harm:g} (a red-team reply scored harmful)"
    return None


_UNASKED = object()


def _fold(key: Any) -> Any:
    return key.strip().lower().replace(" ", "_").replace("-", "_") if isinstance(key, str) else key


def _folded(obj: dict[str, Any], mapping: FieldMapping | None) -> tuple[dict[str, Any], str] | None:
    """A record of no known format whose keys are a known layout's in capitals or with spaces (a hand-made
    spreadsheet's "Question", "Answer", " Output "): the record with the keys that layout reads renamed, and
    the layout. The other keys keep their names (a filter on ``fields.Category`` still matches). None when
    folding finds nothing, or two keys fold to one name (not guessed at); a mapping names the columns itself."""
    if mapping is not None:
        return None
    names = {key: _fold(key) for key in obj}
    if all(name == key for key, name in names.items()) or len(set(names.values())) != len(names):
        return None
    folded = {names[key]: value for key, value in obj.items()}
    name = detect_format(folded, None)
    if name is None:
        return None
    used = consumed_keys(FORMATS[name], None)
    mixed = {(names[key] if names[key] in used else key): value for key, value in obj.items()}
    return (mixed, name) if FORMATS[name].matches(mixed, None) else (folded, name)


# (text, summary) columns of summarisation datasets: samsum/dialogsum, XSum, CNN/DailyMail, arXiv/PubMed, BillSum
_SUMMARY_PAIRS = (("dialogue", "summary"), ("document", "summary"), ("article", "highlights"), ("article", "abstract"),
                  ("text", "summary"), ("dialogue", "summary1"))


# The text columns of classification datasets beside their `label`: IMDB/AG News/emotion (text), SST-2/CoLA
# (sentence), MNLI/SNLI/XNLI (premise, hypothesis), QQP (question1, question2), MRPC/RTE (sentence1, sentence2).
_CLASSIFIED = (("premise", "hypothesis"), ("question1", "question2"), ("sentence1", "sentence2"), ("text",),
               ("sentence",), ("review",), ("tweet",))


def classification_layout(obj: dict[str, Any]) -> tuple[str, ...] | None:
    """The text columns of a row that holds only text to classify and its label, or None."""
    label = obj.get("label")
    if not (type(label) is int or (isinstance(label, str) and label.strip())):
        return None
    return next((cols for cols in _CLASSIFIED if all(isinstance(obj.get(c), str) for c in cols)), None)


def _bfcl_question(obj: dict[str, Any]) -> bool:
    question = obj.get("question")
    return isinstance(question, list) and bool(question) and isinstance(question[0], list) and isinstance(
        obj.get("function"), list)


def summary_layout(obj: dict[str, Any]) -> tuple[str, str] | None:
    return next(((text, summary) for text, summary in _SUMMARY_PAIRS
                 if isinstance(obj.get(text), str) and isinstance(obj.get(summary), str)), None)


def _without_empty_cells(obj: dict[str, Any]) -> dict[str, Any] | None:
    """``obj`` without its top-level null and "" values, or None when it has none. A table gives each row every
    column (a mixed SFT + preference export: null or, through CSV, "" `chosen`/`rejected` on the SFT rows), and
    the layout is read from the keys: a row is read this way when the empty columns alone would change it."""
    for value in obj.values():
        if value is None or value == "":
            return {k: v for k, v in obj.items() if v is not None and v != ""}
    return None


def _from_row(row: dict[str, Any]) -> dict[str, Any]:
    return _parse_json_fields(_drop_none(row))


def _own_id(obj: dict[str, Any], mapping: FieldMapping | None) -> tuple[str | None, str | None]:
    if mapping is not None and mapping.id:
        keys: tuple[str, ...] = (mapping.id,)
    elif mapping is not None and mapping.conversation:
        keys = (*ID_KEYS, mapping.conversation)  # a message table's conversation names its record
    else:
        keys = ID_KEYS
    for key in keys:
        value = obj.get(key)
        if value is not None and value != "":
            return str(value), key
    return None, None


def _error(path: str, line: int | None, index: int, fmt: str | None, code: str, detail: str) -> list[SourceItem]:
    return [SourceItem(path=path, line=line, index=index, format=fmt or "unknown", error=(code, detail))]


# isinstance with a tuple: ``bytes | bytearray`` builds a union object on every call (~0.5 us a record).
_BYTES = (bytes, bytearray)
_BUFFERS = (bytes, bytearray, memoryview)

# Deeper than this, a record is refused: orjson writes at most 254 levels, and stages walk records recursively.
# Real chat records nest under 10 levels (record > messages > message > content parts > part > ...).
MAX_DEPTH = 64


def _nested_deeper(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists/dicts deeper than ``limit`` (iterative: a deep value cannot recurse)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list | tuple):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list | tuple))
    return False


def _too_deep(payload: Any, obj: Any) -> bool:
    if isinstance(payload, _BYTES) and payload.count(b"[") + payload.count(b"{") <= MAX_DEPTH:
        return False  # too few brackets to nest that deep: the common case costs two byte counts
    return _nested_deeper(obj, MAX_DEPTH)


def _serialisable(obj: Any) -> bool:
    """Rows from tables and in-memory callers were not parsed from JSON: the runner must be able to write them."""
    try:
        orjson.dumps(obj)
    except (TypeError, orjson.JSONEncodeError):
        return False
    return True


def _legacy_text(raw: bytes) -> bool:
    """Bytes that are words in a one-byte encoding (a Latin-1 string column), not an image: Windows-1252 text
    whose every character is printable (image headers hold control bytes)."""
    text = cp1252_text(raw[:4096])
    return text is not None and all(ch.isprintable() or ch in "\t\n\r" for ch in text)


def _unserialisable_at(value: Any, where: str = "the record") -> tuple[str, str]:
    """Where the first value JSON cannot carry is (``images[0].bytes``), and what it is."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        node, at = stack.pop()
        if isinstance(node, bytes | bytearray | memoryview):
            return at or where, "legacy text" if _legacy_text(bytes(node)) else "bytes"
        if isinstance(node, dict):
            for key, item in reversed(list(node.items())):
                if not isinstance(key, str):
                    return at or where, f"a non-string key {key!r}"
                stack.append((item, f"{at}.{key}" if at else key))
        elif isinstance(node, list | tuple):
            stack.extend((item, f"{at}[{i}]") for i, item in reversed(list(enumerate(node))))
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return at or where, "a lone surrogate"
        elif isinstance(node, int) and not isinstance(node, bool) and not -(1 << 63) <= node < 1 << 64:
            return at or where, "an integer over 64 bits"
        elif node is not None and not isinstance(node, bool | int | float) and not _serialisable(node):
            return at or where, f"a {type(node).__name__}"  # a datetime or UUID is fine: orjson writes it
    return where, "a non-JSON value"


def _column_oriented(obj: dict[str, Any]) -> bool:
    """``{"instruction": {"0": ..., "1": ...}, "output": {"0": ..., ...}}``: every value maps row numbers."""
    if len(obj) < 2:
        return False
    for value in obj.values():  # a plain loop: most records fail on their first value
        if type(value) is not dict or not value:
            return False
    return all(all(type(k) is str and k.isdigit() for k in list(v)[:8]) for v in obj.values())


_SPLIT_KEYS = frozenset({"columns", "data", "index"})
_ONE_COLUMN_TABLES = frozenset({"messages", "conversations", "conversation"})


def _pandas_rows(obj: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The rows of a pandas ``to_json`` table in the 'columns' layout (each column maps row labels to values)
    or the 'split' layout (``{"columns": [...], "index": [...], "data": [[...], ...]}``); None for anything else.
    """
    columns = obj.get("columns")
    if (type(columns) is list and columns and all(type(c) is str for c in columns) and set(obj) <= _SPLIT_KEYS
            and type(obj.get("data")) is list and all(type(r) is list and len(r) == len(columns)
                                                     for r in obj["data"])):
        return [dict(zip(columns, row, strict=True)) for row in obj["data"]]
    if len(obj) == 1:
        # one turn column alone (pd.DataFrame({"messages": [...]}).to_json()): rows only when every value maps
        # row labels to turn lists; a record with one such key is nothing else a format knows
        [(name, column)] = obj.items()
        if not (name in _ONE_COLUMN_TABLES and type(column) is dict and column
                and all(type(k) is str and k.isdigit() and type(v) is list for k, v in column.items())):
            return None
    elif not _column_oriented(obj):
        return None
    labels: dict[str, None] = {}
    for values in obj.values():
        labels.update(dict.fromkeys(values))
    if not all(type(k) is str and k.isdigit() for k in labels):
        return None
    order = sorted(labels, key=int)  # pandas writes labels in row order; a sort also mends a reordered file
    return [{name: values.get(label) for name, values in obj.items()} for label in order]


_MEDIA_FIELDS = ("videos", "audios", "video", "audio")


def _media_files(value: Any) -> bool:
    """A media path or URL, or a non-empty list of them (not a caption or a flag kept under that name)."""
    if isinstance(value, list):
        return bool(value) and all(_media_files(v) for v in value)
    return isinstance(value, str) and 0 < len(value) < 4096 and " " not in value.strip() and (
        "://" in value or "." in value.rsplit("/", 1)[-1])


def _decode(payload: bytes | dict[str, Any] | Any) -> Any:
    """A payload as a Python value: JSON bytes parsed (raises ``orjson.JSONDecodeError``), table rows
    normalised, anything else as it is."""
    if isinstance(payload, _BUFFERS):
        obj = orjson.loads(payload)
        return _parse_json_fields(obj) if type(obj) is dict else obj
    if isinstance(payload, dict):
        return _from_row(payload)
    return payload


def _json_in_string(text: str) -> Any:
    """The object or array a JSON string holds, or None."""
    inner = parse_json_string(text)
    if type(inner) is dict:
        return _parse_json_fields(inner)
    return inner if type(inner) is list else None


_TYPED_BREAK = re.compile(rb"[\t\n\r]")
_OTHER_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _python_json(payload: Any) -> Any:
    """A line Python's ``json.dumps`` wrote with ``NaN`` / ``Infinity`` (pandas scores, reward columns), or one
    ending in the comma that separated it from the next array element, is not JSON, but its meaning is clear:
    read it (those values as null) instead of rejecting the whole record. None when the line is broken in any
    other way."""
    if not isinstance(payload, bytes | bytearray | memoryview):
        return None
    raw = bytes(payload).rstrip()
    if raw.endswith(b",") and not raw.endswith(b",,"):
        # an array's elements pasted into a .jsonl keep their separator ("{...},"): the record itself is whole
        raw = raw[:-1]
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    typed = _TYPED_BREAK.search(raw) is not None
    if b"NaN" not in raw and b"Infinity" not in raw and not typed:
        return None
    # A tab or line break typed raw inside a string (a hand edit, a writer that pasted text between quotes) is
    # that character; a NUL or another control byte is damage, and stays a not_json reject.
    strict = not typed or _OTHER_CONTROL.search(raw) is not None
    try:
        return json.loads(raw, parse_constant=lambda _constant: None, strict=strict)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        return None


def convert_payload(
    payload: bytes | dict[str, Any] | Any,
    fmt: str | None,
    mapping: FieldMapping | None = None,
    path: str = "",
    line: int | None = None,
    index: int = 0,
) -> list[SourceItem]:
    """Turn one payload into SourceItems (several for an OASST tree or a self-instruct task).

    ``fmt`` is the file's format; a record that does not fit it is recognised on its own, and with
    ``fmt=None`` every record is. Never raises for bad data: the reason is in ``SourceItem.error``.
    """
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown input format {fmt!r}{did_you_mean(fmt, FORMAT_NAMES)}",
                         hint=f"use one of {', '.join(FORMAT_NAMES)}")
    if isinstance(payload, BrokenPayload):
        return _error(path, line, index, fmt, payload.code, payload.detail)
    try:
        obj = _decode(payload)
    except orjson.JSONDecodeError:
        obj = _python_json(payload)
        if obj is None:
            code, detail = _json_error(payload, line, index)
            return _error(path, line, index, fmt, code, detail)
    if type(obj) is str and obj.lstrip()[:1] in ("{", "["):
        inner = _json_in_string(obj)  # a record written with json.dumps twice: '"{\\"messages\\": ...}"'
        if inner is not None:
            obj = inner
    if not isinstance(payload, _BUFFERS) and not _serialisable(obj):
        where, kind = _unserialisable_at(obj)
        if kind == "legacy text":
            detail = (f"{_where(line, index)}: {where} holds text that is not UTF-8; it looks like Windows-1252 / "
                      "Latin-1: write the table's strings as UTF-8 (decode that column from cp1252 before saving)")
            return _error(path, line, index, fmt, "invalid_utf8", detail)
        if kind == "bytes":
            detail = (f"{_where(line, index)}: {where} holds binary data (an image or audio embedded in the table); "
                      "a JSON record cannot carry it: save the files and list their paths in an `images` column")
            return _error(path, line, index, fmt, "embedded_media", detail)
        else:
            if kind == "a lone surrogate":
                fix = "the text holds half of a UTF-16 pair: repair or drop that character"
            elif isinstance(payload, dict):
                fix = "cast that column to a string or number before saving the table"
            else:
                fix = "convert it to a string or number first"
            detail = f"{_where(line, index)}: {where} holds a value JSON cannot carry ({kind}); {fix}"
        return _error(path, line, index, fmt, "data_type", detail)
    if _too_deep(payload, obj):
        detail = (f"{_where(line, index)}: JSON nested deeper than {MAX_DEPTH} levels; a chat record nests a "
                  "few levels (flatten the value, or drop the field)")
        return _error(path, line, index, fmt, "too_deep", detail)
    if type(obj) is list and obj and all(is_bare_turn(turn) for turn in obj):
        obj = {"messages": obj}  # one conversation written as a bare list of its turns
    if not isinstance(obj, dict):
        kind = {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(obj), "null")
        detail = f'{_where(line, index)}: a JSON {kind}, expected an object like {{"messages": [...]}}'
        return _error(path, line, index, fmt, "data_type", detail)
    rows = _pandas_rows(obj)
    if rows is not None:
        # A table written by pandas' to_json with orient='columns' (its default) or 'split': rebuilt row by row,
        # each row at its own index (the row's position in the table).
        return [item for position, row in enumerate(rows)
                for item in convert_payload(row, None, mapping, path=path, line=line, index=index + position)]

    # detect_format(obj) is asked at most once: half of Alpaca has an empty `input`, so this path is hot.
    detected: Any = _UNASKED
    sparse = _without_empty_cells(obj)
    if sparse is not None:
        name = detect_format(sparse, mapping)
        if name is not None:
            detected = detect_format(obj, mapping)
            if name != detected:
                obj, fmt, detected = sparse, name, name
    spec = FORMATS[fmt] if fmt is not None else None
    if spec is None or not spec.matches(obj, mapping):
        name = detect_format(obj, mapping) if detected is _UNASKED else detected
        wrapped = _unwrap(obj, mapping, path, line, index) if name is None else []
        if wrapped:
            return wrapped
        folded = _folded(obj, mapping) if name is None else None
        if folded is not None:
            obj, name = folded
        if name is None:
            keys = ", ".join(sorted(map(str, obj))[:12]) or "none"
            detail = (
                f"{_where(line, index)}: no known format has these keys ({keys}); expected e.g. 'messages', "
                "'conversations', 'instruction'+'output', 'prompt'+'completion' or 'chosen'+'rejected' "
                "(or pass a field mapping: messages/role/content for turns, prompt/completion for one exchange in "
                "two fields)"
            )
            if "custom_id" in obj and ("body" in obj or "response" in obj or "result" in obj):
                detail += ("; it is an OpenAI Batch API line: the input file holds only the requests and the "
                           "output file only the answers, so join them by custom_id into one "
                           '{"request": ..., "response": ...} line each')
            elif (summary := summary_layout(obj)) is not None:
                detail += (f"; it is a summarisation row ({summary[0]} -> {summary[1]}) with no instruction in it: "
                           f"write the user turn with mapping.prompt_template, e.g. prompt_template: \"Summarize "
                           f"this:\\n\\n{{{summary[0]}}}\" (YAML double quotes, for the line breaks) and "
                           f"completion: {summary[1]}")
            elif obj and all(isinstance(k, str) and k.startswith("column_") for k in obj):
                detail += ("; the file has no header line (its first line was read as a row, so none is lost): "
                           "add a first line naming the columns (e.g. question,A,B,C,D,answer), or convert it to "
                           "JSONL with named fields")
            elif (labelled := classification_layout(obj)) is not None:
                detail += (f"; it is a classification row ({' + '.join(labelled)} -> label {obj['label']!r}) with "
                           "no instruction or reply in it: to train a chat model on it, write the request with "
                           f"mapping.prompt_template (e.g. \"Classify this:\\n\\n{{{labelled[0]}}}\") and give "
                           "the label's name as the completion (a column holding it, not the class number)")
            elif _bfcl_question(obj):
                detail += ("; it is a function-calling benchmark question (BFCL layout: question turns and the "
                           "functions offered) without its answer, which BFCL keeps in a separate possible_answer "
                           "file: use it as an evaluation set (decontaminate.paths), or join the answer in as "
                           "the assistant's tool call first")
            elif isinstance(obj.get("text"), str):
                detail += ("; its 'text' has no chat markup (ChatML, Llama, Gemma, Zephyr, Vicuna, '### Human:', "
                           "'### Instruction:'), so it reads as pretraining text, not a conversation")
            return _error(path, line, index, fmt, "unknown_format", detail)
        spec = FORMATS[name]
    try:
        converted = spec.convert(obj, mapping)
        for _, body, _ in converted:  # reasoning and typed tool-call parts, for every format alike
            _drop_empty_system(body)
            _refuse_placeholder_prompt(obj, body)
            _refuse_cut_off(obj, body)
            maybe_lift_record(body)
            _apply_verdicts(obj, body, mapping)
    except ConvertProblem as exc:  # recognised, and refused for a stated reason
        return _error(path, line, index, spec.name, exc.code, f"{_where(line, index)}: {exc}")
    except UnclosedReasoning:
        detail = (f"{_where(line, index)}: an assistant turn opens a reasoning block (<think>, "
                  "<|begin_of_thought|>) that never closes: the answer was cut off inside its reasoning, and "
                  "would be trained as visible text (leave such records out, or regenerate them)")
        return _error(path, line, index, spec.name, "incomplete_answer", detail)
    except Exception as exc:  # noqa: BLE001 - one record never stops a read
        # Lenient converters only fail on wrong types deep inside (e.g. "conversations": 5).
        detail = f"{_where(line, index)}: cannot read as {spec.name}: {type(exc).__name__}: {exc}"
        return _error(path, line, index, spec.name, "data_type", detail)

    own_id, id_key = _own_id(obj, mapping)
    system_key = mapping.system if mapping is not None and mapping.system else "system"
    if system_key == "system" and "system" not in obj and isinstance(obj.get("system_prompt"), str) and not any(
            _opens_with_system(body) for _, body, _ in converted):
        system_key = "system_prompt"  # OpenHermes-2.5 and OpenOrca name the column so (unless a turn is one)
    used = consumed_keys(spec, mapping)
    system = _system(obj, system_key)
    fields = {k: v for k, v in obj.items() if k not in used and k != id_key and k != "metadata"
              and not (k == system_key and (system is not None or not obj[k]))}
    # a format that reads `metadata` itself (text-generation-webui's per-message versions) owns it
    own_metadata = "metadata" in used
    base_meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) and not own_metadata else None
    if "metadata" in obj and base_meta is None and not own_metadata:
        fields["metadata"] = obj["metadata"]
    source = {"path": path, "line": line, "index": index, "format": spec.name}

    media = next((k for k in _MEDIA_FIELDS if _media_files(fields.get(k))), None)
    if media is not None:
        # LLaMA-Factory's videos/audios beside the turns: as text the record would teach talk about media unseen
        detail = (f"{_where(line, index)}: the record carries {media} ({str(fields[media])[:80]}): chat fine-tuning "
                  "files hold text and images only; leave such records out, or train them outside curate")
        return _error(path, line, index, spec.name, "unsupported_media", detail)
    items = []
    if "images" in fields and len(converted) == 1 and attach_images(converted[0][1], fields["images"]):
        del fields["images"]
    elif len(converted) == 1 and "images" not in fields:
        # LLaVA-Instruct, ShareGPT4V: one image beside the turns; Pixmo's image_url, TheoremQA's Picture
        column = next((k for k in _IMAGE_COLUMNS if k in fields), None)
        paths = image_paths(fields[column]) if column is not None else None
        if paths is not None and attach_images(converted[0][1], paths):
            del fields[column]
    for conv_id, body, extra_fields in converted:
        # A converter may set canonical metadata keys (a KTO label); source and fields are the reader's.
        own_meta = body.pop("metadata", None)
        inline_image_tags(body)
        turn_fields = set_aside(body)
        if turn_fields is not None:
            extra_fields = {**(extra_fields or {}), "turn_fields": turn_fields}
        kwargs_system = _template_kwargs(obj, body) if "chat_template_kwargs" in obj else None
        if kwargs_system is not None and _opens_with_system(body):
            kwargs_system = None  # a system turn of the row's own overrides the template's default instructions
        own_system = system if system is not None else kwargs_system
        if own_system is not None:
            _add_system(body, own_system)
        failed = _maybe_tools_from_system(body)
        record_id = conv_id if conv_id is not None else (own_id if len(converted) == 1 else None)
        if record_id is None:
            record_id = content_hash(body)
        metadata: dict[str, Any] = {"source": source if len(converted) == 1 else dict(source)}
        if base_meta:
            metadata.update((k, v) for k, v in base_meta.items() if k != "source")
        if own_meta:
            metadata.update(own_meta)
        if failed is not None and metadata.get("label") is None:
            metadata["label"], metadata["label_from"] = False, failed
        if fields or extra_fields:
            merged = dict(metadata.get("fields") or {})
            merged.update(fields)
            if extra_fields:
                merged.update(extra_fields)
            metadata["fields"] = merged
        items.append(
            SourceItem(
                path=path,
                line=line,
                index=index,
                format=spec.name,
                record={"id": record_id, **body, "metadata": metadata},
            )
        )
    if not items:  # e.g. a self-instruct task with no instances
        detail = f"{_where(line, index)}: the {spec.name} record holds no conversation"
        return _error(path, line, index, spec.name, "empty_record", detail)
    return items


# Keys naming the two sides of one exchange, not record ids: {"input": {...}, "output": {...}} is one record.
_SIDE_KEYS = frozenset({"input", "output", "inputs", "outputs", "request", "response", "prompt", "completion",
                        "chosen", "rejected", "question", "answer"})


_BESIDE_MAX = 1024  # characters of a wrapper's string value copied into each of its records' fields
_IMAGE_COLUMNS = ("image", "image_url", "image_path", "img_path", "Picture", "picture")


def _unwrap(obj: dict[str, Any], mapping: FieldMapping | None, path: str, line: int | None,
            index: int) -> list[SourceItem]:
    """Records inside one top-level object: ``{"version": ..., "data": [records]}``, a split dict
    ``{"train": [...], "test": [...]}`` or records keyed by id. Each list of records is read (its key goes to
    ``metadata.fields.source_key``); [] when no list holds records a format knows. A Zendesk tickets page is split
    by its reader, which gives each ticket the sideloaded users its comments name."""
    tickets = zendesk.split(obj)
    if tickets is not None:
        return [item for ticket in tickets for item in convert_payload(
            ticket, None, mapping, path=path, line=line, index=index)]
    lists = [(k, v) for k, v in obj.items() if type(v) is list and v and all(type(e) is dict for e in v)
             and detect_format(v[0], mapping) is not None]
    if not lists and len(obj) > 1 and _SIDE_KEYS.isdisjoint(obj) and all(
            type(v) is dict and detect_format(v, mapping) is not None for v in obj.values()):
        # records keyed by their id ({"q1": {...}, "q2": {...}}, json.dump of a dict): the key is the id
        return [item for key, record in obj.items() for item in convert_payload(
            record if "id" in record else {"id": key, **record}, None, mapping, path=path, line=line, index=index)]
    items: list[SourceItem] = []
    # the wrapper's own values ({"version": "1.1", "data": [...]}) go with each record, not lost: short ones only
    beside = {k: v for k, v in obj.items() if k not in dict(lists) and (
        v is None or type(v) in (bool, int, float) or (type(v) is str and len(v) <= _BESIDE_MAX))}
    for key, records in lists:
        assemble = ASSEMBLERS.get(detect_format(records[0], mapping) or "")
        if assemble is not None:
            # rows of a message table inside the wrapper (a chat API's {"data": [{session_id, from, content}]}):
            # grouped into their conversations, as the same rows in a JSONL file are
            records = [payload for _line, _index, payload in assemble(((None, i, r) for i, r in enumerate(records)),
                                                                      mapping)]
        for element in records:
            for item in convert_payload(element, None, mapping, path=path, line=line, index=index):
                if item.record is not None:
                    fields = item.record["metadata"].setdefault("fields", {})
                    fields["source_key"] = key
                    for name, value in beside.items():
                        fields.setdefault(name, value)
                items.append(item)
    return items


def _system(obj: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The top-level system prompt: a string, or text blocks (Bedrock's ``[{"text": ...}]``)."""
    value = obj.get(key)
    if isinstance(value, list) and value and all(isinstance(b, dict) and isinstance(b.get("text"), str)
                                                 and set(b) <= {"text", "type"} for b in value):
        value = "\n\n".join(b["text"] for b in value)
    if isinstance(value, str) and value.startswith("SYSTEM:"):  # Glaive's sets label the system text itself
        value = value[len("SYSTEM:"):].lstrip()
    if isinstance(value, str) and value.strip():
        return {"role": "system", "content": value}
    return None


def _template_kwargs(obj: dict[str, Any], body: dict[str, Any]) -> dict[str, Any] | None:
    """smoltalk2's ``chat_template_kwargs``: what its chat template renders into the system turn, read as the
    record's own. ``custom_instructions`` is the system prompt (the persona a plain row answers in), and
    ``xml_tools`` holds the tool schemas the calls were made against: one string of one schema per line, or of a
    ``<tools>[...]</tools>`` list (the Hermes and xLAM splits). Returns the system turn, or None; sets tools."""
    kwargs = obj.get("chat_template_kwargs")
    if type(kwargs) is not dict:
        return None
    xml = kwargs.get("xml_tools")
    if "tools" not in body and isinstance(xml, list) and xml and all(isinstance(t, str) for t in xml):
        text = "\n".join(xml)
        if tool_markup.TOOLS_OPEN in text:
            found = tool_markup.tools_in_text(text)
        else:
            found = [tool_markup.parse_loose(line) for line in text.splitlines() if line.strip()]
        tools = normalize_tools(found) if found and all(isinstance(t, dict) for t in found) else None
        if tools:
            body["tools"] = tools
    instructions = kwargs.get("custom_instructions")
    if isinstance(instructions, str) and instructions.strip():
        return {"role": "system", "content": instructions}
    return None


def _maybe_tools_from_system(body: dict[str, Any]) -> str | None:
    """Hermes-style data lists its function schemas only inside the system prompt (``<tools> ... </tools>``), and
    ToolACE's as a JSON list there: they become the record's ``tools``, so exporters and checks see them (the
    prompt text stays); ToolACE's ``[Name(k=v)]`` turns become tool calls (formats/bracket_calls.py), and
    ToolBench's ReAct turns too (formats/react_calls.py). Returns why the run failed, when its turns say so."""
    if "tools" in body or not _opens_with_system(body):
        return None
    content = _turns(body)[0].get("content")
    if not isinstance(content, str):
        return None
    if tool_markup.TOOLS_OPEN in content:
        tools = normalize_tools(tool_markup.tools_in_text(content))
        if tools:
            body["tools"] = tools
    elif react_calls.MARKER in content and isinstance(body.get("messages"), list):
        # ToolBench: the API list as a Python literal in the prompt, calls as Thought/Action/Action Input turns
        functions = react_calls.functions_in(content)
        if functions:
            changed, failed = react_calls.lift(body["messages"], functions)
            if changed:
                functions = react_calls.without_unused_finish(functions, body["messages"])
            body["tools"] = normalize_tools(functions)
            return failed
    elif "[{" in content and isinstance(body.get("messages"), list):
        # ToolACE / BFCL: the schemas as a JSON list in the prompt, calls as [Name(k=v)] turns
        functions = bracket_calls.functions_in(content)
        if functions and (bracket_calls.lift(body["messages"], functions) or "function" in content.lower()):
            body["tools"] = normalize_tools(bracket_calls.as_json_schema(functions))
    return None


def _turns_key(body: dict[str, Any]) -> str:
    """Where a body's opening turns are: the prompt of a pair, else the messages."""
    return "prompt" if "prompt" in body else "messages"


def _turns(body: dict[str, Any]) -> Any:
    return body.get(_turns_key(body))


def _opens_with_system(body: dict[str, Any]) -> bool:
    turns = _turns(body)
    return isinstance(turns, list) and bool(turns) and isinstance(turns[0], dict) and turns[0].get("role") == "system"


def _add_system(body: dict[str, Any], system: dict[str, Any]) -> None:
    """Prepend a top-level system prompt to the turns (the prompt of a pair), unless already there."""
    turns = _turns(body)
    if not isinstance(turns, list):
        return
    if _opens_with_system(body) and turns[0].get("content") == system["content"]:
        return
    body[_turns_key(body)] = [system, *turns]


def sniff_format(
    path: str | Path, container: str | None = None, mapping: FieldMapping | None = None, sample: int = SNIFF_RECORDS
) -> str | None:
    """A file's format: the majority over its first ``sample`` parseable records (ties: the first seen)."""
    votes: Counter[str] = Counter()
    seen = 0
    for _line, _index, payload in iter_payloads(path, container):
        try:
            obj = _decode(payload)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(obj, dict):
            continue
        seen += 1
        name = detect_format(obj, mapping)
        if name is None:
            folded = _folded(obj, mapping)
            name = folded[1] if folded is not None else None
        if name is not None:
            votes[name] += 1
        if seen >= sample:
            break
    if not votes:
        return None
    return votes.most_common(1)[0][0]  # most_common keeps first-seen order among equal counts


def read_path(
    path: str | Path, format: str | None = None, mapping: FieldMapping | None = None, container: str | None = None
) -> Iterator[SourceItem]:
    """Read one input (file or datasets folder) into SourceItems: the convenience for inspect and tests."""
    if format is not None and format not in FORMATS:
        raise InputError(f"unknown input format {format!r}{did_you_mean(format, FORMAT_NAMES)}",
                         hint=f"use one of {', '.join(FORMAT_NAMES)}")
    container = container or detect_container(path)  # once: sniffing and reading both need it
    fmt = format or sniff_format(path, container, mapping)
    name = str(path)
    payloads = iter_payloads(path, container)
    if fmt in ASSEMBLERS:
        payloads = ASSEMBLERS[fmt](payloads, mapping)
    for line, index, payload in payloads:
        yield from convert_payload(payload, fmt, mapping, path=name, line=line, index=index)


def probe_input(
    path: str | Path, format: str | None = None, mapping: FieldMapping | None = None
) -> tuple[str, str | None] | FileProblem:
    """An input file's container and format, or the ``FileProblem`` that makes the whole file unreadable.

    A bad file is one file-level reject, not a stopped run: callers report it and read the others. A config
    mistake (an unknown forced format) still raises.
    """
    try:
        check_readable(path)
        container = detect_container(path)
        return container, format or sniff_format(path, container, mapping)
    except InputError as exc:
        return FileProblem.from_error(str(path), exc)
    except CurationError:
        raise
    except Exception as exc:  # noqa: BLE001 - gzip, zstd, pyarrow errors: a bad file never stops the run
        return FileProblem.from_error(str(path), exc)


def iter_payloads_or_problem(
    path: str | Path, container: str, fmt: str | None = None, mapping: FieldMapping | None = None
) -> Iterator[tuple[int | None, int, Any]]:
    """``iter_payloads``, ending with one ``FileProblem`` payload if the file breaks part-way (a truncated
    gzip, a corrupt parquet row group): the records read so far are kept, the rest is one reject.

    A file of message rows (``fmt`` ``oasst_rows`` or ``message_rows``) comes out as trees or conversations: its
    rows are assembled first."""
    if fmt in ASSEMBLERS:
        yield from ASSEMBLERS[fmt](_payloads_or_problem(path, container), mapping)
    else:
        yield from _payloads_or_problem(path, container)


def _payloads_or_problem(path: str | Path, container: str) -> Iterator[tuple[int | None, int, Any]]:
    index = 0
    try:
        for line, position, payload in iter_payloads(path, container):
            index = position + 1
            yield line, position, payload
    except InputError as exc:
        yield None, index, FileProblem.from_error(str(path), exc)
    except CurationError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bad file never stops the run
        yield None, index, FileProblem.from_error(str(path), exc)
