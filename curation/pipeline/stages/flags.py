"""The flag policy: what happens to a record that carries a flag (a warning code some check left in
``metadata.flags``: validation warnings such as ``truncated_reply``, quality checks in ``flag`` mode such as
``ai_disclaimer``, ``refusal_only``, ``near_empty_reply``).

Config ``flags: {code: drop|flag|off}``: ``drop`` rejects the record with that code as its reason, ``flag``
keeps it with the flag (the default for every code; flagged records are counted in the report and shown in
the review UI), ``off`` removes the flag. It runs after every other per-record stage, so it sees every flag.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from curation.pipeline.base import Drop, RecordStage

FlagMode = Literal["drop", "flag", "off"]


class FlagPolicyStage(RecordStage):
    name: ClassVar[str] = "flags"

    def __init__(self, modes: dict[str, FlagMode]) -> None:
        self.modes = dict(modes)

    def process(self, record: dict[str, Any]) -> Drop | None:
        meta = record.get("metadata")
        flags = meta.get("flags") if isinstance(meta, dict) else None
        if not flags:
            return None
        for code in flags:
            if self.modes.get(code) == "drop":
                return Drop(code, f"flagged {code}, and the config says flags.{code}: drop")
        kept = [code for code in flags if self.modes.get(code) != "off"]
        if kept:
            meta["flags"] = kept
        else:
            meta.pop("flags", None)
        return None
