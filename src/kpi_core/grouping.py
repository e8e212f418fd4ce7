"""Groupings and filters shared by every KPI module.

Every aggregate frame carries the same dimension columns, so one rule decides
how any of them is filtered and rolled up. ``week`` is an ISO week written
``YYYY-Www`` (Monday start, UTC); frames carry it as ``week_start`` (a date).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

#: The dimensions a KPI can be grouped by.
DIMENSIONS = (
    "domain",
    "difficulty",
    "risk_class",
    "dataset_version",
    "vendor",
    "tier",
    "annotator_id",
    "week",
)
SLICE = ("domain", "difficulty", "risk_class")


@dataclass(frozen=True)
class Filters:
    """What the user narrowed the view to; an empty tuple or None means all.

    ``date_from``/``date_to`` keep the ISO weeks that overlap the range (rows
    are bucketed by week, so the filter works in whole weeks).
    """

    date_from: date | None = None
    date_to: date | None = None
    domains: tuple[str, ...] = ()
    vendors: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    dataset_versions: tuple[str, ...] = ()

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """``frame`` narrowed by whichever of the filter's columns it has."""
        return frame.filter(self.predicate(frame.collect_schema().names()))

    def predicate(self, columns: Sequence[str]) -> pl.Expr:
        """The filter as one expression over whichever of its columns a frame has."""
        conditions = [pl.lit(True)]
        for column, allowed in (
            ("domain", self.domains),
            ("vendor", self.vendors),
            ("tier", self.tiers),
            ("dataset_version", self.dataset_versions),
        ):
            if allowed and column in columns:
                conditions.append(pl.col(column).is_in(list(allowed)))
        if "week_start" in columns:
            if self.date_from is not None:
                conditions.append(pl.col("week_start") >= week_start(self.date_from))
            if self.date_to is not None:
                conditions.append(pl.col("week_start") <= self.date_to)
        return pl.all_horizontal(conditions)


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


def iso_week_label(day: date) -> str:
    """``YYYY-Www`` (ISO year and week) of a date."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def iso_week_start(label: str) -> date:
    """The Monday of ISO week ``YYYY-Www`` (the inverse of :func:`iso_week_label`)."""
    year, week = label.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


def iso_week(column: str = "week_start") -> pl.Expr:
    """``YYYY-Www`` (ISO year and week) of a date column."""
    return pl.col(column).dt.strftime("%G-W%V")


def group_keys(by: Sequence[str]) -> list[str]:
    """The frame columns that realise grouping ``by`` (``week`` lives in ``week_start``)."""
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"cannot group by {unknown}; choose from {', '.join(DIMENSIONS)}")
    return ["week_start" if d == "week" else d for d in by]


def rollup(frame: pl.LazyFrame, by: Sequence[str], aggs: Sequence[pl.Expr]) -> pl.LazyFrame:
    """Aggregate ``frame`` to grouping ``by`` (the whole frame when ``by`` is empty)."""
    keys = group_keys(by)
    if keys:
        return frame.group_by(keys).agg(aggs)
    return frame.select(aggs)


def finish_keys(frame: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """Replace ``week_start`` by the ISO ``week`` label when grouping by week."""
    if "week" in by:
        frame = frame.with_columns(iso_week().alias("week")).drop("week_start")
    return frame
