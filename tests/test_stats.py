"""Property tests of the statistical building blocks against numpy and statsmodels."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from kpi_core.stats import rate_with_interval, weighted_quantiles

values = st.lists(
    st.tuples(st.integers(0, 2), st.floats(-1e6, 1e6, allow_nan=False), st.integers(1, 4)),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(values)
def test_weighted_quantiles_equal_numpy_on_the_expanded_values(rows):
    frame = pl.DataFrame(rows, schema=["g", "v", "n"], orient="row")
    got = weighted_quantiles(frame.lazy(), ["g"], "v", "n", {"p50": 0.5, "p90": 0.9}).collect()
    for row in got.iter_rows(named=True):
        expanded = np.repeat(
            [v for g, v, _ in rows if g == row["g"]], [n for g, _, n in rows if g == row["g"]]
        )
        assert row["p50"] == pytest.approx(np.quantile(expanded, 0.5), rel=1e-12, abs=1e-9)
        assert row["p90"] == pytest.approx(np.quantile(expanded, 0.9), rel=1e-12, abs=1e-9)


def test_weighted_quantiles_skip_null_values_but_keep_their_group():
    frame = pl.LazyFrame(
        {"g": ["a", "a", "a", "b"], "v": [1.0, None, 3.0, None], "n": [1, 5, 1, 2]}
    )
    got = weighted_quantiles(frame, ["g"], "v", "n", {"p50": 0.5}).sort("g").collect()
    assert got.rows() == [("a", 2.0), ("b", None)]  # a: median of 1 and 3; b: no value


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 500), st.integers(0, 500))
def test_wilson_interval_equals_statsmodels(successes, extra):
    trials = successes + extra
    frame = pl.DataFrame({"k": [successes], "n": [trials]})
    row = frame.select(rate_with_interval("k", "n", "rate")).row(0, named=True)
    if trials == 0:
        assert row == {"rate": None, "rate_ci_low": None, "rate_ci_high": None}
        return
    low, high = proportion_confint(successes, trials, alpha=0.05, method="wilson")
    assert row["rate"] == pytest.approx(successes / trials)
    assert row["rate_ci_low"] == pytest.approx(low, abs=1e-12)
    assert row["rate_ci_high"] == pytest.approx(high, abs=1e-12)
    assert row["rate_ci_low"] <= row["rate"] <= row["rate_ci_high"]
