"""The suite's guard against ../shared, which a user's clone does not have (tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.mark.parametrize("touch", [os.listdir, os.scandir, lambda p: open(p / "x.json", "rb")])
def test_opening_or_walking_shared_fails_the_test(touch) -> None:
    # the hook fires before the call, so it fails the same whether or not ../shared exists here
    with pytest.raises(RuntimeError, match="tests must use files in the repository"):
        touch(SHARED)
