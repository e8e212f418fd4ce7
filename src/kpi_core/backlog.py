"""Review backlog and its aging at the as-of time."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kpi_core.grouping import group_keys, rollup

AGE_BUCKETS = {
    "n_age_lt_1d": "< 1 d",
    "n_age_1_3d": "1-3 d",
    "n_age_3_7d": "3-7 d",
    "n_age_gt_7d": "> 7 d",
}


def review_backlog(backlog: pl.LazyFrame, by: Sequence[str] = ()) -> pl.LazyFrame:
    """Annotations submitted at or before as-of with no review at or before it.

    Columns: review_backlog (count), the age buckets of AGE_BUCKETS, and
    review_backlog_oldest_h (as-of minus the oldest waiting submitted_at).
    """
    waiting = backlog.filter(pl.col("stage") == "awaiting_review")
    return rollup(
        waiting,
        by,
        [
            pl.col("n_backlog").sum().alias("review_backlog"),
            *(pl.col(c).sum() for c in AGE_BUCKETS),
            pl.col("oldest_age_h").max().alias("review_backlog_oldest_h"),
        ],
    )


def backlog_by_stage(backlog: pl.LazyFrame, by: Sequence[str] = ()) -> pl.LazyFrame:
    """Waiting annotations per stage (awaiting_review, awaiting_final) and age bucket.

    An annotation awaits a final review when a precheck accepted it at or
    before as-of and no final review came by then.
    """
    return backlog.group_by(["stage", *group_keys(by)]).agg(
        pl.col("n_backlog").sum(),
        *(pl.col(c).sum() for c in AGE_BUCKETS),
        pl.col("oldest_age_h").max(),
    )
