"""Any other chat layout, read through a user's ``FieldMapping``: a turns field with its role and content keys,
or one exchange in two columns (``prompt`` and ``completion``: CoT-Collection's source/target, Spider's
question/query, P3's inputs_pretokenized/targets_pretokenized), or a user turn written from fields by a
``prompt_template`` (samsum's ``dialogue``: the request is data with no instruction) with its ``completion``."""

from __future__ import annotations

from typing import Any

import orjson

from curation.readers.formats._common import ConvertProblem, add_tools, convert_turns
from curation.readers.mapping import FieldMapping, template_fields

NAME = "mapped"
KEYS = frozenset({"tools"})


def _exchange(obj: dict[str, Any], mapping: FieldMapping | None) -> bool:
    if mapping is None or mapping.completion is None or mapping.completion not in obj:
        return False
    # a templated record lacking a field it names is refused in convert, naming the field (not unknown_format)
    return mapping.prompt_template is not None or (mapping.prompt is not None and mapping.prompt in obj)


def _filled(template: str, obj: dict[str, Any]) -> str:
    values: dict[str, str] = {}
    for name in template_fields(template):
        value = obj.get(name)
        if value is None or value == "":
            have = ", ".join(sorted(map(str, obj))[:12])
            raise ConvertProblem("unknown_format", f"mapping.prompt_template writes from {{{name}}}, which this "
                                 f"record {'lacks' if name not in obj else 'leaves empty'} (its fields: {have}); fix "
                                 "the field name in the template, or leave such records out")
        values[name] = value if isinstance(value, str) else orjson.dumps(value).decode()
    return template.format_map(values)


def is_mapped(obj: dict[str, Any], mapping: FieldMapping | None = None) -> bool:
    return mapping is not None and ((mapping.messages is not None and mapping.messages in obj)
                                    or _exchange(obj, mapping))


def keys(mapping: FieldMapping | None) -> frozenset[str]:
    extra = ({mapping.messages, mapping.tools, mapping.prompt, mapping.completion} - {None}
             if mapping is not None else set())
    if mapping is not None and mapping.prompt_template is not None:
        extra |= set(template_fields(mapping.prompt_template))
    return KEYS | frozenset(extra)  # type: ignore[arg-type]


def convert(obj: dict[str, Any], mapping: FieldMapping | None) -> list[tuple[str | None, dict[str, Any], None]]:
    assert mapping is not None
    if mapping.messages is not None and mapping.messages in obj:
        body: dict[str, Any] = {"messages": convert_turns(obj[mapping.messages], mapping)}
    else:
        assert mapping.completion is not None
        if mapping.prompt_template is not None:
            request = _filled(mapping.prompt_template, obj)
        else:
            assert mapping.prompt is not None
            request = obj[mapping.prompt]
        body = {"messages": [{"role": "user", "content": request},
                             {"role": "assistant", "content": obj[mapping.completion]}]}
    add_tools(body, obj, mapping)
    return [(None, body, None)]
