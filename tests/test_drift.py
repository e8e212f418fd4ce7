"""Drift: the Fisher test, Holm's adjustment, and who is flagged on data where one
annotator drifts (tests/datasets.py: DRIFT)."""

from __future__ import annotations

from math import comb

import polars as pl
import pytest
from scipy import stats

from datasets import DRIFT, write_dataset
from kpi_core import calibration as cal
from kpi_core import drift
from kpi_core.loading import open_dataset


@pytest.fixture(scope="module")
def drift_view(tmp_path_factory):
    root = write_dataset(tmp_path_factory.mktemp("drift"), DRIFT)
    return cal.build_view(open_dataset(root), "2026-W07", draws=200)


def test_drifting_annotator_is_flagged_and_stable_ones_are_not(drift_view):
    rows = {r["annotator_id"]: r for r in drift_view.annotators.to_dicts()}
    assert rows["g1"]["status"] == "drifting"
    assert rows["g1"]["is_drifting"]
    assert (rows["g1"]["n_consensus_week"], rows["g1"]["consensus_agreement_week"]) == (6, 0.0)
    assert (rows["g1"]["n_consensus_base"], rows["g1"]["consensus_agreement_base"]) == (6, 1.0)
    assert rows["g1"]["consensus_change"] == -1.0
    # Fisher, one-sided: P(X <= 0) for X ~ hypergeometric(N=12, K=6, n=6) = 1 / C(12, 6).
    assert rows["g1"]["consensus_p_value"] == pytest.approx(1 / comb(12, 6))
    # no gold: one test, so nothing to adjust for within g1
    assert rows["g1"]["gold_p_value"] is None
    assert rows["g1"]["p_adjusted"] == pytest.approx(1 / comb(12, 6))
    # meeting-wide: Holm over the four annotators with a p-value (n1 has none)
    assert rows["g1"]["p_meeting"] == pytest.approx(4 / comb(12, 6))
    assert rows["g1"]["is_drifting_meeting_wide"]
    assert rows["g1"]["drifted_on"] == "consensus"  # the measure that dropped
    for stable in ("g2", "g3", "g4"):
        assert rows[stable]["status"] == "stable", stable
        assert not rows[stable]["is_drifting"]
        assert rows[stable]["drifted_on"] is None
    # g2 also agrees with n1 on x1: 7 labels this week, all with the consensus.
    assert rows["g2"]["n_consensus_week"] == 7
    assert rows["g2"]["consensus_agreement_week"] == 1.0
    assert rows["n1"]["status"] == "new"
    assert rows["n1"]["is_new"]
    assert rows["n1"]["n_consensus_base"] == 0
    assert drift_view.drifting.get_column("annotator_id").to_list() == ["g1"]
    assert drift_view.annotators.row(0, named=True)["annotator_id"] == "g1"  # drifting first


def test_vendor_drift_pools_its_annotators(drift_view):
    acme = drift_view.vendors.filter(pl.col("vendor") == "acme").row(0, named=True)
    # g1 (0 of 6) and g2 (7 of 7) this week; 12 of 12 in the baseline.
    assert (acme["n_consensus_week"], acme["n_consensus_base"]) == (13, 12)
    assert acme["consensus_agreement_week"] == pytest.approx(7 / 13)
    assert acme["n_annotators_week"] == 2
    assert drift_view.vendors.filter(pl.col("vendor") == "crowdly")["status"].item() == "new"


def test_fisher_matches_scipy_and_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    tables = [(3, 10, 18, 20), (0, 6, 6, 6), (5, 5, 10, 20), (7, 9, 1, 4), (0, 1, 30, 30)]
    frame = pl.DataFrame(tables, schema=["a", "n", "ab", "nb"], orient="row")
    got = frame.select(
        drift.fisher_less(pl.col("a"), pl.col("n"), pl.col("ab"), pl.col("nb")).alias("p")
    )["p"].to_list()
    for (a, n, ab, nb), p in zip(tables, got, strict=True):
        expected = stats.fisher_exact([[a, n - a], [ab, nb - ab]], alternative="less").pvalue
        assert p == pytest.approx(expected, rel=1e-9)
    p = pl.Series("p", [0.01, None, 0.04, 0.03, 0.5])
    adjusted = drift.holm_adjust(p).to_list()
    expected = multipletests([0.01, 0.04, 0.03, 0.5], method="holm")[1]
    assert adjusted[1] is None
    assert [adjusted[i] for i in (0, 2, 3, 4)] == pytest.approx(list(expected))


def test_no_baseline_for_either_period_gives_no_p_value():
    frame = pl.DataFrame({"a": [0, 3], "n": [0, 3], "ab": [2, 0], "nb": [2, 0]})
    p = frame.select(drift.fisher_less(*(pl.col(c) for c in ("a", "n", "ab", "nb"))))
    assert p.to_series().to_list() == [None, None]
