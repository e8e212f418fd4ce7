"""An independent re-implementation of the KPIs of kpis.md, written from the spec alone.

It reads the raw tables of a data directory and computes, for the whole data, per slice
(domain, difficulty, risk_class) and per ISO week, the KPIs that `kpi report` prints
(and its domain coverage, promoted slices, defect turnaround and model lift), so
that tests/test_independent.py can compare the two value by value. Nothing here uses
the project's own code: plain polars for the joins, plain Python and numpy per group.
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from statistics import NormalDist

import krippendorff
import numpy as np
import polars as pl

Z95 = NormalDist().inv_cdf(0.975)  # a "95% Wilson score interval"
SLICE = ("domain", "difficulty", "risk_class")
HUMAN = ("generalist", "specialist")

# The rates that "count items or annotations" and so come with a Wilson interval.
RATES_WITH_CI = (
    "accepted_label_error_rate",
    "disagreement_rate",
    "gold_accuracy",
    "rework_rate",
    "programmatic_accuracy",
    "precheck_pass_rate",
    "final_overturn_rate",
)
KPIS = (
    "accepted",
    "review_backlog",
    *(f"{rate}{suffix}" for rate in RATES_WITH_CI for suffix in ("", "_ci_low", "_ci_high")),
    "pairwise_agreement",
    "krippendorff_alpha",
    "cost_per_accepted_label",
    "specialist_review_time_median_s",
    "specialist_review_time_p90_s",
    "turnaround_median_h",
    "turnaround_p90_h",
    "n_age_lt_1d",
    "n_age_1_3d",
    "n_age_3_7d",
    "n_age_gt_7d",
    "review_backlog_oldest_h",
)

# The promotion rule's defaults: "K = 3", "the target (default 0.05)", "N = 20".
PROMOTION_WEEKS, PROMOTION_MAX_ERROR, PROMOTION_MIN_KNOWN = 3, 0.05, 20


def load(data_dir: Path) -> dict[str, pl.DataFrame]:
    """Every `<table>.parquet` of the data directory, by table name."""
    return {path.stem: pl.read_parquet(path) for path in sorted(Path(data_dir).glob("*.parquet"))}


def default_as_of(tables: dict[str, pl.DataFrame]):
    """ "The *as-of* time defaults to the latest timestamp in any timestamp column of any table." """
    return max(
        frame[column].max()
        for frame in tables.values()
        for column, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and frame[column].drop_nulls().len() > 0
    )


def iso_week(column: str) -> pl.Expr:
    """The ISO week (Monday start, UTC) of a timestamp, written `YYYY-Www`."""
    ts = pl.col(column).dt.convert_time_zone("UTC")
    return pl.format("{}-W{}", ts.dt.iso_year(), ts.dt.week().cast(pl.String).str.zfill(2))


def _missing(column: str) -> pl.Expr:
    return pl.col(column).is_null() | (pl.col(column).cast(pl.String).str.strip_chars() == "")


def latest(frame: pl.DataFrame, key: str, order: tuple[str, str]) -> pl.DataFrame:
    """The latest row per `key` by `order[0]`, ties broken by the later `order[1]`."""
    return frame.sort(list(order)).group_by(key, maintain_order=True).last()


def wilson(hits: int, n: int) -> tuple[float | None, float | None]:
    """The 95% Wilson score interval of hits / n; nulls when n is 0."""
    if n == 0:
        return None, None
    p = hits / n
    denom = 1 + Z95**2 / n
    center = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return max(0.0, center - half), min(1.0, center + half)


def rate(name: str, hits: int, n: int, with_ci: bool = True) -> dict[str, float | None]:
    """`name` = hits / n ("a KPI whose denominator is 0 is null"), with its interval."""
    out = {name: hits / n if n else None}
    if with_ci:
        out[f"{name}_ci_low"], out[f"{name}_ci_high"] = wilson(hits, n)
    return out


def quantiles(values: list[float], name: str, unit: str) -> dict[str, float | None]:
    """Median and p90, "interpolated linearly between order statistics (numpy's default)"."""
    if not values:
        return {f"{name}_median_{unit}": None, f"{name}_p90_{unit}": None}
    return {
        f"{name}_median_{unit}": float(np.median(values)),
        f"{name}_p90_{unit}": float(np.percentile(values, 90)),
    }


# ---------------------------------------------------------------------------------------
# Per-row facts, each row carrying the group it falls in (slice columns and `week`).
# ---------------------------------------------------------------------------------------


def items_with_slice(items: pl.DataFrame) -> pl.DataFrame:
    """Items with their slice; "missing parts read as `unknown`"."""
    return items.with_columns(
        pl.when(_missing(c)).then(pl.lit("unknown")).otherwise(pl.col(c)).alias(c)
        for c in ("difficulty", "risk_class")
    )


def annotation_facts(tables: dict[str, pl.DataFrame], as_of) -> pl.DataFrame:
    """One row per annotation, grouped by "its item's slice ... the week of its
    `submitted_at`", with everything the annotation-level KPIs need.

    - decision: "its latest review by `reviewed_at` (ties: the later `review_id`)";
    - truth (`wrong`): "its latest audit's `is_error` (by `audited_at`, ties: the later
      `audit_id`) if it has an audit; else, if its item has a gold label, whether
      `label != gold label`; else unknown";
    - gold: "its `gold_label`; where that is empty, the `agreed_label` of its latest
      calibration decision, for annotations submitted at or after that decision's
      `recorded_at`";
    - cost: the annotation's, its reviews' and its audits' costs; a missing cost is
      "duration_s / 3600 x the (reviewer's) hourly_rate", else 0;
    - backlog: "submitted at or before the as-of time ... with no review at or before it".
    """
    items = items_with_slice(tables["items"])
    rates = tables["annotators"].select("annotator_id", "tier", "hourly_rate")
    reviews = tables["reviews"].join(
        rates.rename({"annotator_id": "reviewer_id"}), on="reviewer_id", how="left"
    )
    audits = tables["audits"]

    calibration = latest(tables["calibration_decisions"], "item_id", ("recorded_at", "decision_id"))
    decision = latest(reviews, "annotation_id", ("reviewed_at", "review_id")).select(
        "annotation_id", decision=pl.col("verdict"), decided_at=pl.col("reviewed_at")
    )
    audit = latest(audits, "annotation_id", ("audited_at", "audit_id")).select(
        "annotation_id", audit_error=pl.col("is_error")
    )
    latest_final = latest(
        reviews.filter(pl.col("stage") == "final"), "annotation_id", ("reviewed_at", "review_id")
    ).select("annotation_id", final_verdict=pl.col("verdict"))

    review_cost = pl.coalesce(
        pl.col("cost"), pl.col("duration_s") / 3600 * pl.col("hourly_rate"), pl.lit(0.0)
    )
    per_annotation_reviews = reviews.group_by("annotation_id").agg(
        review_cost=review_cost.sum(),
        n_precheck=(pl.col("stage") == "precheck").sum(),
        n_precheck_accept=((pl.col("stage") == "precheck") & (pl.col("verdict") == "accept")).sum(),
        reviewed_by_as_of=(pl.col("reviewed_at") <= as_of).any(),
    )
    audit_cost = audits.group_by("annotation_id").agg(
        audit_cost=pl.coalesce(pl.col("cost"), pl.lit(0.0)).sum()
    )

    gold = (
        pl.when(~_missing("gold_label"))
        .then(pl.col("gold_label"))
        .when(pl.col("submitted_at") >= pl.col("recorded_at"))
        .then(pl.col("agreed_label"))
    )
    return (
        tables["annotations"]
        .join(rates, on="annotator_id", how="left")
        .join(items.select("item_id", *SLICE, "gold_label"), on="item_id", how="left")
        .join(
            calibration.select("item_id", "agreed_label", "recorded_at"), on="item_id", how="left"
        )
        .join(decision, on="annotation_id", how="left")
        .join(audit, on="annotation_id", how="left")
        .join(latest_final, on="annotation_id", how="left")
        .join(per_annotation_reviews, on="annotation_id", how="left")
        .join(audit_cost, on="annotation_id", how="left")
        .with_columns(week=iso_week("submitted_at"), gold=gold)
        .with_columns(
            wrong=pl.when(pl.col("audit_error").is_not_null())
            .then(pl.col("audit_error"))
            .when(pl.col("gold").is_not_null())
            .then(pl.col("label") != pl.col("gold")),
            cost_total=pl.coalesce(
                pl.col("cost"), pl.col("duration_s") / 3600 * pl.col("hourly_rate"), pl.lit(0.0)
            )
            + pl.col("review_cost").fill_null(0.0)
            + pl.col("audit_cost").fill_null(0.0),
            turnaround_h=(pl.col("decided_at") - pl.col("submitted_at")).dt.total_microseconds()
            / 3.6e9,
            in_backlog=(pl.col("submitted_at") <= as_of)
            & ~pl.col("reviewed_by_as_of").fill_null(False),
            age_h=(pl.lit(as_of) - pl.col("submitted_at")).dt.total_microseconds() / 3.6e9,
            n_precheck=pl.col("n_precheck").fill_null(0),
            n_precheck_accept=pl.col("n_precheck_accept").fill_null(0),
        )
    )


def final_review_facts(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """`final`-stage reviews, in their annotation's item's slice and "the week of its
    `reviewed_at`"."""
    items = items_with_slice(tables["items"]).select("item_id", *SLICE)
    return (
        tables["reviews"]
        .filter(pl.col("stage") == "final")
        .join(tables["annotations"].select("annotation_id", "item_id"), on="annotation_id")
        .join(items, on="item_id", how="left")
        .with_columns(week=iso_week("reviewed_at"))
    )


def item_label_facts(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per (item, human annotator): "an annotator who labelled an item more than
    once counts once, with the latest submitted label (ties: the later `annotation_id`)".
    The item falls in its slice and "the week of its latest human annotation's
    `submitted_at` (all its human annotations count in that week)"."""
    items = items_with_slice(tables["items"]).select("item_id", *SLICE)
    human = tables["annotations"].join(
        tables["annotators"].filter(pl.col("tier").is_in(HUMAN)).select("annotator_id"),
        on="annotator_id",
    )
    item_week = human.group_by("item_id").agg(pl.col("submitted_at").max().alias("last_human"))
    return (
        human.sort("submitted_at", "annotation_id")
        .group_by("item_id", "annotator_id", maintain_order=True)
        .last()
        .join(item_week, on="item_id")
        .join(items, on="item_id", how="left")
        .with_columns(week=iso_week("last_human"))
        .select("item_id", "annotator_id", "label", *SLICE, "week")
    )


# ---------------------------------------------------------------------------------------
# The KPIs of one group, from that group's rows.
# ---------------------------------------------------------------------------------------


def annotation_kpis(a: pl.DataFrame) -> dict[str, float | int | None]:
    """The annotation-level KPIs of a group's annotations (human and programmatic):

    - accepted: annotations whose decision's verdict is `accept`;
    - accepted_label_error_rate: "accepted annotations whose truth is known and says wrong
      / accepted annotations whose truth is known";
    - gold_accuracy: "human annotations on gold items with label = gold_label / human
      annotations on gold items";
    - rework_rate: "annotations with a decision that is `reject` or `fix` / annotations
      with a decision";
    - cost_per_accepted_label: "(sum of the costs of all annotations, reviews and audits in
      the group, accepted or not) / accepted annotations in the group";
    - programmatic_accuracy: "programmatic annotations whose truth is known and right /
      those whose truth is known";
    - precheck_pass_rate: "`precheck` reviews that accept / `precheck` reviews";
    - final_overturn_rate: "among annotations with an accepting `precheck` review and a
      `final` review, the share whose latest `final` review is not `accept`";
    - turnaround: "median and p90 of (decision's reviewed_at - submitted_at), in hours";
    - review_backlog: annotations "with no review at or before" the as-of time; "their
      age (as-of minus submitted_at) in buckets ..., and the oldest age".
    """
    rows = a.to_dicts()
    accepted = [r for r in rows if r["decision"] == "accept"]
    accepted_known = [r for r in accepted if r["wrong"] is not None]
    decided = [r for r in rows if r["decision"] is not None]
    human_gold = [r for r in rows if r["tier"] in HUMAN and r["gold"] is not None]
    programmatic_known = [r for r in rows if r["tier"] == "programmatic" and r["wrong"] is not None]
    overturn_base = [
        r for r in rows if r["n_precheck_accept"] > 0 and r["final_verdict"] is not None
    ]
    cost = sum(r["cost_total"] for r in rows)
    ages = [r["age_h"] / 24 for r in rows if r["in_backlog"]]
    return {
        "accepted": len(accepted),
        "review_backlog": len(ages),
        # "in buckets <1 d, 1-3 d, 3-7 d, >7 d": "<" and ">" as written, a shared
        # bound (3 d) in the bucket it starts
        "n_age_lt_1d": sum(d < 1 for d in ages),
        "n_age_1_3d": sum(1 <= d < 3 for d in ages),
        "n_age_3_7d": sum(3 <= d <= 7 for d in ages),
        "n_age_gt_7d": sum(d > 7 for d in ages),
        "review_backlog_oldest_h": max(ages) * 24 if ages else None,
        **rate(
            "accepted_label_error_rate",
            sum(r["wrong"] for r in accepted_known),
            len(accepted_known),
        ),
        **rate("gold_accuracy", sum(r["label"] == r["gold"] for r in human_gold), len(human_gold)),
        **rate(
            "rework_rate", sum(r["decision"] in ("reject", "fix") for r in decided), len(decided)
        ),
        "cost_per_accepted_label": cost / len(accepted) if accepted else None,
        **rate(
            "programmatic_accuracy",
            sum(not r["wrong"] for r in programmatic_known),
            len(programmatic_known),
        ),
        **rate(
            "precheck_pass_rate",
            sum(r["n_precheck_accept"] for r in rows),
            sum(r["n_precheck"] for r in rows),
        ),
        **rate(
            "final_overturn_rate",
            sum(r["final_verdict"] != "accept" for r in overturn_base),
            len(overturn_base),
        ),
        **quantiles([r["turnaround_h"] for r in decided], "turnaround", "h"),
    }


def review_time_kpis(final_reviews: pl.DataFrame) -> dict[str, float | None]:
    """specialist_review_time: "median and p90 of `duration_s` of `final`-stage reviews"
    (reviews without a duration have nothing to count)."""
    return quantiles(
        final_reviews["duration_s"].drop_nulls().to_list(), "specialist_review_time", "s"
    )


def alpha_nominal(labels: pl.DataFrame) -> float | None:
    """Krippendorff's alpha (nominal) with the `krippendorff` package over a reliability
    matrix coders x units; null "when no unit has two pairable values or when all
    pairable values are equal (no expected disagreement)"."""
    per_item = (
        labels.group_by("item_id").agg(pl.col("label")).filter(pl.col("label").list.len() >= 2)
    )
    pairable = {v for values in per_item["label"].to_list() for v in values}
    if len(pairable) < 2:
        return None
    coders = {c: i for i, c in enumerate(sorted(set(labels["annotator_id"])))}
    units = {u: j for j, u in enumerate(sorted(set(labels["item_id"])))}
    codes = {v: float(k) for k, v in enumerate(sorted(set(labels["label"])))}
    matrix = np.full((len(coders), len(units)), np.nan)
    for row in labels.iter_rows(named=True):
        matrix[coders[row["annotator_id"]], units[row["item_id"]]] = codes[row["label"]]
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))


def item_kpis(labels: pl.DataFrame) -> dict[str, float | None]:
    """The item-level KPIs of a group's items (one latest label per human annotator):

    - disagreement_rate: "items with >= 2 human annotations from distinct annotators whose
      labels are not all equal / items with >= 2 such annotations";
    - pairwise_agreement: "over those items, pooled: unordered pairs of human annotations
      (distinct annotators) with equal labels / all such pairs";
    - krippendorff_alpha: units = items, coders = annotators, values = labels (nominal).
    """
    per_item = labels.group_by("item_id").agg(pl.col("label"))["label"].to_list()
    multi = [values for values in per_item if len(values) >= 2]
    pairs = agree = 0
    for values in multi:
        n = len(values)
        pairs += n * (n - 1) // 2
        agree += sum(c * (c - 1) // 2 for c in (values.count(v) for v in set(values)))
    return {
        **rate("disagreement_rate", sum(len(set(v)) > 1 for v in multi), len(multi)),
        **rate("pairwise_agreement", agree, pairs, with_ci=False),
        "krippendorff_alpha": alpha_nominal(labels),
    }


# ---------------------------------------------------------------------------------------
# All groups.
# ---------------------------------------------------------------------------------------


def _partition(frame: pl.DataFrame, keys: tuple[str, ...]) -> dict[tuple, pl.DataFrame]:
    if not keys:
        return {(): frame}
    return frame.partition_by(list(keys), as_dict=True)


def compute(
    data_dir: Path, as_of=None, extra_groups: dict[str, set[tuple]] | None = None
) -> dict[str, dict[tuple, dict]]:
    """The KPIs by grouping: {"overall": {(): kpis}, "slices": {(domain, difficulty,
    risk_class): kpis}, "weeks": {(week,): kpis}}, for every group that has rows and those
    of `extra_groups`. A group that has no rows of some kind gets that kind's KPIs of an
    empty group ("a count ... of an empty group is 0", the rest null)."""
    tables = load(data_dir)
    as_of = as_of if as_of is not None else default_as_of(tables)
    frames = {
        annotation_kpis: annotation_facts(tables, as_of),
        review_time_kpis: final_review_facts(tables),
        item_kpis: item_label_facts(tables),
    }
    out: dict[str, dict[tuple, dict]] = {}
    for grouping, keys in (("overall", ()), ("slices", SLICE), ("weeks", ("week",))):
        parts = {kpis: _partition(frame, keys) for kpis, frame in frames.items()}
        groups = set().union(*parts.values(), (extra_groups or {}).get(grouping, ()))
        out[grouping] = {
            group: {
                name: value
                for kpis, frame in frames.items()
                for name, value in kpis(parts[kpis].get(group, frame.clear())).items()
            }
            for group in groups
        }
    return out


def domain_coverage(data_dir: Path) -> list[dict]:
    """domain_coverage "per slice: min(1, distinct items with an accepted annotation /
    target_accepted_items)", one row per target; a target's empty difficulty or
    risk_class matches any."""
    tables = load(data_dir)
    facts = annotation_facts(tables, default_as_of(tables))
    accepted_items = facts.filter(pl.col("decision") == "accept").select(
        "item_id", "domain", "difficulty", "risk_class"
    )
    out = []
    for target in tables["targets"].iter_rows(named=True):
        matching = accepted_items.filter(pl.col("domain") == target["domain"])
        for part in ("difficulty", "risk_class"):
            if target[part] not in (None, ""):
                matching = matching.filter(pl.col(part) == target[part])
        n = matching["item_id"].n_unique()
        out.append({**target, "domain_coverage": min(1.0, n / target["target_accepted_items"])})
    return out


def promoted_slices(data_dir: Path) -> dict[tuple, list[dict]]:
    """The slices promoted "when, in each of the K ISO weeks ending with the as-of week,
    its accepted_label_error_rate is above the target with at least N accepted
    annotations of known truth that week", each with those weeks' figures."""
    tables = load(data_dir)
    as_of = default_as_of(tables)
    facts = annotation_facts(tables, as_of).filter(
        (pl.col("decision") == "accept") & pl.col("wrong").is_not_null()
    )
    window = [
        (as_of - timedelta(weeks=k)).strftime("%G-W%V") for k in reversed(range(PROMOTION_WEEKS))
    ]
    out = {}
    for key, rows in _partition(facts, SLICE).items():
        weeks = []
        for week in window:
            wrong = rows.filter(pl.col("week") == week)["wrong"].to_list()
            n = len(wrong)
            if n < PROMOTION_MIN_KNOWN or sum(wrong) / n <= PROMOTION_MAX_ERROR:
                break
            weeks.append({"week": week, "n_accepted_known": n, "n_accepted_wrong": sum(wrong)})
        else:
            out[key] = weeks
    return out


def defect_turnaround(data_dir: Path) -> dict[str, dict]:
    """defect_turnaround: "median hours from opened_at to resolved_at per severity; open
    defects and their age" (at the as-of time), by severity."""
    tables = load(data_dir)
    as_of = default_as_of(tables)
    out = {}
    for (severity,), rows in _partition(tables["defects"], ("severity",)).items():
        resolved = rows.filter(pl.col("resolved_at").is_not_null())
        hours = (resolved["resolved_at"] - resolved["opened_at"]).dt.total_microseconds() / 3.6e9
        open_ages = [
            (as_of - at).total_seconds() / 3600
            for at in rows.filter(pl.col("resolved_at").is_null())["opened_at"]
        ]
        out[severity] = {
            "n_resolved": resolved.height,
            "n_open": len(open_ages),
            "oldest_open_age_h": max(open_ages) if open_ages else None,
            "median_resolution_h": float(np.median(hours.to_numpy())) if resolved.height else None,
        }
    return out


def model_lift(data_dir: Path) -> dict[tuple, float | None]:
    """model_lift: "per (domain, benchmark): the score of each model version minus the
    previous version's (by evaluated_at)", by (domain, benchmark, model_version)."""
    out = {}
    for (domain, benchmark), rows in _partition(
        load(data_dir)["benchmarks"], ("domain", "benchmark")
    ).items():
        previous = None
        for row in rows.sort("evaluated_at").iter_rows(named=True):
            lift = None if previous is None else row["score"] - previous
            out[(domain, benchmark, row["model_version"])] = lift
            previous = row["score"]
    return out
