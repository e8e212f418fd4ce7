"""Targets: defaults, a user's overrides, per-domain rules, and statuses."""

from __future__ import annotations

import polars as pl
import pytest

from kpi_core.cli import BUNDLED_SAMPLE, main
from kpi_core.problems import DataError
from kpi_core.targets import Promotion, Targets


def test_defaults_follow_krippendorff_for_alpha():
    targets = Targets.load()
    assert targets.status("krippendorff_alpha", 0.85) == "ok"
    assert targets.status("krippendorff_alpha", 0.70) == "warn"  # tentative
    assert targets.status("krippendorff_alpha", 0.60) == "breach"
    assert targets.promotion == Promotion(weeks=3, min_known=20, max_error_rate=0.05)


def test_lower_is_better_kpis_breach_above_target():
    targets = Targets.load()
    assert targets.status("accepted_label_error_rate", 0.03) == "ok"
    assert targets.status("accepted_label_error_rate", 0.045) == "warn"
    assert targets.status("accepted_label_error_rate", 0.06) == "breach"
    assert targets.status("accepted_label_error_rate", None) is None
    assert targets.status("pairwise_agreement", 0.5) is None  # no target set


def test_a_user_file_overrides_only_what_it_sets(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text("[promotion]\nweeks = 4\n\n[kpi.accepted_label_error_rate]\ntarget = 0.10\n")
    targets = Targets.load(path)
    assert targets.promotion == Promotion(weeks=4, min_known=20, max_error_rate=0.05)
    assert targets.status("accepted_label_error_rate", 0.06) == "warn"  # warn 0.04 kept
    assert targets.status("rework_rate", 0.5) == "breach"  # untouched default


def test_domain_overrides_apply_to_that_domain_only():
    targets = Targets.load()
    assert targets.status("accepted_label_error_rate", 0.035, domain="medicine") == "breach"
    assert targets.status("accepted_label_error_rate", 0.035, domain="coding") == "ok"


def test_a_view_of_one_domain_takes_its_overrides_as_the_project_rules():
    medicine = Targets.load().for_domain("medicine")
    assert medicine.rule("accepted_label_error_rate") == {
        "direction": "max",
        "target": 0.03,
        "warn": 0.02,
    }
    assert medicine.status("accepted_label_error_rate", 0.035) == "breach"
    # KPIs the domain does not override keep the project's rule
    assert medicine.rule("disagreement_rate") == Targets.load().rule("disagreement_rate")
    coding = Targets.load().for_domain("coding")  # no overrides
    assert coding.status("accepted_label_error_rate", 0.035) == "ok"


def test_a_domain_has_its_own_target_only_where_it_overrides_one():
    targets = Targets.load()
    assert targets.has_own("accepted_label_error_rate", "medicine")  # 3.0%, not 5.0%
    assert not targets.has_own("disagreement_rate", "medicine")
    assert not targets.has_own("accepted_label_error_rate", "coding")


def test_status_expression_agrees_with_status():
    targets = Targets.load()
    frame = pl.DataFrame(
        {
            "domain": ["medicine", "coding", "coding", "stem"],
            "accepted_label_error_rate": [0.035, 0.035, 0.07, None],
        }
    )
    got = frame.select(targets.status_expr("accepted_label_error_rate", "domain"))
    expected = [targets.status("accepted_label_error_rate", v, d) for d, v in frame.iter_rows()]
    assert got.to_series().to_list() == expected


def test_target_expression_takes_each_rows_domain_target():
    targets = Targets.load()
    frame = pl.DataFrame({"domain": ["medicine", "coding", None]})
    got = frame.with_columns(targets.target_expr("accepted_label_error_rate", "domain"))
    assert got["accepted_label_error_rate_target"].to_list() == [0.03, 0.05, 0.05]
    untargeted = frame.with_columns(targets.target_expr("accepted", "domain"))
    assert untargeted["accepted_target"].to_list() == [None, None, None]


def test_an_unreadable_targets_file_is_one_clear_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[promotion\n")
    with pytest.raises(DataError, match="bad.toml: cannot read targets"):
        Targets.load(path)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('[kpi.rework_rate]\ntarget = "high"', "kpi.rework_rate.target: a number, not 'high'"),
        ('[kpi.rework_rate]\ndirection = "up"', 'kpi.rework_rate.direction: "max" (lower'),
        ("[kpi.rework_rat]\ntarget = 0.5", "kpi.rework_rat: no KPI has this name"),
        ("[kpi.rework_rate]\ntargt = 0.5", "kpi.rework_rate.targt: not a setting"),
        ("foo = 1", "foo: not a setting"),
        ('[promotion]\nweeks = "three"', "promotion.weeks: a whole number of weeks, at least 1"),
        ("[promotion]\nweeks = 0", "promotion.weeks: a whole number of weeks, at least 1, not 0"),
        ("[promotion]\nmin_known = -1", "promotion.min_known: a whole number, at least 0"),
        ("[promotion]\nmax_error_rate = 5", "promotion.max_error_rate: a rate from 0 to 1"),
        # the default rework_rate rule is target 0.20, warn 0.15 (direction max)
        ("[kpi.rework_rate]\nwarn = 0.9", "kpi.rework_rate: warn 0.9 is above target 0.2"),
        # a domain's rule is read over the project's and its defaults (medicine: target 0.03)
        (
            "[domain.medicine.kpi.accepted_label_error_rate]\nwarn = 0.06",
            "domain.medicine.kpi.accepted_label_error_rate: warn 0.06 is above target 0.03",
        ),
        ("[kpi.turnaround_p90_h]\ntarget = 3", "kpi.turnaround_p90_h: direction, warn missing"),
        ("[domain.medicine]\nkpis = 1", "domain.medicine: holds [domain.medicine.kpi.<name>]"),
    ],
)
def test_a_targets_file_mistake_is_named_not_ignored(tmp_path, text, reason):
    # Left alone, each would keep a default in force, or misjudge a KPI, without a word.
    path = tmp_path / "targets.toml"
    path.write_text(text + "\n")
    with pytest.raises(DataError) as raised:
        Targets.load(path)
    assert any(str(p).startswith(f"{path}: {reason}") for p in raised.value.problems), [
        str(p) for p in raised.value.problems
    ]


def test_a_sound_targets_file_loads(tmp_path):
    path = tmp_path / "targets.toml"
    path.write_text(
        "[promotion]\nweeks = 4\n[domain.stem.kpi.rework_rate]\ntarget = 0.5\nwarn = 0.4\n"
    )
    targets = Targets.load(path)
    assert targets.promotion.weeks == 4
    assert targets.status("rework_rate", 0.45, domain="stem") == "warn"


@pytest.mark.parametrize("verb", ["report", "calibration-pack"])
def test_kpi_targets_is_the_default_targets_file_as_for_kpi_serve(
    tmp_path, monkeypatch, capsys, verb
):
    path = tmp_path / "ours.toml"
    path.write_text("[kpi.rework_rat]\ntarget = 0.5\n")  # read: so its mistake is told
    monkeypatch.setenv("KPI_TARGETS", str(path))
    args = ["--week", "2026-W07", "--out", str(tmp_path / "pack")] if verb != "report" else []
    assert main([verb, str(BUNDLED_SAMPLE), *args]) == 1
    assert capsys.readouterr().err.startswith(f"{path}: kpi.rework_rat: no KPI has this name")
