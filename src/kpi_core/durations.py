"""Time KPIs: specialist review time and turnaround, as medians and p90s."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kpi_core.grouping import group_keys
from kpi_core.stats import weighted_quantiles


def specialist_review_time(review_times: pl.LazyFrame, by: Sequence[str] = ()) -> pl.LazyFrame:
    """Median and p90 of ``duration_s`` of final-stage reviews, per group of ``by``.

    A review falls in the week of its ``reviewed_at``; its slice, vendor and tier
    are its annotation's. Columns: specialist_review_time_median_s, _p90_s.
    """
    return weighted_quantiles(
        review_times,
        group_keys(by),
        "duration_s",
        "n_reviews",
        {"specialist_review_time_median_s": 0.5, "specialist_review_time_p90_s": 0.9},
    )


def turnaround(turnaround_hours: pl.LazyFrame, by: Sequence[str] = ()) -> pl.LazyFrame:
    """Median and p90 hours from submitted_at to the decision's reviewed_at.

    Columns: turnaround_median_h, turnaround_p90_h.
    """
    return weighted_quantiles(
        turnaround_hours,
        group_keys(by),
        "turnaround_h",
        "n_annotations",
        {"turnaround_median_h": 0.5, "turnaround_p90_h": 0.9},
    )
