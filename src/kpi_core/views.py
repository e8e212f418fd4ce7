"""Small, pure reshapings of KPI tables and aggregates for the dashboard's views.

Each function takes frames that :func:`kpi_core.metrics.kpi_table` or
:func:`kpi_core.aggregates.fetch` produce and returns a small frame a chart or
a table shows as it is. None of them reads files or imports Streamlit, so every
number the dashboard shows can be checked here, without a browser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from kpi_core import queries
from kpi_core.aggregates import Aggregates
from kpi_core.agreement import Level, unit_label_counts
from kpi_core.backlog import AGE_BUCKETS
from kpi_core.catalog import KPIS
from kpi_core.coverage import NEEDS as COVERAGE_NEEDS
from kpi_core.files import sql_identifier
from kpi_core.grouping import SLICE, Filters, iso_week
from kpi_core.outputs import held_to_header, repeated_key_error
from kpi_core.reliability import BOOTSTRAP_DRAWS, bootstrap_alpha
from kpi_core.targets import Targets

#: Order of the ordered dimensions (anything else sorts after, alphabetically).
ORDER: dict[str, tuple[str, ...]] = {
    "difficulty": ("easy", "medium", "hard", "unknown"),
    "risk_class": ("low", "medium", "high", "unknown"),
}


def ordered(values: Sequence[str | None], dimension: str) -> list[str | None]:
    """``values`` without repeats, in the dimension's natural order (easy < medium < hard)."""
    known = ORDER.get(dimension, ())
    unique = list(dict.fromkeys(values))
    rank = {v: i for i, v in enumerate(known)}
    return sorted(unique, key=lambda v: (rank.get(v, len(known)), v is None, v or ""))


# --------------------------------------------------------------------- weekly change


@dataclass(frozen=True)
class WeekChange:
    """A KPI in the last two ISO weeks of a table and the change between them.

    ``change = last - previous``; None when either is None (or there are fewer
    than two weeks).
    """

    last_week: str | None
    last: float | None
    previous_week: str | None
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.last is None or self.previous is None:
            return None
        return self.last - self.previous


def week_over_week(weeks: pl.DataFrame, kpi: str) -> WeekChange:
    """``kpi`` in the latest ISO week of ``weeks`` (``kpi_table(by=["week"])``) and the week before.

    The weeks are the last two rows in week order, whatever their values: a
    week where the KPI is not available gives None, never a change against an
    older week.
    """
    rows = weeks.sort("week").tail(2).select("week", kpi).rows()
    if not rows:
        return WeekChange(None, None, None, None)
    if len(rows) == 1:
        return WeekChange(rows[0][0], _finite(rows[0][1]), None, None)
    (prev_week, prev), (last_week, last) = rows
    return WeekChange(last_week, _finite(last), prev_week, _finite(prev))


def _finite(value: float | None) -> float | None:
    return None if value is None or value != value else value


def trend(weeks: pl.DataFrame, kpi: str, last: int = 12) -> pl.DataFrame:
    """The last ``last`` ISO weeks of ``kpi`` (and its interval, when it has one)."""
    columns = ["week", kpi]
    if f"{kpi}_ci_low" in weeks.columns:
        columns += [f"{kpi}_ci_low", f"{kpi}_ci_high"]
    return weeks.sort("week").tail(last).select(columns)


# --------------------------------------------------------------------------- slices


def slice_label(domain: str | None, difficulty: str | None, risk_class: str | None) -> str:
    """A slice as people read it: ``medicine / hard / high``."""
    return " / ".join(str(v) for v in (domain, difficulty, risk_class))


def parse_slice(text: str | None) -> dict[str, str] | None:
    """The inverse of :func:`slice_label` (None for anything that is not three parts)."""
    parts = [p.strip() for p in (text or "").split("/")]
    if len(parts) != 3 or not all(parts):
        return None
    return dict(zip(SLICE, parts, strict=True))


def slice_grid(slices: pl.DataFrame, kpi: str) -> pl.DataFrame:
    """A heatmap grid of ``kpi`` per slice: one row per (domain, difficulty), one
    column per risk class, in natural order; a missing slice is null.

    ``slices`` is ``kpi_table(by=SLICE)``. Columns: ``row`` (``domain / difficulty``),
    ``domain``, ``difficulty`` and one column per risk class.
    """
    risks = ordered(slices["risk_class"].to_list(), "risk_class")
    rows = [
        (d, f)
        for d in ordered(slices["domain"].to_list(), "domain")
        for f in ordered(slices.filter(pl.col("domain") == d)["difficulty"].to_list(), "difficulty")
    ]
    frame = pl.DataFrame(
        {"domain": [r[0] for r in rows], "difficulty": [r[1] for r in rows]},
        schema={"domain": pl.String, "difficulty": pl.String},
    )
    wide = (
        slices.select("domain", "difficulty", "risk_class", kpi).pivot(
            on="risk_class", index=["domain", "difficulty"], values=kpi
        )
        if slices.height
        else pl.DataFrame(schema={"domain": pl.String, "difficulty": pl.String})
    )
    grid = frame.join(wide, on=["domain", "difficulty"], how="left", maintain_order="left")
    for risk in risks:
        if risk not in grid.columns:
            grid = grid.with_columns(pl.lit(None, pl.Float64).alias(risk))
    return grid.select(
        pl.concat_str("domain", pl.lit(" / "), "difficulty").alias("row"),
        "domain",
        "difficulty",
        *risks,
    )


def gap_to_target(slices: pl.DataFrame, kpi: str, targets: Targets) -> pl.DataFrame:
    """``slices`` with ``<kpi>_vs_target``: the KPI minus its domain's target (the
    domain's own where it has one, else the project's), so slices of domains held to
    different targets can be shaded on one scale. Null where either is null."""
    target = targets.target_expr(kpi, "domain")
    return slices.with_columns((pl.col(kpi) - target).alias(f"{kpi}_vs_target"))


def rank_slices(slices: pl.DataFrame, kpi: str, higher_is_better: bool | None) -> pl.DataFrame:
    """``slices`` worst first by ``kpi`` (lowest first when higher is better, else
    highest first), slices where it is n/a last, then in slice order."""
    descending = higher_is_better is False
    return slices.sort([kpi, *SLICE], descending=[descending, False, False, False], nulls_last=True)


def select_slice(frame: pl.DataFrame, chosen: Mapping[str, str]) -> pl.DataFrame:
    """The rows of ``frame`` in slice ``chosen`` ({domain, difficulty, risk_class})."""
    return frame.filter(*(pl.col(k) == v for k, v in chosen.items() if k in frame.columns))


def worst_items(
    item_labels: pl.LazyFrame,
    chosen: Mapping[str, str] | None = None,
    filters: Filters | None = None,
    limit: int = 20,
) -> pl.DataFrame:
    """The items human annotators agree on least.

    From ``item_label_counts`` (distinct human annotators per item and label):
    per item with at least two annotators, ``n_annotators`` (m), ``n_labels``
    (distinct labels), ``majority_label`` (labels tied for the most annotators
    are all named, in label order, joined by " / ", as calibration writes them)
    and ``majority_share`` = annotators who gave the most common label / m.
    Worst first: lowest majority share, then most annotators, then item_id.
    """
    frame = item_labels
    if filters is not None:
        frame = filters.apply(frame)
    if chosen:
        frame = frame.filter(*(pl.col(k) == v for k, v in chosen.items()))
    keys = ["item_id", *SLICE]
    per_label = frame.group_by([*keys, "label"]).agg(pl.col("n_annotators").sum())
    return (
        per_label.sort(["n_annotators", "label"], descending=[True, False])
        .group_by(keys)
        .agg(
            pl.col("n_annotators").sum().alias("n_annotators"),
            pl.len().alias("n_labels"),
            pl.col("label")
            .filter(pl.col("n_annotators") == pl.col("n_annotators").max())
            .str.join(" / ")
            .alias("majority_label"),
            pl.col("n_annotators").first().alias("n_majority"),
            pl.concat_str(pl.col("label"), pl.lit(" ×"), pl.col("n_annotators").cast(pl.String))
            .str.join(", ")
            .alias("labels"),
        )
        .filter(pl.col("n_annotators") >= 2)
        .with_columns((pl.col("n_majority") / pl.col("n_annotators")).alias("majority_share"))
        .sort(["majority_share", "n_annotators", "item_id"], descending=[False, True, False])
        .head(limit)
        .select(*keys, "n_annotators", "n_labels", "majority_label", "majority_share", "labels")
        .collect()
    )


# ------------------------------------------------------------------------- quality


def qa_funnel(overall: Mapping[str, float | None]) -> pl.DataFrame:
    """The two-tier QA funnel from one row of ``kpi_table``.

    Stages: submitted (annotations), precheck reviews, precheck passes
    (accepting precheck reviews), passed precheck and final-reviewed
    (``n_overturn_base``), final accept (those whose latest final review is
    accept = n_overturn_base - n_overturned). ``share`` is each stage / submitted.
    No rows when the review counts are not available (no reviews table, whose
    ``n_precheck`` kpi_table gives as null): the stages are n/a, not 0.
    """

    def count(name: str) -> int:
        return int(overall.get(name) or 0)

    stages = [
        ("Submitted", count("n_annotations")),
        ("Precheck reviews", count("n_precheck")),
        ("Precheck pass", count("n_precheck_accept")),
        ("Passed precheck, final-reviewed", count("n_overturn_base")),
        ("Final accept", count("n_overturn_base") - count("n_overturned")),
    ]
    frame = pl.DataFrame(stages, schema={"stage": pl.String, "n": pl.Int64}, orient="row")
    if overall.get("n_precheck") is None:
        frame = frame.clear()
    first = stages[0][1]
    return frame.with_columns(
        (pl.col("n") / first if first else pl.lit(None, pl.Float64)).alias("share")
    )


def accuracy_by_tier(by_difficulty_tier: pl.DataFrame) -> pl.DataFrame:
    """Programmatic versus human accuracy per difficulty, in long form.

    From ``kpi_table(by=["difficulty", "tier"])``: for the programmatic tier its
    programmatic_accuracy (known truth), for each human tier its gold_accuracy
    (labels on gold items equal to gold), each with its Wilson interval and the
    count it is over. Columns: difficulty, tier, measure, accuracy, ci_low, ci_high, n.
    """

    def part(kpi: str, n: str, programmatic: bool) -> pl.DataFrame:
        tier = pl.col("tier") == "programmatic"
        return by_difficulty_tier.filter(tier if programmatic else ~tier).select(
            "difficulty",
            "tier",
            pl.lit(KPIS[kpi].title).alias("measure"),
            pl.col(kpi).alias("accuracy"),
            pl.col(f"{kpi}_ci_low").alias("ci_low"),
            pl.col(f"{kpi}_ci_high").alias("ci_high"),
            pl.col(n).cast(pl.Int64).alias("n"),
        )

    frame = pl.concat(
        [
            part("programmatic_accuracy", "n_programmatic_known", True),
            part("gold_accuracy", "n_gold", False),
        ]
    ).filter(pl.col("accuracy").is_not_null())
    rank = {d: i for i, d in enumerate(ordered(frame["difficulty"].to_list(), "difficulty"))}
    return frame.sort(pl.col("difficulty").replace_strict(rank, default=len(rank)), "tier")


# ------------------------------------------------------------------------- reliability


def alpha_with_interval(
    item_labels: pl.LazyFrame,
    by: Sequence[str] = (),
    filters: Filters | None = None,
    *,
    level: Level = "nominal",
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
) -> pl.DataFrame:
    """Krippendorff's alpha per group of ``by`` with its 95% bootstrap interval.

    Units are items, values the labels of distinct human annotators (each
    annotator's latest label), from ``item_label_counts``; the interval is the
    percentile interval of a Poisson bootstrap over items
    (:func:`kpi_core.reliability.bootstrap_alpha`). ``week`` in ``by`` comes out
    as ``YYYY-Www``. Columns: ``*by``, krippendorff_alpha, _ci_low, _ci_high,
    n_pairable, n_units.
    """
    frame = item_labels
    if filters is not None:
        frame = filters.apply(frame)
    keys = ["week_start" if b == "week" else b for b in by]
    counts = unit_label_counts(frame, by)
    result = bootstrap_alpha(
        counts,
        keys,
        unit="item_id",
        value="label",
        count="n_annotators",
        level=level,
        draws=draws,
        seed=seed,
    )
    if "week" in by:
        result = result.with_columns(iso_week().alias("week")).drop("week_start")
        result = result.select(*by, pl.exclude(*by))
    return result


# --------------------------------------------------------------------- time and backlog


def weighted_histogram(
    frame: pl.LazyFrame, value: str, weight: str, *, bins: int = 30, clip_quantile: float = 0.99
) -> pl.DataFrame:
    """A histogram of ``value`` repeated ``weight`` times, in ``bins`` equal bins.

    The range runs from the smallest value to the ``clip_quantile`` quantile
    (values above it fall in the last bin, so one outlier does not squash the
    chart). Columns: bin_start, bin_end, n (the summed weight).
    """
    data = (
        frame.filter(pl.col(value).is_not_null() & (pl.col(weight) > 0))
        .select(value, weight)
        .collect()
    )
    if data.height == 0:
        return pl.DataFrame(schema={"bin_start": pl.Float64, "bin_end": pl.Float64, "n": pl.Int64})
    low = float(data[value].min())
    ranked = data.sort(value).with_columns(pl.col(weight).cum_sum().alias("__cum"))
    cut = clip_quantile * ranked[weight].sum()
    high = float(ranked.filter(pl.col("__cum") >= cut)[value][0])
    width = (high - low) / bins if high > low else 1.0
    index = ((pl.col(value) - low) / width).floor().clip(0, bins - 1).cast(pl.Int64)
    counts = data.group_by(index.alias("bin")).agg(pl.col(weight).sum().alias("n"))
    every = pl.DataFrame({"bin": list(range(bins))}, schema={"bin": pl.Int64})
    return (
        every.join(counts, on="bin", how="left", maintain_order="left")
        .with_columns(pl.col("n").fill_null(0).cast(pl.Int64))
        .select(
            (low + pl.col("bin") * width).alias("bin_start"),
            (low + (pl.col("bin") + 1) * width).alias("bin_end"),
            "n",
        )
    )


def aging(backlog_by_stage: pl.DataFrame, key: str) -> pl.DataFrame:
    """Waiting annotations per ``key`` (e.g. domain), stage and age bucket, long form.

    From ``backlog.backlog_by_stage(..., by=[key])``. Columns: ``key``, stage,
    age (the bucket's label: < 1 d, 1-3 d, 3-7 d, > 7 d), n.
    """
    long = backlog_by_stage.unpivot(
        index=["stage", key], on=list(AGE_BUCKETS), variable_name="bucket", value_name="n"
    )
    order = {label: i for i, label in enumerate(AGE_BUCKETS)}
    return (
        long.with_columns(
            pl.col("bucket").replace_strict(order).alias("__order"),
            pl.col("bucket").replace_strict(AGE_BUCKETS).alias("age"),
        )
        .sort(key, "stage", "__order")
        .select(key, "stage", "age", pl.col("n").cast(pl.Int64))
    )


def oldest_waiting(
    waiting: pl.LazyFrame,
    filters: Filters | None = None,
    limit: int = 20,
    stage: str = "awaiting_review",
) -> pl.DataFrame:
    """The annotations of ``stage`` that have waited longest at the as-of time,
    oldest first (from ``queries/oldest_waiting_annotations.sql``). The default
    stage is the review_backlog KPI's: no review at all yet.

    Columns: stage, annotation_id, item_id, domain, difficulty, risk_class,
    vendor, annotator_id, week, submitted_at, age_h.
    """
    frame = waiting.filter(pl.col("stage") == stage)
    if filters is not None:
        frame = filters.apply(frame)
    return (
        frame.sort(["age_h", "annotation_id"], descending=[True, False], nulls_last=True)
        .head(limit)
        .with_columns(iso_week().alias("week"))
        .select(
            "stage",
            "annotation_id",
            "item_id",
            *SLICE,
            "vendor",
            "annotator_id",
            "week",
            "submitted_at",
            "age_h",
        )
        .collect()
    )


def promotion_evidence(promoted: pl.DataFrame) -> pl.DataFrame:
    """The weekly figures that put each promoted slice there, one row per slice and week.

    From :func:`kpi_core.promotion.promoted_slices`. Columns: domain,
    difficulty, risk_class, week, accepted_label_error_rate, ci_low, ci_high,
    n_accepted_known, n_accepted_wrong.
    """
    if promoted.height == 0:
        return pl.DataFrame(
            schema={
                **{c: pl.String for c in SLICE},
                "week": pl.String,
                "accepted_label_error_rate": pl.Float64,
                "ci_low": pl.Float64,
                "ci_high": pl.Float64,
                "n_accepted_known": pl.Int64,
                "n_accepted_wrong": pl.Int64,
            }
        )
    return (
        promoted.explode("weeks")
        .unnest("weeks")
        .rename(
            {
                "accepted_label_error_rate_ci_low": "ci_low",
                "accepted_label_error_rate_ci_high": "ci_high",
            }
        )
        .select(
            *SLICE,
            "week",
            "accepted_label_error_rate",
            "ci_low",
            "ci_high",
            pl.col("n_accepted_known").cast(pl.Int64),
            pl.col("n_accepted_wrong").cast(pl.Int64),
        )
    )


# --------------------------------------------------------------------------- queries


def preview_query(
    con: duckdb.DuckDBPyConnection,
    query: queries.QueryFile,
    *,
    limit: int = 500,
    as_of: datetime | None = None,
) -> tuple[pl.DataFrame, int]:
    """The first ``limit`` rows of ``query`` on the open data, and its row count.

    Parameters the query declares are bound: ``as_of`` to the data's as-of
    time, any other to NULL ("no filter"). It is judged as ``kpi check`` judges a
    file, within the time limit: its rows held to the header, and no two of all its
    rows sharing its ``Key:``, counted in the database (a model or a query of ten
    million rows never crosses into polars whole). A failure raises
    :class:`~kpi_core.problems.QueryError` with the file and line.
    """
    params = {p: (as_of if p == "as_of" else None) for p in query.parameters}
    # Run once into a temporary table, then counted, checked and cut there.
    table = sql_identifier(f"preview_{query.name}")
    with queries.guarded(con, query):
        con.execute(f"create or replace temp table {table} as {query.sql}", params or None)
    try:
        n_rows = con.execute(f"select count(*) from {table}").fetchall()[0][0]
        if query.key:
            keys = ", ".join(sql_identifier(c) for c in query.key)
            repeated = con.sql(
                f"select * from {table} qualify count(*) over (partition by {keys}) > 1"
            ).pl()
            if repeated.height:
                raise repeated_key_error(query, repeated.height, repeated.row(0, named=True))
        first_rows = con.sql(f"select * from {table} limit {int(limit)}").pl()
    finally:
        con.execute(f"drop table if exists {table}")
    return held_to_header(query, first_rows), int(n_rows)


# ------------------------------------------------------------------ annotator agreement

#: Columns of ``queries/calibration_item_annotations.sql`` the agreement views need.
LABEL_COLUMNS = (
    "item_id",
    "annotation_id",
    "annotator_id",
    "vendor",
    "tier",
    "domain",
    "week_start",
    "label",
    "gold_label",
    "is_item_label",
)


def annotator_labels(annotations: pl.DataFrame, filters: Filters | None = None) -> pl.DataFrame:
    """Each human annotator's latest label on each item, under ``filters``.

    From ``calibration_item_annotations`` (one row per annotation): the rows it
    marks ``is_item_label`` (human, the annotator's latest on the item), the
    item-level rule every agreement KPI uses. The week filter applies to the
    label's submission week; ``gold_label`` is the gold that judges that label.
    """
    frame = annotations.lazy().filter(pl.col("is_item_label"))
    if filters is not None:
        frame = filters.apply(frame)
    return frame.select([c for c in LABEL_COLUMNS if c != "is_item_label"]).collect()


def kappa_matrix(pairs: pl.DataFrame) -> pl.DataFrame:
    """Cohen's kappa pairs (``kappa.cohen_kappa_pairs``) as a symmetric long table.

    Columns: annotator (row), other (column), cohen_kappa, n_shared,
    observed_agreement; both orders of each pair, none on the diagonal.
    """
    columns = ["cohen_kappa", "n_shared", "observed_agreement"]
    forward = pairs.select(
        pl.col("annotator_id_a").alias("annotator"),
        pl.col("annotator_id_b").alias("other"),
        *columns,
    )
    backward = pairs.select(
        pl.col("annotator_id_b").alias("annotator"),
        pl.col("annotator_id_a").alias("other"),
        *columns,
    )
    return pl.concat([forward, backward]).sort("annotator", "other")


def kappa_grid(pairs: pl.DataFrame) -> tuple[list[str], pl.DataFrame, pl.DataFrame]:
    """The kappa matrix as grids: the annotators in any pair (sorted), then Cohen's kappa
    and the shared-item count, one row per annotator and one column per annotator in the
    same order (null where the pair is not in ``pairs`` and on the diagonal)."""
    long = kappa_matrix(pairs)
    names = sorted(set(long["annotator"].to_list()))
    every = pl.DataFrame({"annotator": names}, schema={"annotator": pl.String})

    def wide(column: str) -> pl.DataFrame:
        grid = every.join(
            long.pivot(on="other", index="annotator", values=column)
            if long.height
            else pl.DataFrame(schema={"annotator": pl.String}),
            on="annotator",
            how="left",
            maintain_order="left",
        )
        for name in names:
            if name not in grid.columns:
                grid = grid.with_columns(pl.lit(None, pl.Float64).alias(name))
        return grid.select("annotator", *names)

    return names, wide("cohen_kappa"), wide("n_shared")


def annotator_agreement(labels: pl.DataFrame) -> pl.DataFrame:
    """Each annotator's agreement with the consensus of the others and with gold.

    From :func:`annotator_labels`. Consensus agreement: the share of their labels
    equal to the leave-one-out majority of the item's other annotators (items
    without a unique majority do not count; ``kappa.consensus_agreement``). Gold
    agreement: the share of their labels on gold equal to the gold that judges
    the label (``kappa.gold_agreement``, each label its own unit so that a gold
    agreed in calibration only judges later labels). Columns: annotator_id,
    vendor, tier, n_consensus, consensus_agreement_rate, n_gold,
    gold_agreement_rate, n_labels.
    """
    from kpi_core.kappa import consensus_agreement, gold_agreement

    consensus = consensus_agreement(labels.select("item_id", "annotator_id", "label"))
    gold = gold_agreement(
        labels.select("annotation_id", "annotator_id", "label"),
        labels.select("annotation_id", "gold_label"),
        unit="annotation_id",
    )
    who = labels.group_by("annotator_id").agg(
        pl.col("vendor").first(), pl.col("tier").first(), pl.len().alias("n_labels")
    )
    return (
        who.join(
            consensus.rename({"n_items": "n_consensus"}).drop("n_agree"),
            on="annotator_id",
            how="left",
            maintain_order="left",
        )
        .join(
            gold.rename({"n_items": "n_gold"}).drop("n_agree"),
            on="annotator_id",
            how="left",
            maintain_order="left",
        )
        .select(
            "annotator_id",
            "vendor",
            "tier",
            "n_consensus",
            "consensus_agreement_rate",
            "n_gold",
            "gold_agreement_rate",
            pl.col("n_labels").cast(pl.Int64),
        )
        .sort("annotator_id")
    )


# ------------------------------------------------------------------- not available


#: The query whose result each KPI is computed from (see metrics.kpi_table).
SOURCE_QUERY: dict[str, str] = {
    **{
        k: "annotation_kpi_counts"
        for k in (
            "accepted_label_error_rate",
            "rework_rate",
            "gold_accuracy",
            "programmatic_accuracy",
            "precheck_pass_rate",
            "final_overturn_rate",
            "cost_per_accepted_label",
            "accepted",
        )
    },
    **{
        k: "item_label_counts"
        for k in (
            "disagreement_rate",
            "pairwise_agreement",
            "krippendorff_alpha",
        )
    },
    "specialist_review_time_median_s": "specialist_review_times",
    "specialist_review_time_p90_s": "specialist_review_times",
    "turnaround_median_h": "turnaround_hours",
    "turnaround_p90_h": "turnaround_hours",
    "review_backlog": "review_backlog",
    "review_backlog_oldest_h": "review_backlog",
    "domain_coverage": "domain_coverage",
}

_NEEDS_EXTRA = {"domain_coverage": COVERAGE_NEEDS}


def missing_reason(aggs: Aggregates, kpi: str) -> str | None:
    """Why ``kpi`` cannot be computed on this data at all: a table the data lacks or a
    query file that failed; None when it can (a selection may still be empty)."""
    needs = KPIS[kpi].needs if kpi in KPIS else _NEEDS_EXTRA.get(kpi, ())
    missing = [t for t in needs if not aggs.has(t)]
    if missing:
        return f"Not available: the data directory has no {', '.join(missing)} table."
    query = SOURCE_QUERY.get(kpi)
    error = aggs.errors.get(query) if query else None
    if error is not None:
        return f"Not available: query file {error} failed."
    return None


def unavailable_reason(aggs: Aggregates, kpi: str) -> str:
    """Why ``kpi`` is not available ("n/a"): a table the data lacks, a query file
    that failed, or an empty denominator in the selection."""
    reason = missing_reason(aggs, kpi)
    if reason is not None:
        return reason
    definition = KPIS[kpi].definition if kpi in KPIS else "share of target slices at full coverage"
    return f"Not available: nothing to divide by in this selection ({definition})."


__all__ = [
    "SOURCE_QUERY",
    "missing_reason",
    "unavailable_reason",
    "ORDER",
    "WeekChange",
    "LABEL_COLUMNS",
    "accuracy_by_tier",
    "annotator_agreement",
    "annotator_labels",
    "kappa_grid",
    "kappa_matrix",
    "aging",
    "alpha_with_interval",
    "oldest_waiting",
    "ordered",
    "parse_slice",
    "rank_slices",
    "preview_query",
    "promotion_evidence",
    "qa_funnel",
    "select_slice",
    "slice_grid",
    "slice_label",
    "trend",
    "week_over_week",
    "weighted_histogram",
    "worst_items",
]
