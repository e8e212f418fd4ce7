"""Which KPIs are off target, where, and since when: the attention list.

A KPI's value over a whole period can sit within target while every one of its
latest weeks breaches (an average over many good weeks hides a bad run), so
both are judged: the period, and the run of breaching weeks that goes on in
the latest week.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from kpi_core.targets import Targets

#: KPIs that are a state at the as-of time (what waits now, what is covered now), not a
#: measure of each week: a week's share of the backlog is not held to the backlog's target.
AS_OF_STATES = frozenset({"review_backlog", "review_backlog_oldest_h", "domain_coverage"})


def breach_since(
    weeks: pl.DataFrame,
    targets: Targets,
    kpis: Sequence[str],
    domain_weeks: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Since which ISO week each KPI breaches its target without a break.

    ``weeks`` is ``kpi_table(by=["week"])``; ``domain_weeks``, if given,
    ``kpi_table(by=["domain", "week"])``. For each scope ("all", or a domain, with
    its domain's target) and KPI, ``since`` is the first week of the run of
    breaching weeks that ends at the scope's latest week with a value (weeks
    without a value neither break nor extend a run); ``latest_week`` and
    ``latest_value`` are that latest week and the KPI in it, ``latest_ci_low`` and
    ``latest_ci_high`` its 95% interval where the KPI has one. No row when that
    latest week does not breach: the KPI is not off target *now*; none for the
    :data:`AS_OF_STATES`. Columns: scope, kpi, since, latest_week, latest_value,
    latest_ci_low, latest_ci_high.
    """
    frames = [(weeks, False)] + ([(domain_weeks, True)] if domain_weeks is not None else [])
    parts = [
        _breach_since(frame, targets, kpi, by_domain)
        for frame, by_domain in frames
        for kpi in kpis
        if targets.rule(kpi) is not None and kpi in frame.columns and kpi not in AS_OF_STATES
    ]
    return pl.concat(parts) if parts else pl.DataFrame(schema=_BREACH_SINCE_SCHEMA)


_BREACH_SINCE_SCHEMA = {
    "scope": pl.String,
    "kpi": pl.String,
    "since": pl.String,
    "latest_week": pl.String,
    "latest_value": pl.Float64,
    "latest_ci_low": pl.Float64,
    "latest_ci_high": pl.Float64,
}


def _breach_since(
    weekly: pl.DataFrame, targets: Targets, kpi: str, by_domain: bool
) -> pl.DataFrame:
    scope = pl.col("domain") if by_domain else pl.lit("all")
    status = targets.status_expr(kpi, "domain" if by_domain else None)
    # The latest week's interval, where the KPI has one: a breach of one label is weak news.
    ci = [
        (pl.col(f"{kpi}_ci_{end}") if f"{kpi}_ci_{end}" in weekly.columns else pl.lit(None))
        .cast(pl.Float64)
        .alias(f"ci_{end}")
        for end in ("low", "high")
    ]
    weeks = weekly.select(
        scope.alias("scope"), "week", pl.col(kpi).alias("value"), status.alias("status"), *ci
    ).drop_nulls(["scope", "week", "value", "status"])
    breach = pl.col("status") == "breach"
    last_fine = weeks.group_by("scope").agg(pl.col("week").filter(~breach).max().alias("fine"))
    return (
        weeks.join(last_fine, on="scope")
        .filter(breach & (pl.col("fine").is_null() | (pl.col("week") > pl.col("fine"))))
        .sort("week")
        .group_by("scope")
        .agg(
            pl.col("week").first().alias("since"),
            pl.col("week").last().alias("latest_week"),
            pl.col("value").last().alias("latest_value"),
            pl.col("ci_low").last().alias("latest_ci_low"),
            pl.col("ci_high").last().alias("latest_ci_high"),
        )
        .select(
            "scope",
            pl.lit(kpi).alias("kpi"),
            "since",
            "latest_week",
            "latest_value",
            "latest_ci_low",
            "latest_ci_high",
        )
        .cast(_BREACH_SINCE_SCHEMA)
    )


def attention(
    overall: Mapping[str, float | None],
    by_domain: pl.DataFrame,
    targets: Targets,
    kpis: Sequence[str],
    since: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every KPI off target, overall and per domain (with its domain's target):
    over the whole period, or in every week of a run that goes on in the latest week.

    ``since`` is a :func:`breach_since` frame; without it only the period is
    judged. Columns: scope ("all" or the domain), kpi, value (over the period),
    status (the period's: a KPI breaching only in its latest weeks may be ok or
    warn over the period), target, and since, latest_week, latest_value (null
    when the breach does not go on in the latest week). Worst first: overall
    before domains, then in ``kpis`` order.
    """
    since = since if since is not None else pl.DataFrame(schema=_BREACH_SINCE_SCHEMA)
    ongoing = set(since.select("scope", "kpi").iter_rows())
    judged = [(kpi, targets.rule(kpi)) for kpi in kpis]
    scoped = [
        ("all", kpi, overall.get(kpi), targets.status(kpi, overall.get(kpi)), rule["target"])
        for kpi, rule in judged
        if rule is not None
    ] + [
        (
            domain,
            kpi,
            value,
            targets.status(kpi, value, domain),
            targets.rule(kpi, domain)["target"],
        )
        for kpi, rule in judged
        if rule is not None and kpi in by_domain.columns
        for domain, value in by_domain.select("domain", kpi).rows()
    ]
    rows = [row for row in scoped if row[3] == "breach" or (row[0], row[1]) in ongoing]
    listed = pl.DataFrame(
        rows,
        schema={
            "scope": pl.String,
            "kpi": pl.String,
            "value": pl.Float64,
            "status": pl.String,
            "target": pl.Float64,
        },
        orient="row",
    )
    return listed.join(since, on=["scope", "kpi"], how="left", maintain_order="left")
