"""Multiple-choice and yes/no question sets, whose answer is a pointer into the options (an index, a letter, a
label) rather than a reply: MMLU (``question``, ``choices``, ``answer`` as a 0-based index), ARC, OpenBookQA and
CommonsenseQA (``choices: {"text": [...], "label": [...]}``, ``answerKey``), RACE (``article``, ``options``,
``answer`` as a letter), MMLU-Pro (``options``, ``answer``, ``answer_index``, ``cot_content``), AQuA-RAT
(``options`` written ``"A)21"``, ``correct``, ``rationale``), MedQA (``options`` as ``{"A": ...}`` or
``[{"key", "value"}]``, ``answer_idx``), LogiQA (``context``, ``query``, ``options``, ``correct_option``),
HellaSwag (``ctx``, ``endings``, ``label``), PIQA (``goal``, ``sol1``/``sol2``, ``label``), WinoGrande
(``sentence``, ``option1``/``option2``, ``answer`` "1"/"2"), SciQ (``correct_answer``, ``distractor1-3``,
``support``), GPQA (``Correct Answer``, ``Incorrect Answer 1-3``, ``Explanation``), TruthfulQA's
``mc1_targets``, and BoolQ (``question``, ``passage``, ``answer`` true/false).

Read as a question-answer pair, such a row trains the model to answer "1" or "C" to a question whose options it
never saw. So the user turn carries the passage (RACE's article, BoolQ's passage, SciQ's support), the question
and the lettered options; the reply names the right option, ``"B. 4"``, after the dataset's worked explanation
when it has one. Sets that store the right answer apart from the wrong ones (SciQ, GPQA, TruthfulQA's first
choice is always the true one) list their options sorted by text, so the answer's position says nothing. A row
whose answer points at no option is refused as ``unknown_format`` naming the value. A passage is named in
``metadata.passage`` (a hash), so the split keeps the questions asked of one article together; every column not
read stays in ``metadata.fields``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace
from typing import Any

from curation.readers.formats import tool_markup
from curation.readers.formats._common import PASSAGE_COLUMNS, ConvertProblem, passage_keys
from curation.readers.mapping import FieldMapping

NAME = "multiple_choice"
_STEMS = ("question", "question_stem", "query", "goal", "sentence", "ctx", "column_1")
# The passage columns any layout uses (PASSAGE_COLUMNS), LogiQA's context, SciQ's support, DREAM's dialogue (a list
# of lines) and LogiQA 2.0's argument under `text`
_PASSAGES = (*PASSAGE_COLUMNS, "context", "support", "dialogue", "text")
_EXPLANATIONS = ("explanation", "rationale", "cot_content", "exp")
# Answer columns, most specific first: MMLU-Pro has both `answer` (a letter) and `answer_index`.
_ANSWERS = ("answerKey", "answer_idx", "correct", "correct_option", "answer", "answer_index", "label")
# Options one per column: C-Eval and KMMLU (A-D), CMMLU and MMMLU (folded from "A"-"D"), Global-MMLU (option_a-d)
_COLUMN_OPTIONS = (tuple(_l for _l in "ABCDEFGHIJ"), tuple(_l for _l in "abcdefghij"),
                   tuple(f"option_{_l}" for _l in "abcdefghij"))
_DISTRACTORS = ("distractor1", "distractor2", "distractor3")
_INCORRECT = ("incorrect_answer_1", "incorrect_answer_2", "incorrect_answer_3")
KEYS = frozenset({*_STEMS, *_PASSAGES, *_EXPLANATIONS, *_ANSWERS, *_DISTRACTORS, *_INCORRECT, "choices", "options",
                  "endings", "sol1", "sol2", "option1", "option2", "correct_answer", "mc1_targets", "ctx_a",
                  "ctx_b", "choice", *(k for keys in _COLUMN_OPTIONS for k in keys),
                  *(f"column_{n}" for n in range(1, 9))})
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LETTER_ANSWER = re.compile(r"\(?([A-Za-z])[).]?")
_LETTERED = re.compile(r"^\s*\(?([A-Z])\s*[).:]\s*")  # AQuA's "A)21", "(B) 21.5", "C. 22"


@dataclass(frozen=True, slots=True)
class _Options:
    labels: list[str]
    texts: list[str]
    keys: tuple[str, ...]  # the columns they came from
    answer_keys: tuple[str, ...]  # where the answer is, in the order to try
    one_based: bool = False  # WinoGrande's "1"/"2"
    answer: int | None = None  # known from the layout itself (the correct answer kept apart)


# numpy's print of a string array, as `Dataset.to_pandas().to_csv()` writes a list column: ['3' '4' '5' '6']
_QUOTED_TEXT = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_QUOTED = re.compile(_QUOTED_TEXT)
_NUMPY_STRINGS = re.compile(rf"\[\s*(?:(?:{_QUOTED_TEXT})\s*)+\]")


def _strings(value: Any) -> list[str] | None:
    """Two or more option texts: a list, or (a table saved to CSV) the list as JSON, Python or numpy text."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        text = value.strip()
        if _NUMPY_STRINGS.fullmatch(text) and "," not in _QUOTED.sub("", text):
            value = [ast.literal_eval(q) for q in _QUOTED.findall(text)]
        else:
            value = tool_markup.parse_loose(text)
    if isinstance(value, list) and len(value) >= 2 and all(isinstance(v, str) for v in value):
        return value
    return None


def _labelled(texts: list[str]) -> tuple[list[str], list[str]]:
    """Options that carry their own letters ("A)21", "B)21.5") as (labels, texts without them)."""
    found = [_LETTERED.match(t) for t in texts]
    if all(found) and [m.group(1) for m in found if m] == list(_LETTERS[: len(texts)]):
        return [m.group(1) for m in found if m], [t[m.end():] for t, m in zip(texts, found, strict=True) if m]
    return list(_LETTERS[: len(texts)]), texts


def _sorted(right: str, wrong: list[str], keys: tuple[str, ...]) -> _Options | None:
    """Options of a set that keeps the right answer in its own column: sorted by text, so that where the answer
    sits carries no signal (it is always first in the file)."""
    if not all(isinstance(t, str) and t.strip() for t in (right, *wrong)):
        return None
    texts = sorted({right, *wrong}, key=lambda t: (t.casefold(), t))
    if len(texts) < 2:
        return None
    return _Options(list(_LETTERS[: len(texts)]), texts, keys, (), answer=texts.index(right))


def _options(obj: dict[str, Any]) -> _Options | None:
    choices = obj.get("choices")
    if _strings(choices) is not None:  # MMLU
        labels, texts = _labelled(_strings(choices) or [])
        return _Options(labels, texts, ("choices",), ("answer", "answerKey", "label"))
    if isinstance(choices, dict):  # ARC, OpenBookQA, CommonsenseQA
        texts, labels = _strings(choices.get("text")), _strings(choices.get("label"))
        if texts is not None and labels is not None and len(texts) == len(labels):
            return _Options([lab.strip() for lab in labels], texts, ("choices",), ("answerKey", "answer"))
        return None
    options = obj.get("options")
    if isinstance(options, str) and options.lstrip().startswith(("{", "[{")):
        options = tool_markup.parse_loose(options)  # MedQA saved to CSV: "{'A': 'Ampicillin', ...}"
    if _strings(options) is not None:  # RACE, MMLU-Pro, AQuA, LogiQA
        labels, texts = _labelled(_strings(options) or [])
        return _Options(labels, texts, ("options",),
                        ("answer", "answer_idx", "correct", "correct_option", "answer_index", "label"))
    if isinstance(options, dict) and len(options) >= 2 and all(
            isinstance(k, str) and len(k.strip()) <= 2 and isinstance(v, str)
            for k, v in options.items()):  # MedQA's own files; {"temperature": ...} is no option list
        return _Options(list(options), list(options.values()), ("options",), ("answer_idx", "answer"))
    if isinstance(options, list) and len(options) >= 2 and all(
            isinstance(o, dict) and isinstance(o.get("key"), str) and isinstance(o.get("value"), str)
            for o in options):  # MedQA on the Hub
        return _Options([o["key"] for o in options], [o["value"] for o in options], ("options",),
                        ("answer_idx", "answer"))
    if _strings(obj.get("choice")) is not None:  # DREAM
        texts = _strings(obj["choice"]) or []
        return _Options(list(_LETTERS[: len(texts)]), texts, ("choice",), ("answer",))
    headerless = _headerless_mmlu(obj)
    if headerless is not None:
        return headerless
    for keys in _COLUMN_OPTIONS:
        if isinstance(obj.get(keys[0]), str) and isinstance(obj.get(keys[1]), str):
            present = list(keys[: next((n for n, k in enumerate(keys) if not isinstance(obj.get(k), str)),
                                       len(keys))])
            return _Options(list(_LETTERS[: len(present)]), [obj[k] for k in present], tuple(present),
                            ("answer", "label", "correct_answer", "answerKey"))
    if _strings(obj.get("endings")) is not None and isinstance(obj.get("ctx"), str):  # HellaSwag
        texts = _strings(obj["endings"]) or []
        return _Options(list(_LETTERS[: len(texts)]), texts, ("endings",), ("label",))
    if isinstance(obj.get("sol1"), str) and isinstance(obj.get("sol2"), str):  # PIQA
        return _Options(["A", "B"], [obj["sol1"], obj["sol2"]], ("sol1", "sol2"), ("label",))
    if isinstance(obj.get("option1"), str) and isinstance(obj.get("option2"), str):  # WinoGrande
        return _Options(["A", "B"], [obj["option1"], obj["option2"]], ("option1", "option2"), ("answer",),
                        one_based=True)
    if isinstance(obj.get("correct_answer"), str):
        if all(k in obj for k in _DISTRACTORS):  # SciQ
            return _sorted(obj["correct_answer"], [obj[k] for k in _DISTRACTORS], ("correct_answer", *_DISTRACTORS))
        wrong = [k for k in _INCORRECT if k in obj]
        if wrong:  # GPQA, its column names folded ("Incorrect Answer 1")
            return _sorted(obj["correct_answer"], [obj[k] for k in wrong], ("correct_answer", *wrong))
    targets = obj.get("mc1_targets")
    if isinstance(targets, dict) and _strings(targets.get("choices")) is not None and isinstance(
            targets.get("labels"), list) and len(targets["labels"]) == len(targets["choices"]) \
            and list(targets["labels"]).count(1) == 1:  # TruthfulQA
        texts = targets["choices"]
        right = texts[targets["labels"].index(1)]
        return _sorted(right, [t for t in texts if t != right], ("mc1_targets",))
    return None


def _passage(value: Any) -> str | None:
    """A passage's text: a string, or the lines of a dialogue (DREAM's ["M: ...", "W: ..."])."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        value = "\n".join(v.strip() for v in value)
    return value.strip() or None if isinstance(value, str) else None


def _headerless_mmlu(obj: dict[str, Any]) -> _Options | None:
    """MMLU's own CSVs (hendrycks/test data/*/*.csv) have no header line: question, the options, then the
    answer's letter, read as column_1 ... column_N."""
    n = len(obj)
    if not 4 <= n <= 8 or any(f"column_{i}" not in obj for i in range(1, n + 1)):
        return None
    answer = obj[f"column_{n}"]
    if not (isinstance(answer, str) and answer.strip() in _LETTERS[: n - 2]):
        return None
    keys = tuple(f"column_{i}" for i in range(2, n))
    return _Options(list(_LETTERS[: n - 2]), [str(obj[k]) for k in keys], keys, (f"column_{n}",))


def _stem(obj: dict[str, Any]) -> str | None:
    return next((k for k in _STEMS if isinstance(obj.get(k), str) and obj[k].strip()), None)


def _truth(value: Any, passage: Any) -> bool | None:
    """A true/false answer: the boolean, or (beside a passage, as BoolQ saved to CSV writes it) the word."""
    if type(value) is bool:
        return value
    if isinstance(value, str) and isinstance(passage, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _yes_no(obj: dict[str, Any]) -> bool:
    """BoolQ and StrategyQA-style rows: a question and a true/false answer."""
    return isinstance(obj.get("question"), str) and _truth(obj.get("answer"), obj.get("passage")) is not None


def is_multiple_choice(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    if mapping is not None and (mapping.prompt or mapping.completion or mapping.messages):
        return False  # a mapping says which columns are the exchange
    if _yes_no(obj):
        return True
    if not any(k in obj for k in ("choices", "options", "endings", "sol1", "option1", "correct_answer",
                                  "mc1_targets", "choice", "A", "a", "option_a", "column_1")):
        return False
    found = _options(obj)
    return found is not None and _stem(obj) is not None and (
        found.answer is not None or any(k in obj for k in found.answer_keys))


def _pick(obj: dict[str, Any], found: _Options) -> tuple[int, str]:
    """(index of the right option, the column that says so)."""
    if found.answer is not None:
        return found.answer, found.keys[0]
    tried: list[str] = []
    for key in found.answer_keys:
        value = obj.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        tried.append(f"{key}={value!r}")
        if type(value) is bool:
            continue
        text = str(value).strip()
        if len(text) <= 4 and (bare := _LETTER_ANSWER.fullmatch(text)) is not None:
            text = bare.group(1)  # "(B)", "B.", "B)" as answer keys write it
        if text in found.labels:
            return found.labels.index(text), key
        if text.upper() in found.labels and len(text) == 1:
            return found.labels.index(text.upper()), key
        stripped = [t.strip() for t in found.texts]
        if isinstance(value, int) or text.isdigit():
            n = int(text) - (1 if found.one_based else 0)
            named = stripped.index(text) if type(value) is str and text in stripped else None
            if named is not None and obj.get("answer_type") == "text":
                return named, key  # MathVista says its answer is the option's text
            if named is not None and named != n and 0 <= n < len(found.texts):
                # MathVista's answer "3" among options 2-5 is the option 3; an MMLU saved to CSV writes its
                # index as "3": when both read and disagree, neither is guessed at
                raise ConvertProblem("unknown_format", f"a multiple-choice row whose answer ({key}={value!r}) "
                                     f"is both option {found.labels[named]}'s text and the index of option "
                                     f"{found.labels[n]}: which is meant is not guessed at; write the answer as a "
                                     "letter, or as a number column (not text) for an index")
            if named is not None:
                return named, key
            if 0 <= n < len(found.texts):
                return n, key
            continue
        if text in stripped:
            return stripped.index(text), key
    what = ", ".join(tried) or f"no {' or '.join(found.answer_keys)}"
    raise ConvertProblem("unknown_format", f"a multiple-choice row whose answer ({what}) is none of its "
                                           f"{len(found.texts)} options ({', '.join(found.labels)}): which option is "
                                           "right is not guessed at; fix the answer column, or map the columns "
                                           "with mapping.prompt/completion")


def _written_answer(obj: dict[str, Any], found: _Options) -> tuple[str, str] | None:
    """(column, text) when the only answer is a reply written out that names no option by its label, index or
    text; None when an answer column points at an option (or there is none)."""
    if found.answer is not None:
        return None
    for key in found.answer_keys:
        value = obj.get(key)
        if type(value) is not str or not value.strip():
            continue
        text = value.strip()
        if len(text) <= 3 or text in found.labels or text in (t.strip() for t in found.texts):
            return None
        return key, text
    return None


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    stem_key = _stem(obj) if not _yes_no(obj) else "question"
    stem = obj[stem_key].strip() if stem_key else ""
    passage_key = next((k for k in _PASSAGES if k != stem_key and _passage(obj.get(k))), None)
    passage = _passage(obj[passage_key]) if passage_key else None
    explanation_key = next((k for k in _EXPLANATIONS if isinstance(obj.get(k), str) and obj[k].strip()), None)
    used = {stem_key, passage_key, explanation_key}
    flaw = obj.get("error_type") if isinstance(obj.get("error_type"), str) else "ok"  # MMLU-Redux's annotation
    if _yes_no(obj):
        reply = "Yes" if _truth(obj["answer"], obj.get("passage")) else "No"
        user = "\n\n".join(p for p in (passage, stem) if p)
        used.add("answer")
    else:
        found = _options(obj)
        if found is None:  # is_multiple_choice said yes
            raise ConvertProblem("unknown_format", "a multiple-choice row whose options cannot be read")
        written = _written_answer(obj, found)
        if flaw == "wrong_groundtruth" and isinstance(obj.get("correct_answer"), str):
            # MMLU-Redux: experts found the set's answer wrong and wrote the right letter beside it
            index, _ = _pick({"answer": obj["correct_answer"]}, replace(found, answer_keys=("answer",)))
            reply, answer_key = f"{found.labels[index]}. {found.texts[index].strip()}", "correct_answer"
        elif written is None:
            index, answer_key = _pick(obj, found)
            reply = f"{found.labels[index]}. {found.texts[index].strip()}"
        else:  # the answer is a reply in words ("The answer is B, since ..."), not a pointer
            answer_key, reply = written
        used.update(found.keys)
        used.add(answer_key)
        if "endings" in found.keys:
            used.update(("ctx_a", "ctx_b"))  # HellaSwag's ctx is ctx_a and ctx_b joined
        listed = "\n".join(f"{label}. {text.strip()}" for label, text in zip(found.labels, found.texts, strict=True))
        user = "\n\n".join(p for p in (passage, stem, listed) if p)
    if explanation_key is not None:
        reply = f"{obj[explanation_key].strip()}\n\nAnswer: {reply}"
    body: dict[str, Any] = {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]}
    if flaw not in ("ok", "wrong_groundtruth"):
        # MMLU-Redux: no right option, several, or an unclear question: nothing to learn as the answer
        body["metadata"] = {"label": False, "label_from": f"error_type: {flaw} (the dataset marks the question "
                                                          "as flawed)"}
    if passage:
        # RACE asks ~3 questions of each article: they stay in one split (group `passage`), as SQuAD's do
        body.setdefault("metadata", {}).update(passage_keys(passage, user[len(passage):]))
    kept = {k: v for k, v in obj.items() if k in KEYS and k not in used}
    return [(None, body, kept or None)]
