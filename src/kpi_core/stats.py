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
    # Rounding can put a bound a hair past p at p = 0 or 1; the exact interval contains p.
    low = pl.min_horizontal(center - half, p).clip(0.0, 1.0)
    high = pl.max_horizontal(center + half, p).clip(0.0, 1.0)
    return [
        pl.when(valid).then(low).otherwise(None).alias(f"{name}_ci_low"),
        pl.when(valid).then(high).otherwise(None).alias(f"{name}_ci_high"),
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
    tables, so only aggregates need to leave the database. Null values count in
    no quantile, but a group of null values only is kept, its quantiles null:
    the rows fall in it, their values are missing.
    """
    values = (
        frame.filter(pl.col(weight) > 0).select(*by, pl.col(value).repeat_by(weight)).explode(value)
    )
    aggs = [
        pl.col(value).quantile(q, interpolation="linear").alias(n) for n, q in quantiles.items()
    ]
    if by:
        return values.group_by(list(by)).agg(aggs)
    return values.select(aggs)
