from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Record = dict[str, Any]


def _conversation(*turns: str | tuple[str, Any], system: str | None = None, **extra: Any) -> Record:
    """user, assistant, user, ... from plain strings; (role, content) tuples pass through."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system is not None else []
    for i, turn in enumerate(turns):
        if isinstance(turn, tuple):
            messages.append({"role": turn[0], "content": turn[1]})
        else:
            messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": turn})
    return {"id": "r1", "messages": messages, "metadata": {}, **extra}


@pytest.fixture
def conv() -> Callable[..., Record]:
    return _conversation


@pytest.fixture
def pair() -> Callable[..., Record]:
    def make(prompt: str, chosen: str, rejected: str) -> Record:
        return {
            "id": "p1",
            "prompt": [{"role": "user", "content": prompt}],
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}],
            "metadata": {},
        }

    return make
