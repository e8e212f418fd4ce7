"""Annotation-level KPIs: accepted-label error rate, rework, gold and programmatic
accuracy, cost per accepted label, precheck pass and final overturn rates.

All come from additive counts (``queries/annotation_kpi_counts.sql``), so any
grouping is a sum followed by a division.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kpi_core.grouping import rollup
from kpi_core.stats import rate_with_interval, ratio

COUNT_COLUMNS = (
    "n_annotations",
    "n_decided",
    "n_accepted",
    "n_rework",
    "n_accepted_known",
    "n_accepted_wrong",
    "n_gold",
    "n_gold_right",
    "n_programmatic_known",
    "n_programmatic_right",
    "cost",
    "n_cost_missing",
    "n_precheck",
    "n_precheck_accept",
    "n_overturn_base",
    "n_overturned",
)

#: The counts only reviews make: without a reviews table they are not available, as
#: the KPIs they make are, rather than 0 beside an accepted count of n/a.
REVIEW_COUNTS = (
    "n_decided",
    "n_accepted",
    "n_rework",
    "n_accepted_known",
    "n_accepted_wrong",
    "n_precheck",
    "n_precheck_accept",
    "n_overturn_base",
    "n_overturned",
)


def annotation_kpis(counts: pl.LazyFrame, by: Sequence[str] = ()) -> pl.LazyFrame:
    """Annotation-level KPIs per group of ``by``.

    - accepted_label_error_rate = accepted with known truth that is wrong
      / accepted with known truth
    - rework_rate = decisions that are reject or fix / annotations with a decision
    - gold_accuracy = human labels equal to gold / human annotations on gold items
    - programmatic_accuracy = programmatic labels of known truth that are right
      / programmatic annotations of known truth
    - precheck_pass_rate = accepting precheck reviews / precheck reviews
    - final_overturn_rate = annotations whose latest final review is not accept
      / annotations with an accepting precheck and a final review
    - cost_per_accepted_label = all costs in the group / accepted annotations
    - throughput = accepted / ISO weeks from the group's first to its last week
      with a submission (weeks without one in between count, as 0 accepted)
    Each rate carries its 95% Wilson interval; a zero denominator gives null.
    """
    span = [
        pl.col("week_start").min().alias("first_week"),
        pl.col("week_start").max().alias("last_week"),
    ]
    summed = rollup(counts, by, [*(pl.col(c).sum() for c in COUNT_COLUMNS), *span])
    weeks = (pl.col("last_week") - pl.col("first_week")).dt.total_days() // 7 + 1
    return (
        summed.with_columns(
            (pl.col("n_accepted") / weeks).alias("throughput"),
            # summed exactly as a decimal (so in any order, to the same value); shown as float
            pl.col("cost").cast(pl.Float64),
        )
        .drop("first_week", "last_week")
        .with_columns(
            *rate_with_interval(
                "n_accepted_wrong", "n_accepted_known", "accepted_label_error_rate"
            ),
            *rate_with_interval("n_rework", "n_decided", "rework_rate"),
            *rate_with_interval("n_gold_right", "n_gold", "gold_accuracy"),
            *rate_with_interval(
                "n_programmatic_right", "n_programmatic_known", "programmatic_accuracy"
            ),
            *rate_with_interval("n_precheck_accept", "n_precheck", "precheck_pass_rate"),
            *rate_with_interval("n_overturned", "n_overturn_base", "final_overturn_rate"),
            ratio("cost", "n_accepted").alias("cost_per_accepted_label"),
            pl.col("n_accepted").alias("accepted"),
        )
    )
