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

Every public function goes through one path: per-unit value counts
``[group, unit, value, n]`` into the per-level sums below. The SQL layer delivers
such counts (deduplicated per annotator) to :func:`alpha_from_value_counts`;
:func:`krippendorff_alpha` and :func:`grouped_krippendorff_alpha` count their
long-form rows into the same form first (one ``group_by``), and
:func:`bootstrap_alpha` resamples the same counts. Each row is one value: if a
coder has several rows on a unit, each row counts (as if from another coder),
so deduplicate first, as the metrics layer does (latest label per annotator).

The coincidence matrix is only ever built in long form, never as a dense
coders x units matrix, and where it pays it is not built at all:

- nominal: ``sum_c o_cc = sum_u (sum_c n_uc**2 - m_u) / (m_u - 1)`` and
  ``sum_ck n_c n_k delta_ck = n**2 - sum_c n_c**2``: sums over the count rows;
- interval, and ordinal on mid-ranks: with ``S1_u = sum_c n_uc c`` and
  ``S2_u = sum_c n_uc c**2``, ``sum_ck o_ck (c-k)**2 = sum_u 2 (m_u S2_u -
  S1_u**2) / (m_u - 1)`` and ``sum_ck n_c n_k (c-k)**2 = 2 n T2 - 2 T1**2``
  with ``T = sum_u S``;
- ratio (and any level, see ``_coincidence_sums``): the off-diagonal
  coincidences per group in long form, from a self-join of the count rows of
  the units that got two different values; the diagonal has distance 0.

Unit-level quantities (m_u, S1_u) are window expressions over the unit, so the
unit is hashed by the counting and one window only; groups are keyed by one
integer id in place of the ``by`` columns.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import polars as pl

from kpi_core.frames import Frame, as_lazy, like

__all__ = [
    "Level",
    "alpha_from_value_counts",
    "bootstrap_alpha",
    "grouped_krippendorff_alpha",
    "krippendorff_alpha",
    "nominal_alpha_from_marginals",
    "nominal_marginals",
    "value_counts",
]

Level = Literal["nominal", "ordinal", "interval", "ratio"]

# Internal column names (the user's `by` columns keep theirs).
_G = "__group__"  # a group's id: one integer key in place of the `by` columns
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


def _columns(lf: pl.LazyFrame, needed: Sequence[str], what: str) -> pl.Schema:
    schema = lf.collect_schema()
    missing = [c for c in needed if c not in schema]
    if missing:
        raise ValueError(f"{what} lack column(s) {missing}; they have {schema.names()}")
    return schema


def _values(column: str, dtype: pl.DataType, level: str) -> pl.Expr:
    """The value column as alpha reads it: NaN is missing; non-nominal levels as Float64."""
    if level not in _DISTANCES:
        raise ValueError(f"level must be one of {sorted(_DISTANCES)}, not {level!r}")
    numeric = level != "nominal"
    expr = pl.col(column).cast(pl.Float64, strict=True) if numeric else pl.col(column)
    return (expr.fill_nan(None) if numeric or dtype.is_float() else expr).alias(_V)


def _with_group_ids(
    lf: pl.LazyFrame, by: Sequence[str]
) -> tuple[pl.LazyFrame, pl.LazyFrame, list[str]]:
    """Rows with their group's id ``_G``, the groups ``[_G, *by]``, and the key (``[_G]`` or []).

    Every group of the input is listed, even one without a pairable unit; without
    ``by`` there is one group. Grouping by one integer id instead of the ``by``
    columns makes the unit-level steps (keyed by group and unit) much cheaper.
    """
    if not by:
        return lf, pl.LazyFrame({_G: [0]}, schema={_G: pl.UInt32}), []
    # sorted, so the ids are the same however often the plan evaluates this frame
    groups = lf.select(by).unique().sort(by).with_row_index(_G).cache()
    return lf.join(groups, on=by, nulls_equal=True), groups, [_G]


def _rows_from_labels(
    frame: Frame, by: Sequence[str], unit: str, coder: str, value: str, level: str
) -> tuple[pl.LazyFrame, pl.LazyFrame, list[str]]:
    """Long-form labels -> value counts ``[*key, _U, _V, _N]`` (one row per unit and value)."""
    lf = as_lazy(frame)
    schema = _columns(lf, [*by, unit, coder, value], "labels")
    lf, groups, key = _with_group_ids(lf, by)
    rows = (
        lf.select(*key, pl.col(unit).alias(_U), _values(value, schema[value], level))
        .filter(pl.col(_V).is_not_null())
        .group_by([*key, _U, _V])
        .agg(pl.len().cast(pl.Int64).alias(_N))
    )
    return rows, groups, key


def _rows_from_counts(
    counts: Frame, by: Sequence[str], unit: str, value: str, count: str, level: str
) -> tuple[pl.LazyFrame, pl.LazyFrame, list[str]]:
    """Value counts, normalised to ``[*key, _U, _V, _N]``; rows repeating a (unit, value) summed."""
    lf = as_lazy(counts)
    schema = _columns(lf, [*by, unit, value, count], "value counts")
    lf, groups, key = _with_group_ids(lf, by)
    rows = (
        lf.select(*key, pl.col(unit).alias(_U), _values(value, schema[value], level), count)
        .filter(pl.col(_V).is_not_null() & (pl.col(count) > 0))
        .group_by([*key, _U, _V])
        .agg(pl.col(count).sum().cast(pl.Int64).alias(_N))
    )
    return rows, groups, key


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
    lf = as_lazy(frame).filter(pl.col(value).is_not_null())
    out = lf.group_by([*by, unit, value]).agg(pl.len().cast(pl.Int64).alias(count))
    return like(out, frame)


# ---------------------------------------------------------------- per-level sums
#
# Each takes the value counts ``[*by, _U, _V, _N]`` (unique per unit and value)
# and returns one row per group (`by` here is the internal key: [_G] or []) with
# n_pairable, n_units, observed (= sum_ck o_ck delta_ck), expected
# (= sum_ck n_c n_k delta_ck) and is_constant (all pairable values equal);
# alpha = 1 - (n - 1) * observed / expected. Unit-level quantities are windows
# over the unit, so nothing groups by the unit but the counting itself; a frame
# that several branches read is cached, so it is computed once.


def _keys(by: Sequence[str]) -> list[str]:
    return list(by) or [_G]


def _per_group(lf: pl.LazyFrame, by: Sequence[str], *aggs: pl.Expr) -> pl.LazyFrame:
    if by:
        return lf.group_by(by).agg(*aggs)
    return lf.select(*aggs).with_columns(pl.lit(0, pl.UInt32).alias(_G))


def _pairable(rows: pl.LazyFrame, by: Sequence[str], **per_unit: pl.Expr) -> pl.LazyFrame:
    """Rows of pairable units only, with ``_M`` = m_u and other per-unit windows."""
    unit = [*by, _U]
    windows = {name: expr.over(unit) for name, expr in per_unit.items()}
    m = pl.col(_N).sum().over(unit).alias(_M)
    return rows.with_columns(m, **windows).filter(pl.col(_M) >= 2)


def _value_marginals(pairable: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """One row per group and pairable value: ``n_c`` and two row sums for the group totals."""
    n, m = pl.col(_N), pl.col(_M)
    return pairable.group_by([*by, _V]).agg(
        n.sum().alias("n_c"),
        (n / m).sum().alias("unit_share"),  # the rows of a unit add up to 1
        (n * (n - 1) / (m - 1)).sum().alias("agreeing"),  # this value's o_cc
    )


def _group_totals(marginals: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    n_c = pl.col("n_c")
    return _per_group(
        marginals,
        by,
        n_c.sum().alias(_N_PAIRABLE),
        pl.col("unit_share").sum().round().cast(pl.Int64).alias(_N_UNITS),
        (pl.len() == 1).alias("is_constant"),
        (n_c.cast(pl.Float64) ** 2).sum().alias("sum_n_c2"),
        pl.col("agreeing").sum(),
    )


def _nominal_sums(rows: pl.LazyFrame, by: Sequence[str], level: str) -> pl.LazyFrame:
    """Nominal from sums of rows: ``sum_c o_cc = sum_u (sum_c n_uc**2 - m_u) / (m_u - 1)``."""
    return _nominal_from_totals(_group_totals(_value_marginals(_pairable(rows, by), by), by), by)


def _nominal_from_totals(totals: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    n = pl.col(_N_PAIRABLE).cast(pl.Float64)
    return totals.select(
        *_keys(by),
        _N_PAIRABLE,
        _N_UNITS,
        (n - pl.col("agreeing")).alias("observed"),
        (n**2 - pl.col("sum_n_c2")).alias("expected"),
        "is_constant",
    )


def _values_as_they_are(marginals: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    return marginals.select(*by, _V, pl.col(_V).alias(_X))


def _midranks(marginals: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """``_X`` = the value's mid-rank among its group's pairable values, centred on n / 2."""
    n_c = pl.col("n_c")
    within = (lambda e: e.over(by)) if by else (lambda e: e)
    return (
        marginals.sort([*by, _V])
        .with_columns((within(n_c.cum_sum()) - n_c / 2 - within(n_c.sum()) / 2).alias(_X))
        .select(*by, _V, _X)
    )


# Where a level places each value (given the group's marginals) before distances.
_COORDINATES: dict[str, Callable[[pl.LazyFrame, Sequence[str]], pl.LazyFrame]] = {
    "nominal": _values_as_they_are,
    "ordinal": _midranks,
    "interval": _values_as_they_are,
    "ratio": _values_as_they_are,
}


def _interval_rows(rows: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """Pairable rows with ``_X`` (the value, shifted) and the unit's ``s1 = sum n x``."""
    # shift by the rounded mean: fewer cancelled digits, and integers stay integers
    shift = ((pl.col(_V) * pl.col(_N)).sum() / pl.col(_N).sum()).round().fill_null(0.0)
    rows = rows.with_columns((pl.col(_V) - shift).alias(_X))
    return _pairable(rows, by, s1=(pl.col(_N) * pl.col(_X)).sum())


def _ordinal_rows(rows: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """Pairable rows with ``_X`` (the mid-rank) and the unit's ``s1 = sum n x``."""
    pairable = _pairable(rows, by).cache()
    ranks = _midranks(_value_marginals(pairable, by), by)
    return pairable.join(ranks, on=[*by, _V], nulls_equal=True).with_columns(
        (pl.col(_N) * pl.col(_X)).sum().over([*by, _U]).alias("s1")
    )


_MOMENT_ROWS: dict[str, Callable[[pl.LazyFrame, Sequence[str]], pl.LazyFrame]] = {
    "interval": _interval_rows,
    "ordinal": _ordinal_rows,
}


def _moment_sums(rows: pl.LazyFrame, by: Sequence[str], level: str) -> pl.LazyFrame:
    """Squared differences (interval; ordinal on mid-ranks) from per-unit moments.

    Per unit, ``sum_ck n_c n_k (x_c - x_k)**2 = 2 sum_c n_c x_c (m x_c - S1)``
    with ``S1 = sum_c n_c x_c``: a sum of rows, each exact for integer x.
    """
    n, m, x = pl.col(_N), pl.col(_M), pl.col(_X)
    total = pl.col(_N_PAIRABLE).cast(pl.Float64)
    return _per_group(
        _MOMENT_ROWS[level](rows, by),
        by,
        n.sum().alias(_N_PAIRABLE),
        (n / m).sum().round().cast(pl.Int64).alias(_N_UNITS),
        (2 * n * x * (m * x - pl.col("s1")) / (m - 1)).sum().alias("observed"),
        (n * x).sum().alias("t1"),
        (n * x * x).sum().alias("t2"),
        (pl.col(_V).min() == pl.col(_V).max()).alias("is_constant"),
    ).select(
        *_keys(by),
        _N_PAIRABLE,
        _N_UNITS,
        "observed",
        (2 * total * pl.col("t2") - 2 * pl.col("t1") ** 2).alias("expected"),
        "is_constant",
    )


def _join_within(left: pl.LazyFrame, right: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """Every pair of rows of one group (all pairs without ``by``)."""
    return left.join(right, on=by, nulls_equal=True) if by else left.join(right, how="cross")


def _coincidence_sums(rows: pl.LazyFrame, by: Sequence[str], level: str) -> pl.LazyFrame:
    """Any level, from the coincidence matrix in long form ``[*by, c, k, o_ck]``.

    Only the off-diagonal coincidences (c != k) are built, by a self-join of
    the units that got two or more different values (the diagonal carries no
    distance); the expected disagreement pairs the group's marginals.
    """
    n = pl.col(_N)
    pairable = _pairable(rows, by, n_distinct=pl.len()).cache()
    marginals = _value_marginals(pairable, by).cache()
    disagreeing = pairable.filter(pl.col("n_distinct") >= 2).select(*by, _U, _V, _N, _M)
    coincidences = (
        disagreeing.join(
            disagreeing.select(*by, _U, pl.col(_V).alias("k"), n.alias("n_k")),
            on=[*by, _U],
            nulls_equal=True,
        )
        .filter(pl.col(_V) != pl.col("k"))
        .group_by([*by, pl.col(_V).alias("c"), "k"])
        .agg((n * pl.col("n_k") / (pl.col(_M) - 1)).sum().alias("o"))
    )
    coords = _COORDINATES[level](marginals, by).cache()
    at_c = coords.rename({_V: "c", _X: "x_c"})
    at_k = coords.rename({_V: "k", _X: "x_k"})
    delta = _DISTANCES[level](pl.col("x_c"), pl.col("x_k"))
    observed = _per_group(
        coincidences.join(at_c, on=[*by, "c"], nulls_equal=True).join(
            at_k, on=[*by, "k"], nulls_equal=True
        ),
        by,
        (pl.col("o") * delta).sum().alias("observed"),
    )
    value_pairs = (
        marginals.select(*by, pl.col(_V).alias("c"), "n_c")
        .pipe(_join_within, marginals.select(*by, pl.col(_V).alias("k"), n_k="n_c"), by)
        .filter(pl.col("c") != pl.col("k"))
        .join(at_c, on=[*by, "c"], nulls_equal=True)
        .join(at_k, on=[*by, "k"], nulls_equal=True)
    )
    expected = _per_group(
        value_pairs,
        by,
        (pl.col("n_c").cast(pl.Float64) * pl.col("n_k") * delta).sum().alias("expected"),
    )
    keys = _keys(by)
    return (
        _group_totals(marginals, by)
        .join(observed, on=keys, how="left", nulls_equal=True)
        .join(expected, on=keys, how="left", nulls_equal=True)
        .select(
            *keys,
            _N_PAIRABLE,
            _N_UNITS,
            pl.col("observed", "expected").fill_null(0.0),
            "is_constant",
        )
    )


# The fastest exact path per level; `_coincidence_sums` serves every level.
_SUMS: dict[str, Callable[[pl.LazyFrame, Sequence[str], str], pl.LazyFrame]] = {
    "nominal": _nominal_sums,
    "ordinal": _moment_sums,
    "interval": _moment_sums,
    "ratio": _coincidence_sums,
}


def _alpha_frame(
    rows: pl.LazyFrame,
    groups: pl.LazyFrame,
    key: list[str],
    by: Sequence[str],
    level: str,
    sums: Callable[[pl.LazyFrame, Sequence[str], str], pl.LazyFrame] | None = None,
) -> pl.LazyFrame:
    """``[*by, krippendorff_alpha, n_pairable, n_units]``, one row per group, sorted by ``by``."""
    sums = sums or _SUMS[level]
    out = groups.join(sums(rows, key, level), on=_G, how="left").select(*by, *_ALPHA_COLUMNS)
    return out.sort(by) if by else out


def _alpha_columns() -> list[pl.Expr]:
    """alpha, n_pairable and n_units from a group's n_pairable, observed, expected and
    is_constant (null sums: a group without pairable values)."""
    n = pl.col(_N_PAIRABLE)
    defined = (n > 0) & ~pl.col("is_constant") & (pl.col("expected") > 0)
    alpha = 1.0 - (n - 1).cast(pl.Float64) * pl.col("observed") / pl.col("expected")
    return [
        pl.when(defined).then(alpha).otherwise(None).alias(_ALPHA),
        n.fill_null(0).cast(pl.Int64).alias(_N_PAIRABLE),
        pl.col(_N_UNITS).fill_null(0).cast(pl.Int64),
    ]


_ALPHA_COLUMNS = _alpha_columns()


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
    unit, value, count : str
        Column names.
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
    rows, groups, key = _rows_from_counts(counts, by, unit, value, count, level)
    return like(_alpha_frame(rows, groups, key, by, level), counts)


#: The per-(group, value) sums nominal alpha needs, as :func:`nominal_marginals` names them.
MARGINAL_COLUMNS = ("n_c", "unit_share", "agreeing")


def nominal_marginals(
    counts: Frame,
    by: Sequence[str] = (),
    *,
    unit: str = "item_id",
    value: str = "label",
    count: str = "n",
) -> Frame:
    """Nominal alpha's sufficient statistics per group and value, summable over groups.

    Over the pairable units (m_u >= 2) of each group, for each value c:
    ``n_c = sum_u n_uc``, ``unit_share = sum_u n_uc / m_u`` (the units, once
    summed over values) and ``agreeing = sum_u n_uc (n_uc - 1) / (m_u - 1)``
    (the coincidence o_cc). Whether a unit is pairable depends on the unit
    alone, so when no unit spans two groups, summing these rows over groups
    gives the statistics of the union: :func:`nominal_alpha_from_marginals`
    then computes alpha for any coarser grouping without seeing a unit again.

    Input as :func:`alpha_from_value_counts`. Returns ``[*by, value, n_c,
    unit_share, agreeing]``, one row per group and pairable value.
    """
    rows, groups, key = _rows_from_counts(counts, by, unit, value, count, "nominal")
    marginals = _value_marginals(_pairable(rows, key), key)
    if by:
        marginals = marginals.join(groups, on=_G).drop(_G)
    return like(marginals.select(*by, pl.col(_V).alias(value), *MARGINAL_COLUMNS), counts)


def nominal_alpha_from_marginals(
    marginals: Frame, by: Sequence[str] = (), *, value: str = "label"
) -> Frame:
    """Nominal alpha per group of ``by`` from :func:`nominal_marginals` rows.

    The rows may come from a finer grouping whose groups nest in ``by`` (units
    never span groups): ``n = sum_c n_c``, observed ``= n - sum_c agreeing``,
    expected ``= n**2 - sum_c n_c**2``, alpha ``= 1 - (n - 1) observed /
    expected`` (module docstring). Returns ``[*by, krippendorff_alpha,
    n_pairable, n_units]`` for the groups that have pairable values, sorted by ``by``.
    """
    lf = as_lazy(marginals).rename({value: _V})
    summed = lf.group_by([*by, _V]).agg(pl.col(c).sum() for c in MARGINAL_COLUMNS)
    out = _nominal_from_totals(_group_totals(summed, by), by).select(*by, *_ALPHA_COLUMNS)
    return like(out.sort(by) if by else out, marginals)


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
        from another coder. ``coder`` must exist but alpha needs only the
        values per unit.
    by : sequence of str
        Group columns, normally constant on a unit's rows (a unit belongs to
        one group); a unit split over groups counts as one unit in each.

    Returns
    -------
    DataFrame or LazyFrame (as given)
        As :func:`alpha_from_value_counts`: ``*by``, ``krippendorff_alpha``,
        ``n_pairable``, ``n_units``; one row per group, sorted by ``by``.
    """
    rows, groups, key = _rows_from_labels(frame, by, unit, coder, value, level)
    return like(_alpha_frame(rows, groups, key, by, level), frame)


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
    rows, groups, key = _rows_from_labels(frame, [], unit, coder, value, level)
    return _alpha_frame(rows, groups, key, [], level).collect().item(0, _ALPHA)


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

    ``rows``: pairable ``[gid, unit, j, n, m]`` (j: the code of a (group, value),
    consecutive within a group). Returns patterns ``[p, gid, K, m]`` and their
    entries ``[p, j, n]``, both in a deterministic order.
    """
    first_j = rows.group_by("gid").agg(pl.col("j").min().alias("j0"), pl.col("j").max().alias("j1"))
    width = int((first_j.get_column("j1") - first_j.get_column("j0")).to_numpy().max()) + 1
    base = int(rows.get_column("m").to_numpy().max()) + 1
    rows = rows.join(first_j, on="gid").with_columns(r=pl.col("j") - pl.col("j0"))
    if width * np.log2(base) < 62:  # exact integer key: the count vector written in base `base`
        digit = pl.col("n") * pl.lit(base, pl.Int64).pow(pl.col("r").cast(pl.Int64))
        units = rows.group_by(["gid", "unit"]).agg(digit.sum().alias("key"))
    else:  # exact but slower: [r..., n...], two lists of equal length
        units = rows.sort(["gid", "unit", "r"]).group_by(["gid", "unit"]).agg("r", "n")
        units = units.select("gid", "unit", pl.concat_list("r", "n").alias("key"))
    patterns = (
        units.group_by(["gid", "key"])
        .agg(pl.len().alias("K"), pl.col("unit").min().alias("unit"))
        # by each pattern's first unit, not its key: the key's form depends on every group
        .sort(["gid", "unit"])
        .with_row_index("p")
    )
    entries = (
        rows.join(patterns.select("gid", "unit", "p"), on=["gid", "unit"])
        .select("p", "j", "n", "m")
        .sort(["p", "j"])
    )
    m = entries.group_by("p").agg(pl.col("m").first()).sort("p").get_column("m")
    return patterns.select("p", "gid", "K").with_columns(m=m), entries


class _Linear:
    """A sparse (patterns x columns) statistic; ``sums(W)`` is ``W @ S`` for weights W."""

    def __init__(self, p: np.ndarray, col: np.ndarray, val: np.ndarray, n_cols: int):
        order = np.argsort(col, kind="stable")
        self.p, self.val = p[order], val[order].astype(np.float64)
        self.cols, self.starts = np.unique(col[order], return_index=True)
        self.n_cols = n_cols

    def sums(self, weights: np.ndarray) -> np.ndarray:
        out = np.zeros((weights.shape[0], self.n_cols))
        if len(self.p):
            out[:, self.cols] = np.add.reduceat(weights[:, self.p] * self.val, self.starts, axis=1)
        return out


def _group_sum(values: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums by group: (draws, J) -> (draws, G)."""
    return _Linear(np.arange(len(group)), group, np.ones(len(group)), n_groups).sums(values)


class _Stats:
    """Per-pattern sufficient statistics of one level, and alpha from their weighted sums.

    ``linear`` are the statistics summed over units (``W @ S``); ``_FINISHERS``
    turn their sums (each (draws, columns)) into (n, observed, expected) per
    group, each (draws, G).
    """

    def __init__(
        self,
        patterns: pl.DataFrame,
        entries: pl.DataFrame,
        values: pl.DataFrame,
        n_groups: int,
        level: str,
    ):
        self.P, self.G, self.level = patterns.height, n_groups, level
        self.aux: dict[str, np.ndarray] = {}  # level-specific index arrays
        self.gid_p = patterns.get_column("gid").to_numpy()
        self.m_p = patterns.get_column("m").to_numpy().astype(np.float64)
        self.p = entries.get_column("p").to_numpy()
        self.j = entries.get_column("j").to_numpy()
        self.n = entries.get_column("n").to_numpy().astype(np.float64)
        self.gid_j = values.get_column("gid").to_numpy()
        self.x_j = values.get_column("x").to_numpy()
        self.J = values.height
        self.linear = _STAT_BUILDERS[level](self)

    def per_group(self, per_pattern: np.ndarray) -> _Linear:
        return _Linear(np.arange(self.P), self.gid_p, per_pattern, self.G)

    def marginals(self) -> _Linear:
        return _Linear(self.p, self.j, self.n, self.J)

    def alphas(self, weights: np.ndarray) -> np.ndarray:
        """Alpha per replicate and group, (draws, G); NaN where undefined."""
        sums = [stat.sums(weights) for stat in self.linear]
        n, observed, expected = _FINISHERS[self.level](self, sums)
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = 1.0 - (n - 1) * observed / expected
        return np.where((n > 0) & (expected > 0), alpha, np.nan)


def _nominal_stats(s: _Stats) -> list[_Linear]:
    agreeing = np.bincount(s.p, s.n * (s.n - 1), minlength=s.P) / (s.m_p - 1)
    return [s.per_group(s.m_p), s.per_group(agreeing), s.marginals()]


def _nominal_finish(s: _Stats, sums: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    n, agreeing, n_c = sums
    return n, n - agreeing, n**2 - _group_sum(n_c**2, s.gid_j, s.G)


def _interval_stats(s: _Stats) -> list[_Linear]:
    x = s.x_j[s.j]
    s1 = np.bincount(s.p, s.n * x, minlength=s.P)
    s2 = np.bincount(s.p, s.n * x * x, minlength=s.P)
    observed = np.bincount(s.p, 2 * s.n * x * (s.m_p[s.p] * x - s1[s.p]), minlength=s.P)
    return [s.per_group(v) for v in (s.m_p, observed / (s.m_p - 1), s1, s2)]


def _interval_finish(s: _Stats, sums: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    n, observed, t1, t2 = sums
    expected = 2 * n * t2 - 2 * t1**2
    # a replicate whose values are all equal: a difference of equal floats, up to rounding
    expected[expected <= 1e-12 * np.abs(2 * n * t2)] = 0.0
    return n, observed, expected


def _pair_entries(s: _Stats) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each pattern's off-diagonal coincidences: (p, j, k, o) with j != k."""
    e = pl.DataFrame({"p": s.p, "j": s.j, "n": s.n})
    pairs = (
        e.join(e.rename({"j": "k", "n": "n_k"}), on="p")
        .filter(pl.col("j") != pl.col("k"))
        .sort("p", "j", "k")
    )
    p = pairs.get_column("p").to_numpy()
    o = pairs.get_column("n").to_numpy() * pairs.get_column("n_k").to_numpy() / (s.m_p[p] - 1)
    return p, pairs.get_column("j").to_numpy(), pairs.get_column("k").to_numpy(), o


def _ratio_delta(c: np.ndarray, k: np.ndarray) -> np.ndarray:
    total = c + k
    safe = np.where(total != 0, total, 1.0)
    return np.where(total != 0, ((c - k) / safe) ** 2, 0.0)


def _ratio_stats(s: _Stats) -> list[_Linear]:
    p, j, k, o = _pair_entries(s)
    observed = np.bincount(p, o * _ratio_delta(s.x_j[j], s.x_j[k]), minlength=s.P)
    # value pairs j < k within each group, for the expected disagreement
    v = pl.DataFrame({"gid": s.gid_j, "j": np.arange(s.J)})
    pairs = v.join(v.rename({"j": "k"}), on="gid").filter(pl.col("j") < pl.col("k")).sort("j", "k")
    pj, pk = pairs.get_column("j").to_numpy(), pairs.get_column("k").to_numpy()
    s.aux.update(pj=pj, pk=pk, pdelta=2 * _ratio_delta(s.x_j[pj], s.x_j[pk]))  # both orders
    return [s.per_group(s.m_p), s.per_group(observed), s.marginals()]


def _ratio_finish(s: _Stats, sums: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    n, observed, n_c = sums
    pj, pk = s.aux["pj"], s.aux["pk"]
    expected = _group_sum(n_c[:, pj] * n_c[:, pk] * s.aux["pdelta"], s.gid_j[pj], s.G)
    return n, observed, expected


def _ordinal_stats(s: _Stats) -> list[_Linear]:
    p, j, k, o = _pair_entries(s)
    # q: one column per value pair (j, k) that coincides in some unit
    codes, q = np.unique(j.astype(np.int64) * s.J + k, return_inverse=True)
    s.aux.update(qj=codes // s.J, qk=codes % s.J)
    s.aux["first_j"] = np.searchsorted(s.gid_j, s.gid_j)  # where each group's values start
    return [s.per_group(s.m_p), _Linear(p, q, o, len(codes)), s.marginals()]


def _ordinal_finish(s: _Stats, sums: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    n, o_q, n_c = sums
    first_j, qj, qk = s.aux["first_j"], s.aux["qj"], s.aux["qk"]
    cum = np.cumsum(n_c, axis=1)
    before = np.where(first_j > 0, cum[:, np.maximum(first_j - 1, 0)], 0.0)
    rank = cum - before - n_c / 2 - n[:, s.gid_j] / 2  # mid-ranks centred on n / 2
    observed = _group_sum(o_q * (rank[:, qj] - rank[:, qk]) ** 2, s.gid_j[qj], s.G)
    r1 = _group_sum(n_c * rank, s.gid_j, s.G)
    r2 = _group_sum(n_c * rank**2, s.gid_j, s.G)
    return n, observed, 2 * n * r2 - 2 * r1**2


_STAT_BUILDERS: dict[str, Callable[[_Stats], list[_Linear]]] = {
    "nominal": _nominal_stats,
    "ordinal": _ordinal_stats,
    "interval": _interval_stats,
    "ratio": _ratio_stats,
}
_FINISHERS: dict[str, Callable[[_Stats, list[np.ndarray]], tuple[np.ndarray, ...]]] = {
    "nominal": _nominal_finish,
    "ordinal": _ordinal_finish,
    "interval": _interval_finish,
    "ratio": _ratio_finish,
}


#: Bootstrap replicates of every alpha interval shown: one count everywhere, so that one
#: group reads one interval on every page and in every pack.
BOOTSTRAP_DRAWS = 1000


def _group_streams(
    seed: int, patterns: pl.DataFrame, entries: pl.DataFrame, j0: np.ndarray
) -> list[tuple[int, int, np.random.Generator]]:
    """Per group, its patterns' span ``[lo, hi)`` and a random stream of its own, seeded
    by ``seed`` and the group's units (its patterns' multiplicities and value counts,
    values coded within the group): a group's interval depends on its own units
    alone, not on the groups computed beside it. ``j0``: each group's first value code."""
    gid_p = patterns.get_column("gid").to_numpy()
    multiplicity = patterns.get_column("K").to_numpy().astype(np.int64)
    p, j, n = (entries.get_column(c).to_numpy().astype(np.int64) for c in ("p", "j", "n"))
    bounds = np.flatnonzero(np.diff(gid_p)) + 1
    streams = []
    for lo, hi in zip(
        np.concatenate([[0], bounds]), np.concatenate([bounds, [len(gid_p)]]), strict=True
    ):
        first, last = np.searchsorted(p, [lo, hi])
        units = np.concatenate(
            [
                multiplicity[lo:hi],
                p[first:last] - lo,
                j[first:last] - j0[gid_p[lo]],
                n[first:last],
            ]
        )
        digest = hashlib.blake2b(units.tobytes(), digest_size=8).digest()
        key = int.from_bytes(digest, "little")
        streams.append((int(lo), int(hi), np.random.default_rng([seed, key])))
    return streams


def bootstrap_alpha(
    counts: Frame,
    by: Sequence[str] = (),
    *,
    unit: str = "item_id",
    value: str = "label",
    count: str = "n",
    level: Level = "nominal",
    draws: int = BOOTSTRAP_DRAWS,
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
    quantiles at (1 -/+ confidence) / 2). Groups are resampled independently,
    all in the same pass, each from a random stream seeded by ``seed`` and its
    own units: a group's interval is the same whatever groups are computed
    beside it (one ISO week on a page, in its meeting's pack and in the next
    week's trend).

    Cost: one Poisson draw per pattern per replicate. Labels from a small set
    give few patterns (1M items x 3 labels from 5 classes: 35); in the worst
    case (continuous values, every unit distinct) it is one draw per unit per
    replicate.

    Parameters
    ----------
    counts : polars DataFrame or LazyFrame
        Per-unit value counts ``[*by, unit, value, count]`` as for
        :func:`alpha_from_value_counts`.
    draws : int
        Bootstrap replicates.
    seed : int
        With each group's units, the seed of its ``numpy.random.default_rng``
        stream: the same seed, the same result.
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
    rows, groups, key = _rows_from_counts(counts, by, unit, value, count, level)
    pairable = _pairable(rows, key)
    groups_df, values_df, rows_df = pl.collect_all(
        [
            groups.sort(by) if by else groups,
            pairable.select(*key, _V).unique(),
            pairable.select(*key, _U, _V, _N, _M),
        ]
    )
    groups_df = groups_df.with_row_index("gid")  # gid: the group's place in the output
    # j: one code per (group, value), in value order within each group
    values_df = (
        values_df.join(groups_df.select(_G, "gid"), on=_G)
        if key
        else values_df.with_columns(gid=pl.lit(0, pl.UInt32))
    )
    values_df = values_df.sort("gid", _V).with_row_index("j")
    # x: the value on its line (nominal: unused); interval shifts it by the rounded mean
    # (fewer cancelled digits, integers stay integers), which only interval allows
    x = {"nominal": pl.lit(0.0), "interval": pl.col(_V) - pl.col(_V).mean().round()}
    values_df = values_df.with_columns(x.get(level, pl.col(_V)).alias("x"))
    rows_df = rows_df.join(values_df.select(*key, _V, "gid", "j"), on=[*key, _V]).select(
        "gid", pl.col(_U).alias("unit"), "j", pl.col(_N).alias("n"), pl.col(_M).alias("m")
    )

    n_groups = groups_df.height
    alpha, low, high = (np.full(n_groups, np.nan) for _ in range(3))
    n_pairable = n_units = np.zeros(n_groups, np.int64)
    if rows_df.height:
        patterns, entries = _pattern_table(rows_df)
        stats = _Stats(patterns, entries, values_df.select("gid", "x"), n_groups, level)
        multiplicity = patterns.get_column("K").to_numpy().astype(np.float64)
        n_units = np.bincount(stats.gid_p, multiplicity, minlength=n_groups).astype(np.int64)
        n_pairable = np.bincount(stats.gid_p, multiplicity * stats.m_p, minlength=n_groups)
        alpha = stats.alphas(multiplicity[np.newaxis, :])[0]
        j0 = np.zeros(n_groups, np.int64)
        firsts = values_df.group_by("gid").agg(pl.col("j").min())
        j0[firsts.get_column("gid").to_numpy()] = firsts.get_column("j").to_numpy()
        streams = _group_streams(seed, patterns, entries, j0)
        chunk = max(1, min(draws, 2**22 // max(len(stats.p), stats.J, 1)))
        replicates = np.empty((draws, n_groups))
        for start in range(0, draws, chunk):
            size = min(chunk, draws - start)
            # A stream's draws come row by row, so chunks continue it: no chunk size
            # changes a group's replicates.
            weights = np.empty((size, stats.P))
            for lo, hi, rng in streams:
                weights[:, lo:hi] = rng.poisson(multiplicity[lo:hi], size=(size, hi - lo))
            replicates[start : start + size] = stats.alphas(weights)
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
