"""Text with spaces around it: valid, kept as written, and warned about
(kpi_core.spacing, queries/spaced_values.sql)."""

from __future__ import annotations

import json

import pytest

from datasets import TINY, spaced_tiny, write_dataset
from kpi_core import aggregates
from kpi_core.cli import main
from kpi_core.loading import open_dataset
from kpi_core.metrics import kpi_table
from kpi_core.spacing import spaced_values


def test_clean_data_has_no_spaced_values(tmp_path):
    assert spaced_values(open_dataset(write_dataset(tmp_path, TINY))) == []


def test_each_column_is_named_once_at_its_first_spaced_cell(tmp_path):
    root = spaced_tiny(tmp_path)
    notes = [str(n) for n in spaced_values(open_dataset(root))]
    assert notes == [
        f"{root / 'annotations.csv'}: row 2, column label: ' B' has spaces around it, so it "
        "counts as a value of its own, not as 'B'; 1 more row(s) like it",
        f"{root / 'items.csv'}: row 3, column domain: 'coding ' has spaces around it, so it "
        "counts as a value of its own, not as 'coding'",
    ]


def test_spaced_values_are_kept_as_written(tmp_path):
    # No silent fix: 'coding ' is a slice of its own, and ' B' disagrees with 'A'.
    aggs = aggregates.fetch(open_dataset(spaced_tiny(tmp_path)))
    domains = set(kpi_table(aggs, ["domain"])["domain"])
    assert domains == {"stem", "coding", "coding "}


def test_kpi_validate_warns_and_still_passes(tmp_path, capsys):
    root = spaced_tiny(tmp_path)
    assert main(["validate", str(root)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"warning: {root / 'annotations.csv'}: row 2, column label: ' B'")
    assert err[1].startswith(f"warning: {root / 'items.csv'}: row 3, column domain:")
    assert err[-1] == f"{root}: valid"


@pytest.mark.parametrize("quarantine", [False, True])
def test_kpi_validate_parses_each_text_file_once(tmp_path, parsed_tables, quarantine):
    """The warnings are read from the data validation opened: a large CSV or JSONL
    file is not parsed a second time for them."""
    root = spaced_tiny(tmp_path / "data")
    aside = ["--quarantine", str(tmp_path / "aside.csv")] if quarantine else []
    assert main(["validate", str(root), *aside]) == 0
    assert parsed_tables.count("annotations") == 1


def test_kpi_validate_with_quarantine_warns_about_the_rows_it_keeps(tmp_path, capsys):
    root = spaced_tiny(tmp_path / "data")
    # a2 (with ' B') is set aside: its item is unknown; a4's 'X ' is kept.
    annotations = (root / "annotations.csv").read_text().replace("a2,i1,", "a2,i9,")
    (root / "annotations.csv").write_text(annotations)
    assert main(["validate", str(root), "--quarantine", str(tmp_path / "aside.csv")]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning:" in line]
    assert [w.split(": ")[2] for w in warnings] == ["row 4, column label", "row 3, column domain"]


def test_the_report_lists_them_among_its_warnings(tmp_path, capsys):
    root = spaced_tiny(tmp_path)
    assert main(["report", str(root), "--quiet"]) == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert [w for w in warnings if "has spaces around it" in w] == [
        str(n) for n in spaced_values(open_dataset(root))
    ]
