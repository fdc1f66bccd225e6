"""Generic record filters on metadata fields: act on a dataset's own labels (status, ratings, sources).

Configured as a list; a record is kept only if it passes every rule::

    filters:
      - {field: fields.status, equals: ok}          # alpaca-libre's own status column
      - {field: fields.rating, min: 4}
      - {field: language, in: [en, fr]}

``field`` is a dotted path inside ``metadata``; readers keep every top-level key of the input that is not
part of the conversation under ``metadata.fields``, so ``fields.<key>`` reaches what the file carried. A
rule has one or more operators: ``equals``, ``not_equals``, ``in``, ``not_in`` (lists), ``min``, ``max``
(numbers, inclusive). A record without the field is dropped (``filter_field_missing``) unless the rule says
``missing: keep``; one that fails an operator is dropped as ``filter_mismatch``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from curation.pipeline.base import Drop, RecordStage
from curation.records import has_metadata_value, metadata_value

OPERATORS = ("equals", "not_equals", "in", "not_in", "min", "max")
_KEYS = frozenset({"field", "missing", *OPERATORS})


class FilterRule(BaseModel):
    """One rule: a metadata field and the operators its value must satisfy (all of them)."""

    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True)

    field: str = Field(min_length=1, description="Dotted path inside metadata, e.g. fields.status or language.")
    equals: Any = Field(None, description="Keep records whose value equals this.")
    not_equals: Any = Field(None, description="Keep records whose value differs from this.")
    in_: list[Any] | None = Field(None, alias="in", description="Keep records whose value is one of these.")
    not_in: list[Any] | None = Field(None, description="Keep records whose value is none of these.")
    min: float | None = Field(None, description="Keep records whose numeric value is at least this.")
    max: float | None = Field(None, description="Keep records whose numeric value is at most this.")
    missing: Literal["drop", "keep"] = Field("drop", description="What to do with records without the field.")

    @model_validator(mode="before")
    @classmethod
    def _known_operators(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("a filter is a mapping like {field: fields.status, equals: ok}")
        unknown = sorted(str(k) for k in data if k not in _KEYS and k != "in_")
        if unknown:
            raise ValueError(f"unknown filter operator {unknown[0]!r}; use one of {', '.join(OPERATORS)}")
        if not any(op in data for op in (*OPERATORS, "in_")):
            raise ValueError(f"the filter on {data.get('field')!r} has no operator; add one of {', '.join(OPERATORS)}")
        return data

    def operators(self) -> list[tuple[str, Any]]:
        """The operators this rule sets, in a fixed order (``equals: null`` is a real test)."""
        given = self.model_fields_set
        return [(op, getattr(self, "in_" if op == "in" else op)) for op in OPERATORS
                if (op if op != "in" else "in_") in given]


def _same(a: Any, b: Any) -> bool:
    # YAML `equals: 1` must not match `true` (Python's True == 1).
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fails(op: str, expected: Any, value: Any) -> bool:
    if op == "equals":
        return not _same(value, expected)
    if op == "not_equals":
        return _same(value, expected)
    if op == "in":
        return not any(_same(value, e) for e in expected)
    if op == "not_in":
        return any(_same(value, e) for e in expected)
    if not _is_number(value):
        return True
    return value < expected if op == "min" else value > expected


class MetadataFilterStage(RecordStage):
    """Drops records whose metadata fails a configured rule (``filter_mismatch``, ``filter_field_missing``)."""

    name: ClassVar[str] = "filter"

    def __init__(self, rules: list[FilterRule]) -> None:
        self.rules = [(rule, rule.operators()) for rule in rules]

    def process(self, record: dict[str, Any]) -> Drop | None:
        for rule, operators in self.rules:
            if not has_metadata_value(record, rule.field):
                if rule.missing == "keep":
                    continue
                return Drop("filter_field_missing", f"no metadata field {rule.field!r} (the filter needs it; "
                            "`missing: keep` keeps such records)")
            value = metadata_value(record, rule.field)
            for op, expected in operators:
                if _fails(op, expected, value):
                    return Drop("filter_mismatch", f"{rule.field} is {_show(value)}; the filter wants "
                                f"{op.replace('_', ' ')} {_show(expected)}")
        return None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
