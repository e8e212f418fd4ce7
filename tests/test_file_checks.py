"""``kpi_core.file_checks``: what reading a file can find wrong is one line each,
never an extra column silently ignored or a value silently read as other text."""

from __future__ import annotations

import polars as pl
import pytest

from datasets import loading_problems
from formats import (
    typed_frames,
    write_csv,
    write_jsonl,
    write_parquet,
    write_parquet_folder,
)
from kpi_core.loading import open_dataset


def test_a_column_name_with_spaces_is_named_not_ignored(tmp_path):
    """' cost' would otherwise be an extra column and every cost derived from the rate."""
    root = write_csv(tmp_path / "logs")
    path = root / "annotations.csv"
    path.write_text(path.read_text().replace(",cost\n", ", cost\n", 1))
    assert loading_problems(root) == [
        f"{path}: column  cost: column names are lower-case, without spaces: "
        "rename ' cost' to 'cost'"
    ]


def test_a_parquet_column_stored_twice_is_refused(tmp_path):
    """DuckDB would read the second 'tier' as an extra column 'tier_1', ignored."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = write_parquet(tmp_path / "logs")
    table = pq.read_table(root / "annotators.parquet")
    pq.write_table(table.append_column("tier", pa.array(["x", "y"])), root / "annotators.parquet")
    assert loading_problems(root) == [
        f"{root}/annotators.parquet: column tier appears more than once in annotators.parquet"
    ]


def test_a_jsonl_key_in_two_cases_on_different_lines_is_refused(tmp_path):
    """DuckDB would read 'COST' (one line only) as an extra key 'COST_1', ignored."""
    root = write_jsonl(tmp_path / "logs")
    path = root / "annotations.jsonl"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"cost"', '"COST"')
    path.write_text("\n".join(lines) + "\n")
    assert loading_problems(root) == [
        f"{path}: column COST, cost appears more than once among the keys"
    ]


@pytest.mark.parametrize(
    ("stored", "shown"),
    [(pl.col("label").cast(pl.Float64, strict=False).fill_null(3.0), "DOUBLE"),
     (pl.struct(v=pl.col("label")), "STRUCT(v VARCHAR)"),
     (pl.concat_list("label"), "VARCHAR[]")],
)  # fmt: skip
def test_text_stored_as_fractions_or_nested_values_is_refused(tmp_path, stored, shown):
    """A label 3.0 would read as '3.0' where gold says '3'; a struct as "{'v': 3}"."""
    root = write_parquet(tmp_path / "logs")
    path = root / "annotations.parquet"
    pl.read_parquet(path).with_columns(stored.alias("label")).write_parquet(path)
    assert loading_problems(root) == [
        f"{path}: column label: stored as {shown}, but label is text: store it as text "
        "(a string column), or as whole numbers"
    ]


def test_a_folder_part_without_a_required_column_is_named_once(tmp_path):
    """Read by name, its rows would each be 'label is required but empty'."""
    root = write_parquet_folder(tmp_path / "logs")
    part = root / "annotations" / "week=2" / "part.parquet"
    pl.read_parquet(part).drop("label").write_parquet(part)
    assert loading_problems(root) == [
        f"{part}: column label: required column missing from this part of the folder"
    ]


def test_a_partition_key_stored_in_the_files_must_agree_with_its_folder(tmp_path):
    root = write_parquet(tmp_path / "logs")
    (root / "items.parquet").unlink()
    items = typed_frames()["items"].with_columns(pl.col("domain").fill_null("stem"))
    for domain, part in items.group_by("domain"):
        (root / "items" / f"domain={domain[0]}").mkdir(parents=True)
        part.write_parquet(root / "items" / f"domain={domain[0]}" / "part.parquet")
    assert open_dataset(root).con.sql("select count(*) from items").fetchall() == [(2,)]
    # it2 (medicine) stored in the stem folder: which domain is it?
    wrong = root / "items" / "domain=stem" / "part.parquet"
    items.write_parquet(wrong)
    assert loading_problems(root) == [
        f"{wrong}: column domain: row 2 stores domain 'medicine' but its folder says "
        "domain=stem: keep the value in one place"
    ]
