from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO.parent / "shared").resolve()
# Real third-party files live in the repository so the suite runs on a fresh clone without ../shared.
REAL = REPO / "tests" / "data" / "real"
DATA = REPO / "tests" / "data"


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    assert SHARED.is_dir(), f"../shared must sit beside the repository (looked in {SHARED})"
    return SHARED


@pytest.fixture(scope="session")
def real_dir() -> Path:
    return REAL


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA
