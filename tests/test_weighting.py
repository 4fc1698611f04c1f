"""Raking, effective sample size, design effect, the mean's interval and small-cell suppression:
pure functions checked against figures worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from consult.workspace.weighting import (
    complete_targets,
    design_effect,
    effective_sample_size,
    mean_with_interval,
    rake,
    suppress_small_cells,
    weighted_quantiles,
)


def cells_frame() -> pd.DataFrame:
    """Two variables, four cells: a sample with too many women and too many of municipality 1."""
    return pd.DataFrame(
        {"municipality": [1, 1, 2, 2], "gender": [1, 2, 1, 2], "respondents": [40, 20, 25, 15]}
    )


def weighted_shares(cells: pd.DataFrame, weights: pd.Series, variable: str) -> dict[int, float]:
    mass = cells["respondents"] * weights
    return (mass.groupby(cells[variable]).sum() / mass.sum()).to_dict()


def test_raking_converges_to_every_target() -> None:
    cells = cells_frame()
    targets = {"municipality": {1: 0.3, 2: 0.7}, "gender": {1: 0.5, 2: 0.5}}
    result = rake(cells, targets)
    assert result.converged
    assert weighted_shares(cells, result.weights, "municipality") == pytest.approx({1: 0.3, 2: 0.7}, abs=1e-6)
    assert weighted_shares(cells, result.weights, "gender") == pytest.approx({1: 0.5, 2: 0.5}, abs=1e-6)
    # the mean weight over respondents is one, so weighted counts add up to the sample size
    assert float((cells["respondents"] * result.weights).sum()) == pytest.approx(100)


def test_one_variable_raking_is_plain_post_stratification() -> None:
    cells = pd.DataFrame({"municipality": [1, 2], "respondents": [3, 3]})
    result = rake(cells, {"municipality": {1: 0.75, 2: 0.25}})
    assert list(result.weights) == pytest.approx([1.5, 0.5])
    assert result.iterations == 1


def test_categories_without_target_keep_their_observed_share() -> None:
    observed = pd.Series({1: 30, 2: 50, -1: 20})  # -1: did not answer
    completed, unreachable = complete_targets(observed, {1: 0.5, 2: 0.5, 3: 0.2})
    assert completed[-1] == pytest.approx(0.2)
    assert completed[1] == pytest.approx(0.4) and completed[2] == pytest.approx(0.4)
    assert unreachable == [3]  # nobody in the sample lives there


def test_effective_sample_size_and_design_effect_on_a_known_example() -> None:
    weights = [1, 1, 2, 2]
    assert effective_sample_size(weights) == pytest.approx(36 / 10)
    assert design_effect(4, effective_sample_size(weights)) == pytest.approx(4 / 3.6)
    # the same weights given per cell with counts
    assert effective_sample_size([1, 2], counts=[2, 2]) == pytest.approx(3.6)
    assert effective_sample_size([1, 1, 1]) == pytest.approx(3)
    assert design_effect(3, 3) == 1


def test_mean_with_interval_matches_a_t_interval() -> None:
    values = [2, 3, 4, 5]
    counts = [1, 1, 1, 2]
    expanded = [2, 3, 4, 5, 5]
    summary = mean_with_interval(values, counts)
    low, high = stats.t.interval(0.95, 4, loc=np.mean(expanded), scale=stats.sem(expanded))
    assert summary.mean == pytest.approx(3.8)
    assert (summary.low, summary.high) == (pytest.approx(low), pytest.approx(high))
    assert summary.sd == pytest.approx(np.std(expanded, ddof=1))


def test_a_smaller_effective_sample_widens_the_interval() -> None:
    plain = mean_with_interval([1, 5], [10, 10])
    weighted = mean_with_interval([1, 5], [10, 10], effective_n=10)
    assert (weighted.high - weighted.low) > (plain.high - plain.low)
    assert mean_with_interval([3], [1]).low is None  # one answer: no interval
    # Three answers, all the same: no zero-width interval pretending the mean is certain.
    alike = mean_with_interval([3], [3])
    assert alike.mean == 3 and alike.low is None and alike.high is None
    assert mean_with_interval([2, 4], [2, 2]).low is None  # four answers: too few for a t-interval
    assert mean_with_interval([2, 4], [3, 2]).low is not None
    assert mean_with_interval([], []).mean is None


def test_weighted_quantiles() -> None:
    assert weighted_quantiles([10, 20, 30, 40], [1, 1, 1, 1], (0.5,)) == [20]
    assert weighted_quantiles([1, 2, 3], [1, 1, 8], (0.25, 0.5)) == [3, 3]
    assert weighted_quantiles([5, 1], [1, 1], (0.0, 1.0)) == [1, 5]


def test_small_cells_are_suppressed_and_zero_is_not() -> None:
    rows = [{"count": 4, "share": 0.4}, {"count": 5, "share": 0.5}, {"count": 0, "share": 0.0}]
    published = suppress_small_cells(rows, hide=("share",))
    assert published[0] == {"count": None, "share": None, "suppressed": True}
    assert published[1] == {"count": 5, "share": 0.5, "suppressed": False}
    assert published[2]["count"] == 0
    assert rows[0]["count"] == 4  # the input is left alone
    assert suppress_small_cells([{"total": 2}], keys=("total",))[0]["total"] is None
    assert math.isclose(suppress_small_cells([{"count": 9}], minimum=10)[0]["suppressed"], True)
