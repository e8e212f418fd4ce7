"""``kpi_core.loading``: every format reads to the same typed values.

The data is written by hand (CSV and JSONL text) or through polars (Parquet), so
a test fails when the loader, not the fixture, changes what a value means.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from formats import (
    ANNOTATIONS_CSV,
    EXPECTED,
    ITEMS_CSV,
    typed_frames,
    write_csv,
    write_jsonl,
    write_parquet,
    write_parquet_folder,
)
from kpi_core.contract import TABLES
from kpi_core.loading import open_dataset
from kpi_core.problems import DataError


def typed(dataset, table: str, columns: list[str]) -> pl.DataFrame:
    key = TABLES[table].columns[0].name
    select = ", ".join(columns)
    return dataset.con.sql(f"select {select} from {table} order by {key}").pl()


def assert_loads_expected(root: Path) -> None:
    dataset = open_dataset(root)
    for table, expected in EXPECTED.items():
        got = typed(dataset, table, expected.columns)
        assert_frame_equal(got, expected)


@pytest.mark.parametrize(
    "writer",
    [write_csv, write_jsonl, write_parquet, write_parquet_folder],
    ids=lambda w: w.__name__,
)
def test_every_format_loads_the_same_typed_values(tmp_path, writer):
    assert_loads_expected(writer(tmp_path / "logs"))


@pytest.mark.parametrize(
    "writer",
    [write_csv, write_jsonl, write_parquet, write_parquet_folder],
    ids=lambda w: w.__name__,
)
def test_key_value_folders_above_the_data_are_not_columns(tmp_path, writer):
    """DuckDB's hive partitioning would read /data/domain=finance/ as a domain column
    and write 'finance' over every item's domain."""
    root = tmp_path / "domain=finance" / "item_id=x"
    root.mkdir(parents=True)
    assert_loads_expected(writer(root / "logs"))


def test_partition_folders_that_differ_are_one_line(tmp_path):
    root = write_parquet_folder(tmp_path / "logs")
    odd = root / "annotations" / "part.parquet"
    typed_frames()["annotations"][:1].write_parquet(odd)
    with pytest.raises(DataError) as raised:
        open_dataset(root)
    assert [str(p) for p in raised.value.problems] == [
        f"{root}/annotations: partition folders differ: part.parquet has no partition keys, "
        "week=1/part.parquet has partition keys week"
    ]


def test_jsonl_key_first_seen_after_the_reader_sample(tmp_path):
    """DuckDB guesses a JSONL file's keys from its first 20,480 lines by default; a cost
    given on later lines only would be dropped."""
    root = write_jsonl(tmp_path / "logs")
    first = {"annotation_id": "a", "item_id": "it1", "annotator_id": "an1", "label": "x"}
    rows = [{**first, "annotation_id": f"a{i:05d}", "submitted_at": "2026-01-05"}
            for i in range(25_000)]  # fmt: skip
    rows[-1]["cost"] = 2.5
    (root / "annotations.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    dataset = open_dataset(root)
    totals = dataset.con.execute("select sum(cost), count(cost) from annotations").fetchone()
    assert totals == (2.5, 1)


def test_parquet_folder_rows_count_per_file(tmp_path):
    dataset = open_dataset(write_parquet_folder(tmp_path / "logs"))
    rows = dataset.con.sql(
        "select annotation_id, _file, _row from annotations order by annotation_id"
    ).fetchall()
    first = (tmp_path / "logs/annotations/week=1/part.parquet").as_posix()
    second = (tmp_path / "logs/annotations/week=2/part.parquet").as_posix()
    assert rows == [("a1", first, 1), ("a2", first, 2), ("a3", second, 1)]
    # the partition column is an extra column: kept in the raw view, not in the typed one
    assert "week" in dataset.columns["annotations"]
    assert "week" not in dataset.con.sql("select * from annotations").columns


def test_timezone_aware_parquet_timestamps_convert_to_utc(tmp_path):
    root = write_parquet(tmp_path / "logs")
    frame = typed_frames()["annotations"].with_columns(
        pl.col("submitted_at").dt.replace_time_zone("UTC").dt.convert_time_zone("Asia/Kolkata")
    )
    frame.write_parquet(root / "annotations.parquet")
    assert_loads_expected(root)


def test_bom_and_crlf_csv(tmp_path):
    root = write_csv(tmp_path / "logs")
    (root / "items.csv").write_bytes(b"\xef\xbb\xbf" + ITEMS_CSV.replace("\n", "\r\n").encode())
    (root / "annotations.csv").write_bytes(ANNOTATIONS_CSV.replace("\n", "\r\n").encode())
    dataset = open_dataset(root)
    assert dataset.columns["items"][0] == "item_id"
    assert dataset.con.sql("select label from annotations order by _row").fetchall() == [
        ("cat",),
        ("dog",),
        ("3",),
    ]
    assert_loads_expected(root)


def test_header_only_file_is_an_empty_table(tmp_path):
    root = write_csv(tmp_path / "logs")
    (root / "reviews.csv").write_text(
        "review_id,annotation_id,reviewer_id,stage,verdict,reviewed_at"
    )
    dataset = open_dataset(root)
    assert dataset.has("reviews")
    assert dataset.con.execute("select count(*) from reviews").fetchone() == (0,)


def test_empty_jsonl_file_is_an_empty_table(tmp_path):
    root = write_csv(tmp_path / "logs")
    (root / "audits.jsonl").write_text("")
    dataset = open_dataset(root)
    assert dataset.has("audits")
    assert dataset.con.execute("select count(*) from audits").fetchone() == (0,)


def test_timestamps_offsets_to_utc_and_bare_dates_to_midnight(tmp_path):
    root = write_csv(tmp_path / "logs")
    (root / "defects.csv").write_text(
        "defect_id,severity,opened_at,resolved_at\n"
        "d1,sev1,2026-03-01,2026-03-01T23:30:00-02:00\n"
        "d2,sev2,2026-03-01 08:00:00,2026-03-02T08:00:00.250Z\n"
        "d3,sev3, 2026-03-01T08:00 ,\n"
        "d4,sev4,2026-03-01 ,2026-03-01T11:00:00.25-01:30 \n"
    )
    dataset = open_dataset(root)
    assert dataset.con.sql(
        "select opened_at, resolved_at from defects order by _row"
    ).fetchall() == [
        (dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 2, 1, 30)),
        (dt.datetime(2026, 3, 1, 8), dt.datetime(2026, 3, 2, 8, 0, 0, 250000)),
        (dt.datetime(2026, 3, 1, 8), None),
        (dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 1, 12, 30, 0, 250000)),
    ]


def test_values_that_break_their_type_read_as_null_never_as_a_guess(tmp_path):
    root = write_csv(tmp_path / "logs")
    (root / "targets.csv").write_text(
        "domain,target_accepted_items\nstem,2.5\nmedicine,2.0\ncoding,1e3\nlaw,0x10\n"
    )
    (root / "annotators.csv").write_text(
        "annotator_id,tier,hourly_rate\nan1,generalist,NaN\nan2,specialist,-inf\nan3,generalist, 7 \n"
    )
    (root / "defects.csv").write_text(
        "defect_id,severity,opened_at\nd1,sev1,epoch\nd2,sev1,infinity\nd3,sev1,2026-1-1\n"
    )
    dataset = open_dataset(root)
    con = dataset.con
    assert con.sql("select target_accepted_items from targets order by _row").fetchall() == [
        (None,),
        (2,),
        (1000,),
        (None,),
    ]
    assert con.sql("select hourly_rate from annotators order by _row").fetchall() == [
        (None,),
        (None,),
        (7.0,),
    ]
    assert con.sql("select opened_at from defects").fetchall() == [(None,)] * 3


def test_booleans_take_the_spellings_the_readme_lists(tmp_path):
    root = write_csv(tmp_path / "logs")
    spellings = ["true", "False", "T", "f", "YES", "no", "y", "N", "1", "0", "on", "2"]
    (root / "audits.csv").write_text(
        "audit_id,annotation_id,auditor_id,audited_at,is_error\n"
        + "".join(f"au{i:02d},a1,an2,2026-01-07,{v}\n" for i, v in enumerate(spellings))
    )
    dataset = open_dataset(root)
    read = [
        v for (v,) in dataset.con.execute("select is_error from audits order by _row").fetchall()
    ]
    assert read == [True, False] * 5 + [None, None]


def test_extra_columns_are_kept_and_ignored(tmp_path):
    root = write_csv(tmp_path / "logs")
    (root / "items.csv").write_text(
        "item_id,colour,domain,difficulty,created_at\n"
        "it1,red,stem,easy,2026-01-01\n"
        "it2,,medicine,,2026-01-02T09:00:00+01:00\n"
    )
    dataset = open_dataset(root)
    assert "colour" in dataset.columns["items"]
    assert dataset.con.sql("select colour from raw_items order by _row").fetchall() == [
        ("red",),
        (None,),
    ]
    assert dataset.con.sql("select * from items").columns == [
        *TABLES["items"].column_names,
        "_file",
        "_row",
    ]
    assert_loads_expected(root)


def test_unnamed_csv_columns_are_extra_columns(tmp_path):
    """A pandas index (first header cell empty) or a trailing comma adds unnamed columns."""
    root = write_csv(tmp_path / "logs")
    lines = ITEMS_CSV.splitlines()
    (root / "items.csv").write_text(
        "".join(f"{i if i else ''},{line},\n" for i, line in enumerate(lines))
    )
    dataset = open_dataset(root)
    assert dataset.columns["items"][0] == "column0"
    assert_loads_expected(root)


def test_missing_optional_column_reads_as_null(tmp_path):
    root = write_csv(tmp_path / "logs")
    dataset = open_dataset(root)
    assert dataset.con.execute("select count(*) from items where triage is null").fetchone() == (2,)
    types = "select typeof(triage), typeof(created_at) from items limit 1"
    assert dataset.con.execute(types).fetchone() == ("VARCHAR", "TIMESTAMP")


def test_absent_optional_table_is_an_empty_view(tmp_path):
    dataset = open_dataset(write_csv(tmp_path / "logs"))
    assert not dataset.has("reviews")
    assert "reviews" not in dataset.present
    view = dataset.con.sql("select * from reviews")
    assert view.columns == [*TABLES["reviews"].column_names, "_file", "_row"]
    assert view.fetchall() == []
    types = dict(zip(view.columns, view.types, strict=True))
    assert str(types["reviewed_at"]) == "TIMESTAMP"


def test_jsonl_values_of_mixed_json_types_read_as_text(tmp_path):
    """A key holding a number in one line and a string in another is text, not JSON."""
    root = write_csv(tmp_path / "logs")
    (root / "items.csv").unlink()
    (root / "items.jsonl").write_text(
        '{"item_id": 7, "domain": "stem", "created_at": "2026-01-01"}\n'
        '{"item_id": "it2", "domain": "law", "created_at": 20260101}\n'
    )
    dataset = open_dataset(root)
    assert dataset.con.sql("select item_id, created_at from items order by _row").fetchall() == [
        ("7", dt.datetime(2026, 1, 1)),
        ("it2", None),
    ]
    assert dataset.con.sql("select created_at from raw_items order by _row").fetchall() == [
        ("2026-01-01",),
        ("20260101",),
    ]


def test_file_problems_raise_one_data_error(tmp_path):
    root = write_csv(tmp_path / "logs")
    (root / "annotators.csv").write_text("")
    (root / "reviews.csv").write_bytes(b"review_\xe9d,annotation_id\n")
    with pytest.raises(DataError) as raised:
        open_dataset(root)
    assert [str(p) for p in raised.value.problems] == [
        f"{root / 'annotators.csv'}: file is empty (no header row)",
        f"{root / 'reviews.csv'}: file is not valid UTF-8 text (line 1)",
    ]


def test_a_hive_default_partition_is_a_missing_value(tmp_path):
    """Hive, Spark and pyarrow write a missing key as key=__HIVE_DEFAULT_PARTITION__."""
    root = write_parquet(tmp_path / "logs")
    (root / "items.parquet").unlink()
    items = typed_frames()["items"]
    missing = "difficulty=__HIVE_DEFAULT_PARTITION__"
    for folder, part in (("difficulty=easy", items[:1]), (missing, items[1:])):
        (root / "items" / folder).mkdir(parents=True)
        part.drop("difficulty").write_parquet(root / "items" / folder / "part.parquet")
    dataset = open_dataset(root)
    assert dataset.con.sql("select item_id, difficulty from items order by 1").fetchall() == [
        ("it1", "easy"),
        ("it2", None),
    ]


def test_whole_numbers_stored_as_integers_read_as_their_text(tmp_path):
    root = write_parquet(tmp_path / "logs")
    path = root / "annotations.parquet"
    pl.read_parquet(path).with_columns(label=pl.lit(3, pl.Int32)).write_parquet(path)
    labels = open_dataset(root).con.sql("select distinct label from annotations").fetchall()
    assert labels == [("3",)]


def test_a_memory_limit_duckdb_cannot_take_is_named_not_a_traceback(monkeypatch, capsys):
    from kpi_core import loading
    from kpi_core.cli import main

    monkeypatch.setattr(loading, "MEMORY_LIMIT", "lots")
    assert main(["check"]) == 1
    assert capsys.readouterr().err.startswith(
        "KPI_DUCKDB_MEMORY_LIMIT: not a memory size DuckDB takes: 'lots'"
    )


@pytest.mark.parametrize("value", ["abc", "0", "-5", "inf"])
def test_a_time_limit_that_is_no_number_of_seconds_is_named(monkeypatch, capsys, value):
    from kpi_core.cli import main

    monkeypatch.setenv("KPI_QUERY_TIMEOUT_S", value)
    assert main(["check"]) == 1
    assert capsys.readouterr().err.startswith(
        f"KPI_QUERY_TIMEOUT_S: not a number of seconds above 0: '{value}'"
    )
