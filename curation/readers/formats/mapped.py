"""Any other chat layout, read through a user's ``FieldMapping``: a turns field with its role and content keys,
or one exchange in two columns (``prompt`` and ``completion``: CoT-Collection's source/target, Spider's
question/query, P3's inputs_pretokenized/targets_pretokenized)."""

from __future__ import annotations

from typing import Any

from curation.readers.formats._common import add_tools, convert_turns
from curation.readers.mapping import FieldMapping

NAME = "mapped"
KEYS = frozenset({"tools"})


def _exchange(obj: dict[str, Any], mapping: FieldMapping | None) -> bool:
    return (mapping is not None and mapping.prompt is not None and mapping.completion is not None
            and mapping.prompt in obj and mapping.completion in obj)


def is_mapped(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return mapping is not None and ((mapping.messages is not None and mapping.messages in obj)
                                    or _exchange(obj, mapping))


def keys(mapping: FieldMapping | None) -> frozenset[str]:
    extra = ({mapping.messages, mapping.tools, mapping.prompt, mapping.completion} - {None}
             if mapping is not None else set())
    return KEYS | frozenset(extra)  # type: ignore[arg-type]


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    assert mapping is not None
    if mapping.messages is not None and mapping.messages in obj:
        body: dict[str, Any] = {"messages": convert_turns(obj[mapping.messages], mapping)}
    else:
        assert mapping.prompt is not None and mapping.completion is not None
        body = {"messages": [{"role": "user", "content": obj[mapping.prompt]},
                             {"role": "assistant", "content": obj[mapping.completion]}]}
    add_tools(body, obj, mapping)
    return [(None, body, None)]
