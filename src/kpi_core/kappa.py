"""Agreement between annotators for the calibration view: Cohen's and Fleiss' kappa, consensus.

All functions take long-form labels, one row per annotator's label on an item
(columns ``unit``, ``coder``, ``value``), and expect one row per (item,
annotator): deduplicate first (the metrics layer keeps each annotator's latest
label). A null label is missing and dropped. Labels are compared for equality
only (nominal). Everything is polars expressions over the whole frame: no
Python loop over pairs, items or annotators. Functions returning a frame give
a DataFrame for a DataFrame and a LazyFrame for a LazyFrame.

Definitions
-----------
Cohen's kappa of two annotators over the items both labelled, from their
contingency table ``t`` (n items): ``p_o = sum_l t_ll / n``,
``p_e = sum_l row_l * col_l / n**2``, ``kappa = (p_o - p_e) / (1 - p_e)``
(unweighted, as ``statsmodels.stats.inter_rater.cohens_kappa``); undefined
(null) when ``p_e = 1``.

Fleiss' kappa over N items with n raters each, ``n_ij`` raters putting item i
in category j: ``P_i = (sum_j n_ij**2 - n) / (n (n - 1))``, ``P = mean_i P_i``,
``p_j = sum_i n_ij / (N n)``, ``P_e = sum_j p_j**2``,
``kappa = (P - P_e) / (1 - P_e)`` (``statsmodels ... fleiss_kappa``,
``method="fleiss"``).
"""

from __future__ import annotations

import polars as pl

from kpi_core.frames import Frame, as_lazy, like

__all__ = ["cohen_kappa_pairs", "consensus_agreement", "fleiss_kappa", "gold_agreement"]


def _labels(frame: Frame, unit: str, coder: str, value: str) -> pl.LazyFrame:
    lf = as_lazy(frame)
    schema = lf.collect_schema()
    missing = [c for c in (unit, coder, value) if c not in schema]
    if missing:
        raise ValueError(f"labels lack column(s) {missing}; they have {schema.names()}")
    return lf.select(unit, coder, value).filter(pl.col(value).is_not_null())


def cohen_kappa_pairs(
    frame: Frame,
    *,
    unit: str = "item_id",
    coder: str = "annotator_id",
    value: str = "label",
    min_shared: int = 1,
) -> Frame:
    """Cohen's kappa for every pair of annotators, over the items both labelled.

    Parameters
    ----------
    frame : polars DataFrame or LazyFrame
        Long-form labels ``[unit, coder, value]``, one row per (unit, coder).
    min_shared : int
        Pairs sharing fewer items are left out.

    Returns
    -------
    DataFrame or LazyFrame (as given)
        One row per unordered pair ``coder_a < coder_b`` sharing at least
        ``min_shared`` items, sorted: ``{coder}_a``, ``{coder}_b``,
        ``n_shared`` (Int64), ``observed_agreement`` (share of shared items
        with equal labels), ``expected_agreement`` (chance agreement from the
        pair's own label shares), ``cohen_kappa`` (null where expected
        agreement is 1, e.g. both always give the same label).
    """
    a, b = f"{coder}_a", f"{coder}_b"
    labels = _labels(frame, unit, coder, value)
    pairs = (
        labels.select(unit, pl.col(coder).alias(a), pl.col(value).alias("value_a"))
        .join(
            labels.select(unit, pl.col(coder).alias(b), pl.col(value).alias("value_b")),
            on=unit,
        )
        .filter(pl.col(a) < pl.col(b))
    )
    # the pair's contingency table in long form: one row per (pair, label_a, label_b)
    cells = pairs.group_by(a, b, "value_a", "value_b").agg(pl.len().alias("n")).cache()
    rows = cells.group_by(a, b, pl.col("value_a").alias("value")).agg(pl.col("n").sum().alias("r"))
    cols = cells.group_by(a, b, pl.col("value_b").alias("value")).agg(pl.col("n").sum().alias("c"))
    chance = (
        rows.join(cols, on=[a, b, "value"])
        .group_by(a, b)
        .agg((pl.col("r") * pl.col("c")).sum().alias("rc"))
    )
    n = pl.col("n_shared").cast(pl.Float64)
    p_o, p_e = pl.col("observed_agreement"), pl.col("expected_agreement")
    out = (
        cells.group_by(a, b)
        .agg(
            pl.col("n").sum().cast(pl.Int64).alias("n_shared"),
            pl.col("n").filter(pl.col("value_a") == pl.col("value_b")).sum().alias("agreeing"),
        )
        .filter(pl.col("n_shared") >= min_shared)
        .join(chance, on=[a, b], how="left")
        .with_columns(
            (pl.col("agreeing") / n).alias("observed_agreement"),
            (pl.col("rc").fill_null(0) / n**2).alias("expected_agreement"),
        )
        .select(
            a,
            b,
            "n_shared",
            "observed_agreement",
            "expected_agreement",
            pl.when(p_e < 1).then((p_o - p_e) / (1 - p_e)).alias("cohen_kappa"),
        )
        .sort(a, b)
    )
    return like(out, frame)


def _rater_counts(
    frame: Frame, unit: str, coder: str, value: str
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Raters per (unit, value) as ``n_ij``, and per unit as ``n_raters``."""
    counts = _labels(frame, unit, coder, value).group_by(unit, value).agg(pl.len().alias("n_ij"))
    return counts, counts.group_by(unit).agg(pl.col("n_ij").sum().alias("n_raters"))


def _modal_raters(raters: pl.LazyFrame, min_raters: int) -> pl.LazyFrame:
    """The most common ``n_raters`` among units with at least ``min_raters`` (ties: the
    larger), with its ``n_items``; no row when no unit has that many."""
    return (
        raters.filter(pl.col("n_raters") >= min_raters)
        .group_by("n_raters")
        .agg(pl.len().alias("n_items"))
        .sort(["n_items", "n_raters"], descending=True)
        .head(1)
    )


def fleiss_scope(
    frame: Frame,
    *,
    unit: str = "item_id",
    coder: str = "annotator_id",
    value: str = "label",
    min_raters: int = 2,
) -> tuple[int, int | None, int]:
    """The items :func:`fleiss_kappa` takes: how many, with how many raters each, out of
    how many items with at least ``min_raters``; ``(0, None, n)`` when none."""
    _, raters = _rater_counts(frame, unit, coder, value)
    rated = raters.filter(pl.col("n_raters") >= min_raters).select(pl.len()).collect().item()
    mode = _modal_raters(raters, min_raters).collect()
    if mode.is_empty():
        return 0, None, rated
    return mode["n_items"].item(), mode["n_raters"].item(), rated


def fleiss_kappa(
    frame: Frame,
    *,
    unit: str = "item_id",
    coder: str = "annotator_id",
    value: str = "label",
    min_raters: int = 2,
) -> float | None:
    """Fleiss' kappa over the items with exactly the modal number of raters.

    The modal number of raters is the most common number of labels per item
    among items with at least ``min_raters`` (default 2: an item with one
    label says nothing about agreement; ``min_raters=1`` takes the mode over
    all items, so a mode of 1 gives None). Ties in the mode go to the larger
    number of raters (more agreement information per item).

    Parameters
    ----------
    frame : polars DataFrame or LazyFrame
        Long-form labels ``[unit, coder, value]``, one row per (unit, coder);
        each row counts as one rater of its item.

    Returns
    -------
    float or None
        Fleiss' kappa, as ``statsmodels.stats.inter_rater.fleiss_kappa(table,
        method="fleiss")`` on those items; None when there is no such item,
        the mode is 1, or chance agreement is 1 (every label the same).
    """
    counts, raters = _rater_counts(frame, unit, coder, value)
    items = raters.join(_modal_raters(raters, min_raters), on="n_raters").select(unit, "n_raters")
    table = counts.join(items, on=unit)
    categories = table.group_by(value).agg(pl.col("n_ij").sum().alias("n_j"))
    n_items, n = pl.col("n_items").cast(pl.Float64), pl.col("n_raters").cast(pl.Float64)
    result = (
        table.select(
            (pl.col("n_ij").cast(pl.Float64) ** 2).sum().alias("sum_sq"),
            pl.col(unit).n_unique().alias("n_items"),
            pl.col("n_raters").first(),
        )
        .join(
            categories.select((pl.col("n_j").cast(pl.Float64) ** 2).sum().alias("sum_nj2")),
            how="cross",
        )
        .select(
            ((pl.col("sum_sq") - n_items * n) / (n_items * n * (n - 1))).alias("p_bar"),
            (pl.col("sum_nj2") / (n_items * n) ** 2).alias("p_e"),
            n_items,
            n,
        )
        .select(
            pl.when((pl.col("n_items") > 0) & (pl.col("n_raters") >= 2) & (pl.col("p_e") < 1))
            .then((pl.col("p_bar") - pl.col("p_e")) / (1 - pl.col("p_e")))
            .alias("fleiss_kappa")
        )
        .collect()
    )
    return result.item(0, 0) if result.height else None


def consensus_agreement(
    frame: Frame,
    *,
    unit: str = "item_id",
    coder: str = "annotator_id",
    value: str = "label",
) -> Frame:
    """Each annotator's agreement with the leave-one-out majority of the others.

    For an annotator's label on an item, the *consensus* is the label the
    other annotators of that item gave most often, when exactly one label has
    that top count (no consensus on a tie, or when nobody else labelled the
    item). The annotator agrees when their label equals it.

    Returns
    -------
    DataFrame or LazyFrame (as given)
        One row per annotator in ``frame``, sorted: ``coder``, ``n_items``
        (Int64, their items that have a consensus), ``n_agree`` (Int64) and
        ``consensus_agreement_rate`` (n_agree / n_items; null when n_items is 0).
    """
    labels = _labels(frame, unit, coder, value)
    label_counts = labels.group_by(unit, pl.col(value).alias("other")).agg(pl.len().alias("n_v"))
    others = pl.col("n_v") - (pl.col("other") == pl.col(value)).cast(pl.UInt32)
    per_label = labels.join(label_counts, on=unit).with_columns(others.alias("n_others"))
    top = pl.col("n_others").max()
    judged = (
        per_label.group_by(unit, coder)
        .agg(
            pl.col(value).first(),
            top.alias("top"),
            (pl.col("n_others") == top).sum().alias("n_top"),
            pl.col("other").filter(pl.col("n_others") == top).first().alias("consensus"),
        )
        .filter((pl.col("top") > 0) & (pl.col("n_top") == 1))
    )
    return _rates(labels, judged, coder, pl.col(value) == pl.col("consensus"), "consensus", frame)


def gold_agreement(
    frame: Frame,
    gold: Frame,
    *,
    unit: str = "item_id",
    coder: str = "annotator_id",
    value: str = "label",
    gold_value: str = "gold_label",
) -> Frame:
    """Each annotator's share of labels on gold items equal to the gold label.

    Parameters
    ----------
    frame : polars DataFrame or LazyFrame
        Long-form labels ``[unit, coder, value]``.
    gold : polars DataFrame or LazyFrame
        ``[unit, gold_value]``, one row per gold item; a null gold label means
        not gold. The gold label is cast to the label's type.

    Returns
    -------
    DataFrame or LazyFrame (as ``frame``)
        One row per annotator in ``frame``, sorted: ``coder``, ``n_items``
        (Int64, their labels on gold items), ``n_agree`` (Int64) and
        ``gold_agreement_rate`` (null when n_items is 0).
    """
    labels = _labels(frame, unit, coder, value)
    dtype = labels.collect_schema()[value]
    answers = (
        as_lazy(gold)
        .select(unit, pl.col(gold_value).cast(dtype).alias("__gold__"))
        .filter(pl.col("__gold__").is_not_null())
    )
    judged = labels.join(answers, on=unit)
    return _rates(labels, judged, coder, pl.col(value) == pl.col("__gold__"), "gold", frame)


def _rates(
    labels: pl.LazyFrame,
    judged: pl.LazyFrame,
    coder: str,
    agrees: pl.Expr,
    name: str,
    frame: Frame,
) -> Frame:
    """Per coder: n_items judged, n_agree and their ratio; every coder of ``labels`` listed."""
    per_coder = judged.group_by(coder).agg(
        pl.len().cast(pl.Int64).alias("n_items"), agrees.sum().cast(pl.Int64).alias("n_agree")
    )
    out = (
        labels.select(coder)
        .unique()
        .join(per_coder, on=coder, how="left")
        .with_columns(pl.col("n_items", "n_agree").fill_null(0))
        .with_columns(
            pl.when(pl.col("n_items") > 0)
            .then(pl.col("n_agree") / pl.col("n_items"))
            .alias(f"{name}_agreement_rate")
        )
        .sort(coder)
    )
    return like(out, frame)
