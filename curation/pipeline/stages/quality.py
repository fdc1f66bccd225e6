"""Heuristic quality checks on assistant replies, each with a reason code, a threshold and a mode.

A check in mode ``drop`` removes the record with its reason code; in mode ``flag`` it only adds the
code to ``metadata["flags"]`` (the review UI shows them); ``off`` skips it. Every record gets a score
in ``metadata["quality"]`` (0..1, used by dedup's "keep the best copy" policy).

What is checked: the assistant replies the model is trained on (``weight`` not 0); on a preference
pair, the chosen side only (a rejected reply is meant to be worse). Code blocks are taken out before
the prose checks (repeats, symbol ratio, placeholders), because code legitimately repeats lines,
is made of symbols and contains ``{{ template }}`` syntax. The checks are conservative: Chinese and
Japanese replies need no final full stop, lists and code end without one, and short answers are fine.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from curation.checks import bracket_placeholder_in, placeholder_in
from curation.pipeline.base import Drop, RecordStage
from curation.pipeline.stages import quality_batch
from curation.records import is_preference, message_text
from curation.textscan import literal_scanner

Mode = Literal["drop", "flag", "off"]

# Order in which checks run: the first drop-mode hit is the reason; cheap and certain ones first.
CHECKS: tuple[str, ...] = (
    "empty_reply",
    "app_error_reply",
    "near_empty_reply",
    "unfilled_placeholder",
    "bracket_placeholder",
    "refusal_only",
    "ai_disclaimer",
    "repeated_lines",
    "repeated_ngrams",
    "non_alnum_ratio",
    "truncated_reply",
    "html_markup",
    "reasoning_loop",
)
# How much a hit lowers the quality score (a dropped record's score hardly matters, a flagged one's does).
PENALTY: dict[str, float] = {
    "empty_reply": 1.0,
    "app_error_reply": 1.0,
    "near_empty_reply": 0.4,
    "unfilled_placeholder": 0.6,
    "bracket_placeholder": 0.2,
    "refusal_only": 0.5,
    "ai_disclaimer": 0.3,
    "repeated_lines": 0.5,
    "repeated_ngrams": 0.5,
    "non_alnum_ratio": 0.5,
    "truncated_reply": 0.4,
    "html_markup": 0.3,
    "reasoning_loop": 0.5,
}

# Whole-reply refusals, lower-case with straight apostrophes. Matched only in short replies.
DEFAULT_REFUSALS: tuple[str, ...] = (
    # English
    "i'm sorry, but i can't",
    "i'm sorry, but i cannot",
    "i'm sorry, i can't",
    "i'm sorry, i cannot",
    "i am sorry, but i cannot",
    "i apologize, but i cannot",
    "i apologize, but i can't",
    "sorry, but i can't",
    "sorry, i can't",
    "i cannot assist",
    "i can't assist",
    "i cannot help with",
    "i can't help with",
    "i'm not able to help",
    "i am not able to help",
    "i'm unable to help",
    "i am unable to help",
    "i'm unable to assist",
    "i am unable to assist",
    "i cannot fulfill",
    "i can't fulfill",
    "i cannot comply",
    "i can't comply",
    "i won't be able to help",
    "i must decline",
    # Chinese
    "抱歉，我不能",
    "抱歉，我无法",
    "对不起，我不能",
    "对不起，我无法",
    "很抱歉，我不能",
    "很抱歉，我无法",
    "我无法提供",
    "我不能提供",
    "我无法帮助",
    "我不能帮助",
    "我无法协助",
    # French
    "je suis désolé, mais je ne peux pas",
    "désolé, mais je ne peux pas",
    "je ne peux pas vous aider",
    "je ne peux pas répondre",
    # Spanish
    "lo siento, pero no puedo",
    "no puedo ayudarte con",
    "no puedo ayudar con",
    # German
    "es tut mir leid, aber ich kann",
    "ich kann dir dabei nicht helfen",
    "ich kann ihnen dabei nicht helfen",
    # Russian
    "извините, но я не могу",
    "к сожалению, я не могу",
    "я не могу помочь",
    # Korean
    "죄송하지만",
    "죄송합니다만",
    "도와드릴 수 없습니다",
    # Japanese
    "申し訳ありませんが、",
    "お手伝いできません",
)

# Self-descriptions of a model that users usually do not want to train on ("As an AI language model, ...").
DEFAULT_DISCLAIMERS: tuple[str, ...] = (
    "as an ai language model",
    "as a language model",
    "as a large language model",
    "as an ai model",
    "as an ai assistant",
    "as an ai developed by",
    "i am an ai language model",
    "i'm an ai language model",
    "作为一个人工智能语言模型",
    "作为一个ai语言模型",
    "作为ai语言模型",
    "作为一个语言模型",
    "作为人工智能语言模型",
    "en tant que modèle de langage",
    "en tant qu'ia",
    "en tant qu'intelligence artificielle",
    "como modelo de lenguaje",
    "como un modelo de lenguaje",
    "como ia",
    "als ki-sprachmodell",
    "als sprachmodell",
    "как языковая модель",
    "как модель ии",
    "ai 언어 모델로서",
    "언어 모델로서",
    "ai言語モデルとして",
    "言語モデルとして",
)

_CODE_BLOCK = re.compile(r"^[ \t]*(```|~~~).*?(?:^[ \t]*\1[ \t]*$|\Z)", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_FENCE_LINE = re.compile(r"^[ \t]*(?:```|~~~)", re.M)
# Maths spans ($...$, \(...\), \[...\], $$...$$): derivations legitimately repeat their formulae, like code.
_LIST_MARKER = re.compile(r"^(?:\d{1,3}|[A-Za-z])[.)]\s+|^[-*\u2022]\s+")
_MARKER_STARTS = frozenset("0123456789-*\u2022")
# Also LaTeX environments (\begin{align*} ... \end{align*}, pmatrix) and MATH's Asymptote figures ([asy] ... [/asy]).
_MATH = re.compile(r"\$\$.*?\$\$|\\\[.*?\\\]|\\\(.*?\\\)|\$[^$\n]{1,300}\$|\\begin\{([A-Za-z]+\*?)\}.*?\\end\{\1\}"
                   r"|\[asy\].*?\[/asy\]", re.S)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPACES = re.compile(r"\s+")
_SYMBOL = re.compile(r"[^\w\s]|_")  # neither a letter or digit of any script, nor a space
_SPAN_WORDS = 15  # repeated_ngrams: a span this long said twice is copied text, not a turn of phrase
# ... in a reply of at least this many spans: a shorter one that repeats a span is two parallel sentences (a
# Winograd-style twin pair, an A/B example), which a pasted answer of under two spans a copy cannot be told from.
_SPAN_MIN_SPANS = 4
# Markdown table delimiter rows (|---|:---:|): layout, not symbol junk.
_TABLE_RULE = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{3,}:?[ \t]*\|)+[ \t]*(?::?-{3,}:?[ \t]*)?$", re.M)
# Ideographs and kana: one carries about as much text as two Latin letters, so a Chinese sentence's
# punctuation (，。：“”) weighs on the ratio as an English sentence's does.
_CJK_WEIGHT = 2
# Quotations (“...”, "...", 「...」): a step-by-step answer quotes the sentence it works on at every step.
_QUOTED = re.compile(r"“[^”\n]{1,200}”|「[^」\n]{1,200}」|\"[^\"\n]{1,200}\"")
_SYMBOL_RUN = re.compile(r"([^\w\s]|_)\1*")  # one symbol and its immediate repeats
_COMMON_SPACES = (" ", "\n", "\t", "\r", "\u3000", "\xa0", "\f", "\v")
# The ASCII characters of _COMMON_SPACES, and those _SYMBOL does not match (letters, digits, what \s matches).
_ASCII_COMMON_SPACES = b" \n\t\r\f\v"
_ASCII_WORD_OR_SPACE = (string.ascii_letters + string.digits + " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f").encode("ascii")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})


def _plain_quotes(text: str) -> str:
    """``text.translate(_APOSTROPHES)``, skipped when nothing needs it (translate costs ~5-15 us per reply)."""
    if "\u2019" in text or "\u2018" in text:
        return text.translate(_APOSTROPHES)
    return text


def phrase_finder(phrases: tuple[str, ...]) -> Any:
    """A function ``plain_lowered_text -> bool``: does the text contain any of the lower-case ``phrases``?

    With pyahocorasick (the ``fast`` extra) one Aho-Corasick scan per reply (~2 us on 500 characters) instead
    of one ``in`` per phrase; a compiled alternation of ~80 literals is slower than both in Python's ``re``.
    """
    if not phrases:
        return lambda text: False
    scan = literal_scanner({phrase: phrase for phrase in phrases})
    if scan is None:
        return lambda text: any(p in text for p in phrases)

    def found(text: str) -> bool:
        return next(scan(text), None) is not None

    return found
# A reply that ends on one of these was cut off (commas, open brackets; CJK commas too).
_CUT_ENDINGS = (",", "(", "[", "{", "，", "、", "（", "「", "《")
# English and French function words that cannot end a sentence.
_EMOTICONS = (":(", ":-(", ";(", ":[", ":-[", "=(", ":{")
_DANGLING_WORDS = frozenset(
    "and or but the a an to of with for in on at by from that which because as if than so into "
    "et ou mais le la les un une des de du à pour avec dans sur que qui".split()
)
_TRAILING_WORD = re.compile(r"([A-Za-zÀ-ÿ]+)$")
# A last line that is code: a statement keyword first, or an operator or sigil in it.
_CODE_END = re.compile(r"^\s*(?:return|echo|print|printf|let|var|const|yield|def|set|local|export)\b|[=$(){};]")


def _is_trailing_letter(char: str) -> bool:
    """Whether ``char`` is in _TRAILING_WORD's class."""
    return "a" <= char <= "z" or "A" <= char <= "Z" or "À" <= char <= "ÿ"


class QualityConfig(BaseModel):
    """Settings of the ``quality`` stage: a mode (drop, flag, off) and a threshold per check."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    enabled: bool = Field(True, description="Run this stage.")
    empty_reply: Mode = Field("drop", description="A trained assistant reply is empty (tool-call turns excepted).")
    near_empty_reply: Mode = Field("flag", description="A trained assistant reply is shorter than near_empty_chars.")
    near_empty_chars: int = Field(2, ge=1, description="near_empty_reply: fewer non-space characters than this.")
    unfilled_placeholder: Mode = Field(
        "drop",
        description="A reply holds an unfilled template slot: {{name}}, <NAME>, [NAME], [Insert ...] (outside code, "
        "template syntax such as ${{ github.x }} or {{ user.name }}, and LaTeX).",
    )
    bracket_placeholder: Mode = Field(
        "flag",
        description="A reply leaves [Your Name]/[Date]/[Name] for the reader to fill (common and often wanted in "
        "letter-writing replies, so flagged, not dropped, by default).",
    )
    bracket_placeholders: bool = Field(
        False, description="Count [Your Name]-style slots as unfilled_placeholder too (so they take its mode)."
    )
    app_error_reply: Mode = Field(
        "drop", description="A reply that is the chat app's or API's error message, not an answer (\"Too many "
        "requests in 1 hour. Try again later.\", \"An error occurred. If this issue persists ...\"), as "
        "ShareGPT-style exports of the ChatGPT web app hold them.",
    )
    refusal_only: Mode = Field(
        "flag", description="A short reply is a refusal (\"I'm sorry, but I can't ...\", several languages)."
    )
    refusal_max_chars: int = Field(300, ge=1, description="refusal_only: only replies up to this length count.")
    refusal_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_REFUSALS),
        description="refusal_only: lower-case phrases (replaces the built-in multilingual list).",
    )
    ai_disclaimer: Mode = Field("flag", description='A reply says "As an AI language model" (several languages).')
    disclaimer_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_DISCLAIMERS),
        description="ai_disclaimer: lower-case phrases (replaces the built-in multilingual list).",
    )
    repeated_lines: Mode = Field("drop", description="Too much of a reply is lines it already said.")
    max_repeated_line_fraction: float = Field(
        0.2, ge=0.0, le=1.0,
        description="repeated_lines: max share of characters in repeated lines (code and list markers excluded).",
    )
    repeated_ngrams: Mode = Field("drop", description="Too much of a reply is covered by repeated word n-grams.")
    ngram_size: int = Field(5, ge=2, description="repeated_ngrams: n in words (CJK text: 2n characters).")
    max_repeated_ngram_fraction: float = Field(
        0.6, ge=0.0, le=1.0, description="repeated_ngrams: max share of words inside n-grams seen twice or more."
    )
    max_looping_line_fraction: float = Field(
        0.5, ge=0.0, le=1.0,
        description="repeated_lines: and more than this share of characters in lines said 3+ times (a chorus or a "
        "weekly plan repeats, a loop is little else). 0 drops on max_repeated_line_fraction alone.",
    )
    max_repeated_block_lines: int = Field(
        8, ge=2, description="repeated_lines: also drop a reply that repeats this many lines in a row (pasted twice).",
    )
    max_looping_ngram_fraction: float = Field(
        0.5, ge=0.0, le=1.0,
        description="repeated_ngrams: and more than this share of words in n-grams seen 3+ times, maths left out "
        "(a derivation or parallel sentences repeat, a loop keeps going). 0 drops on the first measure alone.",
    )
    max_repeated_span_fraction: float = Field(
        0.7, ge=0.0, le=1.0,
        description="repeated_ngrams: or more than this share of words in 15-word spans said again (pasted twice).",
    )
    min_words_for_repeats: int = Field(
        30, ge=1, description="repeated_ngrams: replies with fewer words (CJK: 2x characters) are not checked."
    )
    non_alnum_ratio: Mode = Field("drop", description="Too many non-alphanumeric characters (code excluded).")
    max_non_alnum_ratio: float = Field(
        0.6, ge=0.0, le=1.0, description="non_alnum_ratio: max share of non-space characters that are symbols."
    )
    min_chars_for_ratio: int = Field(20, ge=1, description="non_alnum_ratio: shorter prose is not checked.")
    min_symbol_run_fraction: float = Field(
        0.5, ge=0.0, le=1.0,
        description="non_alnum_ratio: and at least this share of the symbols stands in runs of 3+ ('!!!!', '....'); "
        "regexes, tables, grids and ASCII art mix symbols and pass. 0 drops on the ratio alone.",
    )
    truncated_reply: Mode = Field(
        "flag", description="The last reply looks cut off (trailing comma/conjunction, open bracket or code fence)."
    )
    html_markup: Mode = Field(
        "flag", description="A reply written in HTML outside code (a support desk's <p>Hi,</p><br>&amp;): the model "
        "would learn to answer in markup; convert the bodies to text before curating, or drop such records.",
    )

    reasoning_loop: Mode = Field(
        "flag", description="A reply's reasoning says one passage (1-12 sentences or lines) four or more times in a "
        "row: a distilled trace that looped before it broke out; trained, the model learns to loop.",
    )


# The block and inline tags e-mail and help-desk bodies are written in; a reply about HTML names a tag or two,
# a body written in it opens and closes many (fenced code is left out of the prose looked at).
_HTML_TAG = re.compile(r"</?(?:p|br|div|span|strong|b|i|em|u|a|blockquote|font)(?:\s[^<>]{0,200})?/?>", re.I)
# An HTML page or component written as an answer (unfenced) is code, laid out as code: indented tags, a doctype,
# PHP or JSX around them.
_HTML_CODE = re.compile(r"\n[ \t]+<|<!doctype|<html|<\?php|=>|\breturn \(", re.I)
_HTML_ENTITY = re.compile(r"&(?:amp|nbsp|lt|gt|quot|apos|ndash|mdash|rsquo|lsquo|rdquo|ldquo|hellip|#\d{2,5});")
_HTML_MIN_TAGS = 4


def strip_code(text: str) -> str:
    """Prose only: fenced blocks and inline code removed."""
    if "```" in text or "~~~" in text:
        text = _CODE_BLOCK.sub("\n", text)
    if "`" in text:
        text = _INLINE_CODE.sub(" ", text)
    return text


_DERIVATION_SPANS = 6  # distinct maths spans that make a reply a worked derivation
_QUOTED_MAX_REPEATS = 5  # a question's phrase said this often or less is restated, more often it is echoed
_LOOP_ECHO_DISTINCT = 0.35  # below this share a reply is a loop even where it repeats its prompt's words


# A request for verse, or a reply laid out as one: choruses and refrains repeat by design ("Twelve Days of
# Christmas" repeats 58% of its lines, a verse/chorus song over half).
_SONG_ASKED = re.compile(r"(?i)\b(?:songs?|lyrics?|chorus|refrain|poems?|rap|verses?|hymns?|anthem|carols?|"
                         r"chants?|jingles?|ballads?|nursery rhymes?|lullab(?:y|ies)|canci[oó]n|chanson|lied|"
                         r"liedtext)\b|歌词|歌曲")
_SONG_REPLY = re.compile(r"(?im)^\s*[\[(]?(?:chorus|refrain|pre-chorus|hook|estribillo|refrão|coro)\b[\])]?:?")


def _same_line_thrice(text: str) -> bool:
    """A line said three times running: a loop, where a chorus comes back between verses."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return any(a == b == c for a, b, c in zip(lines, lines[1:], lines[2:], strict=False))


def _prompt_text(record: dict[str, Any] | None) -> str:
    """The user turns of a record (the prompt of a pair), joined: what a reply may quote without looping."""
    if not record:
        return ""
    messages = record.get("prompt") if is_preference(record) else record.get("messages")
    if not isinstance(messages, list):
        return ""
    return "\n".join(m["content"] for m in messages
                     if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str))


def _derivation(text: str, body: str) -> bool:
    """Whether ``text`` (``body`` is it without maths) works through many distinct formulae."""
    if body is text:
        return False
    return len({m.group(0) for m in _MATH.finditer(text)}) >= _DERIVATION_SPANS


def strip_math(prose: str) -> str:
    """``prose`` without LaTeX maths spans (only looked for when a ``$`` or ``\\`` is there)."""
    if "$" in prose or "\\" in prose or "[asy]" in prose:
        return _MATH.sub(" ", prose)
    return prose


def _is_cjk(text: str) -> bool:
    sample = text[:2000]
    if sample.isascii() or _CJK.search(sample) is None:  # the common case, without counting
        return False
    cjk = len(sample) - len(_CJK.sub("", sample))  # counts without a list of matches
    return cjk > 0.3 * max(1, len(sample) - sample.count(" "))


def _line_key(raw: str) -> str:
    """A line without its list marker ("3. ", "b) ", "- "), so that a numbered list that loops compares equal."""
    line = raw.strip()
    if len(line) > 2 and (line[0] in _MARKER_STARTS or line[1] in ".)"):
        return _LIST_MARKER.sub("", line, count=1)
    return line


def repeated_line_fraction(prose: str) -> float:
    """Share of characters in lines (3+ chars) that repeat an earlier line of the same reply (list markers aside)."""
    seen: set[str] = set()
    total = dup = 0
    for raw in prose.split("\n"):
        line = _line_key(raw)
        if len(line) < 3:
            continue
        total += len(line)
        if line in seen:
            dup += len(line)
        else:
            seen.add(line)
    return dup / total if total else 0.0


def looping_line_fraction(prose: str) -> float:
    """Share of characters in lines (3+ chars) that occur three times or more.

    What separates a loop (the same line 20 times) from a song's chorus or a weekly plan whose Monday and
    Thursday match: the chorus lines come back three or four times among unique verses, the loop is almost
    nothing else. Only computed for replies that :func:`repeated_line_fraction` already finds repetitive.
    """
    lines = [line for line in (_line_key(raw) for raw in prose.split("\n")) if len(line) >= 3]
    total = sum(len(line) for line in lines)
    if not total:
        return 0.0
    counts = Counter(lines)
    # A generation cut off by its token limit ends inside the loop: a last line that starts an earlier one
    # is one more round of it.
    last = lines[-1]
    if counts[last] == 1:
        whole = next((line for line in counts if line != last and line.startswith(last)), None)
        if whole is not None:
            counts[whole] += 1
            counts[last] = counts[whole]
    return sum(len(line) for line in lines if counts[line] >= 3) / total


def longest_repeated_block(prose: str) -> int:
    """The most consecutive lines (3+ chars) that all repeat earlier lines: a reply pasted twice has a long
    one; a chorus (3-4 lines) or a repeated day of a plan (4-5 lines) a short one."""
    seen: set[str] = set()
    longest = run = 0
    for raw in prose.split("\n"):
        line = _line_key(raw)
        if len(line) < 3:
            continue
        run = run + 1 if line in seen else 0
        longest = max(longest, run)
        seen.add(line)
    return longest


def _grams(prose: str, n: int, cjk: bool) -> list[Any]:
    """The n-grams ``repeated_ngram_fraction`` counts: of lower-cased words, or of 2n characters (CJK)."""
    if cjk:
        chars = _visible(prose)
        return [chars[i : i + 2 * n] for i in range(len(chars) - 2 * n + 1)]
    tokens = prose.lower().split()
    return list(zip(*(tokens[i:] for i in range(n)), strict=False))


def loop_measures(prose: str, n: int, min_words: int, quoted: str = "") -> tuple[float, float, float]:
    """Shares of tokens in n-grams said 3+ times (all of them; those ``quoted`` does not hold), and distinct
    n-grams / all n-grams.

    A reply that restates its question ("How many pounds of potato salad does Ted need ...?" in GSM8K's
    Socratic answers, "李师傅每小时做的零件个数" in a Chinese word problem) repeats the question's phrases by design;
    a loop says its own words again, and most of its n-grams are copies (a distinct share near 0).
    """
    cjk = _is_cjk(prose)
    grams = _grams(prose, n, cjk)
    width = 2 * n if cjk else n
    size = len(grams) + width - 1
    if size < max(2 * min_words if cjk else min_words, width + 1) or not grams:
        return 0.0, 0.0, 1.0
    counts = Counter(grams)
    ignore = set(_grams(quoted, n, cjk)) if quoted else set()

    def covered(skip: set[Any]) -> float:
        total = end = 0
        for i in [i for i, gram in enumerate(grams)
              if counts[gram] >= 3 and not (counts[gram] <= _QUOTED_MAX_REPEATS and gram in skip)]:
            start = max(i, end)
            end = i + width
            total += end - start
        return total / size

    every = covered(set())
    return every, covered(ignore) if ignore else every, len(counts) / len(grams)


def repeated_ngram_fraction(
    prose: str, n: int, min_words: int, min_count: int = 2, *, lowered: str | None = None, cjk: bool | None = None,
    likely: bool = False,
) -> float:
    """Gopher-style: share of tokens covered by an n-gram that occurs at least ``min_count`` times.

    Tokens are words, or characters for Chinese/Japanese (no spaces between words) with n doubled.
    ``lowered`` is ``prose.lower()`` and ``cjk`` is ``_is_cjk(prose)`` when the caller has them already;
    ``likely``: the caller knows some n-gram repeats, so the set that tells most replies apart is skipped.
    """
    grams: list[Any]
    if _is_cjk(prose) if cjk is None else cjk:
        chars = _visible(prose)
        n *= 2
        size = len(chars)
        if size < max(2 * min_words, n + 1):
            return 0.0
        # Slices: cheaper than tuples of characters. Most replies repeat nothing: the set alone says so,
        # and the list and the counts are only built for the others.
        if not likely and len({chars[i : i + n] for i in range(size - n + 1)}) == size - n + 1:
            return 0.0
        grams = [chars[i : i + n] for i in range(size - n + 1)]
    else:
        # whitespace words, as Gopher counts them (C speed, unlike \w+)
        tokens = (prose.lower() if lowered is None else lowered).split()
        size = len(tokens)
        if size < max(min_words, n + 1):
            return 0.0
        if not likely and len(set(zip(*(tokens[i:] for i in range(n)), strict=False))) == size - n + 1:
            return 0.0
        grams = list(zip(*(tokens[i:] for i in range(n)), strict=False))
    counts = Counter(grams)
    if max(counts.values()) < min_count:
        return 0.0
    # Tokens covered by the n-grams that occur often enough: a union of [i, i + n) over their positions, in order.
    covered = 0
    end = 0
    for i in [i for i, gram in enumerate(grams) if counts[gram] >= min_count]:
        start = max(i, end)
        end = i + n
        covered += end - start
    return covered / size


def _visible(prose: str) -> str:
    return _SPACES.sub("", prose)


def _symbol_counts(prose: str) -> tuple[int, int]:
    """(non-space characters, those that are not letters or digits), without building a spaceless copy."""
    if prose.isascii():
        # bytes.translate deletes in C: 4x cheaper than the regex on English prose, same counts.
        data = prose.encode("ascii")
        return len(data.translate(None, _ASCII_COMMON_SPACES)), len(data.translate(None, _ASCII_WORD_OR_SPACE))
    # str.count is C speed; rarer Unicode spaces (thin, hair) count as visible, which the ratio tolerates.
    spaces = sum(prose.count(c) for c in _COMMON_SPACES)
    visible = len(prose) - spaces
    return visible, len(_SYMBOL.findall(prose))


def non_alnum_ratio(prose: str) -> float:
    """Share of non-space characters that are not letters or digits (any script)."""
    visible, symbols = _symbol_counts(prose)
    return symbols / visible if visible else 0.0


def script_aware_symbols(prose: str) -> tuple[str, float]:
    """(the prose without Markdown table rules, its symbol ratio with CJK characters weighing
    :data:`_CJK_WEIGHT`): the second look for prose the plain ratio finds symbol-heavy."""
    if "---" in prose and "|" in prose:
        prose = _TABLE_RULE.sub("", prose)
    visible, symbols = _symbol_counts(prose)
    if not prose.isascii():
        visible += (_CJK_WEIGHT - 1) * (len(prose) - len(_CJK.sub("", prose)))
    return prose, symbols / visible if visible else 0.0


def symbol_run_fraction(prose: str) -> float:
    """Share of the symbols that stand in runs of three or more of the same symbol ("!!!!", "....", "****").

    Junk is runs of one symbol; a regex, a sudoku grid, a table or ASCII art mixes many symbols in short runs.
    Only computed for replies that :func:`non_alnum_ratio` already finds symbol-heavy.
    """
    symbols = in_runs = 0
    for match in _SYMBOL_RUN.finditer(prose):
        size = len(match.group(0))
        symbols += size
        if size >= 3:
            in_runs += size
    return in_runs / symbols if symbols else 0.0


def _a_label_asked_for(reply: str, record: dict[str, Any] | None) -> bool:
    """Whether a one-character reply is a label a user turn offers ("Output 1 or 0" -> "1", options A-D -> "D",
    "判断是否..." -> "是"): the answer asked for, not an empty one."""
    if record is None:
        return False
    messages = record.get("prompt") if is_preference(record) else record.get("messages")
    if not isinstance(messages, list):
        return False
    wide = not reply.isascii()
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "user":
            asked = message_text(message)
            if (wide and reply in asked) or re.search(rf"(?<![^\W_]){re.escape(reply)}(?![^\W_])", asked):
                return True
    return False


# A trace loops when a passage comes back word for word, again and again, one right after another; a worked
# solution repeats its phrases ("Let me check", "= 0") but not a whole passage four times running.
_UNIT_BREAK = re.compile(r"(?<=[.!?\u3002\uff01\uff1f])\s+|\n+")
_LOOP_REPEATS = 4
_LOOP_MAX_PERIOD = 12  # sentences in the repeated passage (Sky-T1's loops on AIME run up to 10)
_LOOP_MIN_CHARS = 200  # of repeated text: "Wait. Wait. Wait. Wait." is no loop worth a flag


def _prose(unit: str) -> bool:
    """Whether a sentence or line is prose (a trace thinking aloud), not a row of an input grid or a line of code
    written out, which repeat by nature: mostly letters (CJK characters count), and a dozen of them at least."""
    letters = sum(1 for ch in unit if ch.isalpha())
    return letters >= 12 and letters >= 0.75 * (len(unit) - unit.count(" "))


def reasoning_loop(text: str) -> str | None:
    """Why ``text`` (a reasoning trace) loops, or None: a passage of 1-12 sentences or lines said
    ``_LOOP_REPEATS`` or more times in a row, covering ``_LOOP_MIN_CHARS`` characters or more."""
    if len(text) < _LOOP_MIN_CHARS:
        return None
    units = [u for u in (piece.strip() for piece in _UNIT_BREAK.split(text)) if u]
    n = len(units)
    for period in range(1, min(_LOOP_MAX_PERIOD, n // _LOOP_REPEATS) + 1):
        run = 0  # units i with units[i] == units[i + period], consecutively
        for i in range(n - period):
            if units[i] != units[i + period]:
                run = 0
                continue
            run += 1
            if run >= (_LOOP_REPEATS - 1) * period:
                first = i + 1 - run
                chars = sum(len(u) for u in units[first : i + period + 1])
                if chars >= _LOOP_MIN_CHARS and any(_prose(u) for u in units[first : first + period]):
                    passage = " ".join(units[first : first + period])
                    return (f"a passage of {period} sentence{'s' if period > 1 else ''} said {_LOOP_REPEATS}+ "
                            f"times in a row ({passage[:60]!r})")
    return None


# The ChatGPT web app's and the API's error texts, saved in place of an answer by ShareGPT-style exports
# (FastChat's clean_sharegpt.py drops the first two); lower-case, matched at the start of a short reply.
APP_ERROR_OPENINGS: tuple[str, ...] = (
    "too many requests in 1 hour. try again later",
    "!too many requests in 1 hour. try again later",
    "too many requests in one hour. try again later",
    "an error occurred. if this issue persists please contact us through our help center",
    "something went wrong. if this issue persists please contact us through our help center",
    "there was an error generating a response",
    "hmm...something seems to have gone wrong.",
    "you've reached our limit of messages per hour",
    "you've reached the current usage cap for gpt-4",
    "the message you submitted was too long, please reload the conversation",
    "the server had an error while processing your request",
    "error in body stream",
)
APP_ERROR_WHOLE = frozenset({"network error", "conversation not found"})
_APP_ERROR_MAX_CHARS = 400


def app_error_in(text: str) -> str | None:
    """The app or API error a reply is, or None: one of :data:`APP_ERROR_OPENINGS` at its start, or a whole
    reply of :data:`APP_ERROR_WHOLE`; only replies of up to ``_APP_ERROR_MAX_CHARS`` characters."""
    if len(text) > _APP_ERROR_MAX_CHARS:
        return None
    lowered = text.strip().lower().replace("\u2019", "'")
    if lowered in APP_ERROR_WHOLE:
        return lowered
    return next((opening for opening in APP_ERROR_OPENINGS if lowered.startswith(opening)), None)


def looks_truncated(text: str) -> str | None:
    """Why the reply looks cut off, or None. Conservative: no final full stop alone is not enough."""
    if ("```" in text or "~~~" in text) and len(_FENCE_LINE.findall(text)) % 2 == 1:
        return "unclosed code block"
    end = text.rstrip()
    if not end:
        return None
    if end.endswith(_CUT_ENDINGS) and not end.endswith(_EMOTICONS):
        return f"ends with {end[-1]!r}"
    if not _is_trailing_letter(end[-1]):  # the pattern below needs one at the very end (~1 us a search)
        return None
    match = _TRAILING_WORD.search(end[-30:])
    if match and match.group(1).lower() in _DANGLING_WORDS and len(end) > len(match.group(1)):
        word = match.group(1)
        before = end[: len(end) - len(word)].rstrip()
        line = end[end.rfind("\n") + 1:]
        if word[0].isupper() and before and before[-1] not in ".!?:;\n":
            return None  # "... brown quick The": a capital mid-sentence is no cut (a reversed sentence, a title)
        if len(word) == 1 and (not before or not before[-1].isalpha()):
            return None  # "5. A", "Answer: a", "(a": an answer letter or a label
        if _CODE_END.search(line):
            return None  # "return a", "echo 'GCD:' $a": a variable
        return f"ends with {word!r}"
    return None


class QualityStage(RecordStage):
    """Runs the checks in :data:`CHECKS` order; writes ``metadata["quality"]`` and ``metadata["flags"]``."""

    name: ClassVar[str] = "quality"

    def __init__(self, config: QualityConfig | None = None) -> None:
        self.config = config or QualityConfig()
        cfg = self.config
        self._modes: dict[str, str] = {check: getattr(cfg, check) for check in CHECKS}
        self._refusals = tuple(_plain_quotes(p.lower()) for p in cfg.refusal_patterns)
        self._disclaimers = tuple(_plain_quotes(p.lower()) for p in cfg.disclaimer_patterns)
        self._refusal_re = phrase_finder(self._refusals)
        self._disclaimer_re = phrase_finder(self._disclaimers)
        self._bind_checks()

    def _bind_checks(self) -> None:
        self._checkers: dict[str, Any] = {check: getattr(self, f"_check_{check}") for check in CHECKS}
        # (code, mode, check) of the checks that run, in order: no per-record lookups
        self._active = [(c, self._modes[c], self._checkers[c]) for c in CHECKS if self._modes[c] != "off"]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_refusal_re", None)  # closures over an automaton: rebuilt in each worker
        state.pop("_disclaimer_re", None)
        state.pop("_checkers", None)  # bound methods: rebound in each worker
        state.pop("_active", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._refusal_re = phrase_finder(self._refusals)
        self._disclaimer_re = phrase_finder(self._disclaimers)
        self._bind_checks()

    @staticmethod
    def _phrase(finder: Any, phrases: tuple[str, ...], lowered: str) -> str | None:
        """The first of ``phrases`` (in list order, as reported) that ``lowered`` contains, or None."""
        plain = _plain_quotes(lowered)
        if not finder(plain):  # the common case: one scan
            return None
        return next((p for p in phrases if p in plain), None)

    @staticmethod
    def _lowered(texts: list[str], cache: dict[str, Any]) -> list[str]:
        """Each reply lower-cased once, shared by the phrase checks and the n-gram measure."""
        if "lower" not in cache:
            cache["lower"] = [t.lower() for t in texts]
        return cache["lower"]

    @staticmethod
    def replies(record: dict[str, Any]) -> list[dict[str, Any]]:
        """The assistant messages that are trained on: chosen side of a pair; weight 0 left out."""
        messages = record.get("chosen") if is_preference(record) else record.get("messages")
        if not isinstance(messages, list):
            return []
        return [m for m in messages if isinstance(m, dict) and m.get("role") == "assistant" and m.get("weight") != 0]

    def _line_fractions(self, prose: list[str], cache: dict[str, Any]) -> list[float]:
        if "lines" not in cache:
            cache["lines"] = [repeated_line_fraction(t) if t.count("\n") >= 2 else 0.0 for t in prose]
        return cache["lines"]

    def _ngram_fractions(self, prose: list[str], cache: dict[str, Any]) -> list[float]:
        if "ngrams" not in cache:
            n, min_words = self.config.ngram_size, self.config.min_words_for_repeats
            lowered = cache.get("lower")
            texts = cache.get("texts")
            cache["ngrams"] = [
                repeated_ngram_fraction(
                    t, n, min_words, lowered=lowered[i] if lowered and texts and texts[i] is t else None
                )
                for i, t in enumerate(prose)
            ]
        return cache["ngrams"]

    def _ngram_loop(self, text: str, quoted: str = "") -> str | None:
        """Why a reply the cheap measure finds repetitive is a loop, or None (a second, slower look).

        A loop keeps going: most words sit in n-grams said three times or more (maths set aside, as derivations
        repeat their formulae), or in long spans said again (an answer pasted twice). A parallel list, two
        parallel sentences or a derivation repeat short phrases a few times and pass.
        """
        cfg = self.config
        body = strip_math(text)
        if "“" in body or "「" in body or '"' in body:
            body = _QUOTED.sub(" ", body)
        every, unquoted, distinct = loop_measures(body, cfg.ngram_size, cfg.min_words_for_repeats,
                                                  strip_math(quoted))
        # A worked solution over many formulae (MATH's case analyses: "If $x \ge ...$, then ... The solution to
        # this equation is ...") repeats its connecting words by design; a loop does not keep writing new maths.
        # Nor is a reply a loop when what it says 3+ times is its question's words, a few times each (GSM8K's
        # Socratic steps restate the question 3-4 times), unless it says little else or keeps echoing.
        looping = every if distinct < _LOOP_ECHO_DISTINCT else unquoted
        if looping > cfg.max_looping_ngram_fraction and not _derivation(text, body):
            return f"{looping:.0%} in {cfg.ngram_size}-grams said 3+ times (max {cfg.max_looping_ngram_fraction:.0%})"
        min_words = max(cfg.min_words_for_repeats, _SPAN_MIN_SPANS * _SPAN_WORDS)
        spans = repeated_ngram_fraction(body, _SPAN_WORDS, min_words)
        if spans > cfg.max_repeated_span_fraction:
            return f"{spans:.0%} in {_SPAN_WORDS}-word spans said again (max {cfg.max_repeated_span_fraction:.0%})"
        return None

    def _check(
        self, check: str, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        """The detail of a hit of one check over the replies, or None."""
        return self._checkers[check](texts, prose, last, cache)

    def _check_empty_reply(
        self, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        for i, text in enumerate(texts):
            if not text.strip():
                return f"reply {i + 1} of {len(texts)} is empty"
        return None

    def _check_near_empty_reply(
        self, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        cfg = self.config
        for i, text in enumerate(texts):
            size = len(text.strip())
            if 0 < size < cfg.near_empty_chars and not _a_label_asked_for(text.strip(), cache.get("record")):
                return f"reply {i + 1} has {size} characters (min {cfg.near_empty_chars})"
        return None

    def _check_unfilled_placeholder(
        self, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        cfg = self.config
        for i, text in enumerate(texts):
            found = placeholder_in(text) or (bracket_placeholder_in(text) if cfg.bracket_placeholders else None)
            if found:
                return f"reply {i + 1} holds {found!r}"
        return None

    def _check_bracket_placeholder(
        self, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        for i, text in enumerate(texts):
            found = bracket_placeholder_in(text)
            if found:
                return f"reply {i + 1} holds {found!r}"
        return None

    def _check_app_error_reply(
        self, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        for i, text in enumerate(texts):
            hit = app_error_in(text)
            if hit:
                return f"reply {i + 1} is an app error message ({hit!r}), not an answer"
        return None

    def _check_refusal_only(
        self, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        cfg = self.config
        known = cache.get("refusals")  # from process_batch: {reply index: hit} of the short replies
        for i, text in enumerate(texts):
            if len(text) <= cfg.refusal_max_chars or len(text.strip()) <= cfg.refusal_max_chars:
                if known is not None:
                    hit = known[i]
                else:
                    lowered = self._lowered(texts, cache)[i].strip()
                    hit = self._phrase(self._refusal_re, self._refusals, lowered)
                if hit:
                    return f"reply {i + 1} is a refusal ({hit!r})"
        return None

    def _check_ai_disclaimer(
        self, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        known = cache.get("disclaimers")
        for i in range(len(texts)):
            if known is not None:
                hit = known[i]
            else:
                hit = self._phrase(self._disclaimer_re, self._disclaimers, self._lowered(texts, cache)[i])
            if hit and (prose[i] is texts[i] or hit in _plain_quotes(prose[i].lower())):
                return f"reply {i + 1} says {hit!r}"  # not in code: a sample string ("I am an AI language model")
        return None

    def _check_repeated_lines(
        self, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        cfg = self.config
        for i, fraction in enumerate(self._line_fractions(prose, cache)):
            if fraction > cfg.max_repeated_line_fraction:
                if (_SONG_REPLY.search(prose[i]) or _SONG_ASKED.search(_prompt_text(cache.get("record")))) \
                        and not _same_line_thrice(prose[i]):
                    continue  # a song's chorus, a cumulative rhyme: the repetition is the form asked for
                body = strip_math(prose[i])  # figures and derivations repeat their lines, like code
                looping = looping_line_fraction(body)
                block = longest_repeated_block(body)
                if looping > cfg.max_looping_line_fraction:
                    return (f"reply {i + 1}: {fraction:.0%} repeated lines, {looping:.0%} in lines said 3+ times "
                            f"(max {cfg.max_repeated_line_fraction:.0%}, {cfg.max_looping_line_fraction:.0%})")
                if block >= cfg.max_repeated_block_lines:
                    limit = cfg.max_repeated_block_lines - 1
                    return f"reply {i + 1}: a block of {block} lines is said again (max {limit})"
        return None

    def _check_repeated_ngrams(
        self, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        cfg = self.config
        for i, fraction in enumerate(self._ngram_fractions(prose, cache)):
            if fraction > cfg.max_repeated_ngram_fraction:
                why = self._ngram_loop(prose[i], _prompt_text(cache.get("record")))
                if why:
                    return f"reply {i + 1}: repeated {cfg.ngram_size}-grams cover {fraction:.0%}, {why}"
        return None

    def _check_non_alnum_ratio(
        self, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        cfg = self.config
        known = cache.get("symbols")  # from process_batch: (visible, symbols) per prose, or None
        for i, text in enumerate(prose):
            if len(text) >= cfg.min_chars_for_ratio:
                counts = known[i] if known is not None else None
                visible, symbols = counts if counts is not None else _symbol_counts(text)
                ratio = symbols / visible if visible else 0.0
                if visible >= cfg.min_chars_for_ratio and ratio > cfg.max_non_alnum_ratio:
                    body, ratio = script_aware_symbols(text)
                    if ratio <= cfg.max_non_alnum_ratio:
                        continue
                    runs = symbol_run_fraction(body)
                    if runs >= cfg.min_symbol_run_fraction:
                        return (f"reply {i + 1}: {ratio:.0%} symbols, {runs:.0%} of them in runs "
                                f"(max {cfg.max_non_alnum_ratio:.0%}, min {cfg.min_symbol_run_fraction:.0%})")
        return None

    def _check_truncated_reply(
        self, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        if last is None:
            return None
        why = looks_truncated(last)
        if why:
            return f"last reply {why}"
        return None

    def _check_html_markup(
        self, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        for i, text in enumerate(prose):
            if "<" not in text or ("</" not in text and "<br" not in text.lower()):
                continue
            tags = len(_HTML_TAG.findall(text))
            if tags >= _HTML_MIN_TAGS and not _HTML_CODE.search(text):
                entities = len(_HTML_ENTITY.findall(text))
                return f"reply {i + 1} is HTML markup ({tags} tags, {entities} entities)"
        return None

    def _check_reasoning_loop(
        self, texts: list[str], prose: list[str], last: str | None, cache: dict[str, Any]
    ) -> str | None:
        for i, message in enumerate(self.replies(cache["record"])):
            reasoning = message.get("reasoning")
            if isinstance(reasoning, str):
                why = reasoning_loop(reasoning)
                if why:
                    return f"reasoning of reply {i + 1}: {why}"
        return None

    def _prepare(self, record: dict[str, Any]) -> tuple[list[str], list[str], str | None]:
        """(the texts of the judged replies, their prose without code, the last reply's text or None)."""
        replies = self.replies(record)
        # Turns that only call tools carry no text to judge.
        texts = [message_text(m) for m in replies if not (m.get("tool_calls") or m.get("function_call"))]
        prose = [strip_code(t) for t in texts]
        messages = record.get("chosen") if is_preference(record) else record.get("messages")
        last = None
        if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
            final = messages[-1]
            if final.get("role") == "assistant" and not final.get("tool_calls") and final.get("weight") != 0:
                last = message_text(final)
        return texts, prose, last

    def process(self, record: dict[str, Any]) -> Drop | None:
        texts, prose, last = self._prepare(record)
        return self._judge(record, texts, prose, last, {"texts": texts, "record": record})

    def process_batch(self, records: list[dict[str, Any]]) -> list[Drop | None]:
        """``[self.process(r) for r in records]``, with the n-gram, symbol and phrase measures of all replies
        taken together (quality_batch.py): same verdicts, scores and flags, a fraction of the CPU."""
        prepared = [self._prepare(record) for record in records]
        caches: list[dict[str, Any]] = [{"texts": texts, "record": record}
                                        for record, (texts, _, _) in zip(records, prepared, strict=True)]
        self._batch_measures(prepared, caches)
        return [self._judge(record, texts, prose, last, cache)
                for record, (texts, prose, last), cache in zip(records, prepared, caches, strict=True)]

    def _batch_measures(self, prepared: list[tuple[list[str], list[str], str | None]],
                        caches: list[dict[str, Any]]) -> None:
        """Fill each record's cache with what :meth:`_check` would compute reply by reply."""
        cfg = self.config
        lowered: list[str] = []  # every judged reply of the batch, flat
        for (texts, _, _), cache in zip(prepared, caches, strict=True):
            cache["lower"] = low = [t.lower() for t in texts]
            lowered.extend(low)
        self._batch_phrases(prepared, caches, lowered)
        texts = [t for part in prepared for t in part[0]]
        prose = [p for part in prepared for p in part[1]]
        counts: list[tuple[int, int] | None] = [None] * len(prose)
        wide: list[int] = []
        for k, text in enumerate(prose):
            if not text.isascii():
                wide.append(k)
            elif len(text) >= cfg.min_chars_for_ratio:
                counts[k] = _symbol_counts(text)
        cjk_flags, wide_counts, visible = quality_batch.char_profiles([prose[k] for k in wide])
        n, min_words = cfg.ngram_size, cfg.min_words_for_repeats
        min_tokens = max(min_words, n + 1)
        min_chars = max(2 * min_words, 2 * n + 1)
        cjk = [False] * len(prose)
        # Replies long enough to be measured, whose n-gram windows are hashed together below.
        char_where: list[int] = []
        char_runs: list[Any] = []
        for k, is_cjk, wide_count, chars in zip(wide, cjk_flags, wide_counts, visible, strict=True):
            counts[k] = wide_count
            if is_cjk:  # Chinese/Japanese: windows of 2n visible characters
                cjk[k] = True
                if len(chars) >= min_chars:
                    char_where.append(k)
                    char_runs.append(chars)
        shortest = 2 * min_tokens - 1  # fewer characters cannot hold that many words
        candidates = [k for k, text in enumerate(prose) if not cjk[k] and len(text) >= shortest]
        found, word_lengths, hashes = quality_batch.word_hashes(
            [lowered[k] if texts[k] is prose[k] else prose[k].lower() for k in candidates], min_tokens
        )
        word_where = [candidates[k] for k in found]
        fractions = [0.0] * len(prose)
        for where, repeated in (
            (word_where, quality_batch.any_repeated_window(hashes, word_lengths, n)),
            (char_where, quality_batch.any_repeated_run_window(char_runs, 2 * n)),
        ):
            for k, hit in zip(where, repeated, strict=True):
                if hit:  # rare: the exact count (the set of n-grams in it says "no repeat" on a collision)
                    fractions[k] = repeated_ngram_fraction(
                        prose[k], n, min_words, lowered=lowered[k] if texts[k] is prose[k] else None, cjk=cjk[k],
                        likely=True,
                    )
        k = 0
        for (_, part, _), cache in zip(prepared, caches, strict=True):
            cache["symbols"] = counts[k : k + len(part)]
            cache["ngrams"] = fractions[k : k + len(part)]
            k += len(part)

    def _batch_phrases(self, prepared: list[tuple[list[str], list[str], str | None]],
                       caches: list[dict[str, Any]], lowered: list[str]) -> None:
        """The refusal hits of the short replies and the disclaimer hits of all, each list scanned once over
        the replies of the whole batch (quality_batch.first_phrases)."""
        cfg = self.config
        if not all(p and "\x00" not in p for p in (*self._refusals, *self._disclaimers)):
            return
        if self._modes["refusal_only"] != "off":
            where: list[tuple[int, int]] = []
            short: list[str] = []
            k = 0
            for r, (texts, _, _) in enumerate(prepared):
                caches[r]["refusals"] = {}
                for i, text in enumerate(texts):
                    if len(text) <= cfg.refusal_max_chars or len(text.strip()) <= cfg.refusal_max_chars:
                        where.append((r, i))
                        short.append(_plain_quotes(lowered[k + i].strip()))
                k += len(texts)
            for (r, i), hit in zip(where, quality_batch.first_phrases(short, self._refusals), strict=True):
                caches[r]["refusals"][i] = hit
        if self._modes["ai_disclaimer"] != "off":
            hits = quality_batch.first_phrases([_plain_quotes(low) for low in lowered], self._disclaimers)
            k = 0
            for (texts, _, _), cache in zip(prepared, caches, strict=True):
                cache["disclaimers"] = hits[k : k + len(texts)]
                k += len(texts)

    def _judge(self, record: dict[str, Any], texts: list[str], prose: list[str], last: str | None,
               cache: dict[str, Any]) -> Drop | None:
        """Run the checks on one record's replies; ``cache`` holds what is already measured."""
        flags: list[str] = []
        penalty = 0.0
        drop: Drop | None = None
        cache["record"] = record  # for the checks that compare a reply with its prompt
        for check, mode, run in self._active:
            detail = run(texts, prose, last, cache)
            if detail is None:
                continue
            penalty += PENALTY[check]
            if mode == "drop":
                drop = Drop(check, detail)
                break
            flags.append(check)
        if drop is None:
            # Small continuous terms separate otherwise equal copies for dedup's "quality" keep policy.
            if prose:
                penalty += 0.2 * max(self._line_fractions(prose, cache))
                penalty += 0.2 * max(self._ngram_fractions(prose, cache))
            if texts and max(len(t) for t in texts) < 20:
                penalty += 0.05
        metadata = record.setdefault("metadata", {})
        metadata["quality"] = round(max(0.0, 1.0 - penalty), 4)
        if flags:
            metadata["flags"] = sorted(set(flags).union(metadata.get("flags") or []))
        return drop
