"""A deterministic synthetic multilingual chat corpus with planted duplicates and invalid records.

Used by tests and benchmarks of dedup and of the whole pipeline. Sentences come from a pool
``{language: [sentences]}`` (the real one is ``../shared/data/sentences/pool.json``: read it from there, never
commit it or a corpus made from it). Records are canonical OpenAI-style dicts ``{"id", "messages"}``.

Planted copies (each copies an earlier *original*, never another copy):
- ``exact``: the same messages under a new id;
- ``variant``: whitespace doubled or changed to tabs/newlines, padding added, case changed, ASCII turned
  full-width: what :func:`curation.dedup.text.normalise_for_exact` must undo;
- ``near``: 1-3 unit edits (replace, insert or delete a word; a character for Chinese) in user or
  assistant turns: what near-duplicate detection must catch.

The other records are distinct. Half of them open with one of a few shared English system prompts, the
case measured-here.md names as hard (short chats in another language that share a long system prompt).

``truth`` (a plain dict, JSON-serialisable) says, by record index: ``language`` (list), ``copies``
(``{index: [original_index, kind]}``) and ``invalid`` (``{index: kind}``). Ids are ``f"syn-{index:07d}"``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

DEFAULT_LANGUAGES: dict[str, float] = {
    "en": 0.62, "zh": 0.15, "fr": 0.10, "ko": 0.06, "vi": 0.02, "no": 0.02, "ca": 0.015, "ro": 0.015,
}  # fmt: skip
# Languages edited a character at a time (written without spaces).
CHARACTER_LANGUAGES: frozenset[str] = frozenset({"zh", "ja", "th"})
COPY_KINDS = ("exact", "variant", "near")
INVALID_KINDS = ("bad_json", "no_assistant", "bad_role", "empty_content", "not_object")
_RECENT = 5000  # copies pick their original among this many recent originals, so streaming stays bounded
_FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "!?,.:;()0123456789"}


def record_id(index: int) -> str:
    return f"syn-{index:07d}"


class _Generator:
    def __init__(
        self,
        pool: dict[str, list[str]],
        seed: int,
        *,
        languages: dict[str, float] | None,
        system_prompts: int,
        system_rate: float,
    ) -> None:
        self.rng = random.Random(seed)
        wanted = languages or DEFAULT_LANGUAGES
        self.pool = {lang: pool[lang] for lang in wanted if pool.get(lang)}
        if not self.pool:
            raise ValueError(f"the sentence pool has none of the languages {sorted(wanted)}")
        self.languages = list(self.pool)
        self.weights = [wanted[lang] for lang in self.languages]
        english = self.pool.get("en") or self.pool[self.languages[0]]
        self.system_prompts = [
            " ".join(self.rng.sample(english, self.rng.randint(2, 4))) for _ in range(system_prompts)
        ]
        self.system_rate = system_rate

    def sentences(self, lang: str, lo: int, hi: int) -> str:
        sentences = self.pool[lang]
        return " ".join(sentences[self.rng.randrange(len(sentences))] for _ in range(self.rng.randint(lo, hi)))

    def conversation(self, lang: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        if self.rng.random() < self.system_rate:
            messages.append({"role": "system", "content": self.rng.choice(self.system_prompts)})
        for _ in range(self.rng.choices((1, 2, 3, 4), (0.4, 0.3, 0.2, 0.1))[0]):
            messages.append({"role": "user", "content": self.sentences(lang, 1, 2)})
            messages.append({"role": "assistant", "content": self.sentences(lang, 2, 6)})
        return messages

    # ---- copies -------------------------------------------------------------------------------------
    def variant(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for message in messages:
            text = message["content"]
            for _ in range(self.rng.randint(1, 3)):
                op = self.rng.randrange(5)
                if op == 0:
                    text = text.replace(" ", self.rng.choice(("  ", "\t", " \n ", "   ")))
                elif op == 1:
                    text = self.rng.choice((" ", "\n", "  \n")) + text + self.rng.choice((" ", "\n\n", "\t"))
                elif op == 2:
                    text = text.upper() if self.rng.random() < 0.5 else text.lower()
                elif op == 3:
                    text = text.swapcase()
                else:
                    text = "".join(_FULL_WIDTH.get(c, c) for c in text)
            out.append({**message, "content": text})
        return out

    def near(self, messages: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
        out = [dict(m) for m in messages]
        editable = [i for i, m in enumerate(out) if m["role"] != "system"]
        by_character = lang in CHARACTER_LANGUAGES
        sentences = self.pool[lang]
        for _ in range(self.rng.randint(1, 3)):
            i = self.rng.choice(editable)
            text = out[i]["content"]
            units: list[str] = list(text) if by_character else text.split(" ")
            donor = sentences[self.rng.randrange(len(sentences))]
            donor_units = [u for u in (list(donor) if by_character else donor.split(" ")) if u.strip()] or ["x"]
            new = self.rng.choice(donor_units)
            op = self.rng.randrange(3)
            pos = self.rng.randrange(len(units))
            if op == 0 and units[pos] != new:
                units[pos] = new
            elif op == 1 or len(units) < 2:
                units.insert(pos, new)
            else:
                del units[pos]
            out[i]["content"] = ("" if by_character else " ").join(units)
        return out

    # ---- invalid records ----------------------------------------------------------------------------
    def invalid(self, kind: str, index: int, lang: str) -> dict[str, Any] | list[Any] | bytes:
        messages = self.conversation(lang)
        if kind == "bad_json":
            # cut characters, not bytes: a cut inside a UTF-8 sequence would be invalid UTF-8, not invalid JSON
            return orjson.dumps({"id": record_id(index), "messages": messages}).decode()[:-7].encode()
        if kind == "no_assistant":
            messages = [m for m in messages if m["role"] != "assistant"]
        elif kind == "bad_role":
            messages[-1] = {**messages[-1], "role": "narrator"}
        elif kind == "empty_content":
            messages[-1] = {**messages[-1], "content": ""}
        elif kind == "not_object":
            return [record_id(index), messages]
        return {"id": record_id(index), "messages": messages}


def iter_corpus(
    n: int,
    pool: dict[str, list[str]],
    seed: int = 0,
    *,
    exact_rate: float = 0.04,
    variant_rate: float = 0.04,
    near_rate: float = 0.08,
    invalid_rate: float = 0.0,
    invalid_kinds: tuple[str, ...] = INVALID_KINDS,
    languages: dict[str, float] | None = None,
    system_prompts: int = 30,
    system_rate: float = 0.5,
) -> Iterator[tuple[Any, str, tuple[int, str] | None, str | None]]:
    """Yield ``(record, language, copy_of, invalid_kind)`` for records 0..n-1, streaming.

    ``record`` is a canonical dict, or for invalid kinds a list (``not_object``) or bytes (``bad_json``).
    ``copy_of`` is ``(original_index, kind)`` for planted copies.
    """
    gen = _Generator(pool, seed, languages=languages, system_prompts=system_prompts, system_rate=system_rate)
    rng = gen.rng
    recent: list[tuple[int, str, list[dict[str, Any]]]] = []
    thresholds = (exact_rate, exact_rate + variant_rate, exact_rate + variant_rate + near_rate)
    for index in range(n):
        if invalid_rate and rng.random() < invalid_rate:
            lang = rng.choices(gen.languages, gen.weights)[0]
            kind = rng.choice(invalid_kinds)
            yield gen.invalid(kind, index, lang), lang, None, kind
            continue
        draw = rng.random()
        if recent and draw < thresholds[2]:
            original, lang, messages = recent[rng.randrange(len(recent))]
            if draw < thresholds[0]:
                kind, copy = "exact", [dict(m) for m in messages]
            elif draw < thresholds[1]:
                kind, copy = "variant", gen.variant(messages)
            else:
                kind, copy = "near", gen.near(messages, lang)
            yield {"id": record_id(index), "messages": copy}, lang, (original, kind), None
            continue
        lang = rng.choices(gen.languages, gen.weights)[0]
        messages = gen.conversation(lang)
        if len(recent) < _RECENT:
            recent.append((index, lang, messages))
        else:
            recent[rng.randrange(_RECENT)] = (index, lang, messages)
        yield {"id": record_id(index), "messages": messages}, lang, None, None


def _empty_truth(n: int) -> dict[str, Any]:
    return {"n": n, "language": [], "copies": {}, "invalid": {}}


def make_corpus(n: int, pool: dict[str, list[str]], seed: int = 0, **options: Any) -> tuple[list[Any], dict[str, Any]]:
    """The whole corpus in memory: ``(records, truth)`` (see the module docstring)."""
    records: list[Any] = []
    truth = _empty_truth(n)
    options.setdefault("invalid_kinds", tuple(k for k in INVALID_KINDS if k != "bad_json"))
    for index, (record, lang, copy_of, invalid) in enumerate(iter_corpus(n, pool, seed, **options)):
        records.append(record)
        truth["language"].append(lang)
        if copy_of is not None:
            truth["copies"][index] = list(copy_of)
        if invalid is not None:
            truth["invalid"][index] = invalid
    return records, truth


def write_jsonl(path: str | Path, n: int, pool: dict[str, list[str]], seed: int = 0, **options: Any) -> dict[str, Any]:
    """Stream the corpus to a JSONL file (one record per line, invalid lines included) and return the truth."""
    truth = _empty_truth(n)
    with open(path, "wb") as out:
        for index, (record, lang, copy_of, invalid) in enumerate(iter_corpus(n, pool, seed, **options)):
            out.write((record if isinstance(record, bytes) else orjson.dumps(record)) + b"\n")
            truth["language"].append(lang)
            if copy_of is not None:
                truth["copies"][index] = list(copy_of)
            if invalid is not None:
                truth["invalid"][index] = invalid
    return truth


def load_pool(path: str | Path) -> dict[str, list[str]]:
    """Read a sentence pool ``{language: [sentences]}``."""
    return orjson.loads(Path(path).read_bytes())


_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])|\n+")
_SCRIPT_LANGUAGE = (("zh", re.compile(r"[\u4e00-\u9fff]")), ("ko", re.compile(r"[\uac00-\ud7af]")),
                    ("ru", re.compile(r"[\u0400-\u04ff]")))
_TEMPLATE_MARK = re.compile(r"\{\{|\}\}|<[A-Z_]{3,}>|\[[A-Z][a-z]+ [A-Z]?[a-z]+\]")


def pool_from_files(paths: list[str | Path], latin: dict[str, str] | None = None,
                    min_chars: int = 8, max_chars: int = 400) -> dict[str, list[str]]:
    """A sentence pool cut from real files (e.g. the repository's ``tests/data/real``), so that tests need no
    external pool: every message text is split into sentences; Han, Hangul and Cyrillic sentences go to zh, ko
    and ru, other sentences to the language ``latin`` names for their file (default en). Sentences holding
    template slots are left out (they would be rejected as placeholders), duplicates are removed, and the
    order is deterministic (files sorted, sentences in reading order)."""
    from curation.readers import expand_inputs, read_path
    from curation.records import is_preference, message_text

    latin = latin or {}
    pool: dict[str, list[str]] = {}
    seen: set[str] = set()
    for path in sorted(expand_inputs([str(p) for p in paths])):
        default = next((lang for key, lang in latin.items() if key in str(path)), "en")
        for item in read_path(path):
            record = item.record
            if not record:
                continue
            if is_preference(record):
                messages = [*(record.get("prompt") or []), *(record.get("chosen") or [])]
            else:
                messages = record.get("messages") or []
            for message in messages:
                if not isinstance(message, dict):
                    continue
                for sentence in _SENTENCE_END.split(message_text(message)):
                    sentence = " ".join(sentence.split())
                    if not (min_chars <= len(sentence) <= max_chars) or sentence in seen:
                        continue
                    if _TEMPLATE_MARK.search(sentence):
                        continue
                    seen.add(sentence)
                    lang = next((code for code, rx in _SCRIPT_LANGUAGE if rx.search(sentence)), default)
                    pool.setdefault(lang, []).append(sentence)
    return pool
