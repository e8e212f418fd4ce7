"""Who drifts: each annotator's agreement this week against their own previous weeks.

The meeting's week ``W`` is an ISO week (Monday start, UTC).

Agreement and drift, per human annotator with an annotation submitted in ``W``
    Every annotator counts once per item, with their latest label (the item-level rule).
    *Consensus agreement*: the share of their labels equal to the leave-one-out majority
    of the other annotators on the item, whenever those labelled it (items without a
    majority among the others do not count; :func:`kpi_core.kappa.consensus_agreement`).
    *Gold agreement*: the share of their labels equal to the gold label that judges the
    annotation (``items.gold_label``, else an agreed calibration label recorded at or
    before the annotation; :func:`kpi_core.kappa.gold_agreement`). Both are computed for ``W`` (annotations submitted in
    ``W``) and for the annotator's own previous :data:`BASELINE_WEEKS` weeks.

    *Drift test*: for each measure, a one-sided Fisher's exact test on the 2x2 table
    (agree, disagree) x (this week, baseline), alternative "agreement is lower this
    week": p = P(X <= a) for X hypergeometric (N = all labels of both periods, K = all
    agreeing ones, n = this week's labels) and ``a`` the agreeing labels this week. An
    annotator's two tests are combined by Bonferroni (``p_adjusted`` = the smaller p
    times the number of measures tested, at most 1), and the annotator is *drifting*
    when ``p_adjusted`` is below :data:`DRIFT_ALPHA` (0.05): each stable annotator is
    flagged by chance in at most 1 week in 20. With many annotators some of those
    flags are chance, so ``p_meeting`` adjusts ``p_adjusted`` with Holm's step-down
    method over every annotator of the meeting, and ``is_drifting_meeting_wide`` marks
    the drops that stay significant after it (strong evidence, 5% family-wise).
    *New*: the annotator's first annotation in scope is in ``W`` (no history to compare).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

import numpy as np
import polars as pl
from scipy import stats

from kpi_core.kappa import consensus_agreement, gold_agreement

#: Significance level of the drift test (one-sided Fisher, Bonferroni over the two measures).
DRIFT_ALPHA = 0.05
#: Weeks before the meeting's week that an annotator's agreement is compared with.
BASELINE_WEEKS = 4
#: The statuses of an annotator in the agreement table.
STATUSES = ("drifting", "new", "no baseline", "stable")

_MEASURES = ("consensus", "gold")


def fisher_less(a_week: pl.Expr, n_week: pl.Expr, a_base: pl.Expr, n_base: pl.Expr) -> pl.Expr:
    """One-sided Fisher's exact p-value that the week's agreement rate is lower than baseline.

    The 2x2 table is (agree, disagree) x (week, baseline); given its margins, the
    week's agreeing count X is hypergeometric(N = n_week + n_base, K = a_week + a_base,
    n = n_week), and p = P(X <= a_week). Null when either period has no labels.
    """

    def p_values(columns: pl.Series) -> pl.Series:
        s = columns.struct
        a, n = s.field("a").to_numpy(), s.field("n").to_numpy()
        ab, nb = s.field("ab").to_numpy(), s.field("nb").to_numpy()
        p = stats.hypergeom.cdf(a, n + nb, a + ab, n)
        return pl.Series(np.where((n > 0) & (nb > 0), p, np.nan)).fill_nan(None)

    return pl.struct(
        a=a_week.cast(pl.Int64),
        n=n_week.cast(pl.Int64),
        ab=a_base.cast(pl.Int64),
        nb=n_base.cast(pl.Int64),
    ).map_batches(p_values, return_dtype=pl.Float64)


def holm_adjust(p: pl.Series) -> pl.Series:
    """Holm's step-down adjusted p-values (nulls stay null and do not count as tests)."""
    values = p.to_numpy(allow_copy=True).astype(np.float64)
    present = ~np.isnan(values)
    m = int(present.sum())
    adjusted = np.full(values.shape, np.nan)
    if m:
        order = np.argsort(values[present], kind="stable")
        ranked = values[present][order] * (m - np.arange(m))
        ranked = np.minimum(np.maximum.accumulate(ranked), 1.0)
        out = np.empty(m)
        out[order] = ranked
        adjusted[present] = out
    return pl.Series(p.name, adjusted).fill_nan(None)


_WHO = "__annotator_period__"
_SEP = "\x1f"
_COUNT_COLUMNS = [
    f"n_{m}{part}_{p}" for m in _MEASURES for p in ("week", "base") for part in ("", "_agree")
]


def _with_period(labels: pl.DataFrame, week: date) -> pl.DataFrame:
    """``period`` of each label: ``week``, ``base`` (the weeks before) or ``other``."""
    baseline = (week - timedelta(weeks=BASELINE_WEEKS), week - timedelta(weeks=1))
    return labels.with_columns(
        pl.when(pl.col("week_start") == week)
        .then(pl.lit("week"))
        .when(pl.col("week_start").is_between(*baseline))
        .then(pl.lit("base"))
        .otherwise(pl.lit("other"))
        .alias("period")
    )


def agreement_counts(annotations: pl.DataFrame, week: date) -> pl.DataFrame:
    """Per annotator: labels judged and agreeing, per measure and period (of ``week``).

    :func:`kpi_core.kappa.consensus_agreement` judges every label against the
    leave-one-out majority of *all* the item's other labels (whatever their
    period), and :func:`kpi_core.kappa.gold_agreement` against the gold that
    judges that very annotation; both count per coder, so the coder is the
    (annotator, period) pair.
    """
    labels = _with_period(annotations.filter(pl.col("is_item_label")), week)
    keyed = labels.with_columns(pl.concat_str("annotator_id", "period", separator=_SEP).alias(_WHO))
    parts = {
        "consensus": consensus_agreement(keyed, coder=_WHO),
        "gold": gold_agreement(
            keyed, keyed.select("annotation_id", "gold_label"), unit="annotation_id", coder=_WHO
        ),
    }
    long = (
        pl.concat(
            [
                p.select(_WHO, "n_items", "n_agree", pl.lit(m).alias("measure"))
                for m, p in parts.items()
            ]
        )
        .with_columns(
            pl.col(_WHO).str.split_exact(_SEP, 1).struct.rename_fields(["annotator_id", "period"])
        )
        .unnest(_WHO)
    )
    return long.group_by("annotator_id").agg(
        pl.col(column)
        .filter((pl.col("measure") == m) & (pl.col("period") == p))
        .sum()
        .cast(pl.Int64)
        .alias(f"n_{m}{part}_{p}")
        for m in _MEASURES
        for p in ("week", "base")
        for part, column in (("", "n_items"), ("_agree", "n_agree"))
    )


def agreement_drift(
    annotations: pl.DataFrame,
    week: date,
    by: Literal["annotator_id", "vendor"] = "annotator_id",
    counts: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Agreement with consensus and gold this week vs the previous weeks, per annotator or vendor.

    ``annotations`` has the columns of ``queries/calibration_item_annotations.sql`` and
    covers the :data:`BASELINE_WEEKS` weeks before ``week`` and ``week`` itself. One row
    per annotator (``by="annotator_id"``, with their tier and vendor) or vendor with a
    human annotation submitted in ``week``: for each measure (``consensus``, ``gold``)
    the labels and agreement rate this week (``_week``) and in the baseline
    (``_base``), the change and the one-sided Fisher p-value; ``p_adjusted`` (both
    measures), ``p_meeting`` (Holm over all rows); ``status`` is one of
    :data:`STATUSES` (see the module docstring), and drifting rows sort first.
    ``counts``: :func:`agreement_counts` of the same annotations and week, when
    computed already (the annotator and the vendor tables share them).
    """
    labels = _with_period(annotations.filter(pl.col("is_item_label")), week)
    if counts is None:
        counts = agreement_counts(annotations, week)
    if by == "vendor":
        counts = (
            counts.join(labels.select("annotator_id", "vendor").unique(), on="annotator_id")
            .group_by("vendor")
            .agg(pl.exclude("annotator_id", "vendor").sum())
        )
    keys = ["annotator_id", "tier", "vendor"] if by == "annotator_id" else ["vendor"]
    is_week = pl.col("period") == "week"
    who = (
        [pl.col("tier", "vendor").first()]
        if by == "annotator_id"
        else [
            pl.col("annotator_id")
            .filter(is_week)
            .n_unique()
            .cast(pl.Int64)
            .alias("n_annotators_week")
        ]
    )
    per = (
        labels.filter(pl.col("period") != "other")
        .group_by(by)
        .agg(
            *who,
            pl.col("annotator_first_at").min(),
            is_week.sum().cast(pl.Int64).alias("n_labels_week"),
        )
        .filter(pl.col("n_labels_week") > 0)
        .join(counts, on=by, how="left", maintain_order="left")
        .with_columns(pl.col(_COUNT_COLUMNS).fill_null(0))
    )
    rates = []
    for measure in _MEASURES:
        for period in ("week", "base"):
            n, a = pl.col(f"n_{measure}_{period}"), pl.col(f"n_{measure}_agree_{period}")
            rates.append(pl.when(n > 0).then(a / n).alias(f"{measure}_agreement_{period}"))
    per = per.with_columns(rates).with_columns(
        *(
            (pl.col(f"{m}_agreement_week") - pl.col(f"{m}_agreement_base")).alias(f"{m}_change")
            for m in _MEASURES
        ),
        *(
            fisher_less(
                pl.col(f"n_{m}_agree_week"),
                pl.col(f"n_{m}_week"),
                pl.col(f"n_{m}_agree_base"),
                pl.col(f"n_{m}_base"),
            ).alias(f"{m}_p_value")
            for m in _MEASURES
        ),
        (pl.col("annotator_first_at") >= datetime.combine(week, datetime.min.time())).alias(
            "is_new"
        ),
    )
    # Bonferroni over the measures each row was tested on; then Holm over the rows.
    tested = pl.sum_horizontal(pl.col(f"{m}_p_value").is_not_null() for m in _MEASURES)
    smallest = pl.min_horizontal(pl.col(f"{m}_p_value") for m in _MEASURES)
    per = per.with_columns(
        pl.when(tested > 0).then(pl.min_horizontal(smallest * tested, 1.0)).alias("p_adjusted")
    )
    per = per.with_columns(holm_adjust(per.get_column("p_adjusted")).alias("p_meeting"))
    significant = (pl.col("p_adjusted") < DRIFT_ALPHA).fill_null(False)
    has_baseline = pl.any_horizontal(pl.col(f"n_{m}_base") > 0 for m in _MEASURES)
    status = (
        pl.when("is_new")
        .then(pl.lit("new"))
        .when(significant)
        .then(pl.lit("drifting"))
        .when(~has_baseline)
        .then(pl.lit("no baseline"))
        .otherwise(pl.lit("stable"))
    )
    # The measures that dropped: each one's own p, Bonferroni-adjusted like p_adjusted.
    dropped = pl.concat_list(
        pl.when(pl.col(f"{m}_p_value") * tested < DRIFT_ALPHA).then(pl.lit(m)) for m in _MEASURES
    ).list.drop_nulls()
    return (
        per.with_columns(status.alias("status"))
        .with_columns(
            (pl.col("status") == "drifting").alias("is_drifting"),
            ((pl.col("status") == "drifting") & (pl.col("p_meeting") < DRIFT_ALPHA)).alias(
                "is_drifting_meeting_wide"
            ),
            pl.when(pl.col("status") == "drifting")
            .then(dropped.list.join(", "))
            .alias("drifted_on"),
        )
        .select(
            *keys,
            *([] if by == "annotator_id" else ["n_annotators_week"]),
            "status",
            "is_drifting",
            "drifted_on",
            "is_new",
            "n_labels_week",
            *(
                c
                for m in _MEASURES
                for c in (
                    f"n_{m}_week",
                    f"{m}_agreement_week",
                    f"n_{m}_base",
                    f"{m}_agreement_base",
                    f"{m}_change",
                    f"{m}_p_value",
                )
            ),
            "p_adjusted",
            "p_meeting",
            "is_drifting_meeting_wide",
        )
        .pipe(drift_order, by)
    )


def drift_order(frame: pl.DataFrame, by: str) -> pl.DataFrame:
    """Drifting first, then by adjusted p; ties by id (a pseudonym in a pseudonymised view)."""
    return frame.sort(
        pl.col("is_drifting"),
        pl.col("p_adjusted"),
        pl.col(by),
        descending=[True, False, False],
        nulls_last=True,
    )
