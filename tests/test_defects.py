"""kpi_core.defects on a few hand-written defects (rows of defect_durations.sql)."""

from __future__ import annotations

import polars as pl

from kpi_core.contract import SEVERITIES
from kpi_core.defects import against_target, defect_turnaround, open_past
from kpi_core.targets import Targets

DEFECTS = pl.LazyFrame(
    {
        "severity": ["sev1", "sev1", "sev1", "sev2", "sev2"],
        "is_open": [False, True, True, False, True],
        "resolution_h": [6.0, None, None, 10.0, None],
        "age_h": [None, 100.0, 72.0, None, 5.0],
    }
)


def test_turnaround_is_the_median_of_resolved_defects_with_open_counts():
    rows = {r["severity"]: r for r in defect_turnaround(DEFECTS).iter_rows(named=True)}
    assert rows["sev1"] == {
        "severity": "sev1",
        "n_resolved": 1,
        "n_open": 2,
        "oldest_open_age_h": 100.0,
        "median_resolution_h": 6.0,
    }
    assert rows["sev3"]["n_open"] == 0 and rows["sev3"]["median_resolution_h"] is None


def test_open_past_counts_open_defects_older_than_the_target():
    # sev1: open 100 h counts, open exactly 72 h does not (not *longer*); the
    # resolved one never counts; sev2's open one is 5 h old
    past = open_past(DEFECTS, 72.0)
    assert past["severity"].to_list() == list(SEVERITIES)
    assert dict(past.iter_rows()) == {s: 1 if s == "sev1" else 0 for s in SEVERITIES}


def test_each_severity_is_judged_by_its_median_and_by_what_is_open_past_the_target():
    """Target 72 h (default): sev1's median 80 h breaches; sev2 is on target but one of
    its defects has been open 100 h; sev3 has no resolved defect."""
    defects = pl.DataFrame(
        {
            "severity": ["sev1", "sev1", "sev2", "sev2", "sev3"],
            "resolution_h": [70.0, 90.0, 10.0, None, None],
            "is_open": [False, False, False, True, True],
            "age_h": [None, None, None, 100.0, 5.0],
        }
    )
    judged = against_target(defect_turnaround(defects.lazy()), defects, Targets.load())
    assert judged.rows() == [
        ("sev1", 80.0, "breach", 0),
        ("sev2", 10.0, "ok", 1),
        ("sev3", None, None, 0),
        ("sev4", None, None, 0),
    ]
