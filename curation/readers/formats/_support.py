"""What the support-desk readers (Zendesk, Intercom, Freshdesk, Help Scout) share: HTML bodies as plain text, quoted
earlier e-mail cut from a turn, and a desk's turns made one conversation.

A desk's export holds more than the conversation with the customer: private notes between agents, bot replies,
events (assignments, closes, tags), attachments, inline images (screenshots) and, in e-mail replies, the whole
earlier thread quoted below the answer. None of that is training text. Each reader sorts a ticket's entries into
``Turn``s (customer or agent) and counts what it leaves out under a name; ``conversation`` merges the turns and puts
the counts on the record as ``metadata.left_out`` (the run prints their totals as a warning).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any

from curation.readers.formats._common import ConvertProblem

CUSTOMER, AGENT = "user", "assistant"


@dataclass(slots=True)
class Turn:
    side: str  # CUSTOMER or AGENT
    text: str
    at: Any = None  # the entry's created_at (ISO 8601 text or epoch seconds), for the order


# --- HTML -> text ----------------------------------------------------------------------------------------------

_BLOCKS = frozenset({"div", "section", "article", "header", "footer", "table", "tr", "ul", "ol", "dl", "dt", "dd",
                     "center", "form", "fieldset", "address", "figure", "figcaption", "main", "nav", "aside"})
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6"})
_DROPPED = frozenset({"style", "script", "head", "title", "template", "noscript"})
_VOID = frozenset({"br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base", "source"})
_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")
# Line marks in the parsed text: a break from markup (the source's own line breaks are white space), a line inside
# a <blockquote>, a line of <pre> (kept as it is, its indent too), one level of a nested list's indent (white space
# would be stripped with the line's own).
_BREAK, _QUOTED, _VERBATIM, _INDENT = "\x00", "\x01", "\x02", "\x03"
_MARKS = (_BREAK, _QUOTED, _VERBATIM, _INDENT)
_WORDS = re.compile(r"\w")


def _emoji(alt: str) -> bool:
    """An image's alt text that is the writer's own word: an emoji (Gmail and Outlook send emoji as images whose
    alt is the character), not a description or a file name."""
    return 0 < len(alt.strip()) <= 8 and not _WORDS.search(alt)


class _TextParser(HTMLParser):
    """HTML as the text a reader sees: paragraphs and ``<br>`` as line breaks, list items as ``- `` lines (``1. ``
    in an ordered list, from its ``start``; nested lists indented two spaces a level), a link as its text with the
    URL beside it when they differ, ``<pre>`` and ``<code>`` verbatim (blank lines too), ``<blockquote>`` lines
    prefixed ``> `` (so that quoted e-mail is cut like a plain-text quote), ``<style>``/``<script>`` dropped,
    entities unescaped. An inline image (``<img>``) is no text: it is counted in ``images`` (its alt text is kept
    only when it is an emoji).

    Linear in the input: the breaks the text ends with are counted as it is written, so a run of empty blocks
    (spacer tables, ``<p>&nbsp;</p>`` lines) costs one step each."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.dropped = 0  # depth inside <style>, <script>, ...
        self.pre = 0
        self.quote = 0
        self.lists: list[list[Any]] = []  # [tag, next number]
        self.links: list[tuple[str | None, int]] = []  # (href, len(out) when the link opened)
        self.images = 0
        self.written = False  # any text yet (no blank lines before the first words)
        self.trailing = 0  # breaks written since the last words

    def _add(self, chunk: str) -> None:
        if not chunk:
            return
        self.out.append(chunk)
        bare = chunk.replace(_QUOTED, "").replace(_VERBATIM, "")
        if bare.strip(" " + _BREAK):
            self.written, self.trailing = True, 0
        else:
            self.trailing += bare.count(_BREAK)

    def _line(self, blank: bool = False) -> None:
        """End the line (``blank``: and leave a blank line) unless the text already ends so: nested blocks make one
        break, not one each."""
        if self.written:
            self._break(max((2 if blank else 1) - self.trailing, 0))

    def _break(self, count: int = 1) -> None:
        mark = (_QUOTED if self.quote else "") + (_VERBATIM if self.pre else "")
        self._add((_BREAK + mark) * count)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            self.dropped += 1
        elif self.dropped:
            return
        elif tag == "br":
            self._break()
        elif tag in _PARAGRAPHS or tag == "hr":
            self._line(blank=True)
        elif tag in _BLOCKS:
            if tag in ("ul", "ol"):
                self.lists.append([tag, _number(dict(attrs).get("start"), 1)])
            self._line()
        elif tag == "li":
            self._line()
            kind = self.lists[-1] if self.lists else ["ul", 1]
            indent = _INDENT * max(len(self.lists) - 1, 0)
            if kind[0] == "ol":
                kind[1] = _number(dict(attrs).get("value"), kind[1])
                self._add(f"{indent}{kind[1]}. ")
                kind[1] += 1
            else:
                self._add(f"{indent}- ")
        elif tag == "blockquote":
            self.quote += 1
            self._line()
            self._add(_QUOTED)  # the line it starts on may have been broken before the quote opened
        elif tag == "pre":
            self._line()
            self.pre += 1
            self._add(_VERBATIM)
        elif tag == "a":
            self.links.append((dict(attrs).get("href"), len(self.out)))
        elif tag in ("td", "th"):
            self._add(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt") or ""
            if _emoji(alt):
                self._add(alt.strip())
            else:
                self.images += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.dropped = max(self.dropped - 1, 0)
        elif self.dropped:
            return
        elif tag in _PARAGRAPHS:
            self._line(blank=True)
        elif tag in _BLOCKS or tag == "li":
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            self._line()
        elif tag == "blockquote":
            self.quote = max(self.quote - 1, 0)
            self._line()
        elif tag == "pre":
            self.pre = max(self.pre - 1, 0)
            self._line()
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            text = "".join(self.out[start:])
            for mark in _MARKS:
                text = text.replace(mark, " ")
            text = text.strip()
            if href and not href.startswith(("#", "javascript:")):
                target = href.removeprefix("mailto:").removeprefix("tel:").rstrip("/")
                if text.rstrip("/") not in (target, href.rstrip("/")):
                    self._add(f" ({href})" if text else href)

    def handle_data(self, data: str) -> None:
        if self.dropped:
            return
        if self.pre:
            mark = _BREAK + (_QUOTED if self.quote else "") + _VERBATIM
            self._add(data.replace("\r\n", "\n").replace("\r", "\n").replace("\n", mark))
        else:
            self._add(_SPACE.sub(" ", data.replace("\n", " ")))

    def text(self) -> str:
        lines: list[tuple[str, bool]] = []
        for line in "".join(self.out).split(_BREAK):
            quoted, verbatim = _QUOTED in line, _VERBATIM in line
            line = line.replace(_QUOTED, "").replace(_VERBATIM, "")
            line = line.rstrip() if verbatim else _SPACE.sub(" ", line).strip()
            line = line.replace(_INDENT, "  ")
            lines.append((f"> {line}".rstrip() if quoted else line, verbatim))
        # at most one blank line in a row, as _tidy, but for the blank lines of a <pre>: they are the text's own
        kept: list[str] = []
        run: list[bool] = []  # the current run of blank lines: verbatim or not
        for line, verbatim in lines:
            if not line:
                run.append(verbatim)
                continue
            if run:
                kept.extend([""] * max(sum(run), 1))
                run = []
            kept.append(line)
        return "\n".join(kept).strip()  # (the first line's indent too, as _tidy strips it)


def _number(value: Any, default: int) -> int:
    """An ordered list's ``start`` or an item's ``value`` attribute."""
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def html_text(html: str, left_out: Counter[str] | None = None) -> str:
    """An HTML body as plain text (see ``_TextParser``); its inline images counted in ``left_out["images"]``."""
    if "<" not in html and "&" not in html:
        return _tidy(html)
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    if parser.images and left_out is not None:
        left_out["images"] += parser.images
    return parser.text()


_BLANKS = re.compile(r"\n{3,}")


def _tidy(text: str) -> str:
    """Trailing white space off each line, at most one blank line in a row, no blank lines at the ends."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _BLANKS.sub("\n\n", "\n".join(lines)).strip("\n").strip()


def plain_text(text: str) -> str:
    """A desk's own plain-text field, tidied. Zendesk's ``plain_body`` keeps ``&nbsp;`` from the HTML it was made of
    ("A quick test\\n&nbsp;"): that one entity is a space; other ``&`` text may be the customer's own words."""
    return _tidy(text.replace("&nbsp;", " ").replace("\u00a0", " "))


# --- quoted earlier e-mail -------------------------------------------------------------------------------------

_ZENDESK_DELIMITER = re.compile(r"^\s*##-\s*Please type your reply above this line\s*-##", re.IGNORECASE)
# "On Mon, 3 Jun 2024 at 10:02, Ann <ann@example.com> wrote:" (Gmail, Apple Mail), also broken over two lines
_ON_WROTE = re.compile(r"^\s*(?:>\s*)?On\s.{4,240}?\bwrote:\s*$", re.IGNORECASE)
_ON_START = re.compile(r"^\s*(?:>\s*)?On\s.{4,200}$", re.IGNORECASE)
_WROTE_END = re.compile(r"^.{0,120}\bwrote:\s*$", re.IGNORECASE)
# what makes "On ..., ... wrote:" a mail client's attribution and not a sentence ("On startup the app wrote:"): a
# date or a time (names of days and months capitalised, as clients write them), or an e-mail address
_DATE_LIKE = re.compile(r"\b(?:\d{1,2}:\d{2}|(?:19|20)\d{2}|\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|(?:Mon|Tue|Wed|Thu|Fri|"
                        r"Sat|Sun|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ORIGINAL = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE)
_FORWARDED = re.compile(r"^\s*(?:-{2,}\s*Forwarded message\s*-{2,}|Begin forwarded message:)\s*$", re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*(?:_{8,}|-{8,})\s*$")  # Outlook's rule above its header block
_OUTLOOK_HEADER = re.compile(r"^\s*\**(From|Sent|Date|To|Cc|Subject):\**\s*(.*)$", re.IGNORECASE)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:FW|Fwd?):", re.IGNORECASE)


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _attribution_end(lines: list[str], n: int) -> int | None:
    """The last line of a mail client's "On <date>, <name> wrote:" attribution opening at ``lines[n]``, or None."""
    if _ON_WROTE.match(lines[n]):
        end = n
    elif _ON_START.match(lines[n]) and n + 1 < len(lines) and _WROTE_END.match(lines[n + 1]) \
            and "wrote:" not in lines[n].lower():
        end = n + 1
    else:
        return None
    said = " ".join(lines[n:end + 1])
    return end if _DATE_LIKE.search(said) or _EMAIL.search(said) else None


def _is_tail_quote(lines: list[str], n: int, end: int) -> bool:
    """Whether what follows the attribution ``lines[n:end + 1]`` is the earlier mail and nothing of the writer's
    own: ``>`` lines (or blank) to the end, or, below an attribution with a date and an address, lines no client
    marked (Outlook's plain-text replies quote without ``>``). Quoted lines with the writer's own between them are
    an interleaved reply: kept whole, since the reply answers them."""
    below = [line for line in lines[end + 1:] if line.strip()]
    if all(_quoted(line) for line in below):
        return True
    said = " ".join(lines[n:end + 1])
    return not any(_quoted(line) for line in below) and bool(_DATE_LIKE.search(said)) and bool(_EMAIL.search(said))


def _header_block(lines: list[str], n: int) -> bool:
    """Whether an Outlook header block opens at ``lines[n]``: "From:" with "Sent:"/"Date:" and "To:"/"Subject:"
    in the lines right below it."""
    first = _OUTLOOK_HEADER.match(lines[n])
    if first is None or first.group(1).lower() != "from" or not first.group(2).strip():
        return False
    names = set()
    for line in lines[n + 1:n + 6]:
        header = _OUTLOOK_HEADER.match(line)
        if header is None:
            break
        names.add(header.group(1).lower())
        if header.group(1).lower() == "subject" and _FORWARD_SUBJECT.match(header.group(2)):
            return False  # "Subject: FW: ...": a forward, whose text is the question the writer brings
    return bool(names & {"sent", "date"}) and bool(names & {"to", "subject"})


def _above(lines: list[str], n: int) -> int | None:
    """The index of the nearest line with words above ``lines[n]``, or None."""
    return next((k for k in range(n - 1, -1, -1) if lines[k].strip()), None)


def _quote_starts(lines: list[str]) -> int | None:
    """The index of the first line of a quoted earlier thread that runs to the end of the message, or None:
    Zendesk's reply delimiter; a mail client's "On <date>, <name> wrote:" over quoted lines to the end (see
    ``_is_tail_quote``); or, below the writer's own words, "-----Original Message-----" or an Outlook header block
    (From:, Sent:/Date:, To:/Subject:). A forward ("---------- Forwarded message ---------", "Begin forwarded
    message:", "Subject: FW:") is never cut, nor a header block that opens the message: the forwarded mail is what
    the writer asks about."""
    forwarded = False
    for n, line in enumerate(lines):
        if _ZENDESK_DELIMITER.match(line):
            return n
        if _FORWARDED.match(line):
            forwarded = True
            continue
        end = _attribution_end(lines, n)
        if end is not None and _is_tail_quote(lines, n, end):
            return n
        above = _above(lines, n)
        if above is None or forwarded:
            continue
        if _ORIGINAL.match(line):
            return n
        if _header_block(lines, n):
            if _SEPARATOR.match(lines[above]):
                return above if _above(lines, above) is not None else None
            return n
    return None


def cut_quote(text: str) -> tuple[str, bool]:
    """``text`` without the earlier e-mail quoted below it, and whether anything was cut. Conservative: only a quote
    that runs to the end of the message with nothing of the writer's own below it is cut (``_quote_starts``);
    ``>`` lines with no attribution above them are kept (a shell prompt, a quoted error, ">= 5"), and so are
    quoted lines that a reply is written below."""
    lines = text.split("\n")
    cut = _quote_starts(lines)
    if cut is None:
        return text, False
    return _tidy("\n".join(lines[:cut])), True


# --- one conversation -----------------------------------------------------------------------------------------


def timestamp(value: Any) -> float | None:
    """An entry's time as an instant (seconds since the epoch): epoch numbers as they are, ISO 8601 text parsed
    (``Z``, an offset, fractions of a second; no zone read as UTC), so that ``10:00:00.500Z`` sorts after
    ``10:00:00Z`` and ``12:00+02:00`` before ``11:00Z``; None when there is none or it cannot be read."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).timestamp()


def in_order(turns: list[Turn]) -> list[Turn]:
    """Turns by their time when every one has a time that can be read, else in the file's order (a turn without
    one cannot be placed among the others). The sort is stable: entries of the same instant keep the file's
    order, so a desk that lists newest first reverses its listing first (``newest_first``)."""
    keys = [timestamp(t.at) for t in turns]
    if turns and all(k is not None for k in keys):
        return [t for _, t in sorted(zip(keys, turns, strict=True), key=lambda pair: pair[0])]
    return turns


def newest_first(turns: list[Turn]) -> bool:
    """Whether a listing runs newest first: unless the times it has rise, as the desk's API lists (Help Scout)."""
    keys = [k for k in (timestamp(t.at) for t in turns) if k is not None]
    return not (len(keys) > 1 and keys == sorted(keys) and keys[0] < keys[-1])


_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ALT = re.compile(r"""\balt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)


_HREF = re.compile(r"""<a\s[^>]*?href\s*=\s*["']([^"']+)["']""", re.I)


def _links_lost(plain: str, html: str) -> bool:
    """Whether the HTML body links to an address its plain-text twin does not hold: Zendesk's plain_body and
    Freshdesk's body_text keep a link's words and drop where it points ("see this article"), the one thing an
    agent's reply often gives."""
    if "<a" not in html and "<A" not in html:
        return False
    for href in _HREF.findall(html):
        href = unescape(href).strip()
        if href.startswith(("#", "javascript:", "cid:")):
            continue
        target = href.removeprefix("mailto:").removeprefix("tel:").rstrip("/")
        if target and target not in plain:
            return True
    return False


def body_text(plain: Any, html: Any, left_out: Counter[str]) -> str:
    """A turn's words: the desk's own plain-text field when it has one (the HTML body when that links somewhere
    the plain text does not say), else the HTML body as text; inline images
    counted (``images``: a screenshot is no text, and the turn may read as if it were there), quoted earlier
    e-mail cut (``quoted_text``)."""
    if isinstance(plain, str) and plain.strip() and not (isinstance(html, str) and _links_lost(plain, html)):
        text = plain_text(plain)
        if isinstance(html, str) and "<img" in html.lower():  # the HTML beside it holds the images the text lost
            for tag in _IMG.findall(html):
                alt = _ALT.search(tag)
                if not (alt and _emoji(next(g for g in alt.groups() if g is not None))):
                    left_out["images"] += 1
    elif isinstance(html, str):
        text = html_text(html, left_out)
    else:
        return ""
    text, cut = cut_quote(text)
    if cut:
        left_out["quoted_text"] += 1
    return text


def conversation(desk: str, turns: list[Turn], left_out: Counter[str]) -> dict[str, Any]:
    """The record body: turns in order, consecutive turns of one side joined by a blank line, and the customer's
    turns after the last agent reply left out (nothing answers them). Refused as ``one_sided_ticket`` when no
    customer message or no agent reply is left."""
    messages: list[dict[str, Any]] = []
    merged: list[int] = []  # how many turns each message holds (a turn's own text has blank lines too)
    for turn in in_order([t for t in turns if t.text.strip()]):
        if messages and messages[-1]["role"] == turn.side:
            messages[-1]["content"] += "\n\n" + turn.text
            merged[-1] += 1
        else:
            messages.append({"role": turn.side, "content": turn.text})
            merged.append(1)
    unanswered = 0
    while messages and messages[-1]["role"] == CUSTOMER and any(m["role"] == AGENT for m in messages):
        messages.pop()
        unanswered += merged.pop()
    if unanswered:
        left_out["unanswered_customer_turns"] += unanswered
    customer, agent = any(m["role"] == CUSTOMER for m in messages), any(m["role"] == AGENT for m in messages)
    if not customer or not agent:
        if unanswered:
            missing = "no agent reply to the customer's messages (they all come after the agent's last words)"
        else:
            missing = "no agent reply" if customer else "no customer message" if agent else \
                "no customer message and no agent reply"
        said = f" (left out: {_left_out_text(left_out)})" if left_out else ""
        raise ConvertProblem("one_sided_ticket", f"the {desk} conversation has {missing}{said}, so there is no "
                             "exchange to train on (leave such tickets out, or export them with their replies)")
    body: dict[str, Any] = {"messages": messages}
    if left_out:
        body["metadata"] = {"left_out": dict(sorted(left_out.items()))}
    return body


def _left_out_text(left_out: Counter[str]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(left_out.items()))


def json_kind(value: Any) -> str:
    """A value's JSON type, as a user reads it in their file."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return {dict: "an object", list: "an array", str: "a string"}.get(type(value), "a number")


def is_plain(value: Any) -> bool:
    """An id or a type name: a string or a number (an array or object there is damage, and unhashable)."""
    return isinstance(value, str | int | float)


def wrong_type(desk: str, where: str, value: Any, expected: str) -> ConvertProblem:
    """The refusal for a field of the wrong JSON type: what field, what it holds, what it should hold."""
    shown = json_text(value)
    return ConvertProblem("data_type", f"{where} is {json_kind(value)} ({shown}), expected {expected}: the {desk} "
                          "export is damaged there (re-export it, or fix that field)")


def json_text(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def holds_turns(obj: dict[str, Any], keys: tuple[str, ...] = ("messages", "conversations")) -> bool:
    """Whether a record already holds its turns under a chat layout's own key: a desk's reader steps aside, and
    the ``comments`` or ``threads`` beside them stay a field (a review's notes on a chat sample, not a ticket)."""
    return any(key in obj for key in keys)


def first_dict(*values: Any) -> dict[str, Any]:
    return next((v for v in values if isinstance(v, dict)), {})
