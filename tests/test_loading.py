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

from kpi_core.contract import TABLES
from kpi_core.loading import open_dataset
from kpi_core.problems import DataError

UTC = dt.UTC

ITEMS_CSV = """\
item_id,domain,difficulty,created_at
it1,stem,easy,2026-01-01
it2,medicine,,2026-01-02T09:00:00+01:00
"""
ANNOTATORS_CSV = """\
annotator_id,tier,hourly_rate
an1,generalist,20
an2,specialist,55.5
"""
ANNOTATIONS_CSV = """\
annotation_id,item_id,annotator_id,label,submitted_at,duration_s,cost
a1,it1,an1,cat,2026-01-05T10:00:00Z,30,
a2,it1,an2,dog,2026-01-05 12:00:05+02:00,,0.25
a3,it2,an2,3,2026-01-06,120.5,1.5
"""

#: What every format must load to (the typed views, without _file and _row).
EXPECTED = {
    "items": pl.DataFrame(
        {
            "item_id": ["it1", "it2"],
            "domain": ["stem", "medicine"],
            "difficulty": ["easy", None],
            "created_at": [dt.datetime(2026, 1, 1), dt.datetime(2026, 1, 2, 8)],
        }
    ),
    "annotators": pl.DataFrame(
        {
            "annotator_id": ["an1", "an2"],
            "tier": ["generalist", "specialist"],
            "hourly_rate": [20.0, 55.5],
        }
    ),
    "annotations": pl.DataFrame(
        {
            "annotation_id": ["a1", "a2", "a3"],
            "item_id": ["it1", "it1", "it2"],
            "annotator_id": ["an1", "an2", "an2"],
            "label": ["cat", "dog", "3"],
            "submitted_at": [
                dt.datetime(2026, 1, 5, 10),
                dt.datetime(2026, 1, 5, 10, 0, 5),
                dt.datetime(2026, 1, 6),
            ],
            "duration_s": [30.0, None, 120.5],
            "cost": [None, 0.25, 1.5],
        }
    ),
}


def typed(dataset, table: str, columns: list[str]) -> pl.DataFrame:
    key = TABLES[table].columns[0].name
    select = ", ".join(columns)
    return dataset.con.sql(f"select {select} from {table} order by {key}").pl()


def assert_loads_expected(root: Path) -> None:
    dataset = open_dataset(root)
    for table, expected in EXPECTED.items():
        got = typed(dataset, table, expected.columns)
        assert_frame_equal(got, expected)


def write_csv(root: Path) -> Path:
    root.mkdir()
    (root / "items.csv").write_text(ITEMS_CSV)
    (root / "annotators.csv").write_text(ANNOTATORS_CSV)
    (root / "annotations.csv").write_text(ANNOTATIONS_CSV)
    return root


def write_jsonl(root: Path) -> Path:
    """The same rows as JSON values: numbers as numbers, empty cells as null or absent."""
    root.mkdir()
    rows = {
        "items": [
            {"item_id": "it1", "domain": "stem", "difficulty": "easy", "created_at": "2026-01-01"},
            {"item_id": "it2", "domain": "medicine", "created_at": "2026-01-02T09:00:00+01:00"},
        ],
        "annotators": [
            {"annotator_id": "an1", "tier": "generalist", "hourly_rate": 20},
            {"annotator_id": "an2", "tier": "specialist", "hourly_rate": 55.5},
        ],
        "annotations": [
            {"annotation_id": "a1", "item_id": "it1", "annotator_id": "an1", "label": "cat",
             "submitted_at": "2026-01-05T10:00:00Z", "duration_s": 30, "cost": None},
            {"annotation_id": "a2", "item_id": "it1", "annotator_id": "an2", "label": "dog",
             "submitted_at": "2026-01-05 12:00:05+02:00", "cost": 0.25},
            {"annotation_id": "a3", "item_id": "it2", "annotator_id": "an2", "label": 3,
             "submitted_at": "2026-01-06", "duration_s": 120.5, "cost": 1.5},
        ],
    }  # fmt: skip
    for table, records in rows.items():
        (root / f"{table}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return root


def typed_frames() -> dict[str, pl.DataFrame]:
    """The expected rows with Parquet's own types: naive timestamps are UTC."""
    return {table: frame.clone() for table, frame in EXPECTED.items()}


def write_parquet(root: Path) -> Path:
    root.mkdir()
    for table, frame in typed_frames().items():
        frame.write_parquet(root / f"{table}.parquet")
    return root


def write_parquet_folder(root: Path) -> Path:
    """annotations as a hive-partitioned folder (annotations/week=1/part.parquet)."""
    write_parquet(root)
    (root / "annotations.parquet").unlink()
    annotations = typed_frames()["annotations"]
    for week, part in ((1, annotations[:2]), (2, annotations[2:])):
        folder = root / "annotations" / f"week={week}"
        folder.mkdir(parents=True)
        part.write_parquet(folder / "part.parquet")
    return root


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


def problems_of(root: Path) -> list[str]:
    with pytest.raises(DataError) as raised:
        open_dataset(root)
    return [str(p) for p in raised.value.problems]


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


def test_a_column_name_with_spaces_is_named_not_ignored(tmp_path):
    """' cost' would otherwise be an extra column and every cost derived from the rate."""
    root = write_csv(tmp_path / "logs")
    path = root / "annotations.csv"
    path.write_text(path.read_text().replace(",cost\n", ", cost\n", 1))
    assert problems_of(root) == [
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
    assert problems_of(root) == [
        f"{root}/annotators.parquet: column tier appears more than once in annotators.parquet"
    ]


def test_a_jsonl_key_in_two_cases_on_different_lines_is_refused(tmp_path):
    """DuckDB would read 'COST' (one line only) as an extra key 'COST_1', ignored."""
    root = write_jsonl(tmp_path / "logs")
    path = root / "annotations.jsonl"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"cost"', '"COST"')
    path.write_text("\n".join(lines) + "\n")
    assert problems_of(root) == [f"{path}: column COST, cost appears more than once among the keys"]


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
    assert problems_of(root) == [
        f"{path}: column label: stored as {shown}, but label is text: store it as text "
        "(a string column), or as whole numbers"
    ]


def test_whole_numbers_stored_as_integers_read_as_their_text(tmp_path):
    root = write_parquet(tmp_path / "logs")
    path = root / "annotations.parquet"
    pl.read_parquet(path).with_columns(label=pl.lit(3, pl.Int32)).write_parquet(path)
    labels = open_dataset(root).con.sql("select distinct label from annotations").fetchall()
    assert labels == [("3",)]


def test_a_table_folder_holds_parquet_files_only(tmp_path):
    root = write_parquet_folder(tmp_path / "logs")
    (root / "annotations" / "week=2" / "extra.csv").write_text("annotation_id\na9\n")
    (root / "annotations" / "_SUCCESS").write_text("")  # Spark's marker: no data
    assert problems_of(root) == [
        f"{root}/annotations: a table folder holds Parquet files only; "
        "week=2/extra.csv would be ignored"
    ]


def test_a_folder_part_without_a_required_column_is_named_once(tmp_path):
    """Read by name, its rows would each be 'label is required but empty'."""
    root = write_parquet_folder(tmp_path / "logs")
    part = root / "annotations" / "week=2" / "part.parquet"
    pl.read_parquet(part).drop("label").write_parquet(part)
    assert problems_of(root) == [
        f"{part}: column label: required column missing from this part of the folder"
    ]


def test_a_data_directory_that_is_a_file_says_so(tmp_path):
    root = write_csv(tmp_path / "logs")
    assert problems_of(root / "items.csv") == [f"{root}/items.csv: is a file, not a data directory"]


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
    assert problems_of(root) == [
        f"{wrong}: column domain: row 2 stores domain 'medicine' but its folder says "
        "domain=stem: keep the value in one place"
    ]
