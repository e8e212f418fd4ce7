"""One table of every KPI for any grouping: the entry point pages and reports call."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from kpi_core.aggregates import Aggregates
from kpi_core.agreement import (
    AGREEMENT_COLUMNS,
    ITEM_DIMENSIONS,
    Level,
    agreement_from_stats,
    agreement_kpis,
    agreement_stats,
    require_numeric_labels,
    stats_from_marginals,
)
from kpi_core.backlog import AGE_BUCKETS, review_backlog
from kpi_core.catalog import KPIS, Kpi
from kpi_core.durations import precomputed_quantiles, specialist_review_time, turnaround
from kpi_core.grouping import SLICE, Filters, finish_keys, group_keys
from kpi_core.ops import COUNT_COLUMNS, REVIEW_COUNTS, annotation_kpis


def _columns(kpi: Kpi) -> tuple[str, ...]:
    """A KPI's column and, for rates with an interval, its bounds."""
    bounds = (f"{kpi.name}_ci_low", f"{kpi.name}_ci_high") if kpi.has_interval else ()
    return (kpi.name, *bounds)


#: Every KPI column, so a table has the same columns whichever queries failed.
ALL_COLUMNS = tuple(c for k in KPIS.values() for c in _columns(k))

#: Counts that are 0, not null, for an empty group, by the query that counts them
#: (when that query failed they stay null: not available, never 0).
_ZERO_FOR_EMPTY = {
    "annotation_kpi_counts": ("accepted", *COUNT_COLUMNS),
    "review_backlog": ("review_backlog", *AGE_BUCKETS),
}

#: The agreement counts, 0 for a group with no item of two or more annotators.
_AGREEMENT_COUNTS = tuple(c for c in AGREEMENT_COLUMNS if c.startswith("n_"))


#: How one query's frame becomes KPI columns for the grouping at hand.
Builder = Callable[[pl.LazyFrame], pl.LazyFrame]


def _duration_builders(aggs: Aggregates, by: Sequence[str], filters: Filters) -> dict[str, Builder]:
    """How the time KPIs are computed: from frequency tables when fetched (any
    grouping and filter), else from quantiles the database computed (the report's)."""
    builders: dict[str, Builder] = {}
    for table, quantiles, kpi in (
        ("specialist_review_times", "specialist_review_time_quantiles", specialist_review_time),
        ("turnaround_hours", "turnaround_quantiles", turnaround),
    ):
        if aggs.ok(table) or not aggs.ok(quantiles):
            builders[table] = lambda f, kpi=kpi: kpi(f, by)
        elif filters == Filters():
            builders[quantiles] = lambda f: precomputed_quantiles(f, by)
        else:
            raise ValueError(f"{quantiles} covers all the data; fetch {table} to filter")
    return builders


def _agreement(aggs: Aggregates, by: Sequence[str], filters: Filters, level: Level) -> pl.LazyFrame:
    """Agreement KPIs; by item dimensions at the nominal level, rolled up from
    per-item statistics made once per choice of vendors and tiers (most
    dashboard views share one pass over the items), or, with no vendor or tier
    to filter, from the statistics the database made (the report fetches
    ``agreement_marginals`` instead of the per-item label counts)."""
    if level == "nominal" and set(by) <= set(ITEM_DIMENSIONS):
        annotators = Filters(vendors=filters.vendors, tiers=filters.tiers)
        if annotators == Filters() and aggs.ok("agreement_marginals"):
            stats = aggs.derived(
                "agreement_marginals",
                lambda: stats_from_marginals(aggs.frames["agreement_marginals"]),
            )
        else:
            stats = aggs.derived(
                ("agreement_stats", annotators),
                lambda: agreement_stats(annotators.apply(aggs["item_label_counts"])),
            )
        return agreement_from_stats(stats, by, filters)
    return agreement_kpis(filters.apply(aggs["item_label_counts"]), by, level=level)


def kpi_table(
    aggs: Aggregates,
    by: Sequence[str] = (),
    filters: Filters | None = None,
    *,
    level: Level = "nominal",
) -> pl.DataFrame:
    """Every KPI of kpis.md per group of ``by`` (one row overall when empty).

    ``by`` takes any of grouping.DIMENSIONS; ``week`` comes out as
    ``YYYY-Www``. A group appears when any of its KPIs has data, and every slice
    (or domain) of the items does, labelled or not (item_slices.sql). Rates are
    null where their denominator is 0, and every KPI whose table is absent
    is null; counts (accepted, review_backlog, the n_ columns, cost) are 0 for an
    empty group, and so is a week's throughput.
    """
    filters = filters or Filters()
    keys = group_keys(by)
    if not aggs.by_annotator and (filters != Filters() or not set(by) <= {*SLICE, "week"}):
        raise ValueError("past slice and week, fetch the aggregates with by_annotator=True")
    builders: dict[str, Builder] = {
        "annotation_kpi_counts": lambda f: annotation_kpis(f, by),
        "review_backlog": lambda f: review_backlog(f, by),
        **_duration_builders(aggs, by, filters),
    }
    if aggs.ok("item_label_counts"):
        require_numeric_labels(aggs["item_label_counts"], level)
    # A query that failed leaves its KPIs null; aggs.errors says why.
    parts = [build(filters.apply(aggs[name])) for name, build in builders.items() if aggs.ok(name)]
    with_agreement = "annotator_id" not in by and (
        aggs.ok("item_label_counts") or aggs.ok("agreement_marginals")
    )
    if with_agreement:
        parts.append(_agreement(aggs, by, filters, level))
    collected = pl.collect_all(parts)
    if not collected:
        # Every query failed (a broken annotation_facts model): no group has data, and
        # the overall row is all null; aggs.errors says why.
        types = {k: pl.Date if k == "week_start" else pl.String for k in keys}
        table = pl.DataFrame(schema=types) if keys else pl.DataFrame({"n_annotations": [None]})
    elif keys:
        groups = [p.select(keys) for p in collected]
        if set(keys) <= set(SLICE) and aggs.ok("item_slices"):
            # a slice, or domain, whose items nobody labelled yet: counts 0, rates n/a
            groups.append(filters.apply(aggs["item_slices"]).select(keys).collect())
        table = pl.concat(groups).unique()
        for part in collected:
            table = table.join(part, on=keys, how="left", nulls_equal=True)
        table = table.sort(keys, nulls_last=True)
    else:
        # A part with no rows still owes the overall row its (null) columns.
        table = pl.concat(
            [
                p if p.height else pl.DataFrame({c: [None] for c in p.columns}, schema=p.schema)
                for p in collected
            ],
            how="horizontal",
        )
    for column in (*AGREEMENT_COLUMNS, *ALL_COLUMNS):
        if column not in table.columns and column not in keys:
            table = table.with_columns(pl.lit(None, pl.Float64).alias(column))
    zero_for_empty = [c for q, counts in _ZERO_FOR_EMPTY.items() if aggs.ok(q) for c in counts]
    if with_agreement:
        zero_for_empty += _AGREEMENT_COUNTS
    if "week" in by and aggs.ok("annotation_kpi_counts"):
        # A week's throughput is its accepted count: 0 in a week that only reviews reach.
        zero_for_empty.append("throughput")
    table = table.with_columns(pl.col(c).fill_null(0) for c in zero_for_empty)
    for kpi in KPIS.values():
        if not aggs.has(*kpi.needs):
            table = table.with_columns(pl.lit(None, pl.Float64).alias(c) for c in _columns(kpi))
    if not aggs.has("reviews"):
        table = table.with_columns(
            pl.lit(None, pl.Int64).alias(c) for c in (*AGE_BUCKETS, *REVIEW_COUNTS)
        )
    table = finish_keys(table.lazy(), by).collect()
    return table.select(*by, pl.exclude(*by)) if by else table
