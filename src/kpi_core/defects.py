"""Data-defect turnaround: how fast incidents are resolved, and what is still open."""

from __future__ import annotations

import polars as pl

from kpi_core.contract import SEVERITIES
from kpi_core.stats import weighted_quantiles
from kpi_core.targets import Targets

#: The target defect turnaround is judged by (median hours, in targets.toml).
TARGET = "defect_turnaround_h"


def defect_turnaround(defects: pl.LazyFrame) -> pl.DataFrame:
    """Per severity: median hours from opened_at to resolved_at over resolved
    defects, how many are resolved and open, and the oldest open age in hours.
    Every severity of the contract gets a row, empty ones with counts 0.
    """
    medians = weighted_quantiles(
        defects.with_columns(pl.lit(1).alias("n")),
        ["severity"],
        "resolution_h",
        "n",
        {"median_resolution_h": 0.5},
    )
    counts = defects.group_by("severity").agg(
        (~pl.col("is_open")).sum().alias("n_resolved"),
        pl.col("is_open").sum().alias("n_open"),
        pl.col("age_h").max().alias("oldest_open_age_h"),
    )
    every = pl.LazyFrame({"severity": list(SEVERITIES)})
    return (
        every.join(counts, on="severity", how="left", maintain_order="left")
        .join(medians, on="severity", how="left", maintain_order="left")
        .with_columns(pl.col("n_resolved", "n_open").fill_null(0).cast(pl.Int64))
        .sort("severity")
        .collect()
    )


def open_past(defects: pl.LazyFrame, hours: float) -> pl.DataFrame:
    """Per severity: the defects still open at the as-of time that have been open
    longer than ``hours`` (a turnaround target a resolved median cannot show
    breaking while the defect is still open). Every severity of the contract gets
    a row. Columns: severity, n_open_past.
    """
    past = (
        defects.filter(pl.col("is_open") & (pl.col("age_h") > hours))
        .group_by("severity")
        .agg(pl.len().alias("n_open_past"))
    )
    return (
        pl.LazyFrame({"severity": list(SEVERITIES)})
        .join(past, on="severity", how="left", maintain_order="left")
        .with_columns(pl.col("n_open_past").fill_null(0).cast(pl.Int64))
        .collect()
    )


def against_target(
    turnaround: pl.DataFrame, defects: pl.DataFrame, targets: Targets
) -> pl.DataFrame:
    """Per severity of ``turnaround`` (:func:`defect_turnaround`'s rows, of ``defects``):
    its median's ``status`` against the defect turnaround target, and ``n_open_past``,
    the defects still open longer than that target (a breach a resolved median cannot
    show yet). Without a target, status is null and n_open_past 0. Columns: severity,
    median_resolution_h, status, n_open_past.
    """
    rule = targets.rule(TARGET)
    past = (
        open_past(defects.lazy(), rule["target"])
        if rule is not None
        else pl.DataFrame({"severity": list(SEVERITIES), "n_open_past": [0] * len(SEVERITIES)})
    )
    medians = turnaround.select("severity", "median_resolution_h")
    status = [targets.status(TARGET, median) for median in medians["median_resolution_h"]]
    return (
        medians.with_columns(pl.Series("status", status, pl.String))
        .join(past, on="severity", how="left", maintain_order="left")
        .with_columns(pl.col("n_open_past").fill_null(0))
    )
