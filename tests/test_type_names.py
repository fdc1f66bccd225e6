"""Python type names as JSON Schema (curation/type_names.py): arrays always say their items (OpenAI refuses an
array schema without), unions are anyOf, Optional and ", optional" say the value may be left out."""

from __future__ import annotations

from typing import Any

import pytest

from curation.type_names import type_schema, with_items

STR, INT = {"type": "string"}, {"type": "integer"}


@pytest.mark.parametrize(("name", "schema", "optional"), [
    ("str", STR, False),
    ("int, optional", INT, True),
    ("str, default='a'", STR, False),
    ("List[int]", {"type": "array", "items": INT}, False),
    ("list[list[str]]", {"type": "array", "items": {"type": "array", "items": STR}}, False),
    ("List", {"type": "array", "items": STR}, False),
    ("typing.List[Any]", {"type": "array", "items": STR}, False),
    ("Tuple[int, ...]", {"type": "array", "items": INT}, False),
    ("Tuple[int, str]", {"type": "array", "items": {"anyOf": [INT, STR]}}, False),
    ("Set[str]", {"type": "array", "items": STR}, False),
    ("List[datetime]", {"type": "array", "items": STR}, False),
    ("Dict[str, Any]", {"type": "object"}, False),
    ("Any", STR, False),
    ("Optional[float]", {"type": "number"}, True),
    ("Union[str, int]", {"anyOf": [STR, INT]}, False),
    ("Union[List[int], None]", {"type": "array", "items": INT}, True),
    ("str | None", STR, True),
    ("datetime", None, False),
    ("Union[str, datetime]", None, False),
])
def test_type_names(name: str, schema: dict[str, Any] | None, optional: bool) -> None:
    assert type_schema(name) == (schema, optional)


def test_an_array_without_items_gets_string_items() -> None:
    assert with_items({"type": "array", "description": "d"}) == {"type": "array", "description": "d", "items": STR}
    kept = {"type": "array", "items": INT}
    assert with_items(kept) is kept
