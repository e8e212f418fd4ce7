"""`kpi report` on the bundled sample, and on small messy random data, agrees, value by value, with an independent
re-implementation of kpis.md (tests/independent_kpis.py): overall, per slice, per week."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from independent_kpis import KPIS, SLICE, compute, default_as_of, load

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


def mismatches(data_dir: Path, tmp_path: Path) -> list[str]:
    """Every value where `kpi report` on `data_dir` and the independent KPIs differ."""
    out = tmp_path / "report.json"
    assert cli.main(["report", str(data_dir), "--quiet", "--out", str(out)]) == 0
    report = json.loads(out.read_text())

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
    return problems


def test_report_matches_the_independent_kpis(tmp_path: Path) -> None:
    problems = mismatches(SAMPLE, tmp_path)
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems)


@pytest.mark.parametrize("seed", range(6))
def test_report_matches_the_independent_kpis_on_messy_data(tmp_path: Path, seed: int) -> None:
    data_dir = write_messy_dataset(tmp_path / "data", seed)
    problems = mismatches(data_dir, tmp_path)
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems)
