"""``kpi_core.files``: which files are tables, and what is not one."""

from __future__ import annotations

from datasets import loading_problems
from formats import write_csv, write_parquet_folder


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
