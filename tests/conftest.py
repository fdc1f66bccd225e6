from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Real third-party files live in the repository so the suite runs on a fresh clone without ../shared.
REAL = REPO / "tests" / "data" / "real"
DATA = REPO / "tests" / "data"


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def real_dir() -> Path:
    return REAL


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def sentence_pool() -> dict[str, list[str]]:
    """Sentences cut from the real files in tests/data/real (en, fr, zh, ko, ru), for synthetic corpora."""
    from curation.synthetic import pool_from_files

    return pool_from_files([REAL], latin={"vigogne": "fr"})
