"""Targets: defaults, a user's overrides, per-domain rules, and statuses."""

from __future__ import annotations

import polars as pl
import pytest

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
