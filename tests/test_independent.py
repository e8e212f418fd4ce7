"""`kpi report` agrees, value by value, with an independent re-implementation of
kpis.md (tests/independent_kpis.py): the KPIs overall, per slice and per week, domain
coverage, promoted slices, defect turnaround and model lift, on the bundled sample and
on small random data crowded with ties and repeats (tests/datasets.py)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from independent_kpis import (
    KPIS,
    SLICE,
    compute,
    default_as_of,
    defect_turnaround,
    domain_coverage,
    load,
    model_lift,
    promoted_slices,
)

from datasets import write_messy_dataset
from kpi_core import cli

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
TOLERANCE = 1e-9
MISSING = "<no such key>"


def same(expected, actual) -> bool:
    """Equal: null with null, counts exactly, floats to 1e-9 relative or absolute."""
    if expected is None or actual is None or actual == MISSING:
        return expected is None and actual is None
    if isinstance(expected, int) and not isinstance(expected, bool):
        return actual == expected
    return math.isclose(expected, actual, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def report_rows(report: dict) -> dict[str, dict[tuple, dict]]:
    """The report's rows by grouping and group key, like `compute` returns them."""
    return {
        "overall": {(): report["overall"]},
        "slices": {tuple(row[k] for k in SLICE): row for row in report["slices"]},
        "weeks": {(row["week"],): row for row in report["weeks"]},
    }


def run_report(data_dir: Path, tmp_path: Path) -> dict:
    out = tmp_path / "report.json"
    assert cli.main(["report", str(data_dir), "--quiet", "--out", str(out)]) == 0
    return json.loads(out.read_text())


def mismatches(data_dir: Path, report: dict) -> list[str]:
    """Every value where `report` (of `data_dir`) and the independent KPIs differ: the
    KPIs overall, per slice and per week, domain coverage and promoted slices."""
    as_of = default_as_of(load(data_dir))
    problems = []
    reported_as_of = datetime.fromisoformat(report["as_of"].replace("Z", "+00:00"))
    if reported_as_of != as_of.astimezone(UTC):
        problems.append(f"as_of: expected {as_of.isoformat()}, report {report['as_of']}")

    actual = report_rows(report)
    expected = compute(data_dir, as_of, {grouping: set(rows) for grouping, rows in actual.items()})
    for grouping, groups in expected.items():
        for group in sorted(groups):
            mine = groups[group]
            theirs = actual[grouping].get(group)
            label = f"{grouping} {'/'.join(group) or 'all'}"
            if theirs is None:
                problems.append(f"{label}: missing from the report (expected {mine})")
                continue
            for kpi in KPIS:
                if not same(mine[kpi], theirs.get(kpi, MISSING)):
                    problems.append(
                        f"{kpi} [{label}]: expected {mine[kpi]!r}, report {theirs.get(kpi, MISSING)!r}"
                    )

    target = ("domain", "difficulty", "risk_class", "target_accepted_items")
    coverage = {
        tuple(row[k] for k in target): row["domain_coverage"] for row in domain_coverage(data_dir)
    }
    reported = {
        tuple(row[k] for k in target): row["domain_coverage"] for row in report["domain_coverage"]
    }
    if coverage.keys() != reported.keys() or not all(
        same(v, reported[k]) for k, v in coverage.items()
    ):
        problems.append(f"domain_coverage: expected {coverage}, report {reported}")
    share = sum(value == 1 for value in coverage.values()) / len(coverage) if coverage else None
    if not same(share, report["overall"]["domain_coverage"]):
        problems.append(
            f"domain_coverage [overall]: expected {share}, report {report['overall']['domain_coverage']}"
        )

    promoted = {
        tuple(row[k] for k in SLICE): [
            {k: week[k] for k in ("week", "n_accepted_known", "n_accepted_wrong")}
            for week in row["weeks"]
        ]
        for row in report["promoted_slices"]
    }
    if promoted != promoted_slices(data_dir):
        problems.append(f"promoted_slices: expected {promoted_slices(data_dir)}, report {promoted}")
    return problems


def test_defect_turnaround_and_model_lift_match_the_independent_ones(tmp_path: Path) -> None:
    report = run_report(SAMPLE, tmp_path)
    defects = {row.pop("severity"): row for row in report["defect_turnaround"]}
    expected = defect_turnaround(SAMPLE)
    assert defects.keys() == expected.keys()
    for severity, row in expected.items():
        assert all(same(value, defects[severity][k]) for k, value in row.items()), severity
    lifts = {
        (row["domain"], row["benchmark"], row["model_version"]): row["lift"]
        for row in report["model_lift"]
    }
    expected_lifts = model_lift(SAMPLE)
    assert lifts.keys() == expected_lifts.keys()
    assert all(same(lift, lifts[key]) for key, lift in expected_lifts.items())


def test_report_matches_the_independent_kpis(tmp_path: Path) -> None:
    report = run_report(SAMPLE, tmp_path)
    assert report["promoted_slices"], "the sample should promote a slice"
    problems = mismatches(SAMPLE, report)
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems)


@pytest.mark.parametrize("seed", range(6))
def test_report_matches_the_independent_kpis_on_messy_data(tmp_path: Path, seed: int) -> None:
    data_dir = write_messy_dataset(tmp_path / "data", seed)
    problems = mismatches(data_dir, run_report(data_dir, tmp_path))
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems)
