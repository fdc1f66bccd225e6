"""Validation of canonical records with stable reason codes.

:func:`check_record` looks at one canonical dict (conversation or preference pair) and returns
:class:`Finding` objects. Every code, its severity, its default hint and what it means live in
:data:`CODES`; the README's reason-code table is generated from it (:func:`codes_table`).

Severity follows what providers do with an example: ``error`` when OpenAI/Azure reject the file because of
it, or the example cannot teach anything useful (no reply, an unfilled template, truncated by the limit);
``warning`` when the example is accepted but suspicious. A record is *valid* when it has no error.

The first seven codes are the OpenAI cookbook's ``Chat_finetuning_data_prep`` checks under their exact
names, widened to today's format (``tool`` and ``developer`` roles, ``tool_calls``, content parts, ``weight``).
The checks are plain loops over dicts with precompiled regexes: they run at several hundred thousand
records a second, far below the cost of token counting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from .records import MESSAGE_KEYS, ROLES

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in one record; ``message_index`` counts messages in reading order
    (for a preference pair: prompt, then chosen, then rejected)."""

    code: str
    severity: Severity
    message: str
    hint: str
    message_index: int | None = None


# code -> (severity, default hint, description)
CODES: dict[str, tuple[Severity, str, str]] = {
    # --- the cookbook's checks -------------------------------------------------------------------------
    "data_type": (
        "error",
        "each line must be one JSON object ({...}), not a list, string or number",
        "The example (or one of its messages) is not a JSON object.",
    ),
    "missing_messages_list": (
        "error",
        "give the example a non-empty `messages` list (or `prompt` for a preference pair)",
        "No `messages` list, or an empty one.",
    ),
    "message_missing_key": (
        "error",
        "every message needs a `role`; every tool call needs `id`, `type` and `function.name`",
        "A message without `role`, or a tool call without its required keys.",
    ),
    "message_unrecognized_key": (
        "error",
        "remove keys other than role, content, name, tool_calls, tool_call_id, function_call, weight, reasoning",
        "A message key that OpenAI rejects (`Example N contains an extra ...`).",
    ),
    "unrecognized_role": (
        "error",
        "map the role to system, developer, user, assistant or tool (e.g. with a role mapping)",
        "A role other than system, developer, user, assistant, tool or function.",
    ),
    "missing_content": (
        "error",
        "give the message string content (assistant turns may carry tool_calls instead)",
        "No content (and no tool call), or content that is neither a string nor a list of text/image parts.",
    ),
    "example_missing_assistant_message": (
        "error",
        "add the assistant reply the model should learn, or drop the example",
        "No assistant message: nothing to train on.",
    ),
    # --- reader errors ---------------------------------------------------------------------------------
    "not_json": (
        "error",
        "fix the line so it is one complete JSON object (pretty-printed JSON is not JSONL)",
        "The line or file is not valid JSON (`Example N cannot be parsed`).",
    ),
    "invalid_utf8": (
        "error",
        "re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
        "The bytes are not valid UTF-8.",
    ),
    "unknown_format": (
        "error",
        "convert to OpenAI `messages`, ShareGPT, Alpaca or a preference pair, or pass --format/a key mapping",
        "The keys match no known input format.",
    ),
    "no_preference": (
        "error",
        "keep only rows that prefer one answer (drop ties and equal scores), or read the answers as SFT with a "
        "field mapping",
        "A ranked or scored preference row states no preference (a tie, equal scores, fewer than two answers).",
    ),
    "incomplete_answer": (
        "error",
        "drop calls that stopped for length or content_filter, or log them again with a larger max_tokens",
        "A logged API answer that was cut off (finish_reason `length` or `content_filter`), or a chat app's answer "
        "that was stopped, cut off or replaced by the app's error message (LibreChat's `unfinished`, `error`; LM "
        "Studio's `stopReason` `userStopped`, `maxPredictedTokensReached`, ...).",
    ),
    "missing_history": (
        "error",
        "log the whole input of each call (or fetch it with GET /responses/{id}/input_items), or drop such calls",
        "A logged Responses API call that continued a stored conversation (`previous_response_id`, `conversation`, "
        "an `item_reference`): its earlier turns are on the provider's servers, not in the log.",
    ),
    "placeholder_prompt": (
        "error",
        "join the questions into the rows from the dataset they come from (OpenCodeReasoning's card shows how), or "
        "leave these rows out",
        "A record whose only question is a bare dash (`-`): the dataset keeps its questions elsewhere "
        "(OpenCodeReasoning split_1 and OpenCodeReasoning-2 point to TACO, APPS and CodeContests by dataset, split "
        "and index), so the answer would be trained as the reply to `-`.",
    ),
    "no_answer": (
        "error",
        "leave these rows out, or write the reply the model should give (e.g. that the passages do not say) into "
        "an answer column and map it with mapping.prompt/completion",
        "A question-answering row the dataset marks as unanswered (SQuAD 2.0's empty `answers`, MS MARCO's `No "
        "Answer Present.`): the label is not a reply to train.",
    ),
    "server_tool_call": (
        "error",
        "drop calls that used built-in tools, or replace them with your own function tools and log their results",
        "A logged call, or a ChatGPT / claude.ai export, that used a tool the provider runs itself (web search, "
        "file search, code interpreter, ChatGPT's Python and browsing; a file uploaded to the chat, which the app "
        "read on its own side): the log does not hold its results, so the answer would cite what the model never "
        "saw.",
    ),
    "prompt_mismatch": (
        "error",
        "pair two answers to the same prompt, or give the shared prompt in a `prompt` field",
        "The chosen and rejected sides open with different user turns: they share no prompt.",
    ),
    "check_error": (
        "error",
        "report it with the record: a check failed on it (the run rejected this record alone)",
        "Validation itself failed on this record (a bug in curation, not in the data).",
    ),
    "record_too_large": (
        "error",
        "split the file so each record is one line of JSON (a missing newline makes the whole file one line)",
        "One line or array element is larger than the reader takes for one record (64 MiB).",
    ),
    "too_deep": (
        "error",
        "flatten the deeply nested value or drop that field",
        "JSON nested deeper than any chat record needs (64 levels).",
    ),
    "unreviewed_tree": (
        "error",
        "use OpenAssistant's ready_for_export trees (the default export), or drop trees in other states",
        "An OpenAssistant tree that did not pass review (aborted, halted, still growing) or whose prompt was deleted.",
    ),
    "tool_calls_as_text": (
        "error",
        "convert the calls to tool_calls and the results to tool messages, or leave those records out",
        "Tool calls written as text in a dataset's own syntax (MOSS plugin `<|Commands|>`), which no provider's "
        "tool format holds: read as text, the model would learn to write calls as prose.",
    ),
    "one_sided_ticket": (
        "error",
        "leave such tickets out, or export them with their replies (Freshdesk: ?include=conversations)",
        "A support-desk ticket or conversation (Zendesk, Intercom, Freshdesk, Help Scout) with no customer message "
        "or no agent reply once private notes, bot replies, events and quoted e-mail are left out: no exchange to "
        "train on.",
    ),
    "unknown_speaker": (
        "error",
        "export Zendesk comments with ?include=users, or with the ticket's requester_id",
        "Support-desk comments whose authors cannot be told customer or agent (Zendesk comments with no users "
        "sideload and no requester).",
    ),
    "shared_tool_result": (
        "error",
        "split the result into one tool message per call, each with its own tool_call_id, or leave those records "
        "out",
        "One tool result answering several tool calls (SWE-agent's `tool_call_ids` naming more than one call): a "
        "fine-tuning file needs one tool message per call, and one text cannot be told apart into their answers.",
    ),
    "orphan_message": (
        "error",
        "give the whole export: every message of a tree, so each reply's parent is in the input",
        "An OpenAssistant message row replies to a message that is not in the input.",
    ),
    "empty_record": (
        "error",
        "drop the record or give it at least one conversation (e.g. a self-instruct task with no instances)",
        "The record holds no conversation at all.",
    ),
    # --- file-level reader errors: the whole file is skipped, the rest of the input is processed ---------
    "binary_file": (
        "error",
        "pass a JSONL/JSON/CSV/parquet/xlsx file, not a model, archive or image (unzip a zip archive first)",
        "The file is binary (NUL bytes at the start, a zip archive that is not an .xlsx workbook, an old .xls); a "
        "stray NUL or two in a text file rejects only its lines.",
    ),
    "utf16_file": (
        "error",
        "re-save the file as UTF-8 (e.g. iconv -f UTF-32 -t UTF-8)",
        "The file is UTF-32 encoded (UTF-16, with or without a byte-order mark, is read as it is).",
    ),
    "not_json_file": (
        "error",
        "each line must be one JSON object (JSONL), or the file one JSON array",
        "No line in the first 8 KiB starts with `{` or `[` (e.g. one bare JSON string per line).",
    ),
    "unreadable_file": (
        "error",
        "check the file is complete and readable (re-download it?)",
        "The file cannot be opened, decompressed or parsed as a container (truncated gzip, broken parquet).",
    ),
    # --- content ---------------------------------------------------------------------------------------
    "empty_content": (
        "error",
        "fill in or drop the empty turn",
        "A message whose content is empty or only whitespace (an empty reply teaches silence).",
    ),
    "empty_tool_result": (
        "warning",
        "keep it for targets that take it (Vertex, HF); the chat exports need text in every tool message: write "
        "the tool's empty output as text (e.g. 'no output'), or leave those records out with --skip-invalid",
        "A tool message whose content is empty (a tool that returned nothing); it is not trained on.",
    ),
    "unfilled_placeholder": (
        "error",
        "substitute the template variables (e.g. {{name}}) before training",
        "Unfilled template text such as `{{name}}`, `<NAME>`, `[NAME]` or `[INSERT ...]` outside code and maths.",
    ),
    "image_missing": (
        "error",
        "list the image files in an `images` field (one per <image>, in order) or remove the <image> tokens; drop "
        "exported chats whose uploaded images the export leaves out",
        "An image the record names but does not hold: an `<image>` placeholder with no image behind it "
        "(LLaMA-Factory's multimodal layout without its images), or an image uploaded to ChatGPT or claude.ai (or "
        "video shown in a ChatGPT voice chat), which their data exports name but leave out.",
    ),
    "unsupported_media": (
        "error",
        "leave video and audio out of chat fine-tuning data (drop those records, or train them with a framework that "
        "takes the media, such as LLaMA-Factory, outside curate)",
        "Video or audio the record carries (a `<video>` or `<audio>` token, LLaMA-Factory's `videos`/`audios` layout, "
        "or a video or audio content part): the chat fine-tuning formats curate writes hold text and images only, and "
        "as text the record would teach the model to talk about media it never saw.",
    ),
    "embedded_media": (
        "error",
        "save the images (or audio) as files and list their paths in an `images` column (datasets: cast the "
        "column to Image(decode=False) with paths, or export with the files beside the table)",
        "A table cell holds an image's or audio's bytes (a Hugging Face Image or Audio column embedded in parquet "
        "or a save_to_disk folder): a JSONL training record cannot carry them.",
    ),
    "reserved_token": (
        "error",
        "remove special-token strings such as <|endoftext|> or <|fim_suffix|> from the text",
        "A special-token string that OpenAI rejects (`message contains an invalid token`).",
    ),
    "template_token": (
        "error",
        "give the turns as messages without the markup (a `text` column holding a whole rendered conversation is "
        "read turn by turn), or remove the tokens",
        "A chat template's markup in the text (Llama 3 `<|eot_id|>`, `<|start_header_id|>`, Gemma "
        "`<start_of_turn>`, Phi-3 `<|user|>`, Llama 2 `[INST]` ... `[/INST]`): an already rendered template, whose "
        "markup the model would learn to write as text.",
    ),
    "over_token_limit": (
        "error",
        "shorten or drop the example, or choose a model with a larger context",
        "More tokens than the target model takes per example (OpenAI silently truncates them).",
    ),
    # --- structure -------------------------------------------------------------------------------------
    "last_not_assistant": (
        "warning",
        "end the example with the assistant turn; trailing turns are never trained on",
        "The last message is not from the assistant.",
    ),
    "missing_user_message": (
        "warning",
        "add the user turn the reply answers",
        "No user message: the assistant replies to nothing.",
    ),
    "opens_with_assistant": (
        "warning",
        "drop the opening reply or give it weight 0, unless it is a greeting the model should learn to open with",
        "The conversation opens with an assistant turn that answers nothing (a chunk cut from a longer chat, as "
        "FastChat's ShareGPT splits make; FastChat's trainer skips it).",
    ),
    "consecutive_same_role": (
        "warning",
        "merge consecutive turns of one role; Anthropic/Bedrock and Llama-2/Mistral chat templates reject them",
        "Two consecutive messages with the same role (OpenAI accepts it; strict-alternation templates do not).",
    ),
    "weight_misplaced": (
        "error",
        "keep `weight` on assistant messages only",
        "`weight` on a message that is not from the assistant.",
    ),
    "reasoning_misplaced": (
        "error",
        "keep `reasoning` (reasoning_content, <think> blocks) on assistant messages only",
        "Reasoning on a message that is not from the assistant.",
    ),
    "reasoning_not_string": (
        "error",
        "give `reasoning` / `reasoning_content` as one string",
        "Reasoning that is not a string.",
    ),
    "no_trained_turn": (
        "error",
        "give at least one assistant turn weight 1 (or no weight), or drop the example",
        "Every assistant turn has `weight` 0: the example trains nothing, but its tokens are still billed.",
    ),
    "invalid_weight": (
        "error",
        "set weight to the integer 0 or 1",
        "A `weight` other than 0 or 1.",
    ),
    # --- tools -----------------------------------------------------------------------------------------
    "tool_call_unanswered": (
        "error",
        "add a tool message with the call's tool_call_id right after the assistant turn",
        "An assistant tool call that later turns follow but no tool result answers.",
    ),
    "tool_result_orphan": (
        "error",
        "give the tool message the tool_call_id of a call in the assistant turn just before it",
        "A tool message that answers no tool call of the preceding assistant turn.",
    ),
    "tool_arguments_not_json": (
        "error",
        "make function.arguments a string holding a JSON object",
        "Tool call arguments that are not a JSON string.",
    ),
    "tool_not_declared": (
        "warning",
        "add the function to the record's tools, or drop the call (the model learns to call what it is not offered)",
        "An assistant tool call naming a function that the record's `tools` do not declare.",
    ),
    "tool_content_not_string": (
        "error",
        "give tool messages plain string content (not a list of parts)",
        'A tool message whose content is not a string (`key "content": Input should be a valid string`).',
    ),
    # --- preference pairs ------------------------------------------------------------------------------
    "preference_missing_chosen": (
        "error",
        "give the pair a non-empty `chosen` completion with an assistant message",
        "A preference pair without a chosen completion.",
    ),
    "preference_missing_rejected": (
        "error",
        "give the pair a non-empty `rejected` completion with an assistant message",
        "A preference pair without a rejected completion.",
    ),
    "preference_identical": (
        "error",
        "drop the pair: identical completions carry no preference",
        "`chosen` and `rejected` are identical.",
    ),
    "preference_side_not_answer": (
        "error",
        "end each side with the assistant's answer; move user turns into the prompt or drop the pair",
        "A side of a pair ends with, or holds, a turn that is not the assistant's (DPO would score it as part of "
        "the answer): e.g. a multi-turn Chatbot Arena comparison.",
    ),
    # --- dataset level (reported by inspect/exporters, not by check_record) -----------------------------
    "too_few_examples": (
        "warning",
        "OpenAI and Azure need at least 10 examples; 50-100 for clear gains",
        "Fewer valid examples than the provider's minimum.",
    ),
}

_PART_TYPES = frozenset({"text", "image_url"})
_MEDIA_PART_TYPES = frozenset({"video", "video_url", "audio", "audio_url", "input_audio"})

# Special-token strings of tiktoken's encodings and OpenAI's chat/harmony formats; OpenAI rejects them.
_RESERVED = re.compile(
    r"<\|(?:endoftext|startoftext|endofprompt|fim_prefix|fim_middle|fim_suffix|im_start|im_end|im_sep"
    r"|start|end|message|channel|return|constrain|call|reserved_\d+)\|>"
)
# Chat-template markup of the open models: text that is an already rendered template (prompt/completion columns
# written through tokenizer.apply_chat_template). OpenAI accepts these strings; a model would learn to write them.
# Each alternative is the markup as a template writes it, not the name of a token in prose: a Llama 3 header, a
# turn that ends on <|eot_id|>, a Gemma turn opening, a Zephyr/Phi-3 tag alone on its line.
# (_text_findings searches only texts holding "<|" or "<start_of_turn>": keep every new alternative holding one.)
_TEMPLATE = re.compile(
    r"<\|begin_of_text\|>|<\|start_header_id\|>\s*\w+\s*<\|end_header_id\|>|<\|eot_id\|>\s*\Z"
    r"|<start_of_turn>(?:user|model|system)\b|(?:\A|\n)<\|(?:user|assistant|system)\|>[ \t]*\n"
)
# Unfilled template slots. One definition, used by validation and by the quality stage.
# Each pattern finds a candidate; _is_slot() then rejects the ones that are code, template syntax or maths.
_SLOT_WORDS = (
    r"NAME|AUTHOR|COMPANY|ORGANI[SZ]ATION|ORG|MODEL(?:_NAME)?|BOT(?:_NAME)?|ASSISTANT(?:_NAME)?|DEVELOPER|CREATOR"
    r"|PRODUCT(?:_NAME)?|PLACEHOLDER|TARGETLANGUAGE|PROMPT"
)
# One pattern per opening character, so that each search is a fast scan for that character, and none runs
# on a text without it (most texts): ~1 us per message.
_SLOTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # {{name}} / {{ author }}: a bare identifier; {{ user.name }} (a dotted path) is template code, not a slot.
    # Bitext's customer-support set writes slots in words: {{Order Number}}, {{Customer Support Phone Number}}.
    ("{{", re.compile(r"\{\{\s*[A-Za-z_][\w\-]{0,40}(?: [A-Za-z][\w\-]{0,20}){0,5}\s*\}\}")),
    # LMSYS-Chat-1M replaced names with NAME_1, NAME_2: a model trained on them writes "Nice to meet you, NAME_1".
    ("NAME_", re.compile(r"\bNAME_\d{1,3}\b")),
    # <NAME>, <AUTHOR> (LLaMA-Factory's self_cognition); <YOUR_API_KEY> is an instruction to the reader.
    ("<", re.compile(rf"<(?:{_SLOT_WORDS}|INSERT[_ ][A-Z][A-Z_ ]{{0,40}})>")),
    # [NAME], [TARGETLANGUAGE], [INSERT ...]
    ("[", re.compile(rf"\[(?:(?:{_SLOT_WORDS})\]|INSERT\b[^\]\n]{{0,60}}\])")),
    # {name}, {author}: str.format slots with a slot-like name, left in prose.
    ("{", re.compile(
        r"\{(?:name|author|company|company_name|product_name|your_name|user_name|recipient|placeholder)\}"
    )),
)
# "[Your Name]", "[Insert date]", "Dear [Name]": what letter-writing replies (and templates the user asked
# for) leave for the reader to fill.
BRACKET_SLOT = re.compile(
    r"\[(?:(?:your|insert|enter|add)[ _][^\]\n]{1,40}|name|company|date|recipient|employer)\](?!\()", re.I
)
# Fenced blocks and inline code of any backtick run (Markdown `x`, RST ``x``).
_CODE_SPANS = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|(`+)[^`\n]+?\1", re.S)
# A line of code or template markup: assignments, calls, f-strings, HTML tags, Jinja statements, YAML/shell
# variables. Placeholders in such a line are the program's own syntax.
_CODE_LINE = re.compile(
    r"[\w\])]\s?=\s?[\w\"'\[{(]|;\s*$|==|=>|\w\(|\bf[\"']|</?[a-z][\w-]*[\s>/]|\{%|\$\{|\$\w"
    r"|^\s*-?\s*[a-z_][\w-]*:\s"
)
# A text that writes or names template code: Jinja/Django/Liquid statements, Handlebars/Mustache blocks, Go's
# {{end}}, or the engines and templates by name. Its {{ }} are what it teaches, not a slot left unfilled.
_TEMPLATE_TALK = re.compile(
    r"\{%|\{\{[#/^>!-]|\{\{-?\s*(?:end|else|range|if|with|define)\b|\b(?:jinja2?|django|flask|handlebars|mustache|"
    r"angular(?:js)?|vue(?:\.js)?|liquid|nunjucks|twig|helm|ansible|go templates?|templat(?:e|es|ing)|mail[ -]merge"
    r"|merge fields?|placeholders?|variables?)\b", re.I)
_LATEX_BEFORE = re.compile(r"\\[A-Za-z]+\s*$|[_^]\s*$")  # \text{{J}}, \frac{{a}}{{b}}, x_{{ij}}
_CODEY = ("`", "~~~")


def _line_of(text: str, start: int) -> str:
    begin = text.rfind("\n", 0, start) + 1
    end = text.find("\n", start)
    return text[begin : end if end != -1 else len(text)]


def _is_slot(text: str, match: re.Match[str]) -> bool:
    start = match.start()
    before = text[max(0, start - 20) : start]
    if before.endswith("$") or _LATEX_BEFORE.search(before):  # ${{ github.x }}, ${name}, \text{{J}}
        return False
    token = match.group(0)
    if token[1] != "{" and token[0] == "{" and (  # {name}: not part of {{...}}, x{name}, \cmd{name}
        before[-1:].isalnum() or before[-1:] in ("{", "\\", "_") or text[match.end() : match.end() + 1] == "}"
    ):
        return False
    if token.startswith("<") and f"</{token[1:]}" in text:  # <NAME>...</NAME>: XML, not a slot
        return False
    return _CODE_LINE.search(_line_of(text, start)) is None


def _first_slot(pattern: re.Pattern[str], text: str) -> str | None:
    if pattern.search(text) is None:  # the common case: one fast scan, no code stripping
        return None
    body = _CODE_SPANS.sub(" ", text) if any(mark in text for mark in _CODEY) else text
    for match in pattern.finditer(body):
        if _is_slot(body, match):
            return match.group(0)
    return None


def placeholder_in(text: str) -> str | None:
    """The first unfilled template slot in ``text`` (``{{name}}``, ``<NAME>``, ``[NAME]``, ``[Insert ...]``,
    ``{author}``) outside code, template syntax and maths; None when there is none."""
    for trigger, pattern in _SLOTS:
        if trigger in text:
            if trigger == "{{" and _TEMPLATE_TALK.search(text):
                continue  # an answer about Jinja, Handlebars or prompt templates: its {{ }} are the subject
            found = _first_slot(pattern, text)
            if found:
                return found
    return None


def bracket_placeholder_in(text: str) -> str | None:
    """The first reader-facing bracket slot (``[Your Name]``, ``[Date]``) outside code, or None."""
    return _first_slot(BRACKET_SLOT, text) if "[" in text else None


def _finding(code: str, message: str, index: int | None = None) -> Finding:
    severity, hint, _ = CODES[code]
    return Finding(code, severity, message, hint, index)


def finding_from_reader_error(code: str, detail: str) -> Finding:
    """The finding for a payload the reader could not turn into a record (``SourceItem.error``)."""
    if code in CODES:
        return _finding(code, detail)
    return Finding(code, "error", detail, "fix the record so the reader can parse it", None)


# Every text finding needs one of these characters (reserved tokens and <image> start with "<", each slot
# pattern holds its trigger's last character, "_" for NAME_ rather than the "N" most texts hold): a text
# without any, most texts, needs no other scan.
_TEXT_TRIGGERS: tuple[str, ...] = tuple(sorted({"<", *(trigger[-1] for trigger, _ in _SLOTS)}))


def _text_findings(text: str, index: int, out: list[Finding]) -> None:
    if "[/INST]" in text and "[INST]" in text:
        out.append(_finding("template_token", f"message {index} contains [INST] ... [/INST]", index))
    for char in _TEXT_TRIGGERS:
        if char in text:
            break
    else:
        return
    # Every _TEMPLATE alternative holds "<|" but the Gemma one, which holds "<start_of_turn>": without either the
    # search (which tries every position, for its "\A|\n" start) cannot match.
    template = None
    if "<|" in text:
        match = _RESERVED.search(text)
        if match:
            out.append(_finding("reserved_token", f"message {index} contains {match.group(0)}", index))
        template = _TEMPLATE.search(text)
    elif "<start_of_turn>" in text:
        template = _TEMPLATE.search(text)
    if template:
        out.append(_finding("template_token", f"message {index} contains {template.group(0)}", index))
    found = placeholder_in(text)
    if found:
        out.append(_finding("unfilled_placeholder", f"message {index} contains {found[:60]}", index))
    if "<image>" in text:
        out.append(_finding("image_missing", f"message {index} has an <image> placeholder but no image", index))
    if "<video>" in text or "<audio>" in text:
        media = "video" if "<video>" in text else "audio"
        out.append(_finding("unsupported_media", f"message {index} has a <{media}> placeholder", index))


def _check_arguments(arguments: Any, index: int, out: list[Finding]) -> None:
    if not isinstance(arguments, str):
        out.append(_finding("tool_arguments_not_json", f"message {index}: arguments is not a string", index))
        return
    try:
        orjson.loads(arguments)
    except orjson.JSONDecodeError:
        out.append(_finding("tool_arguments_not_json", f"message {index}: arguments is not valid JSON", index))


_SCALARS = (str, int, float, bool)  # a tuple: a union would be built on every call


def _hashable(value: Any) -> bool:
    return value is None or isinstance(value, _SCALARS)


def _check_message(message: Any, index: int, out: list[Finding]) -> Any:
    """Checks that look at one message alone; returns its role (None when it is no dict)."""
    if not isinstance(message, dict):
        out.append(_finding("data_type", f"message {index} is a {type(message).__name__}, not an object", index))
        return None
    role = message.get("role")
    if len(message) == 2 and type(role) is str:
        content = message.get("content")
        if type(content) is str:  # exactly {role, content}, both strings: most messages; the rules below, short
            if role not in ROLES:
                out.append(_finding("unrecognized_role", f"message {index} has role {role[:40]!r}", index))
            _text_findings(content, index, out)
            if not content.strip():
                out.append(_finding("empty_content", f"message {index} ({role}) is empty", index))
            return role
    if not MESSAGE_KEYS.issuperset(message):
        for key in message:
            if key not in MESSAGE_KEYS:
                out.append(_finding("message_unrecognized_key", f"message {index} has key {key!r}", index))
    if role is None:
        out.append(_finding("message_missing_key", f"message {index} has no role", index))
    elif not isinstance(role, str) or role not in ROLES:  # a list or dict role is unhashable: test the type
        out.append(_finding("unrecognized_role", f"message {index} has role {str(role)[:40]!r}", index))

    tool_calls = message.get("tool_calls")
    function_call = message.get("function_call")
    has_call = bool(tool_calls) or function_call is not None
    content = message.get("content")
    if content is None:
        if not has_call:
            out.append(_finding("missing_content", f"message {index} has no content", index))
    elif isinstance(content, str):
        _text_findings(content, index, out)
        # A tool's empty result is what it returned (tau-bench's `think` tool, a command printing nothing): it is
        # not trained on, and dropping the turn would leave its call unanswered: a warning, not an error.
        if not has_call and not content.strip():
            if role == "tool":
                out.append(_finding("empty_tool_result", f"message {index} (tool) is empty", index))
            else:
                out.append(_finding("empty_content", f"message {index} ({role}) is empty", index))
    elif isinstance(content, list):
        if role == "tool":
            out.append(_finding("tool_content_not_string", f"message {index} is a tool result given as parts", index))
        has_payload = False
        for part in content:
            if isinstance(part, dict) and part.get("type") in _MEDIA_PART_TYPES:
                out.append(_finding("unsupported_media", f"message {index} has a {part['type']} part", index))
                has_payload = True
                break
            if isinstance(part, dict) and part.get("type") == "image":  # {"type": "image"} with no image given
                out.append(_finding("image_missing", f"message {index} has an image part but no image", index))
                has_payload = True
                break
            if not isinstance(part, dict) or part.get("type") not in _PART_TYPES:
                out.append(_finding("missing_content", f"message {index} has a content part of unknown type", index))
                has_payload = True
                break
            if part.get("type") == "image_url":
                has_payload = True
                continue
            text = part.get("text")
            if not isinstance(text, str):
                out.append(_finding("missing_content", f"message {index} has a text part without text", index))
                has_payload = True
                break
            if text.strip():
                has_payload = True
                _text_findings(text, index, out)
        if not has_payload and not has_call:
            out.append(_finding("empty_content", f"message {index} ({role}) is empty", index))
    else:
        out.append(
            _finding("missing_content", f"message {index} content is a {type(content).__name__}, not a string", index)
        )

    if "weight" in message:
        weight = message["weight"]
        if type(weight) is not int or weight not in (0, 1):
            out.append(_finding("invalid_weight", f"message {index} has weight {str(weight)[:20]}", index))
        if role != "assistant":
            out.append(_finding("weight_misplaced", f"message {index} ({role}) carries a weight", index))

    reasoning = message.get("reasoning")
    if reasoning is not None:
        if not isinstance(reasoning, str):
            out.append(_finding("reasoning_not_string", f"message {index}: reasoning is a {type(reasoning).__name__}",
                                index))
        else:
            if role != "assistant":
                out.append(_finding("reasoning_misplaced", f"message {index} ({role}) carries reasoning", index))
            _text_findings(reasoning, index, out)

    if tool_calls is not None:
        if not isinstance(tool_calls, list):
            out.append(_finding("message_missing_key", f"message {index}: tool_calls is not a list", index))
        else:
            for call in tool_calls:
                function = call.get("function") if isinstance(call, dict) else None
                if not isinstance(function, dict) or not function.get("name"):
                    out.append(
                        _finding("message_missing_key", f"message {index}: a tool call has no function name", index)
                    )
                    continue
                _check_arguments(function.get("arguments"), index, out)
    if function_call is not None:
        if not isinstance(function_call, dict) or not function_call.get("name"):
            out.append(_finding("message_missing_key", f"message {index}: function_call has no name", index))
        else:
            _check_arguments(function_call.get("arguments"), index, out)
    return role


def _unanswered(open_calls: set[str] | None, answered: int, index: int, out: list[Finding]) -> None:
    """Report the tool calls of the assistant turn at ``index`` that no tool result answered."""
    if open_calls is not None and len(open_calls) > answered:
        out.append(_finding("tool_call_unanswered",
                            f"message {index}: {len(open_calls) - answered} tool call(s) get no result", index))


def _check_sequence(messages: list[Any], offsets: Sequence[int], out: list[Finding], *, completion: bool) -> None:
    """Checks over the order of turns: alternation, tool call/result pairing, the final turn.

    ``offsets[i]`` is the reported index of ``messages[i]`` (preference pairs splice prompt and completion).
    """
    previous_role: Any = None
    open_calls: set[str] | None = None  # ids of the tool calls the current tool block may answer
    open_index = 0
    anonymous_answers = 0
    n = len(messages)
    for position, message in enumerate(messages):
        if not isinstance(message, dict):
            previous_role = None
            continue
        role = message.get("role")
        index = offsets[position]
        if role == "tool":
            call_id = message.get("tool_call_id")
            if open_calls is None:
                out.append(_finding("tool_result_orphan", f"message {index} follows no assistant tool call", index))
            elif call_id is None:
                anonymous_answers += 1
            elif _hashable(call_id) and call_id in open_calls:
                open_calls.discard(call_id)
            else:
                out.append(_finding("tool_result_orphan", f"message {index} answers unknown call {call_id!r}", index))
        else:
            if open_calls is not None:
                _unanswered(open_calls, anonymous_answers, open_index, out)
                open_calls = None
            anonymous_answers = 0
            if role == previous_role and isinstance(role, str) and role in ROLES and role != "function":
                out.append(
                    _finding("consecutive_same_role", f"messages {index - 1} and {index} are both {role}", index)
                )
            tool_calls = message.get("tool_calls") if role == "assistant" else None
            if isinstance(tool_calls, list) and tool_calls and position < n - 1:
                # Ids are kept only when hashable scalars: a list or dict id is an error reported elsewhere.
                open_calls = {c.get("id") for c in tool_calls if isinstance(c, dict) and _hashable(c.get("id"))}
                open_calls.discard(None)
                # Calls without ids can only be answered by tool messages without ids, in order.
                missing_ids = sum(1 for c in tool_calls if not isinstance(c, dict) or c.get("id") is None)
                open_calls |= {f"\0anonymous{k}" for k in range(missing_ids)}
                open_index = index
        previous_role = role
    # A tool block that ends the example: its calls are answered only as far as results are given.
    _unanswered(open_calls, anonymous_answers, open_index, out)
    if n and completion:
        last = messages[-1]
        if isinstance(last, dict) and last.get("role") != "assistant":
            out.append(_finding("last_not_assistant", f"the last message is {last.get('role')!r}", offsets[-1]))


def _roles(messages: list[Any]) -> set[Any]:
    return {m.get("role") for m in messages if isinstance(m, dict) and isinstance(m.get("role"), str)}


def _check_conversation(record: dict[str, Any], out: list[Finding]) -> None:
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        if isinstance(messages, str) and messages.strip():
            out.append(_finding("missing_messages_list", "messages is a string, not a list of turns (text that is "
                                "neither JSON nor a Python list of turns, e.g. cut off by a spreadsheet)"))
        else:
            out.append(_finding("missing_messages_list", "the example has no messages"))
        return
    has_assistant = has_user = False
    for index, message in enumerate(messages):
        role = _check_message(message, index, out)
        if role == "assistant":
            has_assistant = True
        elif role == "user":
            has_user = True
    _check_sequence(messages, range(len(messages)), out, completion=True)
    _check_declared_tools(record.get("tools"), messages, out)
    weights = [m.get("weight") for m in messages if isinstance(m, dict) and m.get("role") == "assistant"]
    if weights and all(type(w) is int and w == 0 for w in weights):
        out.append(_finding("no_trained_turn", f"all {len(weights)} assistant turn(s) have weight 0"))
    if not has_assistant:
        out.append(_finding("example_missing_assistant_message", "the example has no assistant message"))
    if not has_user:
        out.append(_finding("missing_user_message", "the example has no user message"))
    else:
        first = next((m for m in messages if isinstance(m, dict) and m.get("role") != "system"), None)
        if first is not None and first.get("role") == "assistant" and first.get("weight") != 0:
            out.append(_finding("opens_with_assistant", "the first turn after the system prompt is the "
                                "assistant's: a reply to nothing", messages.index(first)))


def _declared(tools: Any) -> set[str] | None:
    """The function names a record's ``tools`` declare; None when it declares none (or in a shape the other
    checks report), so that nothing is judged against it."""
    if not isinstance(tools, list) or not tools:
        return None
    names = set()
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str):
            return None
        names.add(name)
    return names


def _check_declared_tools(tools: Any, messages: list[Any], out: list[Finding]) -> None:
    names = _declared(tools)
    if names is None:
        return
    for index, message in enumerate(messages):
        calls = message.get("tool_calls") if isinstance(message, dict) else None
        for call in calls if isinstance(calls, list) else ():
            function = call.get("function") if isinstance(call, dict) else None
            name = function.get("name") if isinstance(function, dict) else None
            if isinstance(name, str) and name not in names:
                out.append(_finding("tool_not_declared", f"message {index} calls {name!r}, which the tools do not "
                                    f"declare ({', '.join(sorted(names))})", index))


def _check_preference(record: dict[str, Any], out: list[Finding]) -> None:
    prompt = record.get("prompt")
    chosen = record.get("chosen")
    rejected = record.get("rejected")
    if not isinstance(prompt, list) or not prompt:
        out.append(_finding("missing_messages_list", "the pair has no prompt messages"))
        prompt = prompt if isinstance(prompt, list) else []
    sides: list[tuple[str, list[Any], int]] = []
    offset = len(prompt)
    for name, side, code in (
        ("chosen", chosen, "preference_missing_chosen"),
        ("rejected", rejected, "preference_missing_rejected"),
    ):
        if not isinstance(side, list) or not side:
            out.append(_finding(code, f"the pair has no {name} completion"))
            side = side if isinstance(side, list) else []
        elif "assistant" not in _roles(side):
            out.append(_finding(code, f"the {name} completion has no assistant message"))
        elif isinstance(side[-1], dict) and side[-1].get("role") != "assistant":
            out.append(_finding("preference_side_not_answer", f"the {name} completion ends with a "
                                f"{side[-1].get('role')!r} turn", offset + len(side) - 1))
        else:
            # A multi-turn comparison (Chatbot Arena's conversation_a/b): the sides part at the first answer and
            # carry the user's later turns, which DPO would score as part of the answer.
            inner = next((i for i, m in enumerate(side)
                          if isinstance(m, dict) and m.get("role") in ("user", "system")), None)
            if inner is not None:
                out.append(_finding("preference_side_not_answer", f"the {name} completion holds a "
                                    f"{side[inner].get('role')!r} turn (the answers differ before the last user "
                                    "turn: a multi-turn comparison, not a pair of answers)", offset + inner))
        sides.append((name, side, offset))
        offset += len(side)

    everything = [*prompt, *sides[0][1], *sides[1][1]]
    for index, message in enumerate(everything):
        _check_message(message, index, out)

    # Sequence checks see the prompt followed by each completion; prompt findings are kept once.
    seen: set[tuple[str, int | None]] = set()
    prompt_offsets = list(range(len(prompt)))
    for _, side, side_offset in sides:
        if not side:
            continue
        found: list[Finding] = []
        offsets = prompt_offsets + list(range(side_offset, side_offset + len(side)))
        _check_sequence([*prompt, *side], offsets, found, completion=True)
        for finding in found:
            key = (finding.code, finding.message_index)
            if key not in seen:
                seen.add(key)
                out.append(finding)
    if prompt and "user" not in _roles(prompt):
        out.append(_finding("missing_user_message", "the prompt has no user message"))
    if chosen and rejected and chosen == rejected:
        out.append(_finding("preference_identical", "chosen and rejected are identical"))


def check_record(record: Any, *, token_count: int | None = None, max_tokens: int | None = None) -> list[Finding]:
    """Every finding for one canonical record (conversation or preference pair), in message order."""
    if not isinstance(record, dict):
        return [_finding("data_type", f"the example is a {type(record).__name__}, not an object")]
    out: list[Finding] = []
    if "chosen" in record or "rejected" in record:
        _check_preference(record, out)
    else:
        _check_conversation(record, out)
    if token_count is not None and max_tokens is not None and token_count > max_tokens:
        out.append(_finding("over_token_limit", f"{token_count} tokens > the model's {max_tokens}"))
    return out


def has_error(findings: list[Finding]) -> bool:
    """True when any finding makes the record invalid."""
    return any(f.severity == "error" for f in findings)


def codes_table() -> str:
    """The reason-code catalogue as a Markdown table (for the README)."""
    lines = ["| code | severity | meaning | fix |", "| --- | --- | --- | --- |"]
    for code, (severity, hint, description) in CODES.items():
        lines.append(f"| `{code}` | {severity} | {description} | {hint} |")
    return "\n".join(lines)
