"""Cohen's and Fleiss' kappa against statsmodels; consensus and gold agreement against loops."""

from __future__ import annotations

import warnings
from collections import Counter
from itertools import combinations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from kpi_core.kappa import (
    cohen_kappa_pairs,
    consensus_agreement,
    fleiss_kappa,
    fleiss_scope,
    gold_agreement,
)

SCHEMA = {"item_id": pl.String, "annotator_id": pl.String, "label": pl.String}


@st.composite
def label_frames(draw, max_items=15, max_coders=5, labels="abcd"):
    """Long-form labels: each item labelled by a random subset of annotators, once each."""
    n_items = draw(st.integers(1, max_items))
    n_coders = draw(st.integers(2, max_coders))
    rows = []
    for i in range(n_items):
        coders = draw(st.lists(st.integers(0, n_coders - 1), unique=True, max_size=n_coders))
        for c in coders:
            rows.append((f"i{i:02d}", f"c{c}", draw(st.sampled_from(labels))))
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def statsmodels_cohen(frame: pl.DataFrame, a: str, b: str) -> tuple[int, float | None]:
    """(n shared, statsmodels' kappa) from the pair's square contingency table."""
    la = dict(frame.filter(pl.col("annotator_id") == a).select("item_id", "label").iter_rows())
    lb = dict(frame.filter(pl.col("annotator_id") == b).select("item_id", "label").iter_rows())
    shared = sorted(la.keys() & lb.keys())
    categories = sorted({la[i] for i in shared} | {lb[i] for i in shared})
    index = {c: k for k, c in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)))
    for i in shared:
        table[index[la[i]], index[lb[i]]] += 1
    if not shared:
        return 0, None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        kappa = cohens_kappa(table).kappa
    return len(shared), (float(kappa) if np.isfinite(kappa) else None)


# --------------------------------------------------------------------------- Cohen


@settings(max_examples=150, deadline=None)
@given(frame=label_frames())
def test_cohen_kappa_per_pair_matches_statsmodels(frame):
    out = cohen_kappa_pairs(frame)
    coders = sorted(frame.get_column("annotator_id").unique())
    expected_pairs = []
    for a, b in combinations(coders, 2):
        n_shared, kappa = statsmodels_cohen(frame, a, b)
        if n_shared:
            expected_pairs.append((a, b, n_shared, kappa))
    assert out.select("annotator_id_a", "annotator_id_b", "n_shared").rows() == [
        p[:3] for p in expected_pairs
    ]
    for got, (_, _, _, kappa) in zip(out.get_column("cohen_kappa"), expected_pairs, strict=True):
        if kappa is None:
            assert got is None
        else:
            assert got == pytest.approx(kappa, abs=1e-12)


def test_cohen_kappa_worked_table():
    # 2 raters x 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 (Wikipedia's example)
    cells = [("y", "y", 20), ("y", "n", 5), ("n", "y", 10), ("n", "n", 15)]
    rows, item = [], 0
    for la, lb, count in cells:
        for _ in range(count):
            rows += [(f"i{item}", "A", la), (f"i{item}", "B", lb)]
            item += 1
    out = cohen_kappa_pairs(pl.DataFrame(rows, schema=SCHEMA, orient="row"))
    assert out.select("annotator_id_a", "annotator_id_b", "n_shared").row(0) == ("A", "B", 50)
    assert out.item(0, "cohen_kappa") == pytest.approx(0.4)
    assert out.item(0, "observed_agreement") == pytest.approx(0.7)
    assert out.item(0, "expected_agreement") == pytest.approx(0.5)


def test_cohen_kappa_undefined_when_chance_agreement_is_one():
    frame = pl.DataFrame(
        [("i1", "A", "x"), ("i1", "B", "x"), ("i2", "A", "x"), ("i2", "B", "x")],
        schema=SCHEMA,
        orient="row",
    )
    out = cohen_kappa_pairs(frame)
    assert out.row(0) == ("A", "B", 2, 1.0, 1.0, None)


def test_cohen_min_shared_and_lazy():
    frame = pl.DataFrame(
        [
            ("i1", "A", "x"),
            ("i1", "B", "y"),
            ("i2", "A", "x"),
            ("i2", "C", "x"),
            ("i3", "A", "y"),
            ("i3", "C", "y"),
        ],
        schema=SCHEMA,
        orient="row",
    )
    out = cohen_kappa_pairs(frame, min_shared=2)
    assert out.select("annotator_id_a", "annotator_id_b").rows() == [("A", "C")]
    lazy = cohen_kappa_pairs(frame.lazy(), min_shared=2)
    assert isinstance(lazy, pl.LazyFrame)
    assert_frame_equal(lazy.collect(), out)


def test_null_labels_are_missing():
    frame = pl.DataFrame(
        [("i1", "A", "x"), ("i1", "B", None), ("i2", "A", "x"), ("i2", "B", "x")],
        schema=SCHEMA,
        orient="row",
    )
    assert cohen_kappa_pairs(frame).item(0, "n_shared") == 1


# --------------------------------------------------------------------------- Fleiss


def statsmodels_fleiss(frame: pl.DataFrame, min_raters: int = 2) -> float | None:
    per_item = {}
    for item, label in frame.select("item_id", "label").iter_rows():
        per_item.setdefault(item, []).append(label)
    sizes = Counter(len(v) for v in per_item.values() if len(v) >= min_raters)
    if not sizes:
        return None
    top = max(sizes.values())
    mode = max(size for size, count in sizes.items() if count == top)
    if mode < 2:
        return None
    data = np.array([sorted(v) for v in per_item.values() if len(v) == mode])
    table, _ = aggregate_raters(data)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        kappa = sm_fleiss_kappa(table, method="fleiss")
    return float(kappa) if np.isfinite(kappa) else None


@settings(max_examples=150, deadline=None)
@given(frame=label_frames(max_items=20, max_coders=6))
def test_fleiss_kappa_matches_statsmodels(frame):
    expected = statsmodels_fleiss(frame)
    got = fleiss_kappa(frame)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-12)


def test_fleiss_kappa_wikipedia_example():
    # Fleiss (1971) as on Wikipedia: 10 subjects, 14 raters, 5 categories; kappa 0.210
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    rows = []
    for i, counts in enumerate(table):
        rater = 0
        for category, count in enumerate(counts):
            for _ in range(count):
                rows.append((f"s{i}", f"r{rater}", f"cat{category}"))
                rater += 1
    frame = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    assert round(fleiss_kappa(frame), 3) == 0.210
    assert fleiss_kappa(frame) == pytest.approx(sm_fleiss_kappa(np.array(table)), abs=1e-12)


def test_fleiss_mode_ties_take_the_larger_count():
    rows = [("i1", "A", "x"), ("i1", "B", "x"), ("i2", "A", "x"), ("i2", "B", "y")]
    rows += [("i3", "A", "x"), ("i3", "B", "x"), ("i3", "C", "x")]
    rows += [("i4", "A", "y"), ("i4", "B", "y"), ("i4", "C", "x")]
    frame = pl.DataFrame(rows, schema=SCHEMA, orient="row")  # two items with 2, two with 3
    three = frame.filter(pl.col("item_id").is_in(["i3", "i4"]))
    assert fleiss_kappa(frame) == pytest.approx(fleiss_kappa(three))
    assert fleiss_kappa(frame) != pytest.approx(
        fleiss_kappa(frame.filter(pl.col("item_id").is_in(["i1", "i2"])))
    )


def test_fleiss_none_cases():
    single = pl.DataFrame([("i1", "A", "x"), ("i2", "B", "y")], schema=SCHEMA, orient="row")
    assert fleiss_kappa(single) is None
    same = pl.DataFrame([("i1", "A", "x"), ("i1", "B", "x")], schema=SCHEMA, orient="row")
    assert fleiss_kappa(same) is None
    assert fleiss_kappa(pl.DataFrame(schema=SCHEMA)) is None


# ------------------------------------------------------------ consensus and gold


def loop_consensus(frame: pl.DataFrame) -> dict[str, tuple[int, int]]:
    per_item: dict[str, list[tuple[str, str]]] = {}
    for item, coder, label in frame.iter_rows():
        per_item.setdefault(item, []).append((coder, label))
    result = {coder: (0, 0) for coder in frame.get_column("annotator_id").unique()}
    for labels in per_item.values():
        for k, (coder, label) in enumerate(labels):
            others = Counter(lab for j, (_, lab) in enumerate(labels) if j != k)
            if not others:
                continue
            top = max(others.values())
            modal = [lab for lab, count in others.items() if count == top]
            if len(modal) == 1:
                n, agree = result[coder]
                result[coder] = (n + 1, agree + (label == modal[0]))
    return result


@settings(max_examples=100, deadline=None)
@given(frame=label_frames())
def test_consensus_agreement_matches_loop(frame):
    out = consensus_agreement(frame)
    assert out.columns == ["annotator_id", "n_items", "n_agree", "consensus_agreement_rate"]
    expected = loop_consensus(frame)
    assert out.get_column("annotator_id").to_list() == sorted(expected)
    for coder, n_items, n_agree, rate in out.iter_rows():
        assert (n_items, n_agree) == expected[coder]
        assert rate == (n_agree / n_items if n_items else None)


@settings(max_examples=100, deadline=None)
@given(frame=label_frames(), gold=st.dictionaries(st.integers(0, 15), st.sampled_from("abc")))
def test_gold_agreement_matches_loop(frame, gold):
    gold_frame = pl.DataFrame(
        {"item_id": [f"i{i:02d}" for i in gold], "gold_label": list(gold.values())},
        schema={"item_id": pl.String, "gold_label": pl.String},
    )
    out = gold_agreement(frame, gold_frame)
    assert out.columns == ["annotator_id", "n_items", "n_agree", "gold_agreement_rate"]
    answers = dict(gold_frame.iter_rows())
    expected = {c: [0, 0] for c in frame.get_column("annotator_id").unique()}
    for item, coder, label in frame.iter_rows():
        if item in answers:
            expected[coder][0] += 1
            expected[coder][1] += label == answers[item]
    for coder, n_items, n_agree, rate in out.iter_rows():
        assert [n_items, n_agree] == expected[coder]
        assert rate == (n_agree / n_items if n_items else None)


def test_gold_null_is_not_gold_and_lazy_in_lazy_out():
    frame = pl.DataFrame([("i1", "A", "x"), ("i2", "A", "y")], schema=SCHEMA, orient="row")
    gold = pl.DataFrame({"item_id": ["i1", "i2"], "gold_label": ["x", None]})
    out = gold_agreement(frame.lazy(), gold.lazy())
    assert isinstance(out, pl.LazyFrame)
    assert out.collect().row(0) == ("A", 1, 1, 1.0)


def test_fleiss_min_raters_one_takes_the_mode_over_all_items():
    rows = [("i1", "A", "x"), ("i2", "A", "y"), ("i3", "A", "x")]  # three single-rated items
    rows += [("i4", "A", "x"), ("i4", "B", "y"), ("i5", "A", "x"), ("i5", "B", "x")]
    frame = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    assert fleiss_kappa(frame, min_raters=1) is None  # the mode is one rater
    assert fleiss_kappa(frame) == pytest.approx(statsmodels_fleiss(frame))


def test_fleiss_scope_names_the_items_fleiss_kappa_takes():
    # i1 and i2 have 2 raters, i3 has 3, i4 has 1: the modal number among items with
    # at least 2 raters is 2, held by 2 of those 3 items
    labels = pl.DataFrame(
        {
            "item_id": ["i1", "i1", "i2", "i2", "i3", "i3", "i3", "i4"],
            "annotator_id": ["a", "b", "a", "b", "a", "b", "c", "a"],
            "label": ["x", "x", "x", "y", "y", "y", "x", "x"],
        }
    )
    assert fleiss_scope(labels) == (2, 2, 3)
    assert fleiss_scope(labels.filter(pl.col("item_id") == "i4")) == (0, None, 0)
