"""The normalise stage's one-pass proof that a record is already clean (``_already_clean``) never skips a record
that the per-message steps would change."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

from curation.pipeline.stages import normalise
from curation.pipeline.stages.normalise import NormaliseStage
from curation.readers import read_path

PIECES = ["Hello", "world", "é", "e\u0301", "中文", "ＡＢ", "\ufb01", "Å", " ", "  ", "\t", "\n", "\n\n\n", "\r\n",
          "\u200b", "\u2060", "\ufeff", "\x07", "\x85", "\xa0", "\u3000", "```", "    code", "x", "1."]
ROLES = ["user", "assistant", "system", "tool", "function", "developer", "human", "GPT", "User", None, 3]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))


def _message(rng: random.Random) -> dict[str, Any]:
    message: dict[str, Any] = {"role": rng.choice(ROLES)}
    shape = rng.random()
    if shape < 0.7:
        message["content"] = _text(rng)
    elif shape < 0.85:
        message["content"] = [{"type": "text", "text": _text(rng)}, {"type": "image_url", "image_url": {"url": "x"}}]
    else:
        message["content"] = None
    if rng.random() < 0.2:
        message["reasoning"] = _text(rng)
    return message


def _changed_by_the_steps(messages: list[Any]) -> bool:
    stage = NormaliseStage()
    before = copy.deepcopy(messages)
    changes: set[str] = set()
    for message in messages:
        if isinstance(message, dict):
            stage._message(message, changes)
    return bool(changes) or messages != before


def test_a_record_proven_clean_is_one_the_steps_leave_alone(real_dir: Path) -> None:
    rng = random.Random(0)
    cases = [[_message(rng) for _ in range(rng.randint(0, 4))] for _ in range(20000)]
    cases += [[{"role": "user", "content": "clean"}, "not a message", {"role": "assistant", "content": "ok"}]]
    for path in sorted(real_dir.rglob("*.json*")):
        cases += [normalise.record_messages(item.record) for item in read_path(path) if item.record]
    proven = 0
    for messages in cases:
        if normalise._already_clean(messages):
            proven += 1
            assert not _changed_by_the_steps(copy.deepcopy(messages)), messages
    assert proven > 1000  # both outcomes are exercised
    assert proven < len(cases) - 1000


def test_invisible_bytes_are_exactly_the_invisible_characters() -> None:
    for code in [*range(0x3000), *range(0xF000, 0x10000), 0x1F600, 0x10FFFF]:
        char = chr(code)
        data = char.encode()
        flagged = b"\x00" in data.translate(normalise._CONTROL_BYTES) or any(
            lead in data and pattern.search(data) for lead, pattern in normalise._INVISIBLE_UTF8)
        assert flagged == (bool(normalise._INVISIBLE.search(char)) or char == "\r"), hex(code)


def test_the_space_classes_spell_the_trigger_list() -> None:
    rng = random.Random(1)
    for _ in range(20000):
        text = "".join(rng.choice(" \t\nx") for _ in range(rng.randint(1, 8)))
        classes = text.encode().translate(normalise._SPACE_CLASSES)
        found = b"SS" in classes or b"SN" in classes or b"NNN" in classes
        # a superset: two tabs (kept in TSV) send a text down the exact path too
        assert found >= any(trigger in text for trigger in normalise._WS_TRIGGERS), repr(text)
        assert found == any(trigger in text for trigger in (*normalise._WS_TRIGGERS, "\t\t")), repr(text)
