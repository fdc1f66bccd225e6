"""Win/tie/loss counts and seeded bootstrap intervals."""

from __future__ import annotations

from curation.evals.stats import bootstrap_ci, percentile, win_tie_loss


def test_win_tie_loss_counts_rates_and_intervals() -> None:
    outcomes = ["win"] * 12 + ["tie"] * 5 + ["loss"] * 3
    result = win_tie_loss(outcomes)
    assert (result["win"], result["tie"], result["loss"], result["n"]) == (12, 5, 3, 20)
    assert result["win_rate"] == 0.6 and result["net"] == 0.45
    low, high = result["net_ci"]
    assert low < 0.45 < high and low > 0  # clearly better
    assert win_tie_loss(outcomes) == result  # seeded: the same outcomes give the same intervals


def test_bootstrap_interval_of_a_constant_is_the_constant() -> None:
    assert bootstrap_ci([1.0] * 7) == [1.0, 1.0]
    assert bootstrap_ci([]) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
