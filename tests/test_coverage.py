"""kpi_core.coverage, on hand-written rows of domain_coverage.sql's output."""

from __future__ import annotations

import polars as pl
import pytest

from kpi_core.coverage import coverage_gaps, coverage_overall

COVERAGE = pl.DataFrame(
    {
        "domain": ["stem", "medicine", "coding", "medicine"],
        "difficulty": [None, "hard", "easy", None],
        "risk_class": [None, "high", None, None],
        "target_accepted_items": [10, 4, 5, 8],
        "n_accepted_items": [12, 1, 5, 2],
        # min(1, accepted / target)
        "domain_coverage": [1.0, 0.25, 1.0, 0.25],
    }
)


def test_overall_is_the_share_of_target_slices_at_full_coverage():
    assert coverage_overall(COVERAGE) == pytest.approx(2 / 4)


def test_overall_is_null_without_targets():
    assert coverage_overall(COVERAGE.clear()) is None


def test_gaps_put_the_least_covered_first_with_the_items_each_lacks():
    gaps = coverage_gaps(COVERAGE)
    # ties at 0.25 by domain, then the target that matches any difficulty first
    assert gaps.select("domain", "difficulty", "missing_items", "met").rows() == [
        ("medicine", None, 6, False),
        ("medicine", "hard", 3, False),
        ("coding", "easy", 0, True),
        ("stem", None, 0, True),  # 12 of 10: nothing missing, never negative
    ]
