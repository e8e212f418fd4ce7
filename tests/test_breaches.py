"""kpi_core.breaches: what is off target, where and since when, checked by hand
on TINY (tests/datasets.py) and on small weekly tables."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from datasets import TINY, write_dataset
from kpi_core import aggregates, breaches
from kpi_core.loading import open_dataset
from kpi_core.metrics import kpi_table
from kpi_core.targets import Targets


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return aggregates.fetch(open_dataset(write_dataset(tmp_path_factory.mktemp("tiny"), TINY)))


def test_attention_lists_breaches_overall_and_per_domain_with_its_target(tiny):
    targets = Targets.load()
    overall = kpi_table(tiny).to_dicts()[0]
    by_domain = kpi_table(tiny, ["domain"])
    off_target = breaches.attention(overall, by_domain, targets, ["accepted_label_error_rate"])
    # overall 2/3 > 5%; stem 2/2 (a1, a6) and coding 0/1 (a9)
    assert off_target.select("scope", "kpi").rows() == [
        ("all", "accepted_label_error_rate"),
        ("stem", "accepted_label_error_rate"),
    ]
    assert off_target["value"].to_list() == pytest.approx([2 / 3, 1.0])


def test_breach_since_is_the_start_of_the_run_that_goes_on_in_the_latest_week():
    targets = Targets.load()  # error rate: target 0.05, medicine 0.03
    kpi = "accepted_label_error_rate"
    weeks = pl.DataFrame(
        {
            "week": ["2026-W01", "2026-W02", "2026-W03", "2026-W04", "2026-W05"],
            # breach, ok, breach, breach, no value: the run W03-W04 goes on
            kpi: [0.10, 0.01, 0.08, 0.09, None],
        }
    )
    domain_weeks = pl.DataFrame(
        {
            "domain": ["medicine", "medicine", "stem", "stem", "coding", "coding"],
            "week": ["2026-W01", "2026-W02"] * 3,
            # 0.04 breaches medicine's 0.03 but not the default 0.05; coding is fine now
            kpi: [0.04, 0.04, 0.04, 0.04, 0.20, 0.01],
        }
    )
    since = breaches.breach_since(weeks, targets, [kpi, "no_such_kpi"], domain_weeks)
    since = since.drop("latest_ci_low", "latest_ci_high")  # these frames have no interval
    assert sorted(since.rows()) == [
        ("all", kpi, "2026-W03", "2026-W04", 0.09),
        ("medicine", kpi, "2026-W01", "2026-W02", 0.04),
    ]
    assert breaches.breach_since(weeks, targets, [kpi]).rows() == [
        ("all", kpi, "2026-W03", "2026-W04", 0.09, None, None)
    ]


def test_breach_since_gives_the_latest_weeks_interval():
    kpi = "accepted_label_error_rate"
    weeks = pl.DataFrame(
        {
            "week": ["2026-W01", "2026-W02"],
            kpi: [0.10, 0.50],
            f"{kpi}_ci_low": [0.05, 0.09],
            f"{kpi}_ci_high": [0.20, 0.91],
        }
    )
    [run] = breaches.breach_since(weeks, Targets.load(), [kpi]).rows(named=True)
    assert (run["latest_value"], run["latest_ci_low"], run["latest_ci_high"]) == (0.5, 0.09, 0.91)


def test_breach_since_is_empty_when_the_latest_week_is_within_target():
    kpi = "accepted_label_error_rate"
    weeks = pl.DataFrame({"week": ["2026-W01", "2026-W02"], kpi: [0.10, 0.01]})
    since = breaches.breach_since(weeks, Targets.load(), [kpi])
    assert since.height == 0
    assert since.columns == [
        "scope",
        "kpi",
        "since",
        "latest_week",
        "latest_value",
        "latest_ci_low",
        "latest_ci_high",
    ]


def _error_rate_attention(tiny, scope: str, latest_value: float) -> pl.DataFrame:
    """attention() on TINY's error rate, with a breach in ``scope`` going on
    from 2026-W02 to the latest week, 2026-W03."""
    kpi = "accepted_label_error_rate"
    since = pl.DataFrame(
        [(scope, kpi, "2026-W02", "2026-W03", latest_value)],
        schema=["scope", "kpi", "since", "latest_week", "latest_value"],
        orient="row",
    )
    return breaches.attention(
        kpi_table(tiny).to_dicts()[0], kpi_table(tiny, ["domain"]), Targets.load(), [kpi], since
    )


def test_attention_says_since_when(tiny):
    off_target = _error_rate_attention(tiny, "stem", 0.5)
    assert off_target.select("scope", "since", "latest_week", "latest_value").rows() == [
        ("all", None, None, None),
        ("stem", "2026-W02", "2026-W03", 0.5),
    ]


def test_attention_lists_a_breach_that_goes_on_even_when_the_period_is_within_target(tiny):
    # coding over the period: 0/1, within target; but its latest weeks breach
    off_target = _error_rate_attention(tiny, "coding", 0.2)
    assert off_target.select("scope", "value", "status", "since").rows() == [
        ("all", pytest.approx(2 / 3), "breach", None),
        ("coding", 0.0, "ok", "2026-W02"),
        ("stem", 1.0, "breach", None),
    ]


def test_a_state_at_the_as_of_time_has_no_weekly_run():
    # every week's backlog is above the backlog target, but the backlog is a state
    weeks = pl.DataFrame({"week": ["2026-W01", "2026-W02"], "review_backlog": [10**6, 10**6]})
    since = breaches.breach_since(weeks, Targets.load(), ["review_backlog"])
    assert since.height == 0


def _run_by_hand(values: list[float | None], target: float) -> tuple[int, int] | None:
    """(first, last) index of the breaching run that ends at the last week with a
    value, walking back from it; None when that week does not breach."""
    known = [i for i, v in enumerate(values) if v is not None]
    if not known or values[known[-1]] <= target:
        return None
    first = known[-1]
    for i in reversed(known):
        if values[i] <= target:
            break
        first = i
    return first, known[-1]


@given(st.lists(st.one_of(st.none(), st.floats(0, 0.1)), min_size=1, max_size=30))
def test_breach_since_is_the_run_a_walk_back_from_the_latest_week_finds(values):
    kpi = "accepted_label_error_rate"  # breach: above 0.05
    labels = [f"2026-W{i + 1:02d}" for i in range(len(values))]
    weeks = pl.DataFrame({"week": labels, kpi: values}, schema={"week": pl.String, kpi: pl.Float64})
    since = breaches.breach_since(weeks, Targets.load(), [kpi])
    run = _run_by_hand(values, 0.05)
    if run is None:
        assert since.height == 0
    else:
        first, last = run
        assert since.rows() == [("all", kpi, labels[first], labels[last], values[last], None, None)]
