"""Domain coverage: how far each target slice is from its accepted-item target."""

from __future__ import annotations

import polars as pl


def coverage_overall(coverage: pl.DataFrame) -> float | None:
    """The share of target slices at full coverage (domain_coverage == 1); null without targets."""
    if coverage.height == 0:
        return None
    return coverage.select((pl.col("domain_coverage") >= 1).mean()).item()
