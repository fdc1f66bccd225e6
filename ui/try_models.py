"""The UI's "Try" tab: one prompt to two models side by side (model references as `curate eval` takes them)."""

from __future__ import annotations

from typing import Any

from curation.errors import CurationError

_CLIENTS: dict[str, Any] = {}  # a local model loads once per reference


def _client(ref_text: str) -> Any:
    from curation.models_ref import make_client, parse_ref

    if ref_text not in _CLIENTS:
        _CLIENTS[ref_text] = make_client(parse_ref(ref_text))
    return _CLIENTS[ref_text]


def answer_markdown(ref_text: str, prompt: str, system: str = "") -> str:
    """One model's answer to one prompt as Markdown (the error, with its fix, when it fails)."""
    if not ref_text.strip():
        return "_no model reference_"
    messages = ([{"role": "system", "content": system}] if system.strip() else []) + [
        {"role": "user", "content": prompt}]
    try:
        client = _client(ref_text.strip())
    except CurationError as exc:
        return f"**error:** {exc}"
    answer = client.complete(messages, None, client.ref.max_tokens)
    if answer.error:
        return f"**error:** {answer.error}"
    text = answer.content or "_(empty answer)_"
    for call in answer.tool_calls:
        text += f"\n\n`{call['function']['name']}({call['function']['arguments']})`"
    return f"{text}\n\n<small>{client.ref.name} · {answer.latency_s:.2f} s · {answer.prompt_tokens}+" \
           f"{answer.completion_tokens} tokens</small>"


def try_two(prompt: str, ref_a: str, ref_b: str, system: str = "") -> tuple[str, str]:
    if not prompt.strip():
        return "_write a prompt first_", ""
    return answer_markdown(ref_a, prompt, system), answer_markdown(ref_b, prompt, system)
