"""``kpi_core.files``: which files are tables, and what is not one."""

from __future__ import annotations

import pytest

from datasets import loading_problems
from formats import write_csv, write_parquet_folder
from kpi_core.files import discover


def test_a_table_folder_holds_parquet_files_only(tmp_path):
    root = write_parquet_folder(tmp_path / "logs")
    (root / "annotations" / "week=2" / "extra.csv").write_text("annotation_id\na9\n")
    (root / "annotations" / "_SUCCESS").write_text("")  # Spark's marker: no data
    assert loading_problems(root) == [
        f"{root}/annotations: a table folder holds Parquet files only; "
        "week=2/extra.csv would be ignored"
    ]


def test_a_data_directory_that_is_a_file_says_so(tmp_path):
    root = write_csv(tmp_path / "logs")
    assert loading_problems(root / "items.csv") == [
        f"{root}/items.csv: is a file, not a data directory"
    ]


@pytest.mark.parametrize(
    "name",
    ["annotation", "annotations (1)", "annotations_2026", "annotation-old", "anotations"],
)
def test_a_file_named_almost_like_a_missing_table_is_named(tmp_path, name):
    """review.csv would leave every review out, and the review KPIs n/a, without a word;
    annotation.csv (a required table) is named so, not as annotations.csv missing."""
    root = write_csv(tmp_path / "logs")
    (root / "annotations.csv").rename(root / f"{name}.csv")
    (root / "notes.csv").write_text("note\nnot a table\n")  # unlike any table: not read
    assert loading_problems(root) == [
        f"{root}/{name}.csv: no table is named {name!r}: rename it annotations.csv to have it read"
    ]


def test_a_file_named_almost_like_a_table_that_is_there_is_left_alone(tmp_path):
    root = write_csv(tmp_path / "logs")
    (root / "annotation.csv").write_text("note\nlast week's, by hand\n")
    assert discover(root)["annotations"].path == root / "annotations.csv"
