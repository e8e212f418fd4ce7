"""Small statistical building blocks shared by the KPI modules."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

#: The two-sided 95% normal quantile, to full double precision.
Z95 = 1.959963984540054


def ratio(numerator: str, denominator: str) -> pl.Expr:
    """``numerator / denominator``, null (never 0 or NaN) when the denominator is 0."""
    den = pl.col(denominator)
    return pl.when(den > 0).then(pl.col(numerator) / den).otherwise(None)


def wilson_bounds(successes: str, trials: str, name: str, z: float = Z95) -> list[pl.Expr]:
    """The Wilson score interval of ``successes / trials`` as ``<name>_ci_low``/``_ci_high``.

    center = (p + z²/2n) / (1 + z²/n),
    half   = z / (1 + z²/n) * sqrt(p(1-p)/n + z²/4n²);
    null where ``trials`` is 0.
    """
    n = pl.col(trials).cast(pl.Float64)
    p = pl.col(successes) / n
    z2 = z * z
    center = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).sqrt()
    valid = pl.col(trials) > 0
    return [
        pl.when(valid).then(center - half).otherwise(None).alias(f"{name}_ci_low"),
        pl.when(valid).then(center + half).otherwise(None).alias(f"{name}_ci_high"),
    ]


def rate_with_interval(successes: str, trials: str, name: str) -> list[pl.Expr]:
    """``name`` = successes / trials with its 95% Wilson interval beside it."""
    return [ratio(successes, trials).alias(name), *wilson_bounds(successes, trials, name)]


def weighted_quantiles(
    frame: pl.LazyFrame,
    by: Sequence[str],
    value: str,
    weight: str,
    quantiles: dict[str, float],
) -> pl.LazyFrame:
    """Exact quantiles of ``value`` repeated ``weight`` times, per group of ``by``.

    Interpolates linearly between order statistics, as numpy's default does:
    with N values sorted x[0..N-1] and h = (N - 1) q, the quantile is
    x[floor h] + (h - floor h) (x[ceil h] - x[floor h]). Works from frequency
    tables, so only aggregates need to leave the database.
    """
    keys = list(by) or ["__all"]
    if not by:
        frame = frame.with_columns(pl.lit(0).alias("__all"))
    ranked = (
        frame.filter(pl.col(value).is_not_null() & (pl.col(weight) > 0))
        .group_by([*keys, value])
        .agg(pl.col(weight).sum())
        .sort([*keys, value])
        .with_columns(
            pl.col(weight).cum_sum().over(keys).alias("__cum"),
            pl.col(weight).sum().over(keys).alias("__n"),
        )
    )
    aggs = []
    for name, q in quantiles.items():
        h = (pl.col("__n") - 1) * q
        lo, hi = h.floor(), h.ceil()
        x_lo = pl.col(value).filter(pl.col("__cum") > lo).first()
        x_hi = pl.col(value).filter(pl.col("__cum") > hi).first()
        aggs.append((x_lo + (h.first() - lo.first()) * (x_hi - x_lo)).alias(name))
    out = ranked.group_by(keys).agg(aggs)
    return out.drop("__all") if not by else out
