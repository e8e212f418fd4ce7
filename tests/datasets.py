"""Tiny, readable data directories for tests, written as CSV text, and a small
random one.

``TINY`` is the hand-checked case of tests/test_metrics.py: every expected
value there is worked out by hand from these rows (see the comments).
:func:`write_messy_dataset` feeds the comparison with the independent KPIs
(tests/test_independent.py) the ties and repeats that are rare or absent in the
bundled sample.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from kpi_core.loading import open_dataset
from kpi_core.problems import DataError

TINY: dict[str, str] = {
    # i1 has gold A; i2 gets gold Y from a calibration decision at 2026-01-07 10:30;
    # i4 has gold B. Weeks: 2026-W02 starts Mon 2026-01-05, 2026-W03 Mon 2026-01-12.
    "items": """
        item_id,domain,difficulty,risk_class,gold_label
        i1,stem,easy,low,A
        i2,stem,easy,low,
        i3,coding,hard,high,
        i4,coding,hard,high,B
    """,
    "annotators": """
        annotator_id,tier,vendor,hourly_rate
        g1,generalist,acme,36
        g2,generalist,bluepeak,72
        s1,specialist,inhouse,90
        p1,programmatic,model,
    """,
    # a1 cost = 100 s at 36/h = 1.0; a8 = 50 s at 72/h = 1.0; a7 has nothing to derive
    # a cost from (missing). g1 labels i2 twice: its latest label there is Y.
    "annotations": """
        annotation_id,item_id,annotator_id,label,submitted_at,duration_s,cost
        a1,i1,g1,A,2026-01-05T10:00:00Z,100,
        a2,i1,g2,B,2026-01-05T11:00:00Z,,2.0
        a3,i1,s1,A,2026-01-06T09:00:00Z,,5.0
        a4,i2,g1,X,2026-01-06T10:00:00Z,,1.0
        a5,i2,g1,Y,2026-01-07T10:00:00Z,,1.0
        a6,i2,g2,Y,2026-01-07T11:00:00Z,,1.0
        a7,i3,p1,Z,2026-01-12T10:00:00Z,,
        a8,i3,g2,Z,2026-01-13T10:00:00Z,50,
        a9,i4,p1,B,2026-01-13T12:00:00Z,,0.0
    """,
    # r2 cost = 120 s at 90/h = 3.0. r9 and r10 tie on reviewed_at: the later
    # review_id in string order ("r9" > "r10") decides, so a8 is accepted.
    "reviews": """
        review_id,annotation_id,reviewer_id,stage,verdict,corrected_label,reviewed_at,duration_s,cost
        r1,a1,g2,precheck,accept,,2026-01-05T12:00:00Z,,0.5
        r2,a1,s1,final,accept,,2026-01-06T12:00:00Z,120,
        r3,a2,g1,precheck,reject,,2026-01-05T13:00:00Z,,0.5
        r4,a3,g1,precheck,accept,,2026-01-06T10:00:00Z,,0.5
        r5,a3,s1,final,fix,A2,2026-01-07T09:00:00Z,60,1.0
        r6,a6,g1,precheck,accept,,2026-01-08T11:00:00Z,,0.5
        r7,a6,s1,final,accept,,2026-01-12T11:00:00Z,300,1.0
        r8,a8,g1,precheck,accept,,2026-01-13T11:00:00Z,,0.5
        r9,a8,s1,final,accept,,2026-01-13T12:00:00Z,180,1.0
        r10,a8,s1,final,reject,,2026-01-13T12:00:00Z,,1.0
        r11,a9,g1,precheck,accept,,2026-01-13T13:00:00Z,,0.5
    """,
    # a1's latest audit (u3) says error, overriding its gold (label A = gold A).
    # u3 has no cost and nothing to derive one from.
    "audits": """
        audit_id,annotation_id,auditor_id,audited_at,is_error,cost
        u1,a6,s1,2026-01-14T09:00:00Z,true,2.0
        u2,a1,s1,2026-01-14T10:00:00Z,false,1.0
        u3,a1,s1,2026-01-14T11:00:00Z,true,
    """,
    "targets": """
        domain,difficulty,risk_class,target_accepted_items
        stem,,,1
        coding,hard,high,4
    """,
    "defects": """
        defect_id,domain,severity,opened_at,resolved_at
        d1,stem,sev1,2026-01-05T00:00:00Z,2026-01-05T06:00:00Z
        d2,stem,sev1,2026-01-06T00:00:00Z,2026-01-06T10:00:00Z
        d3,coding,sev2,2026-01-10T11:00:00Z,
    """,
    "benchmarks": """
        model_version,domain,benchmark,score,evaluated_at
        v1,stem,mmlu,0.60,2026-01-01T00:00:00Z
        v2,stem,mmlu,0.65,2026-01-08T00:00:00Z
    """,
    "calibration_decisions": """
        decision_id,week,item_id,agreed_label,note,recorded_at
        c1,2026-W02,i2,Y,guideline 4.2 applies,2026-01-07T10:30:00Z
    """,
}


def _annotation_rows(rows: list[tuple[str, str, str, str, str]]) -> str:
    """CSV text of annotations from (annotation_id, item_id, annotator_id, label, submitted_at)."""
    header = "annotation_id,item_id,annotator_id,label,submitted_at"
    return "\n".join([header, *(",".join(r) for r in rows)])


# --- DRIFT: g1 drifts in 2026-W07, g2..g4 are stable, n1 is new -------------------------
# Baseline items b1..b6 (2026-W05): g1..g4 all say A.
# Week items w1..w6 (2026-W07): g2, g3, g4 say A, g1 says B.
# x1 (2026-W07): n1 (first label ever) and g2 say A.
_DRIFT_ANNOTATIONS = (
    [
        (f"a-b{i}-{who}", f"b{i}", who, "A", f"2026-01-{25 + i}T10:00:00Z")
        for i in range(1, 7)
        for who in ("g1", "g2", "g3", "g4")
    ]
    + [
        (f"a-w{i}-{who}", f"w{i}", who, "B" if who == "g1" else "A", f"2026-02-1{i}T10:00:00Z")
        for i in range(0, 6)
        for who in ("g1", "g2", "g3", "g4")
    ]
    + [
        ("a-x1-n1", "x1", "n1", "A", "2026-02-10T11:00:00Z"),
        ("a-x1-g2", "x1", "g2", "A", "2026-02-10T12:00:00Z"),
    ]
)
DRIFT = {
    "items": "item_id,domain,difficulty,risk_class\n"
    + "\n".join(
        f"{i},stem,easy,low"
        for i in [*(f"b{k}" for k in range(1, 7)), *(f"w{k}" for k in range(6)), "x1"]
    ),
    "annotators": """
        annotator_id,tier,vendor
        g1,generalist,acme
        g2,generalist,acme
        g3,generalist,bluepeak
        g4,generalist,bluepeak
        n1,generalist,crowdly
    """,
    "annotations": _annotation_rows(_DRIFT_ANNOTATIONS),
}


# --- DISPUTE: known ranking by spread x risk weight ---------------------------------------
# d1 high   A A B    spread 1/3, weight 3 -> score 1.0, 3 annotators
# d4 (none) A B      spread 1/2, weight 2 (unknown counts as medium) -> 1.0, 2 annotators
# d3 medium A B      spread 1/2, weight 2 -> score 1.0, 2 annotators, but settled by the
#                    2026-W06 decision: after d4, which nothing settles yet
# d2 low    A B C    spread 2/3, weight 1 -> score 2/3
# d5 high   A A A    spread 0: not disputed
# d6 high   g1 says B then A (latest counts), g2 A: no dispute
# d7 high   A B, but its latest human label is in 2026-W08: not this week's item
DISPUTE = {
    "items": """
        item_id,domain,difficulty,risk_class,gold_label
        d1,medicine,hard,high,B
        d2,stem,easy,low,
        d3,coding,medium,medium,
        d4,coding,,,
        d5,medicine,hard,high,
        d6,medicine,hard,high,
        d7,medicine,hard,high,
    """,
    "annotators": """
        annotator_id,tier,vendor
        g1,generalist,acme
        g2,generalist,bluepeak
        s1,specialist,inhouse
        p1,programmatic,model
    """,
    "annotations": """
        annotation_id,item_id,annotator_id,label,submitted_at
        a1,d1,g1,A,2026-02-10T10:00:00Z
        a2,d1,g2,A,2026-02-10T11:00:00Z
        a3,d1,s1,B,2026-02-10T12:00:00Z
        a4,d1,p1,B,2026-02-10T09:00:00Z
        a5,d2,g1,A,2026-02-11T10:00:00Z
        a6,d2,g2,B,2026-02-11T11:00:00Z
        a7,d2,s1,C,2026-02-11T12:00:00Z
        a8,d3,g1,A,2026-02-12T10:00:00Z
        a9,d3,g2,B,2026-02-12T11:00:00Z
        a10,d4,g1,A,2026-02-12T10:00:00Z
        a11,d4,g2,B,2026-02-12T11:00:00Z
        a12,d5,g1,A,2026-02-13T10:00:00Z
        a13,d5,g2,A,2026-02-13T11:00:00Z
        a14,d5,s1,A,2026-02-13T12:00:00Z
        a15,d6,g1,B,2026-02-13T10:00:00Z
        a16,d6,g1,A,2026-02-14T10:00:00Z
        a17,d6,g2,A,2026-02-14T11:00:00Z
        a18,d7,g1,A,2026-02-14T10:00:00Z
        a19,d7,g2,B,2026-02-16T10:00:00Z
    """,
    "reviews": """
        review_id,annotation_id,reviewer_id,stage,verdict,corrected_label,reviewed_at
        r1,a1,g2,precheck,accept,,2026-02-10T13:00:00Z
        r2,a1,s1,final,fix,B,2026-02-11T09:00:00Z
        r3,a2,g1,precheck,reject,,2026-02-10T14:00:00Z
        r4,a3,s1,final,accept,,2026-02-11T10:00:00Z
    """,
    "calibration_decisions": """
        decision_id,week,item_id,agreed_label,note,recorded_at
        c1,2026-W06,d3,B,"guideline 3.1, second case",2026-02-05T16:00:00Z
    """,
}


def spaced_tiny(root: Path) -> Path:
    """TINY written to ``root`` with i3's domain 'coding ' and the labels of a2 and a4
    ' B' and 'X ': valid text with spaces around it."""
    tables = dict(TINY)
    tables["items"] = TINY["items"].replace("i3,coding,", 'i3,"coding ",')
    tables["annotations"] = (
        TINY["annotations"]
        .replace("a2,i1,g2,B,", 'a2,i1,g2," B",')
        .replace("a4,i2,g1,X,", 'a4,i2,g1,"X ",')
    )
    return write_dataset(root, tables)


def write_dataset(root: Path, tables: dict[str, str], *, drop: tuple[str, ...] = ()) -> Path:
    """Write ``tables`` (name -> CSV text, indented freely) as ``root/<name>.csv``."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        if name not in drop:
            (root / f"{name}.csv").write_text(
                textwrap.dedent(text).strip() + "\n", encoding="utf-8"
            )
    return root


def write_messy_dataset(root: Path, seed: int) -> Path:
    """A small random data directory (Parquet) crowded with the cases that are easy to
    get wrong: reviews and audits tied on time, annotations with up to four reviews,
    annotators labelling an item twice (at times at one instant), gold from calibration decisions
    (themselves tied), missing costs, durations, rates and slice parts, and ids whose
    string order differs from their number order ("r10" < "r9").
    """
    rng = np.random.default_rng(seed)
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)  # a Monday: three ISO weeks follow

    def pick(values, n, p=None):
        return [values[i] for i in rng.choice(len(values), n, p=p)]

    def hours(choices, n):
        return [timedelta(hours=float(h)) for h in pick(choices, n)]

    def maybe(values, share_missing):
        return [None if rng.random() < share_missing else v for v in values]

    n_items, n_annotations = 14, 90
    items = pl.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(1, n_items + 1)],
            "domain": pick(["stem", "coding"], n_items),
            "difficulty": pick(["easy", "hard", None], n_items),
            "risk_class": pick(["low", "high", None], n_items),
            "dataset_version": pick(["v1", None], n_items),
            "gold_label": pick(["A", "B", None, None], n_items),
        }
    )
    annotators = pl.DataFrame(
        {
            "annotator_id": ["g1", "g2", "g3", "s1", "s2", "p1"],
            "tier": ["generalist"] * 3 + ["specialist"] * 2 + ["programmatic"],
            "vendor": ["acme", "acme", "bluepeak", "inhouse", None, "model"],
            "hourly_rate": [36.0, None, 72.0, 90.0, 90.0, None],
        }
    )
    submitted = [start + h for h in hours(range(0, 24 * 18, 12), n_annotations)]
    annotations = pl.DataFrame(
        {
            "annotation_id": [f"a{k}" for k in range(1, n_annotations + 1)],
            "item_id": pick(items["item_id"].to_list(), n_annotations),
            "annotator_id": pick(annotators["annotator_id"].to_list(), n_annotations),
            "label": pick(["A", "B", "C"], n_annotations, p=[0.6, 0.3, 0.1]),
            "submitted_at": submitted,
            "duration_s": maybe(rng.integers(10, 300, n_annotations).astype(float), 0.4),
            "cost": maybe(rng.integers(0, 5, n_annotations).astype(float), 0.5),
        },
        schema_overrides={"submitted_at": pl.Datetime("us", "UTC")},
    )
    per_annotation = rng.choice(5, n_annotations, p=[0.2, 0.3, 0.25, 0.15, 0.1])
    owners = np.repeat(np.arange(n_annotations), per_annotation)
    n_reviews = len(owners)
    verdicts = pick(["accept", "reject", "fix"], n_reviews, p=[0.6, 0.2, 0.2])
    reviews = pl.DataFrame(
        {
            "review_id": [f"r{k}" for k in range(1, n_reviews + 1)],
            "annotation_id": [f"a{k + 1}" for k in owners],
            "reviewer_id": pick(["g1", "g2", "g3", "s1", "s2"], n_reviews),
            "stage": pick(["precheck", "final"], n_reviews),
            "verdict": verdicts,
            "corrected_label": ["B" if v == "fix" else None for v in verdicts],
            "reviewed_at": [
                submitted[k] + h
                for k, h in zip(owners, hours([0, 1, 1, 2, 30], n_reviews), strict=True)
            ],
            "duration_s": maybe(rng.integers(30, 600, n_reviews).astype(float), 0.3),
            "cost": maybe(rng.integers(0, 3, n_reviews).astype(float), 0.5),
        },
        schema_overrides={"reviewed_at": pl.Datetime("us", "UTC")},
    )
    n_audits = 25
    audits = pl.DataFrame(
        {
            "audit_id": [f"u{k}" for k in range(1, n_audits + 1)],
            "annotation_id": pick(annotations["annotation_id"].to_list()[:30], n_audits),
            "auditor_id": pick(["s1", "s2"], n_audits),
            "audited_at": [start + h for h in hours([24 * 19, 24 * 20], n_audits)],
            "is_error": pick([True, False], n_audits),
            "cost": maybe([1.0] * n_audits, 0.5),
        },
        schema_overrides={"audited_at": pl.Datetime("us", "UTC")},
    )
    recorded = [start + h for h in hours([24 * 2, 24 * 9], 6)]
    calibration = pl.DataFrame(
        {
            "decision_id": [f"c{k}" for k in range(1, 7)],
            "week": [f"2026-W{at.isocalendar().week:02d}" for at in recorded],
            "item_id": pick(items["item_id"].to_list()[:6], 6),
            "agreed_label": pick(["A", "B", "C"], 6),
            "recorded_at": recorded,
        },
        schema_overrides={"recorded_at": pl.Datetime("us", "UTC")},
    )
    targets = pl.DataFrame(
        {
            "domain": ["stem", "coding", "coding", "stem"],
            "difficulty": [None, "hard", "easy", "easy"],
            "risk_class": [None, None, "low", "high"],
            "target_accepted_items": [3, 2, 1, 50],
        }
    )
    root.mkdir(parents=True, exist_ok=True)
    for name, frame in {
        "items": items,
        "annotators": annotators,
        "annotations": annotations,
        "reviews": reviews,
        "audits": audits,
        "calibration_decisions": calibration,
        "targets": targets,
    }.items():
        frame.write_parquet(root / f"{name}.parquet")
    return root


def recorded_decisions(root: Path) -> pl.DataFrame:
    """The calibration decisions of the data directory ``root``, in the order recorded."""
    dataset = open_dataset(root)
    try:
        return dataset.con.sql(
            "select decision_id, week, item_id, agreed_label, note, recorded_at "
            "from calibration_decisions order by recorded_at, _file, _row"
        ).pl()
    finally:
        dataset.con.close()


def loading_problems(root: Path) -> list[str]:
    """The lines opening ``root`` fails with (it must fail)."""
    with pytest.raises(DataError) as raised:
        open_dataset(root)
    return [str(p) for p in raised.value.problems]
