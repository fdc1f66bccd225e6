"""Single exchanges under other names: ``question``/``answer``, ``query``/``response`` (MetaMathQA),
``problem``/``solution`` (Magicoder), ``input``/``output``, ``prompt``/``response``, ``user``/``assistant``,
``inputs``/``targets`` (FLAN, Natural Instructions), with an optional ``system_prompt`` (OpenOrca) or
``definition`` (Natural Instructions' task definition) and ``context`` (Dolly-style passages).

A record matches only when exactly one prompt key and one answer key hold strings, so a record with two
candidate answers (e.g. ``response`` and ``answer``) is not guessed at: it stays an ``unknown_format``
reject whose message points at a field mapping.
"""

from __future__ import annotations

import re
from typing import Any

from curation.readers.formats._common import convert_turns
from curation.readers.mapping import FieldMapping

NAME = "pair"
PROMPT_KEYS = ("question", "query", "problem", "prompt", "input", "inputs", "user", "human", "input_text")
ANSWER_KEYS = ("response", "answer", "solution", "output", "assistant", "gpt", "target", "targets", "output_text",
               "generated_solution")
SYSTEM_KEYS = ("system_prompt", "definition")
KEYS = frozenset({*PROMPT_KEYS, *ANSWER_KEYS, *SYSTEM_KEYS, "context"})


def _present(obj: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    return [k for k in keys if isinstance(obj.get(k), str)]


def _keys(obj: dict[str, Any]) -> tuple[str, str] | None:
    prompts, answers = _present(obj, PROMPT_KEYS), _present(obj, ANSWER_KEYS)
    if answers == ["answer", "solution"] and obj["answer"].strip() and obj["answer"].strip() in obj["solution"]:
        answers = ["solution"]  # NuminaMath-1.5, LIMO: the worked solution ends in the final answer it repeats
    if len(answers) != 1:
        return None
    if len(prompts) == 2 and "input" in prompts:
        prompts.remove("input")  # {"question", "input"}: the input is the passage, like Alpaca's
    if len(prompts) != 1:
        return None
    return prompts[0], answers[0]


# NeMo / SteerLM's template, as HelpSteer2's multi-turn prompts hold it: "q1\n<extra_id_1>Assistant\na1\n
# <extra_id_1>User\nq2".
_STEERLM = re.compile(r"\n?<extra_id_1>(User|Assistant)\n")


def _steerlm_turns(text: str) -> list[dict[str, Any]]:
    if "<extra_id_1>" not in text:
        return [{"role": "user", "content": text}]
    parts = _STEERLM.split(text)
    turns = [{"role": "user", "content": parts[0].strip()}]
    for i in range(1, len(parts) - 1, 2):
        turns.append({"role": parts[i].lower(), "content": parts[i + 1].strip()})
    return turns


def _turns_input(obj: dict[str, Any]) -> bool:
    """Nemotron post-training rows: ``input`` is the conversation so far (a message list), ``output`` the reply."""
    turns = obj.get("input")
    return (isinstance(turns, list) and bool(turns) and all(isinstance(t, dict) and "role" in t for t in turns)
            and isinstance(obj.get("output"), str))


def is_pair(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return _keys(obj) is not None or _turns_input(obj)


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    keys = _keys(obj)
    if keys is None:  # _turns_input
        system = next((obj[k] for k in SYSTEM_KEYS if isinstance(obj.get(k), str) and obj[k].strip()), None)
        head = [{"role": "system", "content": system}] if system is not None else []
        return [(None, {"messages": [*head, *convert_turns(obj["input"], mapping),
                                     {"role": "assistant", "content": obj["output"]}]}, None)]
    prompt_key, answer_key = keys
    passages = [obj[k] for k in ("input", "context") if k != prompt_key and isinstance(obj.get(k), str)
                and obj[k].strip()]
    user = "\n\n".join([obj[prompt_key], *passages])
    messages: list[dict[str, Any]] = []
    # OpenOrca's system_prompt; Natural Instructions' task definition is the instruction every input shares.
    system = next((obj[k] for k in SYSTEM_KEYS if isinstance(obj.get(k), str) and obj[k].strip()), None)
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages += [*_steerlm_turns(user), {"role": "assistant", "content": obj[answer_key]}]
    return [(None, {"messages": messages}, None)]
