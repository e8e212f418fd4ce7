"""Fetch the aggregates every KPI is computed from: the only data that leaves DuckDB.

One call runs each query of ``queries/`` once over a data directory; the KPI
modules then compute any grouping and filter from these frames in polars,
without going back to the database.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import polars as pl

from kpi_core import queries
from kpi_core.coverage import NEEDS as COVERAGE_NEEDS
from kpi_core.loading import Dataset
from kpi_core.problems import QueryError

T = TypeVar("T")

#: Query name -> the tables whose absence makes its KPIs "not available".
QUERY_NEEDS: dict[str, tuple[str, ...]] = {
    "annotation_kpi_counts": (),
    "item_label_counts": (),
    "agreement_marginals": (),
    "item_slices": (),
    "specialist_review_times": ("reviews",),
    "turnaround_hours": ("reviews",),
    "specialist_review_time_quantiles": ("reviews",),
    "turnaround_quantiles": ("reviews",),
    "review_backlog": ("reviews",),
    "oldest_waiting_annotations": ("reviews",),
    "domain_coverage": COVERAGE_NEEDS,
    "defect_durations": ("defects",),
    "model_lift": ("benchmarks",),
    "spaced_values": (),
}

#: What only the report fetches: statistics the database computes for the report's
#: groupings, where the dashboard needs finer frames for its free groupings and filters.
_REPORT_ONLY = ("agreement_marginals", "specialist_review_time_quantiles", "turnaround_quantiles")

#: What the dashboard fetches: tables at the finest grain, from which polars computes
#: any grouping under any filter (durations as frequency tables, for exact quantiles).
DASHBOARD_QUERIES = tuple(q for q in QUERY_NEEDS if q not in _REPORT_ONLY)


def report_queries(level: str = "nominal") -> tuple[str, ...]:
    """What ``kpi report`` fetches: the same counts, but the durations' quantiles
    and (at the nominal level) agreement's per-label sums already computed in the
    database for the report's groupings, instead of the frequency tables and the
    per-item label counts, the largest frames by far on big data. The other levels
    read the labels as numbers, item by item."""
    agreement = "agreement_marginals" if level == "nominal" else "item_label_counts"
    return (
        "annotation_kpi_counts",
        agreement,
        "specialist_review_time_quantiles",
        "turnaround_quantiles",
        "review_backlog",
        "domain_coverage",
        "defect_durations",
        "model_lift",
        "item_slices",
        "spaced_values",
    )


@dataclass(frozen=True)
class Aggregates:
    """The query results a data directory's KPIs are computed from."""

    as_of: datetime | None
    present: frozenset[str]
    frames: dict[str, pl.DataFrame]
    errors: dict[str, QueryError] = field(default_factory=dict)
    #: Whether the annotation counts keep vendor, tier, annotator and dataset
    #: version (the dashboard's grain), or slice and week alone (the report's).
    by_annotator: bool = True
    #: Models (queries/models/) that could not be created, by name: a query reading
    #: one is not run, and fails with that model's error.
    failed_models: dict[str, QueryError] = field(default_factory=dict)
    _derived: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    def __getitem__(self, name: str) -> pl.LazyFrame:
        return self.frames[name].lazy()

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, run once per ``key`` for these aggregates: for what several
        KPI tables start from alike (the frames never change, so neither does it)."""
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]

    def ok(self, *names: str) -> bool:
        """Whether the queries ``names`` ran (a broken query file leaves a gap, not a crash)."""
        return all(n in self.frames for n in names)

    def has(self, *tables: str) -> bool:
        """Whether every table in ``tables`` was in the data directory."""
        return all(t in self.present for t in tables)


def data_as_of(dataset: Dataset) -> datetime | None:
    """The latest timestamp in any timestamp column of any table."""
    return queries.run(dataset.con, "data_as_of").item(0, "as_of")


#: The model every KPI is counted from.
FACTS = "annotation_facts"


def _facts_error(dataset: Dataset) -> QueryError | None:
    """On data that passed every rule, cross-table ones included, any count of
    ``cross_table_integrity.sql`` other than 0 is the facts model's doing: its error."""
    counts = queries.run(dataset.con, "cross_table_integrity").row(0, named=True)
    wrong = [f"{name} is {n}" for name, n in counts.items() if n]
    if not wrong:
        return None
    return QueryError(
        str(queries.load(FACTS).path),
        f"on data that passes validation, {', '.join(wrong)} (queries/cross_table_integrity.sql): "
        "the model must hold one row per annotation and count every review and audit "
        "(a join that repeats rows?)",
    )


def fetch(
    dataset: Dataset,
    *,
    as_of: datetime | None = None,
    on_step: Callable[[str], None] | None = None,
    names: Sequence[str] = DASHBOARD_QUERIES,
    by_annotator: bool = True,
    validated: bool = False,
) -> Aggregates:
    """Run the KPI queries ``names`` over ``dataset`` and keep the results.

    ``as_of`` defaults to the latest timestamp in the data; ``on_step`` is told
    the name of each query before it runs (for a progress bar). Each query is
    bound the parameters it declares among ``as_of`` and ``by_annotator``
    (False: counts per slice and week alone, enough for the report). A query
    that fails, or whose result differs from its ``Output:`` header, is kept in
    ``errors`` (its file, line and the reason) and the others still run, so one
    broken file only blanks the KPIs that need it. ``validated``: the data passed
    every rule, cross-table ones included, so the facts model is judged by
    ``cross_table_integrity.sql`` too (:func:`_facts_error`), and fails when it
    repeats or drops rows.
    """
    if on_step:
        on_step("annotation_facts")
    errors: dict[str, QueryError] = {}
    failed = queries.register_available_models(dataset.con, materialize=True)
    if validated and FACTS not in failed:
        try:
            wrong = _facts_error(dataset)
        except QueryError as error:
            errors["cross_table_integrity"] = error
        else:
            if wrong is not None:
                # Its readers fail with it, the models among them too: no page shows a
                # number counted from rows the model repeats or drops.
                failed[FACTS] = wrong
                for path in queries.model_paths():
                    model = queries.load(path.stem)
                    if queries.reads(model, FACTS):
                        failed.setdefault(model.name, wrong)
    if as_of is None:
        try:
            as_of = data_as_of(dataset)
        except QueryError as error:
            errors.setdefault("data_as_of", error)
    frames = {}
    values = {"as_of": as_of, "by_annotator": by_annotator}
    for name in names:
        if name in errors:
            continue
        if on_step:
            on_step(name)
        try:
            query = queries.load(name)
            # A query reading a failed model fails with the model's error: the file to fix.
            broken = queries.failed_model_read(query, failed)
            if broken is not None:
                raise broken
            if "as_of" in query.parameters and as_of is None and "data_as_of" in errors:
                # Judged as of no time at all, a backlog would read 0: n/a, and why.
                raise errors["data_as_of"]
            params = {p: values[p] for p in query.parameters if p in values}
            # (a result unlike its header fails here, naming the file: see queries.run)
            frames[name] = queries.run(dataset.con, name, **params)
        except QueryError as error:
            errors[name] = error
    return Aggregates(
        as_of=as_of,
        present=dataset.present,
        frames=frames,
        errors=errors,
        by_annotator=by_annotator,
        failed_models=failed,
    )
