"""Krippendorff's alpha from long-form labels, per group, with a bootstrap interval.

Definitions (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability").
For unit ``u`` let ``n_uc`` be the number of values ``c`` it received and
``m_u = sum_c n_uc``; only units with ``m_u >= 2`` are *pairable*. Over the
pairable units::

    o_ck = sum_u n_uc * (n_uk - [c = k]) / (m_u - 1)     coincidence matrix
    n_c  = sum_k o_ck = sum_u n_uc,   n = sum_c n_c      (n: pairable values)
    D_o  = sum_ck o_ck * delta_ck / n
    D_e  = sum_ck n_c * n_k * delta_ck / (n * (n - 1))
    alpha = 1 - D_o / D_e = 1 - (n - 1) * sum o*delta / sum n_c*n_k*delta

with the distance ``delta_ck`` of the level of measurement:

===========  ===========================================================
nominal      ``[c != k]``
ordinal      ``(sum_{g=c..k} n_g - (n_c + n_k) / 2) ** 2`` (marginals n_g,
             values in numeric order); equal to ``(r_c - r_k) ** 2`` with
             the mid-rank ``r_c = sum_{g<=c} n_g - n_c / 2``
interval     ``(c - k) ** 2``
ratio        ``((c - k) / (c + k)) ** 2`` (0 where ``c + k = 0``, as the
             ``krippendorff`` package does)
===========  ===========================================================

Alpha is None ("not available") when no unit has two pairable values or when
all pairable values are equal (no expected disagreement), as ``kpis.md`` says.

Everything goes through one path, :func:`alpha_from_value_counts`, which takes
per-unit value counts (the SQL layer delivers them, deduplicated per annotator);
:func:`krippendorff_alpha` and :func:`grouped_krippendorff_alpha` count raw
rows first. The coincidence matrix is only ever built in long form, never as a
dense coders x units matrix, and where it pays it is not built at all:

- nominal: ``sum_c o_cc = sum_u (sum_c n_uc**2 - m_u) / (m_u - 1)`` and
  ``sum_ck n_c n_k delta_ck = n**2 - sum_c n_c**2``;
- interval (and ordinal, on mid-ranks): with ``S1_u = sum_c n_uc c`` and
  ``S2_u = sum_c n_uc c**2``, ``sum_ck o_ck (c-k)**2 = sum_u 2 (m_u S2_u -
  S1_u**2) / (m_u - 1)`` and ``sum_ck n_c n_k (c-k)**2 = 2 n T2 - 2 T1**2``
  with ``T = sum_u S``;
- ratio: the coincidences per group in long form (a self-join of each unit's
  value counts, a handful of rows per unit).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import polars as pl
import scipy.sparse as sp

__all__ = [
    "Level",
    "alpha_from_value_counts",
    "bootstrap_alpha",
    "grouped_krippendorff_alpha",
    "krippendorff_alpha",
    "value_counts",
]

Level = Literal["nominal", "ordinal", "interval", "ratio"]
Frame = pl.DataFrame | pl.LazyFrame

# Internal column names (the user's `by` columns keep theirs).
_ALL = "__group__"  # constant key standing in for "no by columns"
_U, _V, _N, _M, _X = "__unit__", "__value__", "__n__", "__m__", "__x__"
_ALPHA, _N_PAIRABLE, _N_UNITS = "krippendorff_alpha", "n_pairable", "n_units"

# delta(c, k) on the coordinates of two values (see module docstring); for
# ordinal the coordinates are the mid-ranks, which turns Krippendorff's
# marginal-sum form into a squared difference.
Distance = Callable[[pl.Expr, pl.Expr], pl.Expr]
_DISTANCES: dict[str, Distance] = {
    "nominal": lambda c, k: (c != k).cast(pl.Float64),
    "ordinal": lambda c, k: (c - k) ** 2,
    "interval": lambda c, k: (c - k) ** 2,
    "ratio": lambda c, k: pl.when(c + k != 0).then(((c - k) / (c + k)) ** 2).otherwise(0.0),
}


# --------------------------------------------------------------------------- input


def _lazy(frame: Frame) -> pl.LazyFrame:
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def _like(result: pl.LazyFrame, frame: Frame) -> Frame:
    """Eager in, eager out; lazy in, lazy out."""
    return result.collect() if isinstance(frame, pl.DataFrame) else result


def _check_level(level: str) -> None:
    if level not in _DISTANCES:
        raise ValueError(f"level must be one of {sorted(_DISTANCES)}, not {level!r}")


def _values(column: str, dtype: pl.DataType, level: str) -> pl.Expr:
    """The value column as alpha reads it: NaN is missing; non-nominal levels as Float64."""
    numeric = level != "nominal"
    expr = pl.col(column).cast(pl.Float64, strict=True) if numeric else pl.col(column)
    return expr.fill_nan(None) if numeric or dtype.is_float() else expr


def value_counts(
    frame: Frame,
    by: Sequence[str] = (),
    *,
    unit: str = "item_id",
    value: str = "label",
    count: str = "n",
) -> Frame:
    """Per-unit value counts from long-form rows: the input of :func:`alpha_from_value_counts`.

    Parameters
    ----------
    frame : polars DataFrame or LazyFrame
        One row per coder's value on a unit, with columns ``[*by, unit, value]``.
        Rows with a null value are dropped (missing).
    by : sequence of str
        Grouping columns, kept as keys: a unit is counted within each group it
        appears in.

    Returns
    -------
    DataFrame or LazyFrame (as given)
        One row per ``(*by, unit, value)`` with ``count`` (Int64) = the number of rows.
    """
    lf = _lazy(frame).filter(pl.col(value).is_not_null())
    out = lf.group_by([*by, unit, value]).agg(pl.len().cast(pl.Int64).alias(count))
    return _like(out, frame)


def _prepare(
    counts: Frame, by: Sequence[str], unit: str, value: str, count: str, level: str, *, summed: bool
) -> tuple[pl.LazyFrame, pl.LazyFrame, list[str]]:
    """Normalised counts ``[*keys, _U, _V, _N]`` (missing values and n <= 0 dropped) and the groups.

    ``keys`` is ``by`` or a constant stand-in column, so every later step groups
    by at least one key.
    """
    _check_level(level)
    lf = _lazy(counts)
    schema = lf.collect_schema()
    missing = [c for c in [*by, unit, value, count] if c not in schema]
    if missing:
        raise ValueError(f"value counts lack column(s) {missing}; they have {schema.names()}")
    keys = list(by) or [_ALL]
    if not by:
        lf = lf.with_columns(pl.lit(0, pl.Int8).alias(_ALL))
    # every group in the input, even one with no pairable unit; one group in all without `by`
    groups = lf.select(keys).unique() if by else pl.LazyFrame({_ALL: [0]}, schema={_ALL: pl.Int8})
    rows = lf.select(
        *keys,
        pl.col(unit).alias(_U),
        _values(value, schema[value], level).alias(_V),
        pl.col(count).cast(pl.Int64).alias(_N),
    ).filter(pl.col(_V).is_not_null() & (pl.col(_N) > 0))
    if not summed:  # rows split by other columns (e.g. vendor, tier) are summed
        rows = rows.group_by([*keys, _U, _V]).agg(pl.col(_N).sum())
    return rows, groups, keys


def _with_m(rows: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Pairable rows only, with ``_M`` = m_u, the number of values of the row's unit."""
    return rows.with_columns(pl.col(_N).sum().over([*keys, _U]).alias(_M)).filter(pl.col(_M) >= 2)


# ---------------------------------------------------------------- per-level sums
#
# Each returns one row per group with n_pairable, n_units, observed
# (= sum_ck o_ck delta_ck), expected (= sum_ck n_c n_k delta_ck) and is_constant
# (all pairable values equal); alpha = 1 - (n - 1) * observed / expected.


def _nominal_sums(rows: pl.LazyFrame, keys: list[str], level: str) -> pl.LazyFrame:
    pairable = _with_m(rows, keys)
    n, m = pl.col(_N), pl.col(_M)
    per_group = pairable.group_by(keys).agg(
        n.sum().alias(_N_PAIRABLE),
        (n / m).sum().round().cast(pl.Int64).alias(_N_UNITS),  # each unit's rows add up to 1
        (n * (n - 1) / (m - 1)).sum().alias("agreeing"),  # sum_c o_cc
        (pl.col(_V).min() == pl.col(_V).max()).alias("is_constant"),
    )
    marginals = (
        pairable.group_by([*keys, _V])
        .agg(n.sum().alias("n_c"))
        .group_by(keys)
        .agg((pl.col("n_c").cast(pl.Float64) ** 2).sum().alias("sum_n_c2"))
    )
    total = pl.col(_N_PAIRABLE).cast(pl.Float64)
    return per_group.join(marginals, on=keys).select(
        *keys,
        _N_PAIRABLE,
        _N_UNITS,
        (total - pl.col("agreeing")).alias("observed"),
        (total**2 - pl.col("sum_n_c2")).alias("expected"),
        "is_constant",
    )


def _identity_coordinates(rows: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    return rows.with_columns(pl.col(_V).alias(_X))


def _midrank_coordinates(rows: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """``_X`` = the value's mid-rank among the group's pairable values, centred on n / 2.

    Only pairable rows may be given (the ranks use pairable marginals).
    """
    ranks = (
        rows.group_by([*keys, _V])
        .agg(pl.col(_N).sum().alias("n_c"))
        .sort([*keys, _V])
        .with_columns(
            (
                pl.col("n_c").cum_sum().over(keys)
                - pl.col("n_c") / 2
                - pl.col("n_c").sum().over(keys) / 2
            ).alias(_X)
        )
        .select(*keys, _V, _X)
    )
    return rows.join(ranks, on=[*keys, _V])


# How a level places its values on a line before distances are taken.
_COORDINATES: dict[str, Callable[[pl.LazyFrame, list[str]], pl.LazyFrame]] = {
    "nominal": _identity_coordinates,
    "ordinal": _midrank_coordinates,
    "interval": _identity_coordinates,
    "ratio": _identity_coordinates,
}


def _centre(rows: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """Shift a column by its rounded weighted mean: fewer cancelled digits; integers stay exact."""
    mean = (pl.col(column) * pl.col(_N)).sum() / pl.col(_N).sum()
    return rows.with_columns((pl.col(column) - mean.round().fill_null(0.0)).alias(column))


def _moment_sums(rows: pl.LazyFrame, keys: list[str], level: str) -> pl.LazyFrame:
    """Squared-difference distances (interval; ordinal on mid-ranks) from per-unit moments."""
    pairable = _COORDINATES[level](_with_m(rows, keys), keys)
    pairable = _centre(pairable, _X)
    n, x = pl.col(_N), pl.col(_X)
    units = pairable.group_by([*keys, _U]).agg(
        n.sum().alias(_M),
        (n * x).sum().alias("s1"),
        (n * x * x).sum().alias("s2"),
        pl.col(_V).min().alias("v_min"),
        pl.col(_V).max().alias("v_max"),
    )
    m = pl.col(_M)
    per_group = units.group_by(keys).agg(
        m.sum().alias(_N_PAIRABLE),
        pl.len().cast(pl.Int64).alias(_N_UNITS),
        (2 * (m * pl.col("s2") - pl.col("s1") ** 2) / (m - 1)).sum().alias("observed"),
        pl.col("s1").sum().alias("t1"),
        pl.col("s2").sum().alias("t2"),
        (pl.col("v_min").min() == pl.col("v_max").max()).alias("is_constant"),
    )
    total = pl.col(_N_PAIRABLE).cast(pl.Float64)
    return per_group.select(
        *keys,
        _N_PAIRABLE,
        _N_UNITS,
        "observed",
        (2 * total * pl.col("t2") - 2 * pl.col("t1") ** 2).alias("expected"),
        "is_constant",
    )


def _coincidence_sums(rows: pl.LazyFrame, keys: list[str], level: str) -> pl.LazyFrame:
    """Any level, from the coincidence matrix in long form ``[*keys, c, k, o_ck]``."""
    pairable = _with_m(rows, keys)
    n, m = pl.col(_N), pl.col(_M)
    other = pairable.select(*keys, _U, pl.col(_V).alias("k"), n.alias("n_k"))
    coincidences = (
        pairable.join(other, on=[*keys, _U])
        .group_by([*keys, pl.col(_V).alias("c"), "k"])
        .agg((n * (pl.col("n_k") - (pl.col(_V) == pl.col("k"))) / (m - 1)).sum().alias("o"))
    )
    marginals = coincidences.group_by([*keys, "c"]).agg(pl.col("o").sum().alias("n_c"))
    # the coordinates of each value (mid-ranks for ordinal) from the marginals
    coords = _COORDINATES[level](
        marginals.select(*keys, pl.col("c").alias(_V), pl.col("n_c").alias(_N)), keys
    ).select(*keys, _V, _X)
    at_c = coords.rename({_V: "c", _X: "x_c"})
    at_k = coords.rename({_V: "k", _X: "x_k"})
    delta = _DISTANCES[level](pl.col("x_c"), pl.col("x_k"))
    observed = (
        coincidences.join(at_c, on=[*keys, "c"])
        .join(at_k, on=[*keys, "k"])
        .group_by(keys)
        .agg((pl.col("o") * delta).sum().alias("observed"))
    )
    expected = (
        marginals.join(marginals.rename({"c": "k", "n_c": "n_k"}), on=keys)
        .join(at_c, on=[*keys, "c"])
        .join(at_k, on=[*keys, "k"])
        .group_by(keys)
        .agg((pl.col("n_c") * pl.col("n_k") * delta).sum().alias("expected"))
    )
    units = pairable.group_by(keys).agg(
        n.sum().alias(_N_PAIRABLE),
        (n / m).sum().round().cast(pl.Int64).alias(_N_UNITS),
        (pl.col(_V).min() == pl.col(_V).max()).alias("is_constant"),
    )
    return units.join(observed, on=keys).join(expected, on=keys)


# The fastest exact path per level; `_coincidence_sums` serves every level.
_SUMS: dict[str, Callable[[pl.LazyFrame, list[str], str], pl.LazyFrame]] = {
    "nominal": _nominal_sums,
    "ordinal": _moment_sums,
    "interval": _moment_sums,
    "ratio": _coincidence_sums,
}


def _alpha_frame(
    rows: pl.LazyFrame,
    groups: pl.LazyFrame,
    keys: list[str],
    by: Sequence[str],
    level: str,
    sums: Callable[[pl.LazyFrame, list[str], str], pl.LazyFrame],
) -> pl.LazyFrame:
    n = pl.col(_N_PAIRABLE)
    defined = (n > 0) & ~pl.col("is_constant") & (pl.col("expected") > 0)
    alpha = 1.0 - (n - 1).cast(pl.Float64) * pl.col("observed") / pl.col("expected")
    return (
        groups.join(sums(rows, keys, level), on=keys, how="left", nulls_equal=True)
        .select(
            *by,
            pl.when(defined).then(alpha).otherwise(None).alias(_ALPHA),
            n.fill_null(0).cast(pl.Int64).alias(_N_PAIRABLE),
            pl.col(_N_UNITS).fill_null(0).cast(pl.Int64),
        )
        .pipe(lambda lf: lf.sort(by) if by else lf)
    )


# ---------------------------------------------------------------------- public


def alpha_from_value_counts(
    counts: Frame,
    by: Sequence[str] = (),
    *,
    unit: str = "item_id",
    value: str = "label",
    count: str = "n",
    level: Level = "nominal",
) -> Frame:
    """Krippendorff's alpha per group from per-unit value counts, in one pass.

    Parameters
    ----------
    counts : polars DataFrame or LazyFrame
        Columns ``[*by, unit, value, count]``: ``count`` coders gave ``value`` to
        ``unit`` (e.g. the SQL layer's per-item label counts, deduplicated per
        annotator). Rows repeating a ``(*by, unit, value)`` are summed; a null or
        NaN ``value`` is missing; rows with ``count <= 0`` are ignored. For
        ordinal, interval and ratio the values are read as numbers (text is
        cast to Float64; text that is not a number raises at collection).
    by : sequence of str
        Group columns. A unit is a unit within its group: a unit whose rows
        carry two different groups counts as two units, one in each.
    level : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement, choosing the distance (module docstring).

    Returns
    -------
    DataFrame or LazyFrame (as given)
        One row per group present in ``counts`` (one row in all without ``by``),
        sorted by ``by``: ``*by``, ``krippendorff_alpha`` (Float64; null when no
        unit has two pairable values or all pairable values are equal),
        ``n_pairable`` (Int64, the n of the formula: values in units with >= 2
        values) and ``n_units`` (Int64, units with >= 2 values).
    """
    rows, groups, keys = _prepare(counts, by, unit, value, count, level, summed=False)
    return _like(_alpha_frame(rows, groups, keys, by, level, _SUMS[level]), counts)


def grouped_krippendorff_alpha(
    frame: Frame,
    by: Sequence[str],
    *,
    unit: str = "item_id",
    coder: str = "annotator_id",
    value: str = "label",
    level: Level = "nominal",
) -> Frame:
    """Krippendorff's alpha for every group (e.g. slice x week) in one pass.

    Parameters
    ----------
    frame : polars DataFrame or LazyFrame
        Long form, one row per coder's value on a unit: columns ``[*by, unit,
        coder, value]``. Expects one row per (unit, coder): deduplicate first
        (the metrics layer keeps each annotator's latest label). Repeated rows
        are *not* merged: each row counts as one more value of the unit, as if
        from another coder. ``coder`` names the column for the record; alpha
        itself only needs the values per unit.
    by : sequence of str
        Group columns, normally constant on a unit's rows (a unit belongs to
        one group); a unit split over groups counts as one unit in each.

    Returns
    -------
    DataFrame or LazyFrame (as given)
        As :func:`alpha_from_value_counts`: ``*by``, ``krippendorff_alpha``,
        ``n_pairable``, ``n_units``.
    """
    lf = _lazy(frame)
    counts = value_counts(lf, by, unit=unit, value=value, count=_N)
    rows, groups, keys = _prepare(counts, by, unit, value, _N, level, summed=True)
    return _like(_alpha_frame(rows, groups, keys, by, level, _SUMS[level]), frame)


def krippendorff_alpha(
    frame: Frame,
    *,
    unit: str = "item_id",
    coder: str = "annotator_id",
    value: str = "label",
    level: Level = "nominal",
) -> float | None:
    """Krippendorff's alpha of long-form labels.

    Parameters
    ----------
    frame : polars DataFrame or LazyFrame
        One row per coder's value on a unit: columns ``unit``, ``coder``,
        ``value``. Null (or NaN) values are missing. Expects one row per
        (unit, coder), i.e. deduplicated by the caller (the metrics layer keeps
        each annotator's latest label); a repeated row is not merged but counts
        as one more value of the unit.
    unit, coder, value : str
        Column names: units (items), coders (annotators), values (labels).
    level : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement. For all but nominal, values are read as numbers
        (text cast to float).

    Returns
    -------
    float or None
        Alpha; None when no unit has two pairable values or all pairable
        values are equal (no expected disagreement). Agrees with
        ``krippendorff.alpha`` to 1e-9 on data both accept.
    """
    result = grouped_krippendorff_alpha(
        _lazy(frame), [], unit=unit, coder=coder, value=value, level=level
    ).collect()
    return result.item(0, _ALPHA)


# ------------------------------------------------------------------- bootstrap
#
# Units with identical value counts (in one group) are interchangeable: alpha
# depends on the units only through sums of per-unit statistics. Units are
# therefore collapsed into *patterns* p with multiplicity K_p; under the Poisson
# bootstrap the total weight of a pattern, a sum of K_p independent Poisson(1)
# weights, is exactly Poisson(K_p). So one Poisson(K_p) draw per pattern per
# replicate is the same resampling as one Poisson(1) draw per unit, and with
# labels from a small set the patterns are few (3 labels from 5 classes: 35).


def _pattern_table(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Collapse units into patterns.

    ``rows``: pairable ``[gid, unit, j, n, m]`` (j: the code of a (group, value)).
    Returns patterns ``[p, gid, K, m]`` and their entries ``[p, j, n]``,
    deterministic in order.
    """
    n_values = rows.group_by("gid").agg(pl.col("j").n_unique()).get_column("j").max()
    base = int(rows.get_column("m").max()) + 1
    lo = rows.group_by("gid").agg(pl.col("j").min().alias("j0"))
    rows = rows.join(lo, on="gid").with_columns(r=pl.col("j") - pl.col("j0"))
    if n_values * np.log2(base) < 62:  # exact integer key: the count vector in base `base`
        digit = pl.col("n") * pl.lit(base, pl.Int64).pow(pl.col("r").cast(pl.Int64))
        units = rows.group_by(["gid", "unit"]).agg(digit.sum().alias("key"))
    else:  # exact but slower: the sorted (value, count) lists
        units = rows.sort(["gid", "unit", "r"]).group_by(["gid", "unit"]).agg("r", "n")
        # [r..., n...]: the two lists have equal length, so equal keys mean equal vectors
        units = units.select("gid", "unit", pl.concat_list("r", "n").alias("key"))
    patterns = (
        units.group_by(["gid", "key"])
        .agg(pl.len().alias("K"), pl.col("unit").min().alias("unit"))
        .sort(["gid", "key"])
        .with_row_index("p")
    )
    entries = (
        rows.join(patterns.select("gid", "unit", "p"), on=["gid", "unit"])
        .select("p", "j", "n", "m")
        .sort(["p", "j"])
    )
    pm = entries.group_by("p").agg(pl.col("m").first()).sort("p")
    return patterns.select("p", "gid", "K").with_columns(m=pm.get_column("m")), entries


def _sparse(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]):
    return sp.csr_matrix((vals.astype(np.float64), (rows, cols)), shape=shape)


def _group_sum(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums by group: (draws, J) -> (draws, G)."""
    indicator = _sparse(np.arange(len(group)), group, np.ones(len(group)), (len(group), n_groups))
    return np.asarray((indicator.T @ values.T).T)


class _Stats:
    """Per-pattern linear statistics and how alpha follows from their weighted sums.

    ``matrices`` are sparse (P x columns); a replicate with pattern weights ``w``
    sums them as ``w @ M``; ``finish`` turns those sums (arrays of shape
    (draws, columns)) into (n, observed, expected) per group, each (draws, G).
    """

    def __init__(self, patterns, entries, values, n_groups, level):
        self.P, self.G = patterns.height, n_groups
        self.gid_p = patterns.get_column("gid").to_numpy()
        self.m_p = patterns.get_column("m").to_numpy().astype(np.float64)
        self.p = entries.get_column("p").to_numpy()
        self.j = entries.get_column("j").to_numpy()
        self.n = entries.get_column("n").to_numpy().astype(np.float64)
        self.gid_j = values.get_column("gid").to_numpy()
        self.x_j = values.get_column("x").to_numpy()
        self.J = values.height
        self.level = level
        self.matrices = _STAT_BUILDERS[level](self)

    def per_group(self, per_pattern: np.ndarray) -> sp.csr_matrix:
        return _sparse(np.arange(self.P), self.gid_p, per_pattern, (self.P, self.G))

    def marginals(self) -> sp.csr_matrix:
        return _sparse(self.p, self.j, self.n, (self.P, self.J))


def _nominal_stats(s: _Stats) -> list[sp.csr_matrix]:
    agreeing = np.bincount(s.p, s.n * (s.n - 1), minlength=s.P) / (s.m_p - 1)
    return [s.per_group(s.m_p), s.per_group(agreeing), s.marginals()]


def _nominal_finish(s: _Stats, sums: list[np.ndarray]):
    n, agreeing, n_c = sums
    return n, n - agreeing, n**2 - _group_sum(n_c**2, s.gid_j, s.G)


def _interval_stats(s: _Stats) -> list[sp.csr_matrix]:
    x = s.x_j[s.j]
    s1 = np.bincount(s.p, s.n * x, minlength=s.P)
    s2 = np.bincount(s.p, s.n * x * x, minlength=s.P)
    observed = 2 * (s.m_p * s2 - s1**2) / (s.m_p - 1)
    return [s.per_group(v) for v in (s.m_p, observed, s1, s2)]


def _interval_finish(s: _Stats, sums: list[np.ndarray]):
    n, observed, t1, t2 = sums
    expected = 2 * n * t2 - 2 * t1**2
    # equal values: the difference of two equal floats, up to rounding
    expected[expected <= 1e-12 * np.abs(2 * n * t2)] = 0.0
    return n, observed, expected


def _pair_entries(s: _Stats) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each pattern's off-diagonal coincidences: (p, j, k, o) with j != k."""
    e = pl.DataFrame({"p": s.p, "j": s.j, "n": s.n})
    pairs = e.join(e.rename({"j": "k", "n": "n_k"}), on="p").filter(pl.col("j") != pl.col("k"))
    p = pairs.get_column("p").to_numpy()
    o = pairs.get_column("n").to_numpy() * pairs.get_column("n_k").to_numpy() / (s.m_p[p] - 1)
    return p, pairs.get_column("j").to_numpy(), pairs.get_column("k").to_numpy(), o


def _ratio_delta(c: np.ndarray, k: np.ndarray) -> np.ndarray:
    total = c + k
    safe = np.where(total != 0, total, 1.0)
    return np.where(total != 0, ((c - k) / safe) ** 2, 0.0)


def _ratio_stats(s: _Stats) -> list[sp.csr_matrix]:
    p, j, k, o = _pair_entries(s)
    observed = np.bincount(p, o * _ratio_delta(s.x_j[j], s.x_j[k]), minlength=s.P)
    # value pairs within each group, for the expected disagreement
    v = pl.DataFrame({"gid": s.gid_j, "j": np.arange(s.J)})
    pairs = v.join(v.rename({"j": "k"}), on="gid").filter(pl.col("j") < pl.col("k"))
    s.pj, s.pk = pairs.get_column("j").to_numpy(), pairs.get_column("k").to_numpy()
    s.pdelta = 2 * _ratio_delta(s.x_j[s.pj], s.x_j[s.pk])  # both orders
    return [s.per_group(s.m_p), s.per_group(observed), s.marginals()]


def _ratio_finish(s: _Stats, sums: list[np.ndarray]):
    n, observed, n_c = sums
    expected = _group_sum(n_c[:, s.pj] * n_c[:, s.pk] * s.pdelta, s.gid_j[s.pj], s.G)
    return n, observed, expected


def _ordinal_stats(s: _Stats) -> list[sp.csr_matrix]:
    p, j, k, o = _pair_entries(s)
    q = pl.DataFrame({"j": j, "k": k}).with_columns(
        pl.struct("j", "k").rank("dense").cast(pl.Int64).alias("q") - 1
    )
    qi = q.get_column("q").to_numpy()
    n_q = int(qi.max()) + 1 if len(qi) else 0
    s.qj, s.qk = np.zeros(n_q, np.int64), np.zeros(n_q, np.int64)
    s.qj[qi], s.qk[qi] = j, k
    # where each group's values start, for cumulative sums within groups (values sorted)
    s.first_j = np.searchsorted(s.gid_j, s.gid_j)
    return [s.per_group(s.m_p), _sparse(p, qi, o, (s.P, n_q)), s.marginals()]


def _ordinal_finish(s: _Stats, sums: list[np.ndarray]):
    n, o_q, n_c = sums
    cum = np.cumsum(n_c, axis=1)
    before = np.where(s.first_j > 0, cum[:, np.maximum(s.first_j - 1, 0)], 0.0)
    n_j = n[:, s.gid_j]
    rank = cum - before - n_c / 2 - n_j / 2  # mid-ranks centred on n / 2
    observed = _group_sum(o_q * (rank[:, s.qj] - rank[:, s.qk]) ** 2, s.gid_j[s.qj], s.G)
    r1 = _group_sum(n_c * rank, s.gid_j, s.G)
    r2 = _group_sum(n_c * rank**2, s.gid_j, s.G)
    return n, observed, 2 * n * r2 - 2 * r1**2


_STAT_BUILDERS: dict[str, Callable[[_Stats], list[sp.csr_matrix]]] = {
    "nominal": _nominal_stats,
    "ordinal": _ordinal_stats,
    "interval": _interval_stats,
    "ratio": _ratio_stats,
}
_FINISHERS: dict[str, Callable] = {
    "nominal": _nominal_finish,
    "ordinal": _ordinal_finish,
    "interval": _interval_finish,
    "ratio": _ratio_finish,
}


def _alphas(s: _Stats, weights: np.ndarray) -> np.ndarray:
    """Alpha per replicate and group, (draws, G); NaN where undefined."""
    sums = [np.asarray((m.T @ weights.T).T) for m in s.matrices]
    n, observed, expected = _FINISHERS[s.level](s, sums)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = 1.0 - (n - 1) * observed / expected
    return np.where((n > 0) & (expected > 0), alpha, np.nan)


def bootstrap_alpha(
    counts: Frame,
    by: Sequence[str] = (),
    *,
    unit: str = "item_id",
    value: str = "label",
    count: str = "n",
    level: Level = "nominal",
    draws: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> pl.DataFrame:
    """Krippendorff's alpha per group with a percentile bootstrap interval over units.

    Scheme: the Poisson bootstrap. In each of ``draws`` replicates every unit
    (item) gets an independent Poisson(1) weight, its multiplicity in the
    resample; this approximates multinomial resampling of units, and being
    independent across units it vectorises (no resample is ever materialised).
    It is valid because units are the independent sampling unit and alpha is a
    smooth function of sums of per-unit statistics (value counts, pairable
    values, within-unit coincidences). Units of one group with identical value
    counts are collapsed into one pattern of multiplicity K, whose summed
    weight is drawn as a single Poisson(K): the same distribution, exactly, at
    a fraction of the cost. A replicate's sums are ``W @ S`` with ``W`` the
    (draws x patterns) weights, in chunks, and ``S`` the per-pattern sufficient
    statistics: nominal: pairable values m, ``sum_c n_c (n_c - 1) / (m - 1)``
    and the value counts; interval: m, ``sum n x``, ``sum n x**2`` and the
    within-unit disagreement; ratio: m, within-unit disagreement, value
    counts; ordinal: m, the within-unit coincidences (sparse) and value counts
    (mid-ranks are recomputed per replicate). The interval is the percentile
    interval of the replicates in which alpha is defined (numpy's linear
    quantiles at (1 -/+ confidence) / 2). Groups are resampled independently
    and all in the same pass.

    Cost: one Poisson draw per pattern per replicate. Labels from a small set
    give few patterns (1M items x 3 labels from 5 classes: 35 patterns); in
    the worst case (continuous values, every unit distinct) it is one draw per
    unit per replicate.

    Parameters
    ----------
    counts : polars DataFrame or LazyFrame
        Per-unit value counts ``[*by, unit, value, count]`` as for
        :func:`alpha_from_value_counts`.
    draws : int
        Bootstrap replicates.
    seed : int
        Seed of ``numpy.random.default_rng``: the same seed, the same result.
    confidence : float
        Coverage of the percentile interval.

    Returns
    -------
    polars DataFrame
        One row per group, sorted by ``by``: ``*by``, ``krippendorff_alpha``,
        ``krippendorff_alpha_ci_low``, ``krippendorff_alpha_ci_high`` (null
        where alpha is null), ``n_pairable``, ``n_units``.
    """
    if draws < 1 or not 0 < confidence < 1:
        raise ValueError("draws must be >= 1 and confidence in (0, 1)")
    rows, groups, keys = _prepare(counts, by, unit, value, count, level, summed=False)
    pairable = _with_m(rows, keys)
    groups_df, values_df, rows_df = pl.collect_all(
        [
            groups.sort(keys).with_row_index("gid"),
            pairable.select(*keys, _V).unique().sort([*keys, _V]),
            pairable.select(*keys, _U, _V, _N, _M),
        ]
    )
    # j: one code per (group, value), in value order within each group
    values_df = (
        values_df.join(groups_df, on=keys, maintain_order="left", nulls_equal=True)
        .with_row_index("j")
        .with_columns(x=pl.col(_V) if level != "nominal" else pl.lit(0.0))
    )
    if level == "interval" and values_df.height:  # fewer cancelled digits; integers stay exact
        values_df = values_df.with_columns(pl.col("x") - pl.col("x").mean().round())
    rows_df = rows_df.join(
        values_df.select(*keys, _V, "gid", "j"), on=[*keys, _V], nulls_equal=True
    ).select("gid", pl.col(_U).alias("unit"), "j", pl.col(_N).alias("n"), pl.col(_M).alias("m"))

    n_groups = groups_df.height
    alpha, low, high = (np.full(n_groups, np.nan) for _ in range(3))
    n_pairable = n_units = np.zeros(n_groups, np.int64)
    if rows_df.height:
        patterns, entries = _pattern_table(rows_df)
        stats = _Stats(patterns, entries, values_df.select("gid", "x"), n_groups, level)
        multiplicity = patterns.get_column("K").to_numpy().astype(np.float64)
        n_units = np.bincount(stats.gid_p, multiplicity, minlength=n_groups).astype(np.int64)
        n_pairable = np.bincount(stats.gid_p, multiplicity * stats.m_p, minlength=n_groups)
        alpha = _alphas(stats, multiplicity[np.newaxis, :])[0]
        rng = np.random.default_rng(seed)
        chunk = max(1, min(draws, 2**24 // max(stats.P, stats.J, 1)))
        replicates = np.empty((draws, n_groups))
        for start in range(0, draws, chunk):
            size = min(chunk, draws - start)
            weights = rng.poisson(multiplicity, size=(size, stats.P)).astype(np.float64)
            replicates[start : start + size] = _alphas(stats, weights)
        tail = (1 - confidence) / 2
        with warnings.catch_warnings():  # a group with no defined replicate: NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanquantile(replicates, [tail, 1 - tail], axis=0)
        low, high = (np.where(np.isnan(alpha), np.nan, bound) for bound in (low, high))
    return groups_df.select(
        *by,
        pl.Series(_ALPHA, alpha).fill_nan(None),
        pl.Series(f"{_ALPHA}_ci_low", low).fill_nan(None),
        pl.Series(f"{_ALPHA}_ci_high", high).fill_nan(None),
        pl.Series(_N_PAIRABLE, np.round(n_pairable).astype(np.int64)),
        pl.Series(_N_UNITS, n_units),
    )
