"""Calibration decisions: appended in every storage, never lost, checked before written,
and gold from their recorded time on."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import polars as pl
import pytest

from datasets import DISPUTE, recorded_decisions, write_dataset
from kpi_core import calibration as cal
from kpi_core import decisions, queries
from kpi_core.loading import open_dataset
from kpi_core.problems import DataError
from kpi_core.validation import validate


def test_decisions_are_appended_and_never_lost_across_two_runs(tmp_path):
    root = write_dataset(tmp_path / "data", DISPUTE)
    path = root / "calibration_decisions.csv"
    before = path.read_bytes()
    first = decisions.record_decisions(
        root,
        [{"week": "2026-W07", "item_id": "d1", "agreed_label": "B", "note": 'says "B", see 2.4'}],
        now=datetime(2026, 2, 12, 16, 0, tzinfo=UTC),
    )
    second = decisions.record_decisions(
        root,
        [
            {"week": "2026-W08", "item_id": "d2", "agreed_label": "C", "note": None},
            {"week": "2026-W08", "item_id": "d4", "agreed_label": "A", "note": "multi\nline"},
        ],
        now=datetime(2026, 2, 19, 16, 0, tzinfo=UTC),
    )
    assert path.read_bytes().startswith(before)  # earlier rows kept byte for byte
    rows = recorded_decisions(root)
    assert rows["decision_id"].to_list() == ["c1", *first["decision_id"], *second["decision_id"]]
    assert rows["item_id"].to_list() == ["d3", "d1", "d2", "d4"]
    assert rows["note"].to_list() == [
        "guideline 3.1, second case",
        'says "B", see 2.4',
        None,
        "multi\nline",
    ]
    assert rows["recorded_at"].to_list()[1:] == [
        datetime(2026, 2, 12, 16),
        datetime(2026, 2, 19, 16),
        datetime(2026, 2, 19, 16),
    ]
    assert rows["decision_id"].n_unique() == 4
    # the next week's view shows d1 as decided
    view = cal.build_view(open_dataset(root), "2026-W07", draws=50)
    assert view.disputed.filter(pl.col("item_id") == "d1")["decided_label"].item() == "B"
    assert view.week_decisions["item_id"].to_list() == ["d1"]
    assert validate(root) == []


@pytest.mark.parametrize(
    "fmt", ["parquet", "parquet-folder", "jsonl", "absent-parquet", "absent-csv"]
)
def test_decisions_append_in_every_storage(tmp_path, fmt):
    root = write_dataset(tmp_path / "data", DISPUTE)
    if fmt.startswith("absent"):
        (root / "calibration_decisions.csv").unlink()
    if fmt != "absent-csv":
        for name in ("items", "annotators", "annotations", "reviews", "calibration_decisions"):
            csv = root / f"{name}.csv"
            if not csv.exists():
                continue
            frame = pl.read_csv(csv, infer_schema=False)
            if name == "calibration_decisions":
                frame = frame.with_columns(pl.col("recorded_at").str.to_datetime(time_zone="UTC"))
            csv.unlink()
            if fmt == "jsonl" and name == "calibration_decisions":
                frame.with_columns(
                    pl.col("recorded_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
                ).write_ndjson(root / f"{name}.jsonl")
            elif fmt == "parquet-folder" and name == "calibration_decisions":
                (root / name).mkdir()
                frame.write_parquet(root / name / "part-0.parquet")
            else:
                frame.write_parquet(root / f"{name}.parquet")
    for run, label in enumerate(("A", "B")):
        decisions.record_decisions(
            root,
            [{"week": "2026-W07", "item_id": "d1", "agreed_label": label, "note": "n"}],
            now=datetime(2026, 2, 12, 16, run, tzinfo=UTC),
        )
    rows = recorded_decisions(root)
    expected = ["A", "B"] if fmt.startswith("absent") else ["B", "A", "B"]
    assert rows["agreed_label"].to_list() == expected
    assert rows["recorded_at"].to_list()[-1] == datetime(2026, 2, 12, 16, 1)
    tables = [p.name for p in root.iterdir() if p.name.startswith("calibration_decisions")]
    assert len(tables) == 1, tables  # one file or one folder per table
    if fmt in ("parquet-folder", "absent-parquet"):
        assert len(list((root / "calibration_decisions").glob("*.parquet"))) == (
            3 if fmt == "parquet-folder" else 2
        )
    assert not [p for p in root.rglob("*.tmp")]


def test_bad_decisions_are_refused_and_nothing_is_written(tmp_path):
    root = write_dataset(tmp_path / "data", DISPUTE)
    before = (root / "calibration_decisions.csv").read_bytes()
    with pytest.raises(DataError) as error:
        decisions.record_decisions(
            root,
            [
                {"week": "2026-W07", "item_id": "d1", "agreed_label": "B"},
                {"week": "2026-7", "item_id": "d2", "agreed_label": "B"},
                {"week": "2026-W07", "item_id": "d2", "agreed_label": " "},
            ],
        )
    text = str(error.value)
    assert "row 2, column week" in text and "row 3, column agreed_label" in text
    with pytest.raises(DataError, match="item 'nope' is not in items"):
        decisions.record_decisions(
            root, [{"week": "2026-W07", "item_id": "nope", "agreed_label": "B"}]
        )
    assert (root / "calibration_decisions.csv").read_bytes() == before


def test_a_decision_must_agree_on_a_label_in_use_in_its_items_domain(tmp_path):
    root = write_dataset(tmp_path / "data", DISPUTE)
    before = (root / "calibration_decisions.csv").read_bytes()
    with pytest.raises(DataError) as error:
        decisions.record_decisions(
            root, [{"week": "2026-W07", "item_id": "d1", "agreed_label": "b"}]
        )
    assert "row 1, column agreed_label: 'b' is not a label in use in" in str(error.value)
    assert "in use in medicine (A, B)" in str(error.value)  # what the room can choose from
    assert (root / "calibration_decisions.csv").read_bytes() == before


def test_concurrent_writers_lose_nothing(tmp_path):
    root = write_dataset(tmp_path / "data", DISPUTE)
    errors = []

    def write(n: int) -> None:
        try:
            decisions.record_decisions(
                root,
                [{"week": "2026-W07", "item_id": "d1", "agreed_label": f"L{n}"}],
                check=False,
            )
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    labels = set(recorded_decisions(root)["agreed_label"])
    assert labels == {"B", *(f"L{n}" for n in range(8))}


def test_a_decision_turns_into_gold_from_its_recorded_time_on(tmp_path):
    """Annotations submitted after recorded_at are judged by the agreed label; earlier ones not."""
    tables = {
        "items": """
            item_id,domain,difficulty,risk_class
            x1,stem,easy,low
        """,
        "annotators": """
            annotator_id,tier,vendor
            g1,generalist,acme
            g2,generalist,acme
        """,
        "annotations": """
            annotation_id,item_id,annotator_id,label,submitted_at
            before,x1,g1,A,2026-02-10T10:00:00Z
            after,x1,g2,A,2026-02-12T17:00:00Z
            after2,x1,g1,B,2026-02-13T10:00:00Z
        """,
    }
    root = write_dataset(tmp_path / "data", tables)

    def facts() -> dict[str, tuple]:
        dataset = open_dataset(root)
        queries.register_models(dataset.con)
        frame = dataset.con.sql(
            "select annotation_id, gold_label, truth_is_error from annotation_facts"
        ).pl()
        dataset.con.close()
        return {r[0]: r[1:] for r in frame.rows()}

    assert facts() == {"before": (None, None), "after": (None, None), "after2": (None, None)}
    decisions.record_decisions(
        root,
        [{"week": "2026-W07", "item_id": "x1", "agreed_label": "B", "note": "rule 4"}],
        now=datetime(2026, 2, 12, 16, 0, tzinfo=UTC),
    )
    assert (root / "calibration_decisions.csv").exists()  # created in the format of items
    assert facts() == {"before": (None, None), "after": ("B", True), "after2": ("B", False)}
    view = cal.build_view(open_dataset(root), "2026-W07", draws=50)
    labels = {r["annotation_id"]: r for r in view.disputed_labels.to_dicts()}
    assert labels["before"]["gold_label"] is None
    assert labels["after"]["gold_label"] == "B"
    g2 = view.annotators.filter(pl.col("annotator_id") == "g2").row(0, named=True)
    assert (g2["n_gold_week"], g2["gold_agreement_week"]) == (1, 0.0)
