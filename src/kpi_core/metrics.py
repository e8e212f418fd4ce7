"""One table of every KPI for any grouping: the entry point pages and reports call."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from kpi_core.agreement import AGREEMENT_COLUMNS, Level, agreement_kpis
from kpi_core.aggregates import Aggregates
from kpi_core.backlog import AGE_BUCKETS, review_backlog
from kpi_core.catalog import KPIS
from kpi_core.durations import specialist_review_time, turnaround
from kpi_core.grouping import Filters, finish_keys, group_keys
from kpi_core.ops import annotation_kpis

#: Counts that are 0, not null, for an empty group (when their table exists).
_ZERO_FOR_EMPTY = ("accepted", "review_backlog", *AGE_BUCKETS)


def _filtered(aggs: Aggregates, name: str, filters: Filters) -> pl.LazyFrame:
    frame = aggs[name]
    return frame.filter(filters.predicate(frame.collect_schema().names()))


def kpi_table(
    aggs: Aggregates,
    by: Sequence[str] = (),
    filters: Filters | None = None,
    *,
    level: Level = "nominal",
) -> pl.DataFrame:
    """Every KPI of kpis.md per group of ``by`` (one row overall when empty).

    ``by`` takes any of grouping.DIMENSIONS; ``week`` comes out as
    ``YYYY-Www``. A group appears when any of its KPIs has data. Rates are
    null where their denominator is 0, and every KPI whose table is absent
    is null; the counts accepted and review_backlog are 0 for an empty group.
    """
    filters = filters or Filters()
    keys = group_keys(by)
    parts = [
        annotation_kpis(_filtered(aggs, "annotation_kpi_counts", filters), by),
        specialist_review_time(_filtered(aggs, "specialist_review_times", filters), by),
        turnaround(_filtered(aggs, "turnaround_hours", filters), by),
        review_backlog(_filtered(aggs, "review_backlog", filters), by),
    ]
    if "annotator_id" not in by:
        parts.append(
            agreement_kpis(_filtered(aggs, "item_label_counts", filters), by, level=level)
        )
    collected = pl.collect_all(parts)
    if keys:
        table = pl.concat([p.select(keys) for p in collected]).unique()
        for part in collected:
            table = table.join(part, on=keys, how="left", nulls_equal=True)
        table = table.sort(keys, nulls_last=True)
    else:
        # A part with no rows still owes the overall row its (null) columns.
        table = pl.concat(
            [p if p.height else pl.DataFrame([None] * p.width, schema=p.schema) for p in collected],
            how="horizontal",
        )
    for column in AGREEMENT_COLUMNS:
        if column not in table.columns:
            table = table.with_columns(pl.lit(None, pl.Float64).alias(column))
    table = table.with_columns(pl.col(c).fill_null(0) for c in _ZERO_FOR_EMPTY)
    for kpi in KPIS.values():
        if not aggs.has(*kpi.needs):
            nulls = [kpi.name, *([f"{kpi.name}_ci_low", f"{kpi.name}_ci_high"] if kpi.has_interval else [])]
            table = table.with_columns(pl.lit(None, pl.Float64).alias(c) for c in nulls)
    if not aggs.has("reviews"):
        table = table.with_columns(pl.lit(None, pl.Int64).alias(c) for c in AGE_BUCKETS)
    return finish_keys(table.lazy(), by).collect()
