"""Fetch the aggregates every KPI is computed from: the only data that leaves DuckDB.

One call runs each query of ``queries/`` once over a data directory; the KPI
modules then compute any grouping and filter from these frames in polars,
without going back to the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from kpi_core import queries
from kpi_core.loading import Dataset

#: Query name -> the tables whose absence makes its KPIs "not available".
QUERY_NEEDS: dict[str, tuple[str, ...]] = {
    "annotation_kpi_counts": (),
    "item_label_counts": (),
    "specialist_review_times": ("reviews",),
    "turnaround_hours": ("reviews",),
    "review_backlog": ("reviews",),
    "domain_coverage": ("reviews", "targets"),
    "defect_durations": ("defects",),
    "model_lift": ("benchmarks",),
}
_TAKES_AS_OF = {"review_backlog", "defect_durations"}


@dataclass(frozen=True)
class Aggregates:
    """The query results a data directory's KPIs are computed from."""

    as_of: datetime | None
    present: frozenset[str]
    frames: dict[str, pl.DataFrame]

    def __getitem__(self, name: str) -> pl.LazyFrame:
        return self.frames[name].lazy()

    def has(self, *tables: str) -> bool:
        """Whether every table in ``tables`` was in the data directory."""
        return all(t in self.present for t in tables)


def data_as_of(dataset: Dataset) -> datetime | None:
    """The latest timestamp in any timestamp column of any table."""
    return queries.run(dataset.con, "data_as_of").item(0, "as_of")


def fetch(
    dataset: Dataset,
    *,
    as_of: datetime | None = None,
    on_step: Callable[[str], None] | None = None,
) -> Aggregates:
    """Run every KPI query over ``dataset`` and keep the results.

    ``as_of`` defaults to the latest timestamp in the data; ``on_step`` is told
    the name of each query before it runs (for a progress bar).
    """
    if on_step:
        on_step("annotation_facts")
    queries.register_models(dataset.con, materialize=True)
    as_of = as_of or data_as_of(dataset)
    frames = {}
    for name in QUERY_NEEDS:
        if on_step:
            on_step(name)
        params = {"as_of": as_of} if name in _TAKES_AS_OF else {}
        frames[name] = queries.run(dataset.con, name, **params)
    return Aggregates(as_of=as_of, present=dataset.present, frames=frames)
