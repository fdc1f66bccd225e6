"""Python type names as JSON Schema, where tool sets write them in a schema's ``type``.

xLAM (APIGen) writes ``"List[int]"``, ``"str, optional"``, ``"Union[str, int]"``, ``"Optional[float]"``;
ToolACE and BFCL ``"dict"``, ``"list"``, ``"any"``; LLaMA-Factory's demos ``"int, optional"``. No provider
takes them. OpenAI refuses an array schema without ``items`` ("array schema missing items"), so an array whose
element type is not said holds strings; ``Any`` is a string too: Gemini's schemas need a type on every node,
and a string is the one type every provider takes for a value of any shape written out.
"""

from __future__ import annotations

import re
from typing import Any

ANY: dict[str, Any] = {"type": "string"}
_SIMPLE = {"str": "string", "string": "string", "text": "string", "char": "string", "enum": "string",
           "int": "integer", "integer": "integer", "long": "integer", "float": "number", "number": "number",
           "double": "number", "decimal": "number", "bool": "boolean", "boolean": "boolean", "none": "null",
           "nonetype": "null", "null": "null"}
_ARRAYS = frozenset({"list", "tuple", "set", "frozenset", "sequence", "iterable", "array"})
_OBJECTS = frozenset({"dict", "mapping", "object"})
_GENERIC = re.compile(r"^([A-Za-z_][\w.]*)\s*\[(.*)\]$", re.S)


def _split(text: str, sep: str) -> list[str]:
    """``text`` split at each ``sep`` outside brackets (``Dict[str, int], optional`` is two parts)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _one_of(schemas: list[dict[str, Any]]) -> dict[str, Any]:
    distinct: list[dict[str, Any]] = []
    for schema in schemas:
        if schema not in distinct:
            distinct.append(schema)
    return distinct[0] if len(distinct) == 1 else {"anyOf": distinct}


def _union(members: list[str]) -> tuple[dict[str, Any] | None, bool]:
    """``Union[A, B]`` / ``A | B``: anyOf the members; a ``None`` member makes it optional instead."""
    schemas = []
    optional = False
    for member in members:
        schema, said = _parse(member)
        if schema is None:
            return None, False
        optional = optional or said
        if schema == {"type": "null"}:
            optional = True
        else:
            schemas.append(schema)
    return (_one_of(schemas) if schemas else {"type": "null"}), optional


def _parse(text: str) -> tuple[dict[str, Any] | None, bool]:
    if not text:
        return None, False
    members = _split(text, "|")
    if len(members) > 1:
        return _union(members)
    generic = _GENERIC.match(text)
    if generic is None:
        name = text.rsplit(".", 1)[-1].lower()  # typing.List, builtins.str
        if name == "any":
            return dict(ANY), False
        if name in _SIMPLE:
            return {"type": _SIMPLE[name]}, False
        if name in _ARRAYS:
            return {"type": "array", "items": dict(ANY)}, False
        if name in _OBJECTS:
            return {"type": "object"}, False
        return None, False
    head = generic.group(1).rsplit(".", 1)[-1].lower()
    args = _split(generic.group(2), ",")
    if head == "optional":
        schema, _ = _parse(args[0])
        return schema, schema is not None
    if head == "union":
        return _union(args)
    if head in _OBJECTS:
        return {"type": "object"}, False
    if head in _ARRAYS:
        if head == "tuple" and len(args) == 2 and args[1] == "...":
            args = args[:1]
        items = [schema for schema, _ in map(_parse, args) if schema is not None]
        if len(items) != len(args) or not items:  # an element type no JSON type says
            items = [dict(ANY)]
        return {"type": "array", "items": _one_of(items)}, False
    return None, False


def type_schema(name: str) -> tuple[dict[str, Any] | None, bool]:
    """(the JSON Schema a Python-style type name means, whether it said the value is optional); the schema is
    None for a name it does not know (``datetime``), which is left for the exporters' schema checks to name."""
    parts = _split(name.strip(), ",")
    optional = any("optional" in part.lower() for part in parts[1:])  # "int, optional", "str, default='a'"
    schema, said = _parse(parts[0])
    return schema, optional or said


def with_items(schema: dict[str, Any]) -> dict[str, Any]:
    """An array schema without ``items`` given string items (OpenAI refuses it without); others as they are."""
    kind = schema.get("type")
    if (kind == "array" or (isinstance(kind, list) and "array" in kind)) and "items" not in schema:
        return {**schema, "items": dict(ANY)}
    return schema
