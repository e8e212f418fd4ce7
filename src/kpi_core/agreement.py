"""Item-level agreement KPIs: disagreement rate, pairwise agreement, Krippendorff's alpha.

They start from per-item label counts over human annotations, one label per
annotator per item (``queries/item_label_counts.sql``). Grouped by vendor or
tier, only that vendor's or tier's annotations count on an item; grouped by
annotator, every item has a single annotator, so all three are null.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from kpi_core.grouping import Filters, group_keys, rollup
from kpi_core.problems import DataError, Problem
from kpi_core.reliability import (
    MARGINAL_COLUMNS,
    alpha_from_value_counts,
    nominal_alpha_from_marginals,
    nominal_marginals,
)
from kpi_core.stats import rate_with_interval, ratio

Level = Literal["nominal", "ordinal", "interval", "ratio"]

AGREEMENT_COLUMNS = (
    "n_items_multi",
    "n_items_disagree",
    "n_pairs",
    "n_pairs_agree",
    "disagreement_rate",
    "disagreement_rate_ci_low",
    "disagreement_rate_ci_high",
    "pairwise_agreement",
    "krippendorff_alpha",
)


def non_numeric_labels(item_labels: pl.LazyFrame, limit: int = 5) -> list[str]:
    """Labels that cannot be read as finite numbers (ordinal, interval and ratio alpha
    need numbers: 'inf' would make every distance infinite, 'nan' drop out unseen)."""
    number = pl.col("label").cast(pl.Float64, strict=False)
    return (
        item_labels.select(pl.col("label").unique())
        .filter(~number.is_finite().fill_null(False))
        .sort("label")
        .head(limit)
        .collect()["label"]
        .to_list()
    )


def require_numeric_labels(item_labels: pl.LazyFrame, level: Level) -> None:
    """Raise :class:`DataError` naming the labels ``level`` cannot read as numbers
    (none at the nominal level, which compares labels as text)."""
    bad = non_numeric_labels(item_labels) if level != "nominal" else []
    if bad:
        reason = f"level {level} reads labels as finite numbers, but these are not: "
        raise DataError(
            [
                Problem(
                    file="annotations",
                    column="label",
                    reason=reason + ", ".join(repr(b) for b in bad),
                )
            ]
        )


def unit_label_counts(item_labels: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """Distinct annotators per (group, item, label): the units of the agreement KPIs."""
    keys = group_keys(by)
    return item_labels.group_by([*keys, "item_id", "label"]).agg(pl.col("n_annotators").sum())


#: item_label_counts' columns that describe the item itself (as groupings). Grouped
#: by these, an item keeps all its annotators, so every grouping of them rolls up
#: from the same per-item pass (:func:`agreement_stats`).
ITEM_DIMENSIONS = ("domain", "difficulty", "risk_class", "dataset_version", "week")

_PAIR_COUNTS = ("n_items_multi", "n_items_disagree", "n_pairs", "n_pairs_agree")


def _pair_counts(counts: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """Items with >= 2 annotators, those not all equal, their pairs and agreeing pairs.

    An item with m annotators has m(m-1)/2 pairs, of which sum_c n_c(n_c-1)/2 agree.
    """
    per_item = counts.group_by([*keys, "item_id"]).agg(
        pl.col("n_annotators").sum().alias("m"),
        (pl.col("n_annotators") * (pl.col("n_annotators") - 1)).sum().alias("agree2"),
        pl.len().alias("n_labels"),
    )
    multi = per_item.filter(pl.col("m") >= 2)
    sums = [
        pl.len().cast(pl.Int64).alias("n_items_multi"),
        (pl.col("n_labels") > 1).sum().cast(pl.Int64).alias("n_items_disagree"),
        (pl.col("m") * (pl.col("m") - 1) // 2).sum().alias("n_pairs"),
        (pl.col("agree2") // 2).sum().alias("n_pairs_agree"),
    ]
    return multi.group_by(list(keys)).agg(sums) if keys else multi.select(sums)


def _with_rates(pairs: pl.LazyFrame) -> pl.LazyFrame:
    return pairs.with_columns(
        *rate_with_interval("n_items_disagree", "n_items_multi", "disagreement_rate"),
        ratio("n_pairs_agree", "n_pairs").alias("pairwise_agreement"),
    )


def _joined(pairs: pl.LazyFrame, alpha: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
    alpha = alpha.select([*keys, "krippendorff_alpha"])
    if keys:
        return _with_rates(pairs).join(alpha, on=keys, how="full", coalesce=True, nulls_equal=True)
    return pl.concat([_with_rates(pairs), alpha], how="horizontal")


def agreement_kpis(
    item_labels: pl.LazyFrame, by: Sequence[str] = (), *, level: Level = "nominal"
) -> pl.LazyFrame:
    """Agreement KPIs per group of ``by``.

    - disagreement_rate = items with >= 2 annotators whose labels are not all
      equal / items with >= 2 annotators (with its Wilson interval)
    - pairwise_agreement = pooled over those items: unordered pairs of
      annotators with equal labels / all such pairs; an item with m annotators
      has m(m-1)/2 pairs, of which sum_c n_c(n_c-1)/2 agree
    - krippendorff_alpha = alpha with units = items, coders = annotators,
      values = labels, at ``level``
    """
    if "annotator_id" in by:
        raise ValueError("agreement is undefined within one annotator; see metrics.kpi_table")
    keys = group_keys(by)
    # Collected once: both the pair counts and alpha read it (lazily it would run twice).
    counts = unit_label_counts(item_labels, by).collect().lazy()
    alpha = alpha_from_value_counts(
        counts, keys, unit="item_id", value="label", count="n_annotators", level=level
    )
    return _joined(_pair_counts(counts, keys), alpha, keys)


@dataclass(frozen=True)
class AgreementStats:
    """Additive agreement statistics per group of ITEM_DIMENSIONS (nominal level).

    ``pairs`` holds the pair counts, ``marginals`` alpha's per-value sums
    (:func:`~kpi_core.reliability.nominal_marginals`); both sum over groups, so
    any grouping by item dimensions is a roll-up (:func:`agreement_from_stats`).
    """

    pairs: pl.DataFrame
    marginals: pl.DataFrame


def agreement_stats(item_labels: pl.LazyFrame) -> AgreementStats:
    """One pass over the per-item label counts for every item-dimension grouping."""
    keys = group_keys(ITEM_DIMENSIONS)
    counts = unit_label_counts(item_labels, ITEM_DIMENSIONS).collect().lazy()
    marginals = nominal_marginals(counts, keys, unit="item_id", value="label", count="n_annotators")
    pairs, marginals = pl.collect_all([_pair_counts(counts, keys), marginals])
    return AgreementStats(pairs=pairs, marginals=marginals)


def stats_from_marginals(marginals: pl.DataFrame) -> AgreementStats:
    """:class:`AgreementStats` from ``queries/agreement_marginals.sql``, which the
    database computed per ITEM_DIMENSIONS group, label and m (an item's number of
    annotators; no vendor or tier split).

    The database sums integers only; alpha's fractions (``unit_share = sum n_c / m``,
    ``agreeing = sum n_c (n_c - 1) / (m - 1)``) are taken here, over rows sorted
    first, so that they are added in the same order every run (a sum of floats
    depends on its order) and the report comes out the same, digit for digit.
    """
    keys = group_keys(ITEM_DIMENSIONS)
    rows = marginals.sort([*keys, "label", "m"])
    pairs = rows.group_by(keys, maintain_order=True).agg(
        pl.col("n_items_multi").sum(),
        pl.col("n_items_disagree").sum(),
        (pl.col("n_ordered_pairs").sum() // 2).alias("n_pairs"),
        (pl.col("n_ordered_pairs_agree").sum() // 2).alias("n_pairs_agree"),
    )
    per_label = rows.group_by([*keys, "label"], maintain_order=True).agg(
        pl.col("n_c").sum(),
        (pl.col("n_c") / pl.col("m")).sum().alias("unit_share"),
        (pl.col("n_ordered_pairs_agree") / (pl.col("m") - 1)).sum().alias("agreeing"),
    )
    return AgreementStats(
        pairs=pairs, marginals=per_label.select(*keys, "label", *MARGINAL_COLUMNS)
    )


def agreement_from_stats(
    stats: AgreementStats, by: Sequence[str] = (), filters: Filters | None = None
) -> pl.LazyFrame:
    """:func:`agreement_kpis` at the nominal level for ``by`` within ITEM_DIMENSIONS,
    rolled up from :func:`agreement_stats` (``filters`` on item dimensions apply here;
    filter vendors and tiers before the stats are made)."""
    if not set(by) <= set(ITEM_DIMENSIONS):
        raise ValueError(f"{list(by)} is not within the item dimensions {ITEM_DIMENSIONS}")
    filters = filters or Filters()
    keys = group_keys(by)
    pairs = rollup(filters.apply(stats.pairs.lazy()), by, [pl.col(c).sum() for c in _PAIR_COUNTS])
    alpha = nominal_alpha_from_marginals(filters.apply(stats.marginals.lazy()), keys)
    return _joined(pairs, alpha, keys)
