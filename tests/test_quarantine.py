"""Going on without the bad rows (the contract's quarantine), on TINY with a few
rows broken on purpose."""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from pathlib import Path

import polars as pl
import pytest

from datasets import TINY, write_dataset
from kpi_core import aggregates
from kpi_core.cli import main
from kpi_core.loading import open_dataset
from kpi_core.metrics import kpi_table
from kpi_core.problems import DataError
from kpi_core.quarantine import rows_by_table, set_aside_bad_rows, write_quarantine
from kpi_core.validation import validate

# a10 has no valid submission time, and r12 reviews it: once a10 is set aside, r12
# points at nothing. r13 repeats r1's id (the first one stays).
BROKEN = {
    **TINY,
    "annotations": TINY["annotations"].rstrip() + "\n        a10,i1,s1,A,yesterday,,\n",
    "reviews": TINY["reviews"].rstrip()
    + "\n        r12,a10,g1,precheck,accept,,2026-01-13T13:00:00Z,,0.5"
    + "\n        r1,a2,g1,final,accept,,2026-01-06T13:00:00Z,,0.5\n",
}


@pytest.fixture
def broken(tmp_path):
    return write_dataset(tmp_path / "broken", BROKEN)


def test_bad_rows_and_the_rows_they_break_are_set_aside(broken):
    aside = set_aside_bad_rows(broken)
    reasons = {(p.table, p.row): p.reason for p in aside}
    assert reasons[("annotations", 10)] == "not a valid timestamp: 'yesterday'"
    assert reasons[("reviews", 13)].startswith("duplicate review_id 'r1' (first at row 1")
    # r12 was fine until a10 went: its reason says it is about what is kept.
    assert (
        reasons[("reviews", 12)]
        == "annotation_id 'a10' not found in annotations among the rows kept"
    )
    assert rows_by_table(aside) == {"annotations": 1, "reviews": 2}
    assert validate(broken, set_aside=aside) == []


def test_what_is_kept_is_exactly_the_valid_data(broken, tmp_path):
    kept = aggregates.fetch(open_dataset(broken, set_aside=set_aside_bad_rows(broken)))
    clean = aggregates.fetch(open_dataset(write_dataset(tmp_path / "tiny", TINY)))
    assert kpi_table(kept).equals(kpi_table(clean))


def test_rows_the_csv_reader_cannot_split_are_set_aside_and_the_rest_kept(tmp_path):
    """A row with too few fields (a10, then a row of TINY after it) is set aside like any
    other bad row, and the rows after it keep their own numbers."""
    ragged = "\n        a10,i1,s1\n"
    lines = TINY["annotations"].rstrip().split("\n")
    tables = {**TINY, "annotations": "\n".join(lines[:-1]) + ragged + lines[-1] + "\n"}
    root = write_dataset(tmp_path / "ragged", tables)
    n_rows = len([line for line in lines if line.strip()]) - 1  # TINY's, header aside
    aside = set_aside_bad_rows(root)
    assert [(p.table, p.row, p.reason) for p in aside] == [
        ("annotations", n_rows, "row has 3 fields but the header has 7")
    ]
    kept = aggregates.fetch(open_dataset(root, set_aside=aside))
    clean = aggregates.fetch(open_dataset(write_dataset(tmp_path / "tiny", TINY)))
    assert kpi_table(kept).equals(kpi_table(clean))
    last = open_dataset(root, set_aside=aside).con.sql("select max(_row) from annotations")
    assert last.fetchall() == [(n_rows + 1,)]  # TINY's last row comes after a10
    with pytest.raises(DataError):  # without setting it aside, nothing is computed
        open_dataset(root)


def _as_jsonl(root: Path, tables: dict[str, str]) -> Path:
    """TINY's tables as JSON Lines, an empty cell as an absent key."""
    root.mkdir()
    for table, text in tables.items():
        rows = csv.DictReader(io.StringIO(textwrap.dedent(text).strip() + "\n"))
        lines = [json.dumps({k: v for k, v in row.items() if v}) for row in rows]
        (root / f"{table}.jsonl").write_text("".join(line + "\n" for line in lines))
    return root


def test_jsonl_lines_that_are_not_one_object_are_set_aside_and_the_rest_kept(tmp_path):
    """A JSON array between two rows, an object giving its label twice, one giving an
    object for its label, and a last line cut short (a log writer that stopped
    mid-line), are set aside like any other bad row; the rows after the array keep
    their own numbers."""
    root = _as_jsonl(tmp_path / "broken", TINY)
    clean = _as_jsonl(tmp_path / "clean", TINY)
    lines = (root / "annotations.jsonl").read_text().splitlines()
    label_twice = lines[0].replace('"label"', '"label": "x", "label"')
    label_nested = re.sub(r'"label": "[^"]*"', '"label": {"v": 1}', lines[0])
    broken = [*lines[:2], '["a10", "i1"]', *lines[2:], label_twice, label_nested, lines[0][:25]]
    (root / "annotations.jsonl").write_text("\n".join(broken))
    aside = set_aside_bad_rows(root)
    assert [(p.table, p.row) for p in aside] == [
        ("annotations", 3),
        ("annotations", len(broken) - 2),
        ("annotations", len(broken) - 1),
        ("annotations", len(broken)),
    ]
    kept = aggregates.fetch(open_dataset(root, set_aside=aside))
    assert kpi_table(kept).equals(kpi_table(aggregates.fetch(open_dataset(clean))))
    rows = open_dataset(root, set_aside=aside).con.sql("select _row from annotations order by 1")
    assert [row for (row,) in rows.fetchall()] == [1, 2, *range(4, len(broken) - 2)]
    with pytest.raises(DataError):  # without setting them aside, nothing is computed
        open_dataset(root)


def test_valid_data_sets_nothing_aside(tmp_path):
    assert set_aside_bad_rows(write_dataset(tmp_path / "tiny", TINY)) == []


def test_a_broken_file_still_stops(tmp_path):
    root = write_dataset(tmp_path / "bad", {**TINY, "items": "item_id\ni1\n"})
    with pytest.raises(DataError, match="required column missing"):
        set_aside_bad_rows(root)


def test_the_quarantine_file_has_one_line_per_broken_rule(broken, tmp_path):
    path = tmp_path / "q" / "quarantine.csv"
    write_quarantine(set_aside_bad_rows(broken), path)
    frame = pl.read_csv(path)
    assert frame.columns == ["table", "file", "row", "column", "reason"]
    assert sorted(zip(frame["table"], frame["row"], strict=True)) == [
        ("annotations", 10),
        ("reviews", 12),
        ("reviews", 13),
    ]


def test_validate_with_quarantine_goes_on(broken, tmp_path, capsys):
    path = tmp_path / "quarantine.csv"
    assert main(["validate", str(broken)]) == 1
    assert main(["validate", str(broken), "--quarantine", str(path)]) == 0
    err = capsys.readouterr().err
    assert "row 10, column submitted_at: not a valid timestamp" in err
    assert f"set aside 3 invalid row(s) (1 annotations, 2 reviews); reasons in {path}" in err
    assert pl.read_csv(path).height == 3


@pytest.mark.parametrize("verb", ["validate", "report"])
def test_a_quarantine_file_inside_the_data_directory_is_refused(broken, capsys, verb):
    # It would overwrite reviews.csv, and the next run would read it as the reviews.
    reviews = broken / "reviews.csv"
    before = reviews.read_bytes()
    assert main([verb, str(broken), "--quarantine", str(reviews)]) == 1
    assert reviews.read_bytes() == before
    err = capsys.readouterr().err
    assert f"{reviews}: the quarantine file must be written outside the data directory" in err


def test_report_with_quarantine_counts_what_it_set_aside(broken, tmp_path, capsys):
    path, out = tmp_path / "quarantine.csv", tmp_path / "report.json"
    assert main(["report", str(broken), "--quiet", "--out", str(out)]) == 1
    args = ["report", str(broken), "--quiet", "--out", str(out), "--quarantine", str(path)]
    assert main(args) == 0
    report = json.loads(out.read_text())
    assert report["quarantine"] == {
        "file": str(path),
        "rows": {"annotations": 1, "reviews": 2},
        "total": 3,
    }
    assert any("set aside 3 invalid row(s)" in w for w in report["warnings"])
    assert report["overall"]["n_annotations"] == 9  # TINY's nine; a10 is not counted
    capsys.readouterr()
    assert main(args[:2] + args[3:]) == 0  # not --quiet: said on stderr too
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"set aside 3 invalid row(s) (1 annotations, 2 reviews); reasons in {path}"
    )


def test_report_without_quarantine_says_so(tmp_path, capsys):
    out = tmp_path / "report.json"
    root = write_dataset(tmp_path / "tiny", TINY)
    assert main(["report", str(root), "--quiet", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["quarantine"] is None


def test_markdown_and_html_say_what_was_set_aside(broken, tmp_path):
    for fmt in ("markdown", "html"):
        out = tmp_path / f"report.{fmt}"
        quarantine = tmp_path / "quarantine.csv"
        args = ["report", str(broken), "--quiet", "--format", fmt, "--out", str(out)]
        assert main([*args, "--quarantine", str(quarantine)]) == 0
        text = out.read_text()
        assert "Data quality" in text
        assert "set aside 3 invalid row(s) (1 annotations, 2 reviews)" in text
