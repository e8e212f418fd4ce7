"""Time KPIs: specialist review time and turnaround, as medians and p90s."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kpi_core.grouping import SLICE, group_keys
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


#: The groupings the ``*_quantiles`` queries compute, as sets of frame columns.
PRECOMPUTED_GROUPINGS = (
    frozenset(),
    frozenset(SLICE),
    frozenset({"week_start"}),
)


def precomputed_quantiles(quantiles: pl.LazyFrame, by: Sequence[str] = ()) -> pl.LazyFrame:
    """The rows of a ``*_quantiles`` query (SQL grouping sets) that hold grouping ``by``.

    Those queries compute medians and p90s in the database for the report's
    groupings only: overall, slice and week. In each row the
    columns its grouping leaves out are null, which is how the rows of ``by``
    are told apart.
    """
    keys = group_keys(by)
    dimensions = [*SLICE, "week_start"]
    if frozenset(keys) not in PRECOMPUTED_GROUPINGS:
        raise ValueError(
            f"quantiles were computed in the database for overall, slice and week "
            f"only, not by {list(by)}; fetch the frequency tables instead"
        )
    held = pl.all_horizontal(
        pl.col(d).is_not_null() if d in keys else pl.col(d).is_null() for d in dimensions
    )
    values = [c for c in quantiles.collect_schema().names() if c not in dimensions]
    return quantiles.filter(held).select(*keys, *values)
