"""Krippendorff's alpha: the published example, the ``krippendorff`` package, invariances, bootstrap."""

from __future__ import annotations

import math
import warnings

import krippendorff
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from kpi_core import reliability
from kpi_core.reliability import (
    alpha_from_value_counts,
    bootstrap_alpha,
    grouped_krippendorff_alpha,
    krippendorff_alpha,
    nominal_alpha_from_marginals,
    nominal_marginals,
    value_counts,
)

LEVELS = ["nominal", "ordinal", "interval", "ratio"]
NAN = np.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the 4 coders x 12
# units example with missing values (section C), and the published alphas.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)
PUBLISHED = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}


def long_form(matrix: np.ndarray, labels=None) -> pl.DataFrame:
    """The dense coders x units matrix as one row per coder's value on a unit."""
    coders, units = np.nonzero(~np.isnan(matrix))
    values = matrix[coders, units]
    return pl.DataFrame(
        {
            "item_id": [f"item-{u}" for u in units],
            "annotator_id": [f"coder-{c}" for c in coders],
            "label": values.tolist() if labels is None else [labels[v] for v in values],
        },
        schema={"item_id": pl.String, "annotator_id": pl.String, "label": pl.Float64}
        if labels is None
        else None,
    )


def package_alpha(matrix: np.ndarray, level: str) -> float | None:
    """``krippendorff.alpha`` on the dense matrix; None where it refuses or gives NaN."""
    observed = np.unique(matrix[~np.isnan(matrix)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            value = krippendorff.alpha(
                reliability_data=matrix,
                level_of_measurement=level,
                value_domain=observed if level == "ordinal" else None,
            )
        except ValueError:  # one value in all, or no unit with two values
            return None
    return None if not np.isfinite(value) else float(value)


@st.composite
def reliability_matrices(draw, values=None, max_coders=5, max_units=12):
    """A small coders x units matrix of values, with missing values (NaN)."""
    values = st.integers(0, 5) if values is None else values
    coders = draw(st.integers(1, max_coders))
    units = draw(st.integers(1, max_units))
    cells = draw(
        st.lists(st.one_of(st.none(), values), min_size=coders * units, max_size=coders * units)
    )
    return np.array([NAN if c is None else c for c in cells], dtype=float).reshape(coders, units)


# ------------------------------------------------------------------ worked example


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_2011_example(level):
    ours = krippendorff_alpha(long_form(KRIPPENDORFF_2011), level=level)
    assert round(ours, 3) == PUBLISHED[level]
    assert ours == pytest.approx(package_alpha(KRIPPENDORFF_2011, level), abs=1e-9)


@pytest.mark.parametrize("level", LEVELS)
def test_every_path_gives_the_example(level):
    counts = value_counts(long_form(KRIPPENDORFF_2011))
    expected = package_alpha(KRIPPENDORFF_2011, level)
    general = general_alpha(counts, level)
    boot = bootstrap_alpha(counts, level=level, draws=20)
    assert general == pytest.approx(expected, abs=1e-9)
    assert boot.item(0, "krippendorff_alpha") == pytest.approx(expected, abs=1e-9)
    assert boot.select("n_pairable", "n_units").row(0) == (40, 11)


def test_example_counts_and_columns():
    out = grouped_krippendorff_alpha(long_form(KRIPPENDORFF_2011), [])
    assert out.columns == ["krippendorff_alpha", "n_pairable", "n_units"]
    assert out.select("n_pairable", "n_units").row(0) == (40, 11)  # unit 12 has one value
    assert out.schema["n_pairable"] == pl.Int64


def general_frame(counts: pl.DataFrame, level: str, by: list[str]) -> pl.DataFrame:
    """The long-form coincidence-matrix path, which serves every level."""
    rows, groups, key = reliability._rows_from_counts(counts, by, "item_id", "label", "n", level)
    return reliability._alpha_frame(
        rows, groups, key, by, level, reliability._coincidence_sums
    ).collect()


def general_alpha(counts: pl.DataFrame, level: str) -> float | None:
    return general_frame(counts, level, []).item(0, "krippendorff_alpha")


# ------------------------------------------------------- agreement with the package

VALUES_BY_LEVEL = {
    "nominal": st.integers(0, 4),
    "ordinal": st.integers(1, 6),
    "interval": st.sampled_from([-2.5, -1.0, 0.0, 0.5, 1.0, 3.0, 10.0]),
    "ratio": st.integers(0, 7),
}


@pytest.mark.parametrize("level", LEVELS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_matches_krippendorff_package(level, data):
    matrix = data.draw(reliability_matrices(VALUES_BY_LEVEL[level]))
    expected = package_alpha(matrix, level)
    frame = long_form(matrix)
    ours = krippendorff_alpha(frame, level=level)
    general = general_alpha(value_counts(frame), level)
    if expected is None:
        assert ours is None and general is None
    else:
        assert ours == pytest.approx(expected, abs=1e-9)
        assert general == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("level", LEVELS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_bootstrap_point_estimate_is_alpha(level, data):
    matrix = data.draw(reliability_matrices(VALUES_BY_LEVEL[level]))
    counts = value_counts(long_form(matrix))
    boot = bootstrap_alpha(counts, level=level, draws=5)
    point = alpha_from_value_counts(counts, level=level)
    expected = point.item(0, "krippendorff_alpha")
    got = boot.item(0, "krippendorff_alpha")
    assert (got is None) == (expected is None)
    if expected is not None:
        assert got == pytest.approx(expected, abs=1e-9)
    assert boot.select("n_pairable", "n_units").row(0) == point.select("n_pairable", "n_units").row(
        0
    )


def test_nominal_text_labels_match_codes():
    labels = {0.0: "cat", 1.0: "dog", 2.0: "bird", 3.0: "fish", 4.0: "ant", 5.0: "owl"}
    frame = long_form(KRIPPENDORFF_2011, labels={v + 1: labels[v] for v in range(5)})
    assert krippendorff_alpha(frame) == pytest.approx(
        package_alpha(KRIPPENDORFF_2011, "nominal"), abs=1e-12
    )


def test_numbers_written_as_text_are_read_as_numbers():
    frame = long_form(KRIPPENDORFF_2011).with_columns(
        pl.col("label").cast(pl.Int64).cast(pl.String)
    )
    for level in ["ordinal", "interval", "ratio"]:
        assert krippendorff_alpha(frame, level=level) == pytest.approx(
            package_alpha(KRIPPENDORFF_2011, level), abs=1e-9
        )


def test_text_that_is_not_a_number_is_an_error_at_numeric_levels():
    frame = pl.DataFrame(
        {"item_id": ["a", "a"], "annotator_id": ["x", "y"], "label": ["1", "many"]}
    )
    with pytest.raises(pl.exceptions.InvalidOperationError):
        krippendorff_alpha(frame, level="interval")


def test_null_and_nan_are_missing():
    base = long_form(KRIPPENDORFF_2011)
    extra = pl.DataFrame(
        {
            "item_id": ["item-0", "item-10", "item-11"],
            "annotator_id": ["c9"] * 3,
            "label": [None, NAN, None],
        },
        schema=base.schema,
    )
    for level in LEVELS:
        assert krippendorff_alpha(pl.concat([base, extra]), level=level) == pytest.approx(
            krippendorff_alpha(base, level=level), abs=1e-15
        )


def test_large_offset_interval_values_keep_their_precision():
    frame = long_form(KRIPPENDORFF_2011).with_columns(pl.col("label") * 0.001 + 1e6)
    assert krippendorff_alpha(frame, level="interval") == pytest.approx(
        package_alpha(KRIPPENDORFF_2011, "interval"), abs=1e-6
    )


# ----------------------------------------------------------------------- None cases


def test_single_coder_per_unit_is_none():
    frame = pl.DataFrame(
        {"item_id": ["a", "b", "c"], "annotator_id": ["x", "y", "z"], "label": ["1", "2", "3"]}
    )
    for level in LEVELS:
        assert krippendorff_alpha(frame, level=level) is None
    out = grouped_krippendorff_alpha(frame, [])
    assert out.row(0) == (None, 0, 0)


def test_all_values_equal_is_none():
    frame = pl.DataFrame(
        {
            "item_id": ["a", "a", "b", "b", "c"],
            "annotator_id": list("xyxyz"),
            "label": ["0.1"] * 4 + ["9"],
        }  # unit c is unpairable: its other value does not count
    )
    for level in LEVELS:
        assert krippendorff_alpha(frame, level=level) is None


def test_ratio_with_no_expected_disagreement_is_none():
    # ratio distance of c and -c is 0, as in the krippendorff package
    frame = pl.DataFrame({"item_id": ["a", "a"], "annotator_id": ["x", "y"], "label": [1.0, -1.0]})
    assert krippendorff_alpha(frame, level="ratio") is None


def test_empty_input_is_none():
    frame = pl.DataFrame(
        schema={"item_id": pl.String, "annotator_id": pl.String, "label": pl.String}
    )
    assert krippendorff_alpha(frame) is None
    assert bootstrap_alpha(value_counts(frame)).row(0) == (None, None, None, 0, 0)


# -------------------------------------------------------------------------- groups


@st.composite
def grouped_frames(draw, level):
    """Long-form labels for several groups; a unit belongs to one group."""
    n_units = draw(st.integers(1, 25))
    groups = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n_units, max_size=n_units))
    weeks = draw(st.lists(st.integers(1, 2), min_size=n_units, max_size=n_units))
    rows = []
    for u in range(n_units):
        coders = draw(st.lists(st.integers(0, 4), max_size=4, unique=True))
        for c in coders:
            rows.append((groups[u], weeks[u], f"i{u}", f"c{c}", draw(VALUES_BY_LEVEL[level])))
    return pl.DataFrame(
        rows,
        schema={
            "slice": pl.String,
            "week": pl.Int64,
            "item_id": pl.String,
            "annotator_id": pl.String,
            "label": pl.Float64,
        },
        orient="row",
    )


@pytest.mark.parametrize("level", LEVELS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_grouped_alpha_equals_alpha_per_group(level, data):
    frame = data.draw(grouped_frames(level))
    out = grouped_krippendorff_alpha(frame, ["slice", "week"], level=level)
    assert out.columns == ["slice", "week", "krippendorff_alpha", "n_pairable", "n_units"]
    assert out.height == frame.select("slice", "week").n_unique()
    assert out.select("slice", "week").equals(out.select("slice", "week").sort(["slice", "week"]))
    for row in out.iter_rows(named=True):
        part = frame.filter((pl.col("slice") == row["slice"]) & (pl.col("week") == row["week"]))
        expected = krippendorff_alpha(part, level=level)
        if expected is None:
            assert row["krippendorff_alpha"] is None
        else:
            assert row["krippendorff_alpha"] == pytest.approx(expected, abs=1e-12)
    general = general_frame(value_counts(frame, ["slice", "week"]), level, ["slice", "week"])
    assert_frame_equal(general, out, abs_tol=1e-9)
    boot = bootstrap_alpha(
        value_counts(frame, ["slice", "week"]), ["slice", "week"], level=level, draws=5
    )
    assert_frame_equal(
        boot.select("slice", "week", "n_pairable", "n_units"),
        out.select("slice", "week", "n_pairable", "n_units"),
    )
    assert_frame_equal(
        boot.select("krippendorff_alpha"), out.select("krippendorff_alpha"), abs_tol=1e-9
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_marginals_roll_up_to_any_coarser_grouping(data):
    # Nominal marginals at slice x week, summed to slice, week or overall, must give
    # the package's alpha on the labels of each coarser group.
    frame = data.draw(grouped_frames("nominal"))
    marginals = nominal_marginals(value_counts(frame, ["slice", "week"]), ["slice", "week"])
    for by in (["slice", "week"], ["slice"], ["week"], []):
        rolled = nominal_alpha_from_marginals(marginals, by)
        groups = frame.select(by).unique().sort(by).iter_rows(named=True) if by else [{}]
        for group in groups:
            part = frame.filter(**group) if group else frame
            matrix = part.pivot("item_id", index="annotator_id", values="label")
            expected = package_alpha(matrix.drop("annotator_id").to_numpy(), "nominal")
            row = rolled.filter(**group) if group else rolled
            got = row.item(0, "krippendorff_alpha") if row.height else None
            if expected is None:
                assert got is None
            else:
                assert got == pytest.approx(expected, abs=1e-9)


def test_value_counts_split_by_other_columns_are_summed():
    counts = value_counts(long_form(KRIPPENDORFF_2011))
    split = pl.concat(
        [
            counts.with_columns(pl.col("n") - 1, vendor=pl.lit("v1")),
            counts.with_columns(pl.lit(1, pl.Int64).alias("n"), vendor=pl.lit("v2")),
        ]
    )
    for level in LEVELS:
        assert alpha_from_value_counts(split, level=level).item(0, 0) == pytest.approx(
            package_alpha(KRIPPENDORFF_2011, level), abs=1e-9
        )


def test_lazy_in_lazy_out():
    frame = long_form(KRIPPENDORFF_2011)
    lazy = grouped_krippendorff_alpha(frame.lazy(), [])
    assert isinstance(lazy, pl.LazyFrame)
    assert_frame_equal(lazy.collect(), grouped_krippendorff_alpha(frame, []))
    assert isinstance(alpha_from_value_counts(value_counts(frame.lazy())), pl.LazyFrame)
    assert krippendorff_alpha(frame.lazy()) == krippendorff_alpha(frame)


def test_custom_column_names():
    frame = long_form(KRIPPENDORFF_2011).rename(
        {"item_id": "unit", "annotator_id": "coder", "label": "score"}
    )
    got = krippendorff_alpha(frame, unit="unit", coder="coder", value="score", level="interval")
    assert got == pytest.approx(package_alpha(KRIPPENDORFF_2011, "interval"), abs=1e-9)


def test_unknown_level_is_refused():
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha(long_form(KRIPPENDORFF_2011), level="cardinal")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- invariances


@pytest.mark.parametrize("level", LEVELS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_permuting_coders_and_units_keeps_alpha(level, data):
    matrix = data.draw(reliability_matrices(VALUES_BY_LEVEL[level]))
    coders = data.draw(st.permutations(range(matrix.shape[0])))
    units = data.draw(st.permutations(range(matrix.shape[1])))
    base = krippendorff_alpha(long_form(matrix), level=level)
    permuted = long_form(matrix[np.ix_(coders, units)])
    shuffled = permuted.sample(fraction=1.0, shuffle=True, seed=data.draw(st.integers(0, 99)))
    got = krippendorff_alpha(shuffled, level=level)
    assert (got is None) == (base is None)
    if base is not None:
        assert got == pytest.approx(base, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(matrix=reliability_matrices(), data=st.data())
def test_relabelling_nominal_values_keeps_alpha(matrix, data):
    names = data.draw(
        st.lists(st.text(min_size=1, max_size=3), min_size=6, max_size=6, unique=True)
    )
    base = krippendorff_alpha(long_form(matrix))
    got = krippendorff_alpha(long_form(matrix, labels={float(i): s for i, s in enumerate(names)}))
    assert (got is None) == (base is None)
    if base is not None:
        assert got == pytest.approx(base, abs=1e-12)


# ------------------------------------------------------------------------ bootstrap


def simulated_counts(n_units: int, seed: int, n_groups: int = 1) -> pl.DataFrame:
    """Three labels per unit from 4 classes, the unit's true class with probability 0.7."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 4, n_units)
    labels = np.where(rng.random((3, n_units)) < 0.7, truth, rng.integers(0, 4, (3, n_units)))
    frame = pl.DataFrame(
        {
            "group": np.tile(np.arange(n_units) % n_groups, 3),
            "item_id": np.tile(np.arange(n_units), 3),
            "label": labels.ravel(),
        }
    )
    return value_counts(frame, ["group"])


def test_bootstrap_same_seed_same_result():
    counts = simulated_counts(500, seed=1)
    first = bootstrap_alpha(counts, draws=200, seed=7)
    assert_frame_equal(first, bootstrap_alpha(counts, draws=200, seed=7))
    assert not first.equals(bootstrap_alpha(counts, draws=200, seed=8))


@pytest.mark.parametrize("level", LEVELS)
def test_bootstrap_interval_contains_the_estimate(level):
    out = bootstrap_alpha(simulated_counts(2000, seed=2), level=level, draws=300)
    alpha, low, high = out.row(0)[:3]
    assert low < alpha < high
    assert high - low < 0.1


def test_bootstrap_interval_shrinks_with_more_units():
    widths = []
    for n_units in [200, 2000, 20000]:
        out = bootstrap_alpha(simulated_counts(n_units, seed=3), draws=300)
        widths.append(
            out.item(0, "krippendorff_alpha_ci_high") - out.item(0, "krippendorff_alpha_ci_low")
        )
    assert widths[0] > widths[1] > widths[2]
    # the standard error goes as 1 / sqrt(units): 10x the units, about a third of the width
    assert 2 < widths[0] / widths[1] < 5 and 2 < widths[1] / widths[2] < 5


def test_bootstrap_per_group():
    counts = simulated_counts(3000, seed=4, n_groups=3)
    out = bootstrap_alpha(counts, ["group"], draws=200)
    assert out.columns == [
        "group",
        "krippendorff_alpha",
        "krippendorff_alpha_ci_low",
        "krippendorff_alpha_ci_high",
        "n_pairable",
        "n_units",
    ]
    assert out.get_column("group").to_list() == [0, 1, 2]
    point = alpha_from_value_counts(counts, ["group"])
    assert_frame_equal(
        out.select("group", "krippendorff_alpha"),
        point.select("group", "krippendorff_alpha"),
        abs_tol=1e-12,
    )
    assert (
        out.get_column("krippendorff_alpha_ci_low") < out.get_column("krippendorff_alpha")
    ).all()


@pytest.mark.parametrize("level", LEVELS)
def test_a_groups_interval_does_not_depend_on_the_groups_beside_it(level):
    """One ISO week reads one interval, alone or beside other weeks, and beside a group
    wide enough to change how patterns are keyed (60 distinct values)."""
    counts = simulated_counts(1500, seed=9, n_groups=3)
    labels = np.random.default_rng(5).integers(0, 60, (3, 400))
    wide = pl.DataFrame(
        {"group": 99, "item_id": np.tile(np.arange(10_000, 10_400), 3), "label": labels.ravel()}
    )
    together = bootstrap_alpha(
        pl.concat([counts, value_counts(wide, ["group"])], how="vertical_relaxed"),
        ["group"],
        level=level,
        draws=300,
    )
    for group in [0, 1, 2]:
        alone = bootstrap_alpha(
            counts.filter(pl.col("group") == group), ["group"], level=level, draws=300
        )
        assert_frame_equal(alone, together.filter(pl.col("group") == group))


def test_bootstrap_undefined_group_has_no_interval():
    counts = pl.DataFrame(
        {
            "group": ["a", "a", "b", "b"],
            "item_id": ["1", "1", "2", "3"],
            "label": ["x", "y", "x", "x"],
            "n": [2, 1, 1, 1],
        }
    )
    out = bootstrap_alpha(counts, ["group"], draws=50)
    assert out.filter(pl.col("group") == "b").row(0)[1:] == (None, None, None, 0, 0)


def test_bootstrap_with_many_distinct_values_uses_exact_pattern_lists():
    # 60 distinct values in one group: the count vectors no longer fit an integer key
    rng = np.random.default_rng(5)
    matrix = rng.integers(0, 60, (3, 400)).astype(float)
    counts = value_counts(long_form(matrix))
    for level in ["interval", "ordinal"]:
        out = bootstrap_alpha(counts, level=level, draws=50)
        assert out.item(0, "krippendorff_alpha") == pytest.approx(
            package_alpha(matrix, level), abs=1e-9
        )


def test_collapsed_poisson_bootstrap_matches_per_unit_resampling():
    """One Poisson(K) per pattern has the spread of one Poisson(1) per unit."""
    counts = simulated_counts(300, seed=6)
    ours = bootstrap_alpha(counts, draws=2000, seed=0)
    dense = (
        counts.pivot(on="label", index="item_id", values="n", sort_columns=True)
        .fill_null(0)
        .drop("item_id")
        .to_numpy()
    )
    rng = np.random.default_rng(1)
    naive = [
        krippendorff.alpha(
            value_counts=np.repeat(dense, rng.poisson(1.0, len(dense)), axis=0),
            level_of_measurement="nominal",
        )
        for _ in range(2000)
    ]
    low, high = np.quantile(naive, [0.025, 0.975])
    assert ours.item(0, "krippendorff_alpha_ci_low") == pytest.approx(low, abs=0.02)
    assert ours.item(0, "krippendorff_alpha_ci_high") == pytest.approx(high, abs=0.02)
    assert math.isfinite(np.std(naive))
