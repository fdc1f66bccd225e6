"""A pairwise judge through any model reference (usually an OpenAI-compatible endpoint).

Each pair is judged twice, with the answers in both orders, to cancel position bias: the model wins a
prompt when both orders prefer it, or one does and the other says tie; opposite verdicts are a tie.
The exact prompt template is written next to the results (``judge_prompt.txt``).
"""

from __future__ import annotations

import json
import re
from typing import Any

JUDGE_SYSTEM = (
    "You are a strict evaluator of assistant answers. Compare two candidate answers to the same conversation "
    "against the reference answer and the user's needs: correctness first (including tool calls and their "
    "arguments), then helpfulness, then concision. Ignore the order in which the answers are shown. "
    'Reply with one JSON object and nothing else: {"verdict": "A"} or {"verdict": "B"} or {"verdict": "tie"}.'
)

JUDGE_USER = """## Conversation
{conversation}

## Reference answer
{reference}

## Answer A
{answer_a}

## Answer B
{answer_b}

Which answer is better? Reply with {{"verdict": "A"}}, {{"verdict": "B"}} or {{"verdict": "tie"}}."""


def template_text() -> str:
    return f"[system]\n{JUDGE_SYSTEM}\n\n[user]\n{JUDGE_USER}\n"


def render_message(message: dict[str, Any]) -> str:
    from .scores import text_of

    text = text_of(message)
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        text += f"\n[tool call] {function.get('name')}({function.get('arguments')})"
    return text.strip() or "(empty)"


def _conversation(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> str:
    lines = []
    if tools:
        names = [str((t.get("function") or {}).get("name")) for t in tools if isinstance(t, dict)]
        lines.append(f"[tools available] {', '.join(names)}")
    lines += [f"[{m.get('role')}] {render_message(m)}" for m in messages]
    return "\n".join(lines)


def parse_verdict(text: str) -> str | None:
    """``A``, ``B`` or ``tie`` from the judge's reply (JSON first, then a bare word); None when unreadable."""
    found = re.search(r"\{.*\}", text, re.S)
    if found:
        try:
            value = str(json.loads(found.group(0)).get("verdict", "")).strip()
        except (ValueError, AttributeError):
            value = ""
        if value.lower() in ("a", "b", "tie"):
            return value.upper() if value.lower() != "tie" else "tie"
    word = re.search(r"\b(A|B|tie|TIE|Tie)\b", text)
    if word:
        return word.group(1) if word.group(1) in ("A", "B") else "tie"
    return None


def judge_pair(client: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
               reference: dict[str, Any], model_answer: dict[str, Any], baseline_answer: dict[str, Any]
               ) -> dict[str, Any]:
    """Both orders; returns the combined outcome for the model (win/tie/loss) and each order's raw reply."""
    conversation = _conversation(messages, tools)
    orders = [("model", model_answer, baseline_answer), ("baseline", baseline_answer, model_answer)]
    points = 0
    replies = []
    for first, answer_a, answer_b in orders:
        user = JUDGE_USER.format(conversation=conversation, reference=render_message(reference),
                                 answer_a=render_message(answer_a), answer_b=render_message(answer_b))
        answer = client.complete([{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}],
                                 None, 32)
        verdict = parse_verdict(answer.content) if not answer.error else None
        replies.append({"a": first, "reply": answer.content, "verdict": verdict, "error": answer.error})
        if verdict == "A":
            points += 1 if first == "model" else -1
        elif verdict == "B":
            points += -1 if first == "model" else 1
    readable = [r for r in replies if r["verdict"] is not None]
    outcome = None if not readable else "win" if points > 0 else "loss" if points < 0 else "tie"
    return {"outcome": outcome, "orders": replies}
