from __future__ import annotations

import pytest
from pydantic import ValidationError

from curation.dedup.config import DecontaminationConfig, ExactDedupConfig, NearDedupConfig


def test_defaults_and_lsh_params() -> None:
    cfg = NearDedupConfig()
    assert (cfg.shingle_size, cfg.num_perm, cfg.threshold, cfg.keep) == (3, 128, 0.7, "first")
    assert cfg.lsh_params() == (25, 5)
    assert NearDedupConfig(bands=16, rows=8).lsh_params() == (16, 8)
    assert ExactDedupConfig().enabled and DecontaminationConfig().paths == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bands": 20}, "set both bands and rows"),
        ({"bands": 20, "rows": 8}, "exceeds num_perm"),
        ({"keep": "random"}, "literal_error"),
        ({"shingles": 3}, "extra_forbidden"),
    ],
)
def test_invalid_config(kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        NearDedupConfig(**kwargs)
    assert message in str(error.value) or message in {e["type"] for e in error.value.errors()}
