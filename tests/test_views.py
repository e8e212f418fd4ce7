"""kpi_core.views: the dashboard's reshapings, checked by hand on TINY (tests/datasets.py)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from datasets import TINY, write_dataset
from kpi_core import aggregates, queries, views
from kpi_core.grouping import SLICE, Filters
from kpi_core.loading import open_dataset
from kpi_core.metrics import kpi_table
from kpi_core.problems import QueryError
from kpi_core.targets import Targets


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return open_dataset(write_dataset(tmp_path_factory.mktemp("tiny"), TINY))


@pytest.fixture(scope="module")
def tiny(dataset):
    return aggregates.fetch(dataset)


def test_week_over_week_is_the_last_week_minus_the_one_before(tiny):
    weeks = kpi_table(tiny, ["week"])
    # W02: accepted of known truth a1 (audit: error) -> 1/1; W03: a9 right -> 0/1
    change = views.week_over_week(weeks, "accepted_label_error_rate")
    assert (change.previous_week, change.last_week) == ("2026-W02", "2026-W03")
    assert (change.previous, change.last, change.change) == (1.0, 0.0, -1.0)


def test_week_over_week_has_no_change_when_a_week_is_missing_or_na():
    one = pl.DataFrame({"week": ["2026-W02"], "x": [0.5]})
    assert views.week_over_week(one, "x").change is None
    gap = pl.DataFrame({"week": ["2026-W02", "2026-W03"], "x": [0.5, None]})
    assert views.week_over_week(gap, "x").change is None
    none = pl.DataFrame(schema={"week": pl.String, "x": pl.Float64})
    assert views.week_over_week(none, "x").last_week is None


def test_worst_items_rank_by_the_majority_share(tiny):
    worst = views.worst_items(tiny["item_label_counts"])
    # i1: g1 A, g2 B, s1 A -> majority A, 2 of 3; i2: g1 Y (latest), g2 Y -> 2 of 2.
    # i3 and i4 have one human annotator and are left out.
    assert worst["item_id"].to_list() == ["i1", "i2"]
    assert worst["majority_share"].to_list() == pytest.approx([2 / 3, 1.0])
    assert worst.row(0, named=True)["labels"] == "A ×2, B ×1"
    stem = views.worst_items(tiny["item_label_counts"], {"domain": "coding"})
    assert stem.height == 0


def test_worst_items_name_every_label_tied_for_the_majority():
    counts = pl.DataFrame(
        {
            "item_id": ["i1"] * 3 + ["i2"] * 2,
            "domain": ["stem"] * 5,
            "difficulty": ["easy"] * 5,
            "risk_class": ["low"] * 5,
            "week_start": [date(2026, 1, 5)] * 5,
            "label": ["3", "1", "2", "B", "A"],
            "n_annotators": [1, 1, 1, 2, 2],
        }
    )
    worst = views.worst_items(counts.lazy())
    assert worst.select("item_id", "majority_label").rows() == [
        ("i1", "1 / 2 / 3"),
        ("i2", "A / B"),
    ]
    assert worst["majority_share"].to_list() == pytest.approx([1 / 3, 1 / 2])


def test_qa_funnel_counts_each_stage(tiny):
    funnel = views.qa_funnel(kpi_table(tiny).to_dicts()[0])
    # 9 annotations; precheck reviews r1 r3 r4 r6 r8 r11 (6), accepting: all but r3 (5);
    # of those, a final review: a1 a3 a6 a8 (4); latest final accept: a1 a6 a8 (a3 fixed).
    assert funnel["n"].to_list() == [9, 6, 5, 4, 3]
    assert funnel["share"][0] == 1.0


def test_accuracy_by_tier_puts_programmatic_beside_human_gold_accuracy(tiny):
    frame = views.accuracy_by_tier(kpi_table(tiny, ["difficulty", "tier"]))
    rows = {(r["difficulty"], r["tier"]): r for r in frame.to_dicts()}
    # easy generalist gold: a1 A=A, a2 B!=A, a6 Y=Y (calibration gold) -> 2/3
    assert rows[("easy", "generalist")]["accuracy"] == pytest.approx(2 / 3)
    assert rows[("easy", "generalist")]["n"] == 3
    # hard programmatic of known truth: a9 B = gold B -> 1/1 (a7 has no truth)
    assert rows[("hard", "programmatic")]["accuracy"] == 1.0
    assert rows[("hard", "programmatic")]["measure"] == "Programmatic accuracy"


def test_slice_grid_is_one_row_per_domain_and_difficulty(tiny):
    grid = views.slice_grid(kpi_table(tiny, list(SLICE)), "accepted")
    expected = pl.DataFrame(
        {
            "row": ["coding / hard", "stem / easy"],
            "domain": ["coding", "stem"],
            "difficulty": ["hard", "easy"],
            "low": [None, 2],
            "high": [2, None],
        },
        schema_overrides={"low": pl.Int64, "high": pl.Int64},
    )
    assert_frame_equal(grid, expected)


def test_gap_to_target_measures_each_slice_against_its_domains_target():
    # The default targets hold medicine to 3% accepted-label error and others to 5%.
    slices = pl.DataFrame(
        {
            "domain": ["medicine", "coding", "coding"],
            "accepted_label_error_rate": [0.04, 0.04, None],
        }
    )
    gaps = views.gap_to_target(slices, "accepted_label_error_rate", Targets.load())
    assert gaps["accepted_label_error_rate_vs_target"].to_list() == pytest.approx(
        [0.01, -0.01, None]
    )


def test_natural_order_of_ordered_dimensions():
    assert views.ordered(["hard", "easy", "unknown", "medium"], "difficulty") == [
        "easy",
        "medium",
        "hard",
        "unknown",
    ]
    assert views.ordered(["b", "a", "b"], "domain") == ["a", "b"]


def test_rank_slices_puts_the_worst_first_and_na_last():
    frame = pl.DataFrame(
        {
            "domain": ["a", "b", "c"],
            "difficulty": ["x"] * 3,
            "risk_class": ["y"] * 3,
            "k": [0.1, None, 0.3],
        }
    )
    assert views.rank_slices(frame, "k", False)["domain"].to_list() == ["c", "a", "b"]
    assert views.rank_slices(frame, "k", True)["domain"].to_list() == ["a", "c", "b"]


def test_slice_labels_round_trip():
    label = views.slice_label("medicine", "hard", "high")
    assert label == "medicine / hard / high"
    assert views.parse_slice(label) == {
        "domain": "medicine",
        "difficulty": "hard",
        "risk_class": "high",
    }
    assert views.parse_slice("medicine / hard") is None


def test_weighted_histogram_sums_the_weights():
    frame = pl.LazyFrame({"v": [0.0, 1.0, 1.0, 10.0, 100.0], "w": [1, 2, 0, 3, 1]})
    hist = views.weighted_histogram(frame, "v", "w", bins=2, clip_quantile=1.0)
    assert hist["n"].sum() == 7  # the zero weight is left out
    assert hist["bin_start"].to_list() == [0.0, 50.0]
    assert hist["n"].to_list() == [6, 1]


def test_aging_is_long_form_in_bucket_order(tiny):
    from kpi_core.backlog import backlog_by_stage

    long = views.aging(backlog_by_stage(tiny["review_backlog"], ["domain"]).collect(), "domain")
    assert long.columns == ["domain", "stage", "age", "n"]
    first = long.filter(pl.col("domain") == long["domain"][0], pl.col("stage") == long["stage"][0])
    assert first["age"].to_list() == ["< 1 d", "1-3 d", "3-7 d", "> 7 d"]


def test_promotion_evidence_is_one_row_per_slice_and_week():
    promoted = pl.DataFrame(
        {
            "domain": ["m"],
            "difficulty": ["h"],
            "risk_class": ["x"],
            "weeks": [
                [
                    {
                        "week": "2026-W01",
                        "accepted_label_error_rate": 0.1,
                        "accepted_label_error_rate_ci_low": 0.05,
                        "accepted_label_error_rate_ci_high": 0.2,
                        "n_accepted_known": 30,
                        "n_accepted_wrong": 3,
                    }
                ]
            ],
        }
    )
    evidence = views.promotion_evidence(promoted)
    assert evidence.columns == [
        "domain",
        "difficulty",
        "risk_class",
        "week",
        "accepted_label_error_rate",
        "ci_low",
        "ci_high",
        "n_accepted_known",
        "n_accepted_wrong",
    ]
    assert evidence.height == 1
    assert views.promotion_evidence(promoted.clear()).height == 0


def test_alpha_with_interval_matches_the_point_estimate(tiny):
    by_week = views.alpha_with_interval(tiny["item_label_counts"], ["week"])
    table = kpi_table(tiny, ["week"]).select("week", "krippendorff_alpha")
    joined = by_week.join(table, on="week", suffix="_table")
    for row in joined.iter_rows(named=True):
        if row["krippendorff_alpha"] is None:
            assert row["krippendorff_alpha_table"] is None
        else:
            assert row["krippendorff_alpha"] == pytest.approx(row["krippendorff_alpha_table"])
            assert row["krippendorff_alpha_ci_low"] <= row["krippendorff_alpha_ci_high"]


def test_filters_apply_to_views(tiny):
    later = Filters(date_from=date(2026, 1, 12))
    assert views.worst_items(tiny["item_label_counts"], filters=later).height == 0


def test_unavailable_reason_names_the_cause(tmp_path, tiny):
    edge = aggregates.fetch(open_dataset(write_dataset(tmp_path, TINY, drop=("reviews",))))
    assert "no reviews table" in views.unavailable_reason(edge, "accepted_label_error_rate")
    assert "nothing to divide by" in views.unavailable_reason(tiny, "disagreement_rate")


def test_preview_query_limits_rows_and_names_the_line_of_a_failure(dataset, tmp_path):
    query = queries.parse_file(queries.QUERIES_DIR / "model_lift.sql")
    frame, n = views.preview_query(dataset.con, query, limit=1)
    assert (frame.height, n) == (1, 2)
    broken = tmp_path / "model_lift.sql"
    broken.write_text(query.path.read_text().replace("score,", "scroe,", 1))
    with pytest.raises(QueryError) as raised:
        views.preview_query(dataset.con, queries.parse_file(broken))
    assert raised.value.line is not None
    assert "scroe" in raised.value.reason


@pytest.fixture(scope="module")
def labels(dataset, tiny):
    # (tiny: its fetch builds the models the query reads, whichever test runs first)
    return views.annotator_labels(queries.run(dataset.con, "calibration_item_annotations"))


def test_annotator_labels_keep_each_annotators_latest_human_label(labels):
    # g1 labelled i2 twice (X, then Y): only Y counts; programmatic p1 is left out.
    rows = sorted(labels.select("item_id", "annotator_id", "label").rows())
    assert rows == [
        ("i1", "g1", "A"),
        ("i1", "g2", "B"),
        ("i1", "s1", "A"),
        ("i2", "g1", "Y"),
        ("i2", "g2", "Y"),
        ("i3", "g2", "Z"),
    ]
    inhouse = views.annotator_labels(
        labels.with_columns(pl.lit(True).alias("is_item_label")), Filters(vendors=("inhouse",))
    )
    assert inhouse["annotator_id"].to_list() == ["s1"]


def test_kappa_grid_is_symmetric_with_an_empty_diagonal(labels):
    from kpi_core.kappa import cohen_kappa_pairs

    pairs = cohen_kappa_pairs(labels.select("item_id", "annotator_id", "label"))
    names, kappas, shared = views.kappa_grid(pairs)
    assert names == ["g1", "g2", "s1"]
    # g1 and g2 share i1 (A/B) and i2 (Y/Y); g1 and s1 share i1 only.
    assert shared.row(0) == ("g1", None, 2, 1)
    assert shared.row(1)[1] == 2 and kappas.row(1)[1] == kappas.row(0)[2]
    assert views.kappa_grid(pairs.clear())[0] == []


def test_annotator_agreement_with_consensus_and_gold(labels):
    rows = {r["annotator_id"]: r for r in views.annotator_agreement(labels).to_dicts()}
    # g1: i1 has no consensus among g2 (B) and s1 (A); on i2 the other (g2) says Y = g1's Y.
    assert (rows["g1"]["n_consensus"], rows["g1"]["consensus_agreement_rate"]) == (1, 1.0)
    # g2: i1 others say A (g2 B: no); i2 other says Y (yes); i3 nobody else.
    assert (rows["g2"]["n_consensus"], rows["g2"]["consensus_agreement_rate"]) == (2, 0.5)
    assert rows["s1"]["consensus_agreement_rate"] is None
    # gold: i1 gold A judges a1 (A), a2 (B), a3 (A); i2's agreed Y (recorded 10:30) judges
    # a6 (11:00) but not g1's a5 (10:00).
    assert (rows["g1"]["n_gold"], rows["g1"]["gold_agreement_rate"]) == (1, 1.0)
    assert (rows["g2"]["n_gold"], rows["g2"]["gold_agreement_rate"]) == (2, 0.5)
    assert (rows["s1"]["n_gold"], rows["s1"]["gold_agreement_rate"]) == (1, 1.0)
    assert rows["g2"]["vendor"] == "bluepeak"


def test_oldest_waiting_lists_backlog_annotations_oldest_first(tiny):
    oldest = views.oldest_waiting(tiny["oldest_waiting_annotations"])
    # as of 01-14 11:00 with no review: a4 (193 h), a5 (169 h), a7 (49 h)
    assert oldest["annotation_id"].to_list() == ["a4", "a5", "a7"]
    assert oldest["age_h"].to_list() == [193.0, 169.0, 49.0]
    coding = views.oldest_waiting(tiny["oldest_waiting_annotations"], Filters(domains=("coding",)))
    assert coding["annotation_id"].to_list() == ["a7"]
