from __future__ import annotations

import pytest

from curation import tokens
from curation.errors import CurationError


@pytest.mark.parametrize(
    ("name", "limit", "encoding"),
    [
        ("gpt-4o-mini", 65_536, "o200k_base"),
        ("gpt-4o-mini-2024-07-18", 65_536, "o200k_base"),
        ("gpt-4o", 65_536, "o200k_base"),
        ("gpt-4o-2024-08-06", 65_536, "o200k_base"),
        ("gpt-4.1", 65_536, "o200k_base"),
        ("gpt-4.1-mini", 65_536, "o200k_base"),
        ("gpt-4.1-nano", 32_768, "o200k_base"),
        ("gpt-3.5-turbo", 16_385, "cl100k_base"),
        ("gpt-3.5-turbo-0125", 16_385, "cl100k_base"),
        ("gpt-3.5-turbo-1106", 16_385, "cl100k_base"),
        ("gpt-3.5-turbo-0613", 4_096, "cl100k_base"),
        ("gpt-35-turbo-0125", 16_385, "cl100k_base"),
        ("azure/gpt-4.1-nano", 32_768, "o200k_base"),
    ],
)
def test_model_table(name: str, limit: int, encoding: str) -> None:
    info = tokens.resolve_model(name)
    assert info.max_tokens_per_example == limit
    assert info.encoding == encoding
    assert info.min_examples == 10


def test_azure_prices_are_not_invented_and_gpt35_has_no_dpo() -> None:
    assert tokens.resolve_model("gpt-35-turbo-0125").training_price_per_1m is None
    assert tokens.resolve_model("gpt-35-turbo-0125").provider == "azure"
    assert not tokens.resolve_model("gpt-3.5-turbo").supports_dpo
    assert tokens.resolve_model("gpt-4.1-mini").supports_dpo


def test_unknown_model_lists_known_ones() -> None:
    with pytest.raises(CurationError, match="unknown model 'gpt-5-turbo'") as info:
        tokens.resolve_model("gpt-5-turbo")
    assert "gpt-4o-mini" in (info.value.hint or "")
    assert "gpt-35-turbo-0125" in (info.value.hint or "")


def test_user_defined_models() -> None:
    extra = {
        "my-llama": {"provider": "local", "max_tokens_per_example": 8192},
        "gpt-4o-mini": {"training_price_per_1m": 2.5},  # override one field of a built-in
    }
    llama = tokens.resolve_model("my-llama", extra)
    assert (llama.provider, llama.encoding, llama.max_tokens_per_example) == ("local", "o200k_base", 8192)
    mini = tokens.resolve_model("gpt-4o-mini", extra)
    assert (mini.training_price_per_1m, mini.max_tokens_per_example) == (2.5, 65_536)
    with pytest.raises(CurationError, match="unknown field"):
        tokens.resolve_model("bad", {"bad": {"max_tokens": 3}})
    with pytest.raises(CurationError, match="needs max_tokens_per_example"):
        tokens.resolve_model("bad", {"bad": {"provider": "x"}})
    with pytest.raises(CurationError, match="unknown encoding"):
        tokens.resolve_model("bad", {"bad": {"max_tokens_per_example": 10, "encoding": "gpt2"}})


@pytest.mark.parametrize(
    ("n", "epochs"), [(0, 3), (1, 25), (3, 25), (5, 20), (10, 10), (33, 3), (34, 3), (8333, 3), (8334, 2), (30_000, 1)]
)
def test_default_epochs_follow_the_cookbook(n: int, epochs: int) -> None:
    assert tokens.default_epochs(n) == epochs


def test_billed_tokens_and_cost() -> None:
    assert tokens.billed_tokens([10, 70_000], 65_536, 2) == 2 * (10 + 65_536)
    model = tokens.resolve_model("gpt-4o-mini")
    estimate = tokens.estimate_cost([1_000] * 50, model)
    assert (estimate.examples, estimate.epochs, estimate.tokens_per_epoch) == (50, 3, 50_000)
    assert estimate.billed_tokens == 150_000
    assert estimate.cost_usd == round(150_000 / 1e6 * 3.00, 2)
    unpriced = tokens.estimate_cost([1_000] * 50, tokens.resolve_model("gpt-35-turbo-0125"), epochs=2)
    assert (unpriced.billed_tokens, unpriced.cost_usd) == (100_000, None)
