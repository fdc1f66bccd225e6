"""Question-answering datasets whose answer is a list or a structure, not a reply column: SQuAD and SQuAD 2.0
(``question``, ``context``, ``answers: {"text": [...], "answer_start": [...]}``), MS MARCO (``query``,
``passages: {"passage_text": [...], "is_selected", "url"}``, ``answers`` and ``wellFormedAnswers``), TriviaQA
(``question``, ``answer: {"value", "aliases", ...}``, its Wikipedia and web evidence under ``entity_pages`` and
``search_results``) and WebQuestions-style ``{"question", "answers": [one answer]}``.

The passages a row gives join the question in the user turn, as the pair reader does with Dolly's ``context``:
the answer was written from them, and without them it would be trained closed-book. MS MARCO's well-formed answer
(a full sentence) is preferred to its extractive one. A row that says it has no answer (SQuAD 2.0's empty
``answers``, MS MARCO's ``No Answer Present.``) is refused as ``no_answer``: the label is not a reply, and
training on it teaches nothing or the label itself. Several distinct answers in a plain list (WebQuestions'
entity sets) are not guessed at: refused as ``unknown_format`` with a mapping hint. Every column not read stays
in ``metadata.fields`` (SQuAD's ``answer_start``, TriviaQA's aliases). ``metadata.passage`` names the passages
(a hash), so the split keeps the questions asked of one paragraph in one split.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import ConvertProblem, passage_keys
from curation.readers.mapping import FieldMapping

NAME = "extractive_qa"
KEYS = frozenset({"question", "query", "context", "passages", "answers", "answer", "wellFormedAnswers",
                  "entity_pages", "search_results"})
_NO_ANSWER = "no answer present."  # MS MARCO's label for a query its passages do not answer


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    return None


def _squad_answers(obj: dict[str, Any]) -> list[str] | None:
    answers = obj.get("answers")
    if isinstance(answers, dict) and "text" in answers and "answer_start" in answers:
        return _strings(answers["text"])
    return None


def _marco_passages(obj: dict[str, Any]) -> list[str] | None:
    passages = obj.get("passages")
    if isinstance(passages, dict) and "passage_text" in passages:
        return _strings(passages["passage_text"])
    return None


def _trivia_answer(obj: dict[str, Any]) -> str | None:
    answer = obj.get("answer")
    if isinstance(answer, dict) and isinstance(answer.get("value"), str) and "aliases" in answer:
        return answer["value"].strip()
    return None


def _layout(obj: dict[str, Any]) -> str | None:
    if isinstance(obj.get("question"), str):
        if _squad_answers(obj) is not None and isinstance(obj.get("context"), str):
            return "squad"
        if _trivia_answer(obj) is not None:
            return "triviaqa"
        if set(obj) <= {"question", "answers", "url", "id"} and _strings(obj.get("answers")) is not None:
            return "answers"
    if (isinstance(obj.get("query"), str) and _marco_passages(obj) is not None
            and _strings(obj.get("answers")) is not None):
        return "msmarco"
    return None


def is_extractive_qa(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return _layout(obj) is not None


def _evidence(obj: dict[str, Any]) -> list[str]:
    """TriviaQA's evidence texts: the Wikipedia pages, then the web results (both empty in its nocontext sets)."""
    found: list[str] = []
    for key, column in (("entity_pages", "wiki_context"), ("search_results", "search_context")):
        value = obj.get(key)
        if isinstance(value, dict):
            found += _strings(value.get(column)) or []
    return found


def _refuse_no_answer(what: str) -> ConvertProblem:
    return ConvertProblem("no_answer", f"{what}: the dataset marks this question as unanswered, so there is no reply "
                                       "to train; leave such rows out, or write the reply the model should give "
                                       "(e.g. that the passages do not say) into an answer column and map it")


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    layout = _layout(obj)
    kept: dict[str, Any] = {}
    if layout == "squad":
        question, passages, answers = obj["question"], [obj["context"].strip()], _squad_answers(obj) or []
        if not answers:
            raise _refuse_no_answer("SQuAD 2.0 row with empty answers")
        kept["answers"] = obj["answers"]  # answer_start and the other annotators' spans
    elif layout == "msmarco":
        question, passages = obj["query"], _marco_passages(obj) or []
        answers = [a for a in _strings(obj.get("wellFormedAnswers")) or [] if a.lower() != _NO_ANSWER]
        answers = answers or [a for a in _strings(obj["answers"]) or [] if a.lower() != _NO_ANSWER]
        if not answers:
            raise _refuse_no_answer("MS MARCO row whose answer is 'No Answer Present.'")
        kept = {k: obj[k] for k in ("answers", "wellFormedAnswers") if k in obj}
        kept["passages"] = {k: v for k, v in obj["passages"].items() if k != "passage_text"}
    elif layout == "triviaqa":
        question, passages, answers = obj["question"], _evidence(obj), [_trivia_answer(obj) or ""]
        if not answers[0]:
            raise _refuse_no_answer("TriviaQA row with an empty answer value")
        kept["answer"] = obj["answer"]
        kept.update({k: obj[k] for k in ("entity_pages", "search_results") if k in obj})
    else:
        question, passages, answers = obj["question"], [], _strings(obj["answers"]) or []
        if not answers:
            raise _refuse_no_answer("row with an empty answers list")
        if len(set(answers)) > 1:
            raise ConvertProblem("unknown_format", f"answers holds {len(set(answers))} different answers "
                                 f"({', '.join(map(repr, answers[:3]))}): which one is the reply is not guessed at; "
                                 "join them into one answer column and map it with mapping.prompt/completion")
    passages = [p for p in passages if p]
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "\n\n".join([question.strip(), *passages])},
                                         {"role": "assistant", "content": answers[0]}]}
    if passages:
        # SQuAD asks ~5 questions of each paragraph: the split keeps them together (group `passage`), or a
        # validation question is about a paragraph trained on
        body["metadata"] = passage_keys("\n\n".join(passages), question)
    return [(None, body, kept or None)]
