"""Domain coverage: how far each target slice is from its accepted-item target."""

from __future__ import annotations

import polars as pl

#: The tables coverage needs: the targets, and reviews, which make a label accepted.
#: Without either it is not available, never 0 (a breach on every target slice).
NEEDS = ("targets", "reviews")


def coverage_overall(coverage: pl.DataFrame) -> float | None:
    """The share of target slices at full coverage (domain_coverage == 1); null without targets."""
    if coverage.height == 0:
        return None
    return coverage.select((pl.col("domain_coverage") >= 1).mean()).item()


#: A target slice's coverage as tables show it, in reading order.
GAP_COLUMNS = (
    "domain",
    "difficulty",
    "risk_class",
    "target_accepted_items",
    "n_accepted_items",
    "missing_items",
    "domain_coverage",
)


def coverage_gaps(coverage: pl.DataFrame) -> pl.DataFrame:
    """Each target slice of ``domain_coverage.sql`` with the accepted items it lacks,
    least covered first (then by domain, difficulty, risk class; an empty
    difficulty or risk class, which matches any, first).

    Adds ``missing_items`` = max(0, target_accepted_items - n_accepted_items) and
    ``met`` = domain_coverage >= 1.
    """
    return coverage.with_columns(
        (pl.col("target_accepted_items") - pl.col("n_accepted_items"))
        .clip(lower_bound=0)
        .alias("missing_items"),
        (pl.col("domain_coverage") >= 1).alias("met"),
    ).sort(
        "domain_coverage",
        "domain",
        "difficulty",
        "risk_class",
        nulls_last=[False, False, False, False],
        maintain_order=True,
    )
