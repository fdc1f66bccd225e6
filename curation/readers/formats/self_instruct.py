"""Self-instruct tasks: ``{"id"?, "instruction", "instances": [{"input", "output"}, ...]}``.

Each instance is one record (id ``{task id}-{k}``); the task's other fields (name, motivation_app, ...)
go to ``metadata.fields``.
"""

from __future__ import annotations

from typing import Any

from curation.readers.formats.alpaca import user_text
from curation.readers.mapping import FieldMapping

NAME = "self_instruct"
KEYS = frozenset({"instruction", "instances"})


def is_self_instruct(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return "instruction" in obj and isinstance(obj.get("instances"), list)


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    id_key = mapping.id if mapping is not None and mapping.id else "id"
    task_id = obj.get(id_key)
    results: list[tuple[str | None, dict[str, Any], None]] = []
    for k, instance in enumerate(obj["instances"]):
        inst = instance if isinstance(instance, dict) else {"input": "", "output": instance}
        asked = user_text(obj.get("instruction"), inst.get("input"))
        constraints = inst.get("constraints")  # Unnatural Instructions: what the answer must be (e.g. True or False)
        if isinstance(asked, str) and isinstance(constraints, str) and constraints.strip():
            asked = f"{asked}\n\n{constraints.strip()}"
        messages = [
            {"role": "user", "content": asked},
            {"role": "assistant", "content": inst.get("output")},
        ]
        results.append((f"{task_id}-{k}" if task_id is not None else None, {"messages": messages}, None))
    return results
