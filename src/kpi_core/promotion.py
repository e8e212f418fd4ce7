"""Slice promotion: slices whose accepted-label error stays above target get
specialist review."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from kpi_core.aggregates import Aggregates
from kpi_core.grouping import SLICE, finish_keys, iso_week_label, week_start
from kpi_core.ops import annotation_kpis
from kpi_core.targets import Promotion


def unavailable_reason(aggs: Aggregates) -> str | None:
    """Why no slice can be judged for promotion in ``aggs``; None when slices can be
    (the report and the dashboard both ask this)."""
    if not aggs.ok("annotation_kpi_counts"):
        return "Promotion is not available: annotation_kpi_counts.sql failed (see above)."
    if not aggs.has("reviews"):
        return "Promotion needs reviews; this data has none."
    if aggs.as_of is None:
        return "Promotion needs an as-of time; this data has no timestamp."
    return None


def slice_weeks(kpi_counts: pl.LazyFrame) -> pl.DataFrame:
    """What promotion weighs: the annotation KPIs (accepted-label error rate and its
    counts among them) per slice and ISO week, from ``annotation_kpi_counts`` rows."""
    by = [*SLICE, "week"]
    return finish_keys(annotation_kpis(kpi_counts, by), by).collect()


def promoted_slices(
    slice_weeks: pl.DataFrame, as_of: date, rule: Promotion | None = None
) -> pl.DataFrame:
    """Slices promoted to specialist review at ``as_of``, with the evidence.

    A slice is promoted when in each of the ``rule.weeks`` ISO weeks ending
    with the as-of week its accepted_label_error_rate is above
    ``rule.max_error_rate`` with at least ``rule.min_known`` accepted
    annotations of known truth that week.

    ``slice_weeks`` is :func:`slice_weeks` (or ``kpi_table(..., by=[*SLICE,
    "week"])``, which holds the same columns and more). Returns one
    row per promoted slice with ``weeks``: a list of {week, accepted_label_error_rate,
    ci_low, ci_high, n_accepted_known, n_accepted_wrong}, oldest first.
    """
    rule = rule or Promotion()
    last = week_start(as_of)
    window = [iso_week_label(last - timedelta(weeks=k)) for k in reversed(range(rule.weeks))]
    evidence = slice_weeks.filter(pl.col("week").is_in(window)).with_columns(
        (
            (pl.col("accepted_label_error_rate") > rule.max_error_rate)
            & (pl.col("n_accepted_known") >= rule.min_known)
        ).alias("is_above")
    )
    qualifying = (
        evidence.group_by(list(SLICE))
        .agg(pl.col("is_above").fill_null(False).sum().alias("n_above"))
        .filter(pl.col("n_above") == rule.weeks)
        .select(SLICE)
    )
    week_struct = pl.struct(
        "week",
        "accepted_label_error_rate",
        "accepted_label_error_rate_ci_low",
        "accepted_label_error_rate_ci_high",
        "n_accepted_known",
        "n_accepted_wrong",
    )
    return (
        evidence.join(qualifying, on=list(SLICE), how="semi")
        .sort([*SLICE, "week"])
        .group_by(list(SLICE), maintain_order=True)
        .agg(week_struct.alias("weeks"))
        .sort(list(SLICE))
    )
