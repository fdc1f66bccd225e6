"""Single exchanges under other names: ``question``/``answer``, ``query``/``response`` (MetaMathQA),
``problem``/``solution`` (Magicoder), ``input``/``output``, ``prompt``/``response``, ``user``/``assistant``,
``inputs``/``targets`` (FLAN, Natural Instructions), with an optional ``system_prompt`` (OpenOrca) or
``definition`` (Natural Instructions' task definition) and ``context`` (Dolly-style passages); a message
list with its reply as ``input``/``output`` (Nemotron, tracing exports), LangSmith's ``inputs``/``outputs``, and
Chinese-Vicuna's turns as two parallel lists under ``input`` and ``output``.

A record matches only when exactly one prompt key and one answer key hold strings, so a record with two
candidate answers (e.g. ``response`` and ``answer``) is not guessed at: it stays an ``unknown_format``
reject whose message points at a field mapping. Reasoning sets whose extra column is the model's trace or its
attempt (s1K, OpenThoughts, OpenCodeReasoning's ``<think>`` output beside its ``solution``) are read before
this, by ``reasoning_pair``.
"""

from __future__ import annotations

import re
from typing import Any

from curation.readers.formats._common import (
    PASSAGE_COLUMNS,
    ConvertProblem,
    convert_turns,
    history_messages,
    normalize_tools,
    passage_keys,
)
from curation.readers.mapping import FieldMapping

NAME = "pair"
# user_input/model_output: LMSYS ToxicChat; message_1/message_2: CAMEL's role-playing sets (the AI user asks);
# Patient/Doctor: the medical-chatbot sets scraped from HealthCareMagic and iCliniq (ruslanmv/ai-medical-chatbot).
PROMPT_KEYS = ("question", "query", "problem", "prompt", "input", "inputs", "user", "human", "input_text",
               "user_input", "message_1", "patient")
ANSWER_KEYS = ("response", "answer", "solution", "output", "assistant", "gpt", "target", "targets", "output_text",
               "generated_solution", "model_output", "message_2", "bot", "std_answer",  # std_answer: BELLE's eval set
               "doctor")
SYSTEM_KEYS = ("system_prompt", "definition")
# Passage columns beside a question and its answer (PASSAGE_COLUMNS), and SVAMP's Body, TabMWP's table, RAGAS'
# contexts.
PASSAGE_KEYS = (*PASSAGE_COLUMNS, "body", "table", "contexts", "retrieved_contexts")
# `context`, `documents`, `text` and the passages are read only by some rows; the others keep them as fields (see
# convert). `label` and `hallucination` are a verdict on the answer (WikiQA, MultiRC, HaluEval).
KEYS = frozenset({*PROMPT_KEYS, *ANSWER_KEYS, *SYSTEM_KEYS, *PASSAGE_KEYS, "context", "documents", "text",
                  "outputs", "ideal", "history", "label", "hallucination", "rating"})


def _present(obj: dict[str, Any], keys: tuple[str, ...], numbers: bool = False) -> list[str]:
    return [k for k in keys if isinstance(obj.get(k), str) or (
        numbers and type(obj.get(k)) in (int, float))]  # an answer may be a number: {"answer": 42}


def _keys(obj: dict[str, Any]) -> tuple[str, str] | None:
    prompts, answers = _present(obj, PROMPT_KEYS), _present(obj, ANSWER_KEYS, numbers=True)
    if len(answers) == 2 and "answer" in answers:
        # NuminaMath-1.5, LIMO (answer + solution), MetaMath's GSM8K files (answer + output): the worked solution
        # ends in the final answer it repeats, and is the reply to train on
        worked = answers[1 - answers.index("answer")]
        final = str(obj["answer"]).strip()
        if isinstance(obj[worked], str) and final and final in obj[worked] and len(obj[worked]) > len(final):
            answers = [worked]
    if len(answers) != 1:
        return None
    if len(prompts) == 2 and "input" in prompts:
        prompts.remove("input")  # {"question", "input"}: the input is the passage, like Alpaca's
    if len(prompts) == 2 and obj[prompts[0]].strip() and obj[prompts[0]].strip() in obj[prompts[1]]:
        prompts = [prompts[1]]  # MathVista's query is its question with the hint and the choices: the whole prompt
    elif len(prompts) == 2 and obj[prompts[1]].strip() and obj[prompts[1]].strip() in obj[prompts[0]]:
        prompts = [prompts[0]]
    if not prompts and answers == ["output"] and isinstance(obj.get("text"), str):
        prompts = ["text"]  # ichikara-instruction's {ID, text, output}: `text` is the request beside its output
    if not prompts and isinstance(obj.get("context"), str) and obj["context"].strip():
        # Counselling and prosocial-dialogue sets ({Context, Response}): with no question beside it, the context
        # is what the user said, not a passage
        prompts = ["context"]
    if len(prompts) != 1:
        return None
    return prompts[0], answers[0]


# NeMo / SteerLM's template, as HelpSteer2's multi-turn prompts hold it: "q1\n<extra_id_1>Assistant\na1\n
# <extra_id_1>User\nq2".
_STEERLM = re.compile(r"\n?<extra_id_1>(User|Assistant)\n")


def steerlm_turns(text: str) -> list[dict[str, Any]]:
    if "<extra_id_1>" not in text:
        return [{"role": "user", "content": text}]
    parts = _STEERLM.split(text)
    turns = [{"role": "user", "content": parts[0].strip()}]
    for i in range(1, len(parts) - 1, 2):
        turns.append({"role": parts[i].lower(), "content": parts[i + 1].strip()})
    return turns


def _input_turns(obj: dict[str, Any]) -> list[Any] | None:
    """The turns of ``input``: the list itself, or the ``messages`` of the request a tracing tool logged whole
    when the call offered tools (Langfuse: ``{"messages": [...], "tools": [...]}``)."""
    turns = obj.get("input")
    if isinstance(turns, dict) and isinstance(turns.get("messages"), list):
        turns = turns["messages"]
    return turns if isinstance(turns, list) else None


def _turns_input(obj: dict[str, Any]) -> bool:
    """Nemotron post-training rows: ``input`` is the conversation so far (a message list), ``output`` the reply;
    a tracing tool's export (Langfuse, an observability proxy) writes the reply as a message, or a list of them."""
    turns = _input_turns(obj)
    return (turns is not None and bool(turns) and all(isinstance(t, dict) and "role" in t for t in turns)
            and _reply(_output(obj)) is not None)


def _output(obj: dict[str, Any]) -> Any:
    """The reply beside ``input`` turns: ``output``, or an OpenAI evals sample's ``ideal`` (one ideal answer;
    a list of several acceptable ones is not guessed at)."""
    if "output" in obj:
        return obj["output"]
    ideal = obj.get("ideal")
    if isinstance(ideal, list) and len(ideal) == 1:
        return ideal[0]
    return ideal


def _reply(output: Any) -> list[dict[str, Any]] | None:
    """The reply turns an ``output`` holds: text, an assistant message, or a list of assistant/tool messages."""
    if isinstance(output, str):
        return [{"role": "assistant", "content": output}]
    if isinstance(output, dict) and output.get("role") == "assistant":
        return [output]
    if isinstance(output, list) and output and all(isinstance(t, dict) and t.get("role") in ("assistant", "tool")
                                                   for t in output):
        return output
    return None


def _side(value: Any) -> list[dict[str, Any]] | None:
    """One side of a LangSmith example: ``{"messages": [...]}``, a message under one key, or one text field."""
    if not isinstance(value, dict) or not value:
        return None
    if isinstance(value.get("messages"), list) and all(isinstance(t, dict) for t in value["messages"]):
        return value["messages"]
    if len(value) != 1:
        return None
    (inner,) = value.values()
    if isinstance(inner, dict) and "role" in inner:
        return [inner]
    return [{"role": None, "content": inner}] if isinstance(inner, str) else None


def _langsmith(obj: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """A LangSmith dataset example: ``{"inputs": {...}, "outputs": {...}}``, each side a dict of fields."""
    asked, answered = _side(obj.get("inputs")), _side(obj.get("outputs"))
    if asked is None or answered is None:
        return None
    asked = [{**t, "role": "user"} if t.get("role") is None else t for t in asked]
    answered = [{**t, "role": "assistant"} if t.get("role") is None else t for t in answered]
    return asked, answered


def _parallel(obj: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Chinese-Vicuna's multi-turn layout: ``{"input": [q1, q2, ...], "output": [a1, a2, ...]}``, the turns as two
    lists of one length, alternating from the first question."""
    asked, answered = obj.get("input"), obj.get("output")
    if not (type(asked) is list and type(answered) is list and asked and len(asked) == len(answered)
            and all(type(t) is str for t in asked) and all(type(t) is str for t in answered)):
        return None
    return [turn for q, a in zip(asked, answered, strict=True)
            for turn in ({"role": "user", "content": q}, {"role": "assistant", "content": a})]


def is_pair(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return (_keys(obj) is not None or _turns_input(obj) or _langsmith(obj) is not None
            or _parallel(obj) is not None)


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], Any]]:
    keys = _keys(obj)
    # layouts without a prompt column do not read passages: theirs stay fields
    unread = {k: obj[k] for k in ("context", "documents", "text", *PASSAGE_KEYS, "label", "hallucination",
                                  "rating") if k in obj} if keys is None else {}
    parallel = _parallel(obj) if keys is None else None
    if parallel is not None:
        return [(None, {"messages": parallel}, unread or None)]
    example = _langsmith(obj) if keys is None else None
    if example is not None:
        return [(None, {"messages": convert_turns([*example[0], *example[1]], mapping)}, unread or None)]
    if keys is None:  # _turns_input
        failed = "level: ERROR" if obj.get("level") == "ERROR" else (
            f"error: {str(obj['error'])[:80]!r}" if obj.get("error") else None)
        if failed is not None:
            # Langfuse's observation level, Braintrust's span error: what the output holds came before a failure
            raise ConvertProblem("incomplete_answer", f"the trace marks this call failed ({failed}); its output "
                                 "would be trained as a whole answer (leave failed calls out)")
        system = next((obj[k] for k in SYSTEM_KEYS if isinstance(obj.get(k), str) and obj[k].strip()), None)
        head = [{"role": "system", "content": system}] if system is not None else []
        reply = _reply(_output(obj)) or []
        body: dict[str, Any] = {"messages": [*head, *convert_turns([*(_input_turns(obj) or []), *reply], mapping)]}
        request = obj["input"] if isinstance(obj["input"], dict) else {}
        tools = normalize_tools(request.get("tools"))
        if tools is not None:
            body["tools"] = tools
        params = {k: v for k, v in request.items() if k not in ("messages", "tools")}  # sampling settings
        extra = {**unread, **({"request": params} if params else {})}
        return [(None, body, extra or None)]
    prompt_key, answer_key = keys
    passages = [obj[k] for k in ("input", "context") if k != prompt_key and isinstance(obj.get(k), str)
                and obj[k].strip()]
    kept: dict[str, Any] = {"text": obj["text"]} if "text" in obj and prompt_key != "text" else {}
    for key in ("context", "documents", *PASSAGE_KEYS):
        value = obj.get(key)
        if value is None or (key == "context" and isinstance(value, str)) or key == prompt_key:
            continue
        text = value.strip() if isinstance(value, str) else passages_text(value)
        if text:
            passages.append(text)  # the passages the answer is grounded in, as Dolly's context is
        else:
            kept[key] = value  # no passage (a label, a dict of ids): it stays a field
    user = "\n\n".join([obj[prompt_key], *passages])
    messages: list[dict[str, Any]] = []
    # OpenOrca's system_prompt; Natural Instructions' task definition is the instruction every input shares.
    system = next((obj[k] for k in SYSTEM_KEYS if isinstance(obj.get(k), str) and obj[k].strip()), None)
    if system is not None:
        messages.append({"role": "system", "content": system})
    # ChatGLM's and LLaMA-Factory's earlier turns of the chat
    messages += [*history_messages(obj.get("history")), *steerlm_turns(user),
                 {"role": "assistant", "content": obj[answer_key]}]
    body: dict[str, Any] = {"messages": messages}
    if passages:  # MultiRC, HaluEval, ragbench: several questions of one passage
        body["metadata"] = passage_keys("\n\n".join(passages), obj[prompt_key])
    verdict = _answer_verdict(obj)
    if verdict is not None:
        body.setdefault("metadata", {}).update(label=False, label_from=verdict)
    elif "label" in obj:
        kept["label"] = obj["label"]  # a class, or the answer marked good: a field
    if "hallucination" in obj and verdict is None:
        kept["hallucination"] = obj["hallucination"]
    if "rating" in obj and verdict is None:
        kept["rating"] = obj["rating"]
    return [(None, body, kept or None)]


def _answer_verdict(obj: dict[str, Any]) -> str | None:
    """Why the dataset says the answer is not one to learn, or None: WikiQA's and MultiRC's ``label`` 0 (the
    sentence does not answer the question; ~95% of WikiQA), HaluEval's ``hallucination: yes``."""
    label = obj.get("label")
    if label is False or (type(label) is int and label == 0) or (isinstance(label, str) and label.strip() == "0"):
        return "label: 0 (the dataset marks this answer as not answering the question)"
    if isinstance(obj.get("hallucination"), str) and obj["hallucination"].strip().lower() == "yes":
        return "hallucination: yes (the dataset marks this answer as hallucinated)"
    if obj.get("rating") in ("BAD", "thumbsDown", "thumbs_down"):
        # AnythingLLM's workspace chat export writes the user's feedback as GOOD / BAD / --
        return f"rating: {obj['rating']} (the user rated this answer down)"
    return None


def passages_text(value: Any) -> str | None:
    """Retrieved passages as prompt text, or None when ``value`` holds none: a list of texts (ragbench's
    ``documents``), HotpotQA's ``{"title": [...], "sentences": [[...], ...]}`` (the Hub's layout) or its
    ``[[title, [sentences]], ...]`` (the original JSON), each passage under its title."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(value, dict) and isinstance(value.get("title"), list) and isinstance(value.get("sentences"), list):
        if len(value["title"]) != len(value["sentences"]):
            return None  # titles and passages that do not pair up stay a field, whole
        pairs = list(zip(value["title"], value["sentences"], strict=True))
    elif isinstance(value, list) and value and all(isinstance(v, list) and len(v) == 2 for v in value):
        pairs = [(v[0], v[1]) for v in value]
    elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        texts = [v.strip() for v in value if v.strip()]
        return "\n\n".join(texts) or None
    else:
        return None
    blocks = []
    for title, sentences in pairs:
        if not isinstance(title, str) or not (isinstance(sentences, list) and all(
                isinstance(t, str) for t in sentences)):
            return None
        body = "".join(sentences).strip()
        blocks.append(f"{title}\n{body}" if title.strip() else body)
    return "\n\n".join(b for b in blocks if b.strip()) or None
