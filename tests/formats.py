"""One small dataset (items, annotators, annotations), written by hand as CSV and
JSONL text and through polars as Parquet, and the typed values every format must
load to. The data is written by hand so that a test fails when the loader, not
the fixture, changes what a value means."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

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
