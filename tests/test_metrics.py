"""KPIs of kpis.md on the hand-checked TINY data set (tests/datasets.py).

Every expected number below is worked out by hand from the rows of TINY; the
comment beside it shows the arithmetic.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import krippendorff
import numpy as np
import polars as pl
import polars.testing
import pytest

from datasets import TINY, write_dataset
from kpi_core import aggregates
from kpi_core.agreement import agreement_from_stats, stats_from_marginals
from kpi_core.grouping import SLICE, Filters
from kpi_core.loading import open_dataset
from kpi_core.metrics import kpi_table
from kpi_core.problems import DataError
from kpi_core.promotion import slice_weeks


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = write_dataset(tmp_path_factory.mktemp("tiny"), TINY)
    return aggregates.fetch(open_dataset(root))


@pytest.fixture(scope="module")
def overall(tiny):
    return kpi_table(tiny).to_dicts()[0]


def by_key(frame: pl.DataFrame, key: str) -> dict[str, dict]:
    return {row[key]: row for row in frame.to_dicts()}


def test_as_of_defaults_to_the_latest_timestamp_in_any_table(tiny):
    assert tiny.as_of == datetime(2026, 1, 14, 11, 0)  # audit u3


def test_decision_is_the_latest_review_with_ties_to_the_later_review_id(overall):
    # decided: a1 (r2 accept), a2 (r3 reject), a3 (r5 fix), a6 (r7 accept),
    # a8 (r9 accept: ties r10 at 12:00, and "r9" > "r10"), a9 (r11 accept)
    assert overall["n_decided"] == 6
    assert overall["accepted"] == 4
    assert overall["rework_rate"] == pytest.approx(2 / 6)  # a2 reject, a3 fix


def test_accepted_label_error_rate_uses_audits_over_gold(overall):
    # accepted of known truth: a1 (latest audit u3: error, though label = gold),
    # a6 (audit u1: error), a9 (B = gold B: right); a8 unknown (no gold, no audit)
    assert overall["n_accepted_known"] == 3
    assert overall["accepted_label_error_rate"] == pytest.approx(2 / 3)


def test_wilson_interval_matches_the_formula(overall):
    z, n, p = 1.959963984540054, 3, 2 / 3
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert overall["accepted_label_error_rate_ci_low"] == pytest.approx(centre - half)
    assert overall["accepted_label_error_rate_ci_high"] == pytest.approx(centre + half)
    # statsmodels agrees (independent implementation)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(2, 3, alpha=0.05, method="wilson")
    assert overall["accepted_label_error_rate_ci_low"] == pytest.approx(low)
    assert overall["accepted_label_error_rate_ci_high"] == pytest.approx(high)


def test_gold_accuracy_counts_calibration_gold_only_after_the_decision(overall):
    # gold item i1 (A): a1 A ok, a2 B wrong, a3 A ok; i2 gets gold Y at 01-07 10:30:
    # a6 (11:00, Y) counts and is right; a4 and a5 were submitted before: not judged.
    assert overall["n_gold"] == 4
    assert overall["gold_accuracy"] == pytest.approx(3 / 4)


def test_programmatic_accuracy(overall):
    # p1: a7 unknown truth, a9 right (B = gold B)
    assert overall["n_programmatic_known"] == 1
    assert overall["programmatic_accuracy"] == 1.0


def test_agreement_counts_each_annotator_once_with_the_latest_label(overall):
    # i1: A, B, A (3 annotators, disagree, 1 of 3 pairs agree);
    # i2: g1's latest Y and g2's Y (agree, 1 pair); i3 has one human; i4 none.
    assert overall["n_items_multi"] == 2
    assert overall["disagreement_rate"] == pytest.approx(1 / 2)
    assert overall["pairwise_agreement"] == pytest.approx(2 / 4)
    # alpha: n = 5, o_AB = o_BA = 1, D_o = 2/5, D_e = (25 - 4 - 1 - 4) / 20
    assert overall["krippendorff_alpha"] == pytest.approx(0.5)
    data = np.array([[0, np.nan], [1, 3], [0, 3]])  # coders g1, g2, s1 x units i1, i2
    assert overall["krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"), abs=1e-12
    )


def test_cost_per_accepted_label_sums_annotation_review_and_audit_costs(overall):
    # annotations 1 + 2 + 5 + 1 + 1 + 1 + 0 (a7 missing) + 1 + 0 = 12
    # reviews 0.5 + 3 + 0.5 + 0.5 + 1 + 0.5 + 1 + 0.5 + 1 + 1 + 0.5 = 10
    # audits 2 + 1 + 0 (u3 missing) = 3; 25 over 4 accepted
    assert overall["cost"] == pytest.approx(25.0)
    assert overall["cost_per_accepted_label"] == pytest.approx(6.25)
    assert overall["n_cost_missing"] == 2  # a7 and u3


def test_specialist_review_time_interpolates_like_numpy(overall):
    durations = [120, 60, 300, 180]  # r2, r5, r7, r9 (r10 has no duration)
    assert overall["specialist_review_time_median_s"] == pytest.approx(np.median(durations))
    assert overall["specialist_review_time_median_s"] == 150.0
    assert overall["specialist_review_time_p90_s"] == pytest.approx(264.0)


def test_turnaround_hours(overall):
    hours = [26, 2, 24, 120, 2, 1]  # a1, a2, a3, a6, a8, a9
    assert overall["turnaround_median_h"] == pytest.approx(np.quantile(hours, 0.5))  # 13
    assert overall["turnaround_p90_h"] == pytest.approx(np.quantile(hours, 0.9))  # 73


def test_review_backlog_and_aging(overall):
    # as of 01-14 11:00 without a review: a4 (193 h), a5 (169 h), a7 (49 h)
    assert overall["review_backlog"] == 3
    assert (overall["n_age_lt_1d"], overall["n_age_1_3d"]) == (0, 1)
    assert (overall["n_age_3_7d"], overall["n_age_gt_7d"]) == (0, 2)
    assert overall["review_backlog_oldest_h"] == pytest.approx(193.0)


def test_backlog_as_of_an_earlier_time(tiny, tmp_path):
    dataset = open_dataset(write_dataset(tmp_path, TINY))
    early = aggregates.fetch(dataset, as_of=datetime(2026, 1, 5, 12, 30))
    row = kpi_table(early).to_dicts()[0]
    # submitted by 12:30: a1 (reviewed 12:00) and a2 (11:00, reviewed 13:00: later)
    assert row["review_backlog"] == 1
    assert row["review_backlog_oldest_h"] == pytest.approx(1.5)


def test_backlog_buckets_read_as_written_at_their_bounds(tiny, tmp_path):
    """ "< 1 d" and "> 7 d" are strict: an age of exactly 7 days is "3-7 d", exactly
    1 day "1-3 d"; exactly 3 days starts "3-7 d"."""
    dataset = open_dataset(write_dataset(tmp_path, TINY))
    # as of 01-14 10:00 without a review: a4 (192 h), a5 (168 h), a7 (48 h)
    row = kpi_table(aggregates.fetch(dataset, as_of=datetime(2026, 1, 14, 10))).row(0, named=True)
    assert row["review_backlog"] == 3
    assert (row["n_age_1_3d"], row["n_age_3_7d"], row["n_age_gt_7d"]) == (1, 1, 1)
    buckets = ["n_age_lt_1d", "n_age_1_3d", "n_age_3_7d", "n_age_gt_7d"]
    # a day earlier: a4 (168 h), a5 (144 h), a7 (24 h), a8 (submitted that instant)
    row = kpi_table(aggregates.fetch(dataset, as_of=datetime(2026, 1, 13, 10))).row(0, named=True)
    assert [row[b] for b in buckets] == [1, 1, 2, 0]
    # a day later: a4 (216 h), a5 (192 h), a7 (72 h)
    row = kpi_table(aggregates.fetch(dataset, as_of=datetime(2026, 1, 15, 10))).row(0, named=True)
    assert [row[b] for b in buckets] == [0, 0, 1, 2]


def test_precheck_pass_and_final_overturn(overall):
    # prechecks r1 r3 r4 r6 r8 r11: 5 of 6 accept
    assert overall["precheck_pass_rate"] == pytest.approx(5 / 6)
    # passed precheck and got a final: a1 (accept), a3 (fix), a6 (accept), a8 (r9 accept)
    assert overall["final_overturn_rate"] == pytest.approx(1 / 4)


def test_throughput_is_accepted_per_week_of_the_groups_span(overall, tiny):
    assert overall["throughput"] == 4 / 2  # 4 accepted over W02..W03
    vendors = by_key(kpi_table(tiny, ["vendor"]), "vendor")
    assert vendors["acme"]["throughput"] == 1.0  # a1 accepted; submits in W02 only
    assert vendors["bluepeak"]["throughput"] == 1.0  # a6, a8 accepted over W02..W03
    assert vendors["inhouse"]["throughput"] == 0.0  # a3 fixed, in W02
    assert vendors["model"]["throughput"] == 1.0  # a9 accepted; a7, a9 in W03


def test_weeks_follow_the_rules_of_each_kpi(tiny):
    weeks = by_key(kpi_table(tiny, ["week"]), "week")
    assert set(weeks) == {"2026-W02", "2026-W03"}
    w2, w3 = weeks["2026-W02"], weeks["2026-W03"]
    assert (w2["accepted"], w3["accepted"]) == (2, 2)
    assert (w2["throughput"], w3["throughput"]) == (2.0, 2.0)  # one week each
    assert w2["accepted_label_error_rate"] == 1.0  # a1, a6 both wrong
    assert w3["accepted_label_error_rate"] == 0.0  # a9 right
    assert w2["cost_per_accepted_label"] == pytest.approx(21 / 2)
    assert w3["cost_per_accepted_label"] == pytest.approx(4 / 2)
    # items i1, i2 fall in W02 (their latest human annotation); none in W03
    assert w2["disagreement_rate"] == 0.5
    assert w3["disagreement_rate"] is None
    # reviews fall in the week of reviewed_at: r2 r5 in W02, r7 r9 in W03
    assert w2["specialist_review_time_median_s"] == 90.0
    assert w3["specialist_review_time_median_s"] == 240.0
    assert (w2["review_backlog"], w3["review_backlog"]) == (2, 1)


@pytest.mark.parametrize("path", ["dashboard", "report"])
def test_a_week_only_a_final_review_without_a_duration_reaches_is_listed(tmp_path, path):
    # r12, a final review of a2 in W04 with no duration, is the week's one row: the
    # review falls in the week of its reviewed_at, and counts in no median.
    r12 = "        r12,a2,s1,final,reject,,2026-01-20T12:00:00Z,,1.0"
    root = write_dataset(tmp_path, {**TINY, "reviews": TINY["reviews"].rstrip() + "\n" + r12})
    fetch = (
        {} if path == "dashboard" else {"names": aggregates.report_queries(), "by_annotator": False}
    )
    aggs = aggregates.fetch(open_dataset(root), **fetch)
    weeks = by_key(kpi_table(aggs, ["week"]), "week")
    assert set(weeks) == {"2026-W02", "2026-W03", "2026-W04"}
    w4 = weeks["2026-W04"]
    assert (w4["accepted"], w4["throughput"], w4["review_backlog"]) == (0, 0, 0)
    assert w4["specialist_review_time_median_s"] is None
    assert w4["specialist_review_time_p90_s"] is None
    assert w4["accepted_label_error_rate"] is None


def test_empty_group_counts_are_zero_and_rates_null(tiny):
    rows = kpi_table(tiny, [*SLICE, "week"]).filter(
        (pl.col("domain") == "stem") & (pl.col("week") == "2026-W03")
    )
    # stem has only r7's review time in W03: no annotations submitted then
    row = rows.to_dicts()[0]
    assert row["accepted"] == 0
    assert row["throughput"] == 0  # a week's accepted count, none that week
    assert row["review_backlog"] == 0
    assert row["accepted_label_error_rate"] is None
    assert row["cost_per_accepted_label"] is None


def test_grouping_by_annotator_leaves_agreement_null(tiny):
    annotators = by_key(kpi_table(tiny, ["annotator_id"]), "annotator_id")
    assert annotators["g2"]["accepted"] == 2  # a6, a8
    assert all(row["krippendorff_alpha"] is None for row in annotators.values())


def test_filters_narrow_every_kpi(tiny):
    coding = kpi_table(tiny, filters=Filters(domains=("coding",))).to_dicts()[0]
    assert coding["accepted"] == 2  # a8, a9
    assert coding["cost_per_accepted_label"] == pytest.approx(4 / 2)
    assert coding["disagreement_rate"] is None  # i3 has a single human annotator
    assert coding["krippendorff_alpha"] is None


def test_a_slice_whose_items_nobody_labelled_shows_with_counts_0(tmp_path):
    """An item falls in its slice with no annotation: the slice is an empty group, not
    a missing one (a missing difficulty reads unknown)."""
    tables = {**TINY, "items": TINY["items"] + "i9,finance,,high,\n"}
    tiny = aggregates.fetch(open_dataset(write_dataset(tmp_path, tables)))
    slices = kpi_table(tiny, list(SLICE))
    assert slices.height == 3
    row = slices.filter(pl.col("domain") == "finance").row(0, named=True)
    assert (row["difficulty"], row["risk_class"]) == ("unknown", "high")
    for count in ("accepted", "review_backlog", "n_annotations", "n_items_multi"):
        assert row[count] == 0, count
    for rate in ("accepted_label_error_rate", "disagreement_rate", "throughput"):
        assert row[rate] is None, rate
    assert "finance" in kpi_table(tiny, ["domain"])["domain"].to_list()
    # a filter keeps the items' slices it lets through, no others
    coding = kpi_table(tiny, list(SLICE), Filters(domains=("coding",)))
    assert coding["domain"].to_list() == ["coding"]


def test_absent_optional_tables_make_their_kpis_null_not_zero(tmp_path):
    root = write_dataset(tmp_path, TINY, drop=("reviews", "audits", "targets", "defects"))
    row = kpi_table(aggregates.fetch(open_dataset(root))).to_dicts()[0]
    for kpi in (
        "accepted",
        "review_backlog",
        "rework_rate",
        "accepted_label_error_rate",
        "cost_per_accepted_label",
        "specialist_review_time_median_s",
    ):
        assert row[kpi] is None, kpi
    assert row["disagreement_rate"] == 0.5  # needs only annotations
    assert row["gold_accuracy"] == pytest.approx(3 / 4)
    # the counts only reviews make are n/a too, not 0 beside an accepted of n/a
    assert {c: row[c] for c in ("n_decided", "n_accepted", "n_precheck")} == dict.fromkeys(
        ("n_decided", "n_accepted", "n_precheck")
    )
    assert (row["n_annotations"], row["n_gold"]) == (9, 4)


def test_numeric_levels_agree_with_the_krippendorff_package(tmp_path):
    tables = dict(TINY)
    tables["annotations"] = """
        annotation_id,item_id,annotator_id,label,submitted_at
        a1,i1,g1,1,2026-01-05T10:00:00Z
        a2,i1,g2,3,2026-01-05T11:00:00Z
        a3,i1,s1,2,2026-01-06T09:00:00Z
        a4,i2,g1,4,2026-01-06T10:00:00Z
        a5,i2,g2,5,2026-01-07T11:00:00Z
        a6,i3,g1,1,2026-01-07T11:00:00Z
        a7,i3,s1,1,2026-01-07T12:00:00Z
        a8,i4,g2,2,2026-01-07T12:00:00Z
    """
    for table in ("reviews", "audits", "calibration_decisions"):
        tables.pop(table)
    aggs = aggregates.fetch(open_dataset(write_dataset(tmp_path, tables)))
    nan = np.nan
    data = np.array([[1, 4, 1, nan], [3, 5, nan, 2], [2, nan, 1, nan]])  # g1, g2, s1
    for level in ("nominal", "ordinal", "interval", "ratio"):
        ours = kpi_table(aggs, level=level)["krippendorff_alpha"].item()
        assert ours == pytest.approx(
            krippendorff.alpha(reliability_data=data, level_of_measurement=level), abs=1e-9
        ), level


def test_numeric_levels_name_the_labels_that_are_not_numbers(tiny):
    with pytest.raises(DataError, match="'A'"):
        kpi_table(tiny, level="interval")


def test_coverage_counts_each_accepted_item_once_per_target(tmp_path):
    # i2 moves to stem/hard, so "stem, any" spans two slices. Accepted: i1 (a1),
    # i2 (a6), i3 (a8), i4 (a9); i2 also has annotations that are not accepted.
    tables = dict(TINY)
    tables["items"] = TINY["items"].replace("i2,stem,easy,low", "i2,stem,hard,low")
    tables["targets"] = """
        domain,difficulty,risk_class,target_accepted_items
        stem,,,4
        stem,hard,,1
        stem,medium,,3
        coding,hard,high,4
    """
    aggs = aggregates.fetch(open_dataset(write_dataset(tmp_path, tables)))
    coverage = aggs.frames["domain_coverage"]
    assert coverage.rows() == [
        ("coding", "hard", "high", 4, 2, 0.5),
        ("stem", None, None, 4, 2, 0.5),
        ("stem", "hard", None, 1, 1, 1.0),
        ("stem", "medium", None, 3, 0, 0.0),
    ]


def test_coverage_and_defects_and_model_lift(tiny):
    coverage = tiny.frames["domain_coverage"].sort("domain")
    # coding/hard/high: i3 (a8) and i4 (a9) accepted of 4; stem (any): i1, i2 of 1
    assert coverage["domain_coverage"].to_list() == [0.5, 1.0]
    defects = tiny.frames["defect_durations"].sort("defect_id")
    assert defects["resolution_h"].to_list()[:2] == [6.0, 10.0]
    assert defects["age_h"].to_list()[2] == pytest.approx(96.0)
    lift = tiny.frames["model_lift"]
    assert lift["lift"].to_list()[1] == pytest.approx(0.05)


def test_a_failed_query_leaves_its_counts_null_not_zero(tiny):
    broken = aggregates.Aggregates(
        as_of=tiny.as_of,
        present=tiny.present,
        frames={k: v for k, v in tiny.frames.items() if k != "annotation_kpi_counts"},
    )
    row = kpi_table(broken).to_dicts()[0]
    assert row["accepted"] is None  # not 0: the query behind it did not run
    assert row["review_backlog"] == 3  # its own query ran


# --- the report's quantiles, computed in the database ---------------------------------------


REPORT_GROUPINGS = [(), SLICE, ("week",)]
QUANTILE_COLUMNS = [
    "specialist_review_time_median_s",
    "specialist_review_time_p90_s",
    "turnaround_median_h",
    "turnaround_p90_h",
]


@pytest.fixture(scope="module")
def sample_both_ways():
    """The bundled sample fetched as the dashboard does and as the report does."""
    root = Path(__file__).resolve().parents[1] / "sample_data"
    dashboard = aggregates.fetch(open_dataset(root))
    report = aggregates.fetch(
        open_dataset(root), names=aggregates.report_queries(), by_annotator=False
    )
    return dashboard, report


@pytest.mark.parametrize("by", REPORT_GROUPINGS, ids=lambda by: "x".join(by) or "overall")
def test_the_report_fetch_gives_the_dashboard_values(sample_both_ways, by):
    # The report fetches less (counts per slice x week, quantiles from the database),
    # which must change no value in any of its groupings.
    dashboard, report = sample_both_ways
    expected, got = kpi_table(dashboard, list(by)), kpi_table(report, list(by))
    assert got.height == expected.height > 0
    pl.testing.assert_frame_equal(got, expected, rel_tol=1e-12)


def test_alpha_fractions_are_summed_in_one_order_whatever_the_row_order():
    # DuckDB returns rows in no fixed order. Summed as they come, 2**52 + 0.6 + 0.6
    # comes out as 2**52 + 1 or 2**52 + 2 (a float sum depends on its order): the
    # fractions n_c / m must be added in one fixed order for a report to repeat itself.
    week = datetime(2026, 1, 5).date()
    marginals = pl.DataFrame(
        {
            "domain": "stem",
            "difficulty": "easy",
            "risk_class": "low",
            "dataset_version": "v1",
            "week_start": week,
            "label": "A",
            "m": [2, 5, 10],
            "n_c": [2**53, 3, 6],
            "n_ordered_pairs": [0, 0, 0],
            "n_ordered_pairs_agree": [0, 0, 0],
            "n_items_multi": [1, 1, 1],
            "n_items_disagree": [0, 0, 0],
        }
    )
    shares = {
        stats_from_marginals(marginals[list(order)]).marginals["unit_share"].item()
        for order in itertools.permutations(range(3))
    }
    assert len(shares) == 1


@pytest.mark.parametrize("by", REPORT_GROUPINGS, ids=lambda by: "x".join(by) or "overall")
def test_database_quantiles_equal_the_frequency_table_ones(sample_both_ways, by):
    # Two computations of one definition: polars over the frequency tables, and
    # DuckDB's quantile_cont over GROUPING SETS. They must agree on every group.
    dashboard, report = sample_both_ways
    expected = kpi_table(dashboard, list(by)).select(*by, *QUANTILE_COLUMNS)
    got = kpi_table(report, list(by)).select(*by, *QUANTILE_COLUMNS)
    assert got.height == expected.height > 0
    pl.testing.assert_frame_equal(got, expected, rel_tol=1e-12)


def test_the_report_promotion_evidence_is_the_dashboard_slice_week_table(sample_both_ways):
    dashboard, report = sample_both_ways
    keys = [*SLICE, "week"]
    evidence = slice_weeks(report["annotation_kpi_counts"]).sort(keys)
    table = kpi_table(dashboard, keys).select(evidence.columns)
    # The table also has slice-weeks where only other KPIs have data (a review's week):
    # empty groups, whose counts are 0.
    others = table.join(evidence, on=keys, how="anti")
    assert others.height > 0 and (others["n_annotations"] == 0).all()
    expected = table.join(evidence.select(keys), on=keys, how="semi").sort(keys)
    assert evidence.height == expected.height > 0
    pl.testing.assert_frame_equal(evidence, expected, rel_tol=1e-12)


def test_the_report_fetch_serves_only_the_report_groupings(sample_both_ways):
    _, report = sample_both_ways
    with pytest.raises(ValueError, match="by_annotator=True"):
        kpi_table(report, ["vendor"])
    with pytest.raises(ValueError, match="by_annotator=True"):
        kpi_table(report, filters=Filters(domains=("stem",)))
    # Counts at the dashboard's grain would serve; the database's quantiles still cannot.
    finest_counts = replace(report, by_annotator=True)
    with pytest.raises(ValueError, match="not by"):
        kpi_table(finest_counts, ["vendor"])
    with pytest.raises(ValueError, match="to filter"):
        kpi_table(finest_counts, filters=Filters(domains=("stem",)))


# --- agreement rolled up from one per-item pass ---------------------------------------------


@pytest.mark.parametrize(
    "by", [(), SLICE, ("week",), (*SLICE, "week"), ("dataset_version",)], ids=str
)
@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters(domains=("stem",), vendors=("northstar",)), Filters(tiers=("specialist",))],
    ids=["all", "stem-northstar", "specialists"],
)
def test_agreement_rolled_up_equals_agreement_computed_afresh(sample_both_ways, by, filters):
    from kpi_core.agreement import agreement_kpis, agreement_stats

    labels = sample_both_ways[0]["item_label_counts"]
    annotators = Filters(vendors=filters.vendors, tiers=filters.tiers)
    rolled = agreement_from_stats(agreement_stats(annotators.apply(labels)), by, filters)
    fresh = agreement_kpis(filters.apply(labels), by)
    keys = ["week_start" if d == "week" else d for d in by]
    got, expected = (f.collect().sort(keys) if keys else f.collect() for f in (rolled, fresh))
    assert got.height > 0
    # Afresh, a group whose items all have one annotator is listed with null values;
    # rolled up it is not listed, which kpi_table fills with the same nulls.
    if keys:
        unlisted = expected.join(got.select(keys), on=keys, how="anti")
        assert unlisted.drop(keys).null_count().row(0) == (unlisted.height,) * (
            len(got.columns) - len(keys)
        )
        expected = expected.join(got.select(keys), on=keys, how="semi")
    pl.testing.assert_frame_equal(got, expected.select(got.columns), abs_tol=1e-12)


def test_throughput_counts_weeks_without_submissions_between_as_zero():
    from datetime import date

    from kpi_core.ops import COUNT_COLUMNS, annotation_kpis

    counts = pl.DataFrame(
        {
            "week_start": [date(2026, 1, 5), date(2026, 1, 19)],  # W02 and W04, none in W03
            **{c: [0, 0] for c in COUNT_COLUMNS},
        }
    ).with_columns(n_accepted=pl.Series([3, 3]))
    assert annotation_kpis(counts.lazy()).collect()["throughput"].to_list() == [6 / 3]
