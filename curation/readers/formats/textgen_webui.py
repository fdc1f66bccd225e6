"""text-generation-webui's chat history (``logs/chat/<character>/<date>.json``, or the chat tab's "Download"):
``{"internal": [[user, bot], ...], "visible": [[user, bot], ...], "metadata": {...}}``.

``internal`` is what the model was given and wrote; ``visible`` is the same text HTML-escaped for display (and
rewritten by extensions), so it is not read. The character's greeting is the pair whose user side is the
``<|BEGIN-VISIBLE-CHAT|>`` placeholder: an assistant turn with weight 0, since the character card wrote it, not the
model. A regenerated reply keeps its other versions in ``metadata`` (``assistant_N.versions``): the one in
``internal`` is the chosen one, the others are counted in ``metadata.left_out.other_versions``. The character
card is not in the file (it lives in ``characters/``), so there is no system turn.
"""

from __future__ import annotations

from typing import Any

from curation.readers.mapping import FieldMapping

NAME = "textgen_webui"
KEYS = frozenset({"internal", "visible", "metadata"})
GREETING = "<|BEGIN-VISIBLE-CHAT|>"


def _pairs(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in value)


def is_textgen_webui(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return "visible" in obj and _pairs(obj.get("internal"))


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    messages: list[dict[str, Any]] = []
    for n, (user, bot) in enumerate(obj["internal"]):
        if n == 0 and user == GREETING:
            messages.append({"role": "assistant", "content": bot, "weight": 0})
            continue
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": bot})
    body: dict[str, Any] = {"messages": messages}
    meta = obj.get("metadata")
    others = sum(max(len(v["versions"]) - 1, 0) for v in meta.values()
                 if isinstance(v, dict) and isinstance(v.get("versions"), list)) if isinstance(meta, dict) else 0
    if others:
        body["metadata"] = {"left_out": {"other_versions": others}}
    return [(None, body, None)]
