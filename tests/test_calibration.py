"""The calibration meeting's numbers, on tiny data sets with answers worked out by hand.

Weeks: 2026-W07 starts Monday 2026-02-09; its baseline is 2026-W03 .. 2026-W06
(2026-01-12 .. 2026-02-08).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from datasets import DISPUTE, DRIFT, TINY, recorded_decisions, write_dataset
from kpi_core import aggregates, views
from kpi_core import calibration as cal
from kpi_core.grouping import Filters
from kpi_core.loading import open_dataset
from kpi_core.problems import DataError

W07 = date(2026, 2, 9)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def drift_view(tmp_path_factory):
    root = write_dataset(tmp_path_factory.mktemp("drift"), DRIFT)
    return cal.build_view(open_dataset(root), "2026-W07", draws=200)


@pytest.fixture(scope="module")
def dispute_dir(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("dispute"), DISPUTE)


@pytest.fixture(scope="module")
def dispute_view(dispute_dir):
    return cal.build_view(open_dataset(dispute_dir), "2026-W07", draws=200)


# ------------------------------------------------------------------------------ weeks


def test_parse_week_and_its_errors():
    assert cal.parse_week("2026-W07") == W07
    assert cal.parse_week(" 2026-W01 ") == date(2025, 12, 29)  # ISO year 2026 starts in 2025
    assert cal.parse_week("2026-W53") == date(2026, 12, 28)  # 2026 has 53 ISO weeks
    for bad, words in (("2026-7", "YYYY-Www"), ("2026W07", "YYYY-Www"), ("2025-W53", "52")):
        with pytest.raises(DataError) as error:
            cal.parse_week(bad)
        assert len(error.value.problems) == 1
        assert words in str(error.value)


def test_last_complete_week():
    # Sunday evening: the week is not over yet, so the week before.
    assert cal.last_complete_week(datetime(2026, 2, 22, 20, 0)) == W07
    # Monday 00:00: the week that just ended is complete.
    assert cal.last_complete_week(datetime(2026, 2, 23, 0, 0)) == date(2026, 2, 16)
    assert cal.last_complete_week(date(2026, 2, 11)) == date(2026, 2, 2)


def test_meeting_weeks_run_over_the_data_and_default_to_the_last_complete_one():
    w06, w08 = date(2026, 2, 2), date(2026, 2, 16)
    # as-of in the data's last week (Sunday of W08): W08 is offered, W07 is the default
    weeks, default = cal.meeting_weeks(w06, w08, datetime(2026, 2, 22, 20, 0))
    assert weeks == [w08, W07, w06] and default == W07
    # a decision recorded months later moved the as-of time: the weeks stop at the
    # data's last week, which is complete, and is the default
    weeks, default = cal.meeting_weeks(w06, w08, datetime(2026, 11, 22, 10, 0))
    assert weeks == [w08, W07, w06] and default == w08


# ---------------------------------------------------------------------- disputed items


def test_disputed_items_ranked_by_spread_times_risk_weight(dispute_view):
    d = dispute_view.disputed
    assert d["item_id"].to_list() == ["d1", "d4", "d3", "d2"]  # d3 settled by a decision
    assert d["rank"].to_list() == [1, 2, 3, 4]
    assert d["spread"].to_list() == pytest.approx([1 / 3, 1 / 2, 1 / 2, 2 / 3])
    assert d["risk_weight"].to_list() == [3.0, 2.0, 2.0, 1.0]
    assert d["score"].to_list() == pytest.approx([1.0, 1.0, 1.0, 2 / 3])
    assert d["n_annotators"].to_list() == [3, 2, 2, 3]
    first = d.row(0, named=True)
    assert first["label_counts"] == "A ×2 · B ×1"  # the programmatic B does not count
    assert first["modal_label"] == "A"
    assert (first["gold_label"], first["gold_source"]) == ("B", "items")
    assert d.filter(pl.col("item_id") == "d2")["modal_label"].item() == "A / B / C"


def test_the_disputed_count_is_every_disputed_item_not_the_listed_top(dispute_dir):
    top_two = cal.build_view(open_dataset(dispute_dir), "2026-W07", top=2, draws=10)
    assert top_two.disputed["item_id"].to_list() == ["d1", "d4"]
    assert top_two.n_disputed == 4  # d1 d4 d3 d2 (above) disagree
    assert top_two.disputed_heading == "4 disputed items, the 2 most disputed listed"
    every = cal.build_view(open_dataset(dispute_dir), "2026-W07", top=None, draws=10)
    assert every.disputed_heading == "4 disputed items"


def test_disputed_items_show_every_label_and_review(dispute_view):
    labels = dispute_view.disputed_labels.filter(pl.col("item_id") == "d1")
    assert labels["annotator_id"].to_list() == ["p1", "g1", "g2", "s1"]  # by submitted_at
    assert labels["tier"].to_list() == ["programmatic", "generalist", "generalist", "specialist"]
    assert labels["vendor"].to_list() == ["model", "acme", "bluepeak", "inhouse"]
    # the specialist's final decision: the correction for a fix, the label for an accept
    assert labels["final_label"].to_list() == [None, "B", None, "B"]
    reviews = dispute_view.disputed_reviews.filter(pl.col("item_id") == "d1")
    assert reviews["review_id"].to_list() == ["r1", "r3", "r2", "r4"]
    assert reviews.filter(pl.col("review_id") == "r2")["corrected_label"].item() == "B"
    assert reviews.filter(pl.col("review_id") == "r1")["is_decision"].item() is False


def test_items_already_decided_are_marked(dispute_view):
    d3 = dispute_view.disputed.filter(pl.col("item_id") == "d3").row(0, named=True)
    assert d3["is_decided"]
    assert (d3["decided_label"], d3["decided_week"]) == ("B", "2026-W06")
    assert d3["decided_note"] == "guideline 3.1, second case"
    assert d3["gold_label"] == "B"
    assert d3["gold_source"].startswith("agreed in 2026-W06")
    assert not dispute_view.disputed.filter(pl.col("item_id") != "d3")["is_decided"].any()


def test_a_later_meetings_decisions_are_not_this_ones(tmp_path):
    """Regenerating last week's pack after this week's meeting changes nothing: d1's
    and d3's decisions of 2026-W08 neither settle nor rank them in 2026-W07."""
    later = (
        "        c2,2026-W08,d1,A,settled later,2026-02-19T16:00:00Z\n"
        "        c3,2026-W08,d3,A,changed later,2026-02-19T16:00:00Z\n"
    )
    tables = {**DISPUTE, "calibration_decisions": DISPUTE["calibration_decisions"] + later}
    view = cal.build_view(open_dataset(write_dataset(tmp_path, tables)), "2026-W07", draws=50)
    disputed = {row["item_id"]: row for row in view.disputed.iter_rows(named=True)}
    assert not disputed["d1"]["is_decided"] and disputed["d1"]["decided_label"] is None
    assert (disputed["d3"]["decided_label"], disputed["d3"]["decided_week"]) == ("B", "2026-W06")
    assert view.tables()["decisions"]["decision_id"].to_list() == ["c1"]


def test_top_limits_the_list(dispute_dir):
    view = cal.build_view(open_dataset(dispute_dir), "2026-W07", top=2, draws=50)
    assert view.disputed["item_id"].to_list() == ["d1", "d4"]
    assert set(view.disputed_labels["item_id"]) == {"d1", "d4"}


def test_confusion_counts_an_annotator_once_per_item_with_the_latest_label():
    # g1 labelled x1 twice (A, then B): like the agreement tables, only B counts
    labels = pl.DataFrame(
        {
            "domain": ["stem"] * 3,
            "annotator_id": ["g1", "g1", "g2"],
            "is_human": [True, True, True],
            "is_item_label": [False, True, True],
            "week_start": [W07] * 3,
            "label": ["A", "B", "B"],
            "gold_label": ["B"] * 3,
            "final_label": [None, None, "B"],
        }
    )
    confusion = cal.confusion_matrices(labels, W07)
    assert confusion.select("reference", "label", "reference_label", "n").rows() == [
        ("gold", "B", "B", 2),
        ("final decision", "B", "B", 1),
    ]


def test_confusion_against_gold_and_the_final_decision(dispute_view):
    c = dispute_view.confusion
    gold = c.filter(pl.col("reference") == "gold")
    # d1 has gold B: g1 A, g2 A, s1 B (human labels only); d3's agreed B is gold only for
    # annotations submitted after it was recorded (2026-02-05), so a8 (A) and a9 (B) count.
    assert gold.filter(pl.col("domain") == "medicine").select(
        "label", "reference_label", "n"
    ).rows() == [
        ("A", "B", 2),
        ("B", "B", 1),
    ]
    assert gold.filter(pl.col("domain") == "coding").select(
        "label", "reference_label", "n"
    ).rows() == [
        ("A", "B", 1),
        ("B", "B", 1),
    ]
    final = c.filter(pl.col("reference") == "final decision")
    assert final.select("domain", "label", "reference_label", "n").rows() == [
        ("medicine", "A", "B", 1),
        ("medicine", "B", "B", 1),
    ]


def test_alpha_trend_has_every_week_with_an_interval(dispute_view, drift_view):
    trend = drift_view.alpha_trend
    assert trend["week"].to_list() == [f"2025-W{w}" for w in (52,)] + [
        f"2026-W{w:02d}" for w in range(1, 8)
    ]
    week = drift_view.alpha
    assert week["n_units"] == 7  # w0..w5 and x1
    low, alpha, high = (
        week[k]
        for k in ("krippendorff_alpha_ci_low", "krippendorff_alpha", "krippendorff_alpha_ci_high")
    )
    assert low <= alpha <= high
    # 2026-W05: everyone agreed on b1..b6, so alpha is not available (no expected disagreement)
    assert trend.filter(pl.col("week") == "2026-W05")["krippendorff_alpha"].item() is None
    assert trend.filter(pl.col("week") == "2026-W05")["n_units"].item() == 6
    assert trend.filter(pl.col("week") == "2026-W02")["n_units"].item() == 0


def test_a_weeks_interval_is_the_same_in_every_view():
    """The room compares this week's trend with last week's pack and the Reliability
    page: one week's items, one alpha interval, whatever else is computed beside it."""
    dataset = open_dataset(REPO / "sample_data")
    try:
        aggs = aggregates.fetch(dataset)
        pack = cal.build_view(dataset, "2026-W06", domain="medicine", aggs=aggs)
        next_week = cal.build_view(dataset, "2026-W07", domain="medicine", aggs=aggs)
    finally:
        dataset.con.close()
    page = views.alpha_with_interval(
        aggs["item_label_counts"], ["week"], Filters(domains=("medicine",))
    )
    keys = ["krippendorff_alpha", "krippendorff_alpha_ci_low", "krippendorff_alpha_ci_high"]
    shown = [tuple(pack.alpha[k] for k in keys)]
    for trend in (pack.alpha_trend, next_week.alpha_trend, page):
        shown.append(trend.filter(pl.col("week") == "2026-W06").select(keys).row(0))
    assert shown[0][1] < shown[0][0] < shown[0][2]
    assert shown == [shown[0]] * 4


def test_fleiss_and_cohen_kappa_of_the_week(dispute_view):
    from statsmodels.stats.inter_rater import fleiss_kappa

    # the week's items: d1..d6 (d7's latest label is in 2026-W08); three raters is the
    # mode (d1, d2, d5; ties with two raters go to the larger number):
    #   d1: A A B, d2: A B C, d5: A A A
    table = [[2, 1, 0], [1, 1, 1], [3, 0, 0]]
    assert dispute_view.fleiss_kappa == pytest.approx(fleiss_kappa(table, method="fleiss"))
    assert dispute_view.fleiss_items == (3, 3, 6)  # 3 of the 6 items, those with 3 raters
    assert dispute_view.fleiss_scope_text.startswith("over 3 of 6 items with 2+ annotators")
    pairs = {
        (r["annotator_id_a"], r["annotator_id_b"]): r for r in dispute_view.kappa_pairs.to_dicts()
    }
    # g1 says A on d1..d6, g2 says A B B B A A: p_o = 1/2 and p_e = 1/2, so kappa 0
    assert pairs["g1", "g2"]["n_shared"] == 6
    assert pairs["g1", "g2"]["cohen_kappa"] == pytest.approx(0.0)
    assert pairs["g1", "s1"]["n_shared"] == 3  # d1, d2, d5
    assert dispute_view.kappa_pairs["cohen_kappa"].drop_nulls().is_sorted()


def test_promoted_slices_this_week(tmp_path):
    from kpi_core.targets import Promotion

    root = write_dataset(tmp_path, TINY)
    view = cal.build_view(
        open_dataset(root),
        "2026-W03",
        draws=50,
        rule=Promotion(weeks=1, min_known=1, max_error_rate=0.05),
    )
    # TINY's 2026-W03: a8 (coding/hard/high) accepted and right; a9 no decision.
    assert view.promoted.is_empty()
    view = cal.build_view(
        open_dataset(root),
        "2026-W02",
        draws=50,
        rule=Promotion(weeks=1, min_known=1, max_error_rate=0.05),
    )
    # 2026-W02: a1 accepted, its audit says wrong -> stem/easy/low at 100% error.
    assert view.promoted.select("domain", "difficulty", "risk_class", "week").rows() == [
        ("stem", "easy", "low", "2026-W02")
    ]
    assert view.promoted["is_newly_promoted"].to_list() == [True]


def test_domain_scope_and_unknown_domain(dispute_dir):
    view = cal.build_view(open_dataset(dispute_dir), "2026-W07", domain="coding", draws=50)
    assert view.disputed["item_id"].to_list() == ["d4", "d3"]  # d3 is settled already
    assert set(view.confusion["domain"]) == {"coding"}
    with pytest.raises(DataError, match="no annotation is in domain 'law'"):
        cal.build_view(open_dataset(dispute_dir), "2026-W07", domain="law")


def test_reusing_fetched_aggregates_gives_the_same_view(dispute_dir):
    from polars.testing import assert_frame_equal

    from kpi_core import aggregates

    dataset = open_dataset(dispute_dir)
    shared = cal.build_view(dataset, "2026-W07", draws=50, aggs=aggregates.fetch(dataset))
    alone = cal.build_view(open_dataset(dispute_dir), "2026-W07", draws=50)
    for name, frame in shared.tables().items():
        assert_frame_equal(frame, alone.tables()[name], check_row_order=True)


# -------------------------------------------------------------------------- pseudonyms


def test_pseudonyms_are_stable_keyed_and_distinct():
    ids = [f"annotator-{i}" for i in range(5000)]
    first = cal.Pseudonyms("meeting key").mapping(ids)
    again = cal.Pseudonyms(b"meeting key").mapping(reversed(ids))
    assert first == again  # same key, same pseudonyms, whatever the order
    assert len(set(first.values())) == len(ids)  # distinct
    assert all(
        v.startswith("Annotator-") and len(v) >= len("Annotator-") + 8 for v in first.values()
    )
    other = cal.Pseudonyms("another key").mapping(ids)
    assert sum(first[i] == other[i] for i in ids) == 0
    random_a, random_b = cal.Pseudonyms().mapping(ids[:10]), cal.Pseudonyms().mapping(ids[:10])
    assert random_a != random_b  # no key: a fresh one, so packs cannot be linked


def test_a_team_key_in_the_environment_keeps_pseudonyms_from_week_to_week(monkeypatch):
    monkeypatch.setenv(cal.PSEUDONYM_KEY_ENV, "our team's secret")
    assert cal.Pseudonyms().mapping(["g1"]) == cal.Pseudonyms("our team's secret").mapping(["g1"])
    monkeypatch.delenv(cal.PSEUDONYM_KEY_ENV)
    assert cal.Pseudonyms().mapping(["g1"]) != cal.Pseudonyms().mapping(["g1"])


def test_pseudonymised_view_uses_one_pseudonym_per_person(dispute_view):
    view = dispute_view.pseudonymised(cal.Pseudonyms("k"))
    names = cal.Pseudonyms("k").mapping(["g1", "g2", "s1"])
    labels = view.disputed_labels.filter(pl.col("item_id") == "d1")
    assert labels["annotator_id"].to_list() == ["p1", names["g1"], names["g2"], names["s1"]]
    reviews = view.disputed_reviews.filter(pl.col("item_id") == "d1")
    assert reviews["reviewer_id"].to_list() == [names["g2"], names["g1"], names["s1"], names["s1"]]
    assert reviews["annotator_id"].to_list() == [names["g1"], names["g2"], names["g1"], names["s1"]]
    assert set(view.annotators["annotator_id"]) <= set(names.values())
    assert set(view.kappa_pairs["annotator_id_a"]) | set(view.kappa_pairs["annotator_id_b"]) <= set(
        names.values()
    )
    assert view.is_pseudonymised
    # ordered by pseudonym, not by the real ids (which the order would leak)
    pairs = view.kappa_pairs
    assert (pairs["annotator_id_a"] < pairs["annotator_id_b"]).all()
    assert pairs.equals(
        pairs.sort(
            "cohen_kappa",
            "n_shared",
            "annotator_id_a",
            "annotator_id_b",
            descending=[False, True, False, False],
            nulls_last=True,
        )
    )
    assert view.annotators.equals(
        view.annotators.sort(
            "is_drifting",
            "p_adjusted",
            "annotator_id",
            descending=[True, False, False],
            nulls_last=True,
        )
    )
    for frame in view.tables().values():
        for column in ("annotator_id", "reviewer_id", "annotator_id_a", "annotator_id_b"):
            if column in frame.columns:
                assert not set(frame[column].drop_nulls()) & {"g1", "g2", "s1"}


# ---------------------------------------------------------------------- on the sample


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory):
    bundled = REPO / "sample_data"
    if any(bundled.glob("items.*")):
        return bundled
    from kpi_core.sampling import write_sample

    root = tmp_path_factory.mktemp("sample")
    write_sample(root, 20_000, seed=7, progress=False)
    return root


def test_on_the_sample_the_planted_drifter_is_flagged(sample_dir):
    from kpi_core.sampling import DRIFTING_ANNOTATOR

    view = cal.build_view(open_dataset(sample_dir), "2026-W07", draws=200)
    status = dict(view.annotators.select("annotator_id", "status").rows())
    assert status[DRIFTING_ANNOTATOR] == "drifting"
    # a stable annotator of a stable vendor is not, and chance flags stay rare
    assert status["acme-g001"] == "stable"
    assert view.drifting.height <= 3
    # the week before the drift starts the planted drifter is not flagged
    earlier = cal.build_view(open_dataset(sample_dir), "2026-W06", draws=50)
    assert DRIFTING_ANNOTATOR not in earlier.drifting["annotator_id"].to_list()
    assert view.disputed.height == cal.TOP_DISPUTED
    assert view.disputed["score"].is_sorted(descending=True)


# ---------------------------------------------------------------------------- the page

APP = REPO / "app" / "streamlit_app.py"
PAGE = "pages/calibration.py"


def _page(root: Path, monkeypatch, **params: str):
    """The dashboard on ``root``, switched to the Calibration page."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KPI_DATA_DIR", str(root))
    monkeypatch.delenv("KPI_TARGETS", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    for key, value in params.items():  # a link to the page carries them
        at.query_params[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, "\n".join(str(e.value) for e in at.exception)
    return at


def _texts(at) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "error", "info", "success")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def _tables(at) -> str:
    return "\n".join(df.value.to_string() for df in at.dataframe)


def test_every_screen_in_the_room_shows_the_same_pseudonyms(tmp_path, monkeypatch):
    """Two sessions (two laptops, or one reloaded) of one server: the same names."""
    monkeypatch.delenv(cal.PSEUDONYM_KEY_ENV, raising=False)
    root = write_dataset(tmp_path / "data", DISPUTE)
    first, second = _page(root, monkeypatch), _page(root, monkeypatch)
    names = re.compile(r"Annotator-\w+")
    assert set(names.findall(_tables(first))) == set(names.findall(_tables(second))) != set()
    # Its own week and domain, not the sidebar's filters, and it says so.
    assert "the sidebar's filters do not apply" in _texts(first)


def test_page_shows_the_meeting_and_records_a_decision(tmp_path, monkeypatch):
    root = write_dataset(tmp_path / "data", DISPUTE)
    at = _page(root, monkeypatch)
    # the last complete ISO week: the data ends on Monday 2026-02-16 (in 2026-W08)
    assert at.selectbox(key="calibration_week").value == "2026-W07"
    assert at.toggle(key="calibration_pseudonyms").value is True
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Disputed items"] == "4"
    tables = _tables(at)
    assert "d1" in tables and "Annotator-" in tables
    assert not {"g1", "g2", "s1"} & set(re.findall(r"\b\w+\b", tables))  # pseudonyms
    at.toggle(key="calibration_pseudonyms").set_value(False).run()
    assert "g1" in _tables(at)
    # Record through the form for one item, then another: each decision is for the
    # item under discussion, with a label in use in its domain.
    for index in (1, 2):
        picker = at.selectbox(key="calibration_item")
        item = picker.options[index].split()[1]  # "2. d2 — A ×1 · B ×1"
        picker.set_value(item).run()
        agreed = at.selectbox(key=f"calibration_decide_label_{item}")
        label = agreed.options[-1]
        agreed.set_value(label)
        at.text_area(key="calibration_decide_note").set_value(f"agreed on {item}")
        at.button(key="FormSubmitter:calibration_decide-Record the decision").click().run()
        assert not at.exception, "\n".join(str(e.value) for e in at.exception)
        latest = recorded_decisions(root).row(-1, named=True)
        assert (latest["item_id"], latest["agreed_label"]) == (item, label)
        assert latest["note"] == f"agreed on {item}"
        assert f"Recorded {latest['decision_id']}: {item} → {label}." in _texts(at)
        assert f"agreed on {item}" in _tables(at)  # decided for this week
    assert recorded_decisions(root).height == 3  # c1 kept


def test_page_week_and_domain_come_from_the_url(tmp_path, monkeypatch):
    root = write_dataset(tmp_path / "data", DISPUTE)
    at = _page(root, monkeypatch, week="2026-W08", cal_domain="medicine")
    assert at.selectbox(key="calibration_week").options[:2] == ["2026-W08", "2026-W07"]
    assert at.selectbox(key="calibration_week").value == "2026-W08"
    assert at.selectbox(key="calibration_domain").value == "medicine"
    # 2026-W08 in medicine: d7 (A, B), high risk
    assert {m.label: m.value for m in at.metric}["Disputed items"] == "1"
    assert "d7" in _tables(at)
