"""``kpi_core.validation``: one line per broken rule, never a traceback.

Every test writes a tiny data directory as CSV text and runs from inside its
temporary folder, so the expected lines read exactly as a user sees them
(``logs/reviews.csv: row 1, column verdict: ...``).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest

from kpi_core.cli import main
from kpi_core.contract import TABLES
from kpi_core.loading import open_dataset
from kpi_core.queries import register_models
from kpi_core.validation import (
    COUNTED_BY_FACTS_CHECKS,
    COUNTED_BY_FACTS_REFERENCES,
    RULES,
    check_names,
    cross_table_counts,
    explain_counts,
    validate,
)

# A small valid dataset touching every table and column. The last row of items,
# annotators and annotations is referenced by nothing, so breaking it breaks one rule.
CLEAN = {
    "items": """\
item_id,domain,difficulty,risk_class,dataset,dataset_version,triage,gold_label,created_at
it1,stem,easy,low,ds,v1,automate,cat,2026-01-01
it2,medicine,hard,high,ds,v1,specialist,,2026-01-02T09:00:00+01:00
it3,coding,medium,medium,,,generalist,,
""",
    "annotators": """\
annotator_id,tier,vendor,expertise,hourly_rate
an1,generalist,acme,stem,20
an2,specialist,,medicine,55.5
lf1,programmatic,,,
an3,generalist,acme,coding,18
""",
    "annotations": """\
annotation_id,item_id,annotator_id,label,submitted_at,duration_s,cost
a1,it1,an1,cat,2026-01-05T10:00:00Z,30,
a2,it1,lf1,dog,2026-01-05 10:00:05,,0
a3,it2,an2,3,2026-01-05,120.5,1.5
""",
    "reviews": """\
review_id,annotation_id,reviewer_id,stage,verdict,corrected_label,reviewed_at,duration_s,cost
r1,a1,an2,precheck,accept,,2026-01-05T11:00:00Z,10,
r2,a2,an2,final,fix,cat,2026-01-06,,2
""",
    "audits": """\
audit_id,annotation_id,auditor_id,audited_at,is_error,cost
au1,a1,an2,2026-01-10,false,2.5
au2,a2,an1,2026-01-11T08:00:00-05:00,true,
""",
    "targets": """\
domain,difficulty,risk_class,target_accepted_items
stem,easy,,100
medicine,,,50
""",
    "defects": """\
defect_id,domain,severity,opened_at,resolved_at
d1,stem,sev2,2026-01-03,2026-01-04
d2,,sev4,2026-01-05,
""",
    "benchmarks": """\
model_version,domain,benchmark,score,evaluated_at
m1,stem,mmlu,0.71,2026-01-01
""",
    "calibration_decisions": """\
decision_id,week,item_id,agreed_label,note,recorded_at
c1,2026-W02,it1,cat,,2026-01-08
c2,2026-W53,it2,3,borderline,2026-12-31T10:00:00Z
""",
}


def write(root: Path, tables: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (root / f"{name}.csv").write_text(text, encoding="utf-8")
    return root


def with_cell(table: str, row: int, column: str, value: str) -> dict[str, str]:
    """The clean dataset with one cell of ``table`` (data row ``row``, from 1) replaced."""
    rows = list(csv.DictReader(io.StringIO(CLEAN[table])))
    rows[row - 1][column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return {**CLEAN, table: out.getvalue()}


def lines(root: Path | str) -> list[str]:
    return [str(problem) for problem in validate(Path(root))]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def test_clean_dataset_has_no_problems():
    write(Path("logs"), CLEAN)
    assert lines("logs") == []


def test_only_required_tables_is_valid():
    write(Path("logs"), {t: CLEAN[t] for t in ("items", "annotators", "annotations")})
    assert lines("logs") == []


# One broken cell per rule of the contract, with the exact line a user reads.
# fmt: off
CASES = [
    # required
    ("items", 3, "item_id", "", "logs/items.csv: row 3, column item_id: item_id is required but empty"),
    ("items", 3, "domain", "  ", "logs/items.csv: row 3, column domain: domain is required but empty"),
    ("annotators", 4, "tier", "", "logs/annotators.csv: row 4, column tier: tier is required but empty"),
    ("annotations", 3, "item_id", "",
     "logs/annotations.csv: row 3, column item_id: item_id is required but empty"),
    ("annotations", 3, "label", "",
     "logs/annotations.csv: row 3, column label: label is required but empty"),
    ("annotations", 3, "submitted_at", "",
     "logs/annotations.csv: row 3, column submitted_at: submitted_at is required but empty"),
    ("reviews", 1, "reviewed_at", "",
     "logs/reviews.csv: row 1, column reviewed_at: reviewed_at is required but empty"),
    ("audits", 1, "is_error", "",
     "logs/audits.csv: row 1, column is_error: is_error is required but empty"),
    ("targets", 2, "domain", "", "logs/targets.csv: row 2, column domain: domain is required but empty"),
    ("benchmarks", 1, "evaluated_at", "",
     "logs/benchmarks.csv: row 1, column evaluated_at: evaluated_at is required but empty"),
    ("calibration_decisions", 1, "agreed_label", "",
     "logs/calibration_decisions.csv: row 1, column agreed_label: "
     "agreed_label is required but empty"),
    # types
    ("items", 3, "created_at", "2026-13-01",
     "logs/items.csv: row 3, column created_at: not a valid timestamp: '2026-13-01'"),
    ("annotations", 3, "submitted_at", "05/01/2026",
     "logs/annotations.csv: row 3, column submitted_at: not a valid timestamp: '05/01/2026'"),
    ("audits", 1, "audited_at", "yesterday",
     "logs/audits.csv: row 1, column audited_at: not a valid timestamp: 'yesterday'"),
    ("calibration_decisions", 1, "recorded_at", "epoch",
     "logs/calibration_decisions.csv: row 1, column recorded_at: not a valid timestamp: 'epoch'"),
    ("annotators", 4, "hourly_rate", "twenty",
     "logs/annotators.csv: row 4, column hourly_rate: not a valid number: 'twenty'"),
    ("annotators", 4, "hourly_rate", "NaN",
     "logs/annotators.csv: row 4, column hourly_rate: not a finite number: 'NaN'"),
    ("annotations", 3, "cost", "inf",
     "logs/annotations.csv: row 3, column cost: not a finite number: 'inf'"),
    ("benchmarks", 1, "score", "high",
     "logs/benchmarks.csv: row 1, column score: not a valid number: 'high'"),
    ("annotations", 3, "duration_s", "30s",
     "logs/annotations.csv: row 3, column duration_s: not a valid number: '30s'"),
    ("reviews", 1, "duration_s", "1,5",
     "logs/reviews.csv: row 1, column duration_s: not a valid number: '1,5'"),
    ("reviews", 2, "cost", "-inf",
     "logs/reviews.csv: row 2, column cost: not a finite number: '-inf'"),
    ("audits", 1, "cost", "$2",
     "logs/audits.csv: row 1, column cost: not a valid number: '$2'"),
    ("defects", 2, "opened_at", "2026-01-05 25:00",
     "logs/defects.csv: row 2, column opened_at: not a valid timestamp: '2026-01-05 25:00'"),
    ("benchmarks", 1, "evaluated_at", "2026-1-1",
     "logs/benchmarks.csv: row 1, column evaluated_at: not a valid timestamp: '2026-1-1'"),
    ("targets", 1, "target_accepted_items", "2.5",
     "logs/targets.csv: row 1, column target_accepted_items: not a valid integer: '2.5'"),
    ("audits", 1, "is_error", "maybe",
     "logs/audits.csv: row 1, column is_error: not a valid boolean: 'maybe'"),
    # unique
    ("items", 3, "item_id", "it1",
     "logs/items.csv: row 3, column item_id: duplicate item_id 'it1' (first at row 1)"),
    ("annotators", 4, "annotator_id", "an2",
     "logs/annotators.csv: row 4, column annotator_id: duplicate annotator_id 'an2' (first at row 2)"),
    ("annotations", 3, "annotation_id", "a1",
     "logs/annotations.csv: row 3, column annotation_id: duplicate annotation_id 'a1' (first at row 1)"),
    ("reviews", 2, "review_id", "r1",
     "logs/reviews.csv: row 2, column review_id: duplicate review_id 'r1' (first at row 1)"),
    ("audits", 2, "audit_id", "au1",
     "logs/audits.csv: row 2, column audit_id: duplicate audit_id 'au1' (first at row 1)"),
    ("calibration_decisions", 2, "decision_id", "c1",
     "logs/calibration_decisions.csv: row 2, column decision_id: "
     "duplicate decision_id 'c1' (first at row 1)"),
    ("defects", 2, "defect_id", "d1",
     "logs/defects.csv: row 2, column defect_id: duplicate defect_id 'd1' (first at row 1)"),
    # references
    ("annotations", 3, "item_id", "it_9",
     "logs/annotations.csv: row 3, column item_id: item_id 'it_9' not found in items"),
    ("annotations", 3, "annotator_id", "ghost",
     "logs/annotations.csv: row 3, column annotator_id: annotator_id 'ghost' not found in annotators"),
    ("reviews", 1, "annotation_id", "a9",
     "logs/reviews.csv: row 1, column annotation_id: annotation_id 'a9' not found in annotations"),
    ("reviews", 1, "reviewer_id", "x",
     "logs/reviews.csv: row 1, column reviewer_id: reviewer_id 'x' not found in annotators"),
    ("audits", 1, "annotation_id", "a404",
     "logs/audits.csv: row 1, column annotation_id: annotation_id 'a404' not found in annotations"),
    ("audits", 1, "auditor_id", "nobody",
     "logs/audits.csv: row 1, column auditor_id: auditor_id 'nobody' not found in annotators"),
    ("calibration_decisions", 1, "item_id", "it_9",
     "logs/calibration_decisions.csv: row 1, column item_id: item_id 'it_9' not found in items"),
    # accepted values
    ("items", 3, "difficulty", "Easy",
     "logs/items.csv: row 3, column difficulty: difficulty 'Easy' is not one of easy, medium, hard"),
    ("items", 3, "risk_class", "extreme",
     "logs/items.csv: row 3, column risk_class: risk_class 'extreme' is not one of low, medium, high"),
    ("items", 3, "triage", "auto",
     "logs/items.csv: row 3, column triage: "
     "triage 'auto' is not one of automate, generalist, specialist"),
    ("annotators", 4, "tier", "expert",
     "logs/annotators.csv: row 4, column tier: "
     "tier 'expert' is not one of generalist, specialist, programmatic"),
    ("reviews", 1, "stage", "first",
     "logs/reviews.csv: row 1, column stage: stage 'first' is not one of precheck, final"),
    ("reviews", 1, "verdict", "acept",
     "logs/reviews.csv: row 1, column verdict: verdict 'acept' is not one of accept, reject, fix"),
    ("reviews", 1, "verdict", "accept ",
     "logs/reviews.csv: row 1, column verdict: verdict 'accept ' is not one of accept, reject, fix"),
    ("targets", 2, "risk_class", "none",
     "logs/targets.csv: row 2, column risk_class: risk_class 'none' is not one of low, medium, high"),
    ("targets", 1, "difficulty", "any",
     "logs/targets.csv: row 1, column difficulty: difficulty 'any' is not one of easy, medium, hard"),
    ("defects", 1, "severity", "sev5",
     "logs/defects.csv: row 1, column severity: severity 'sev5' is not one of sev1, sev2, sev3, sev4"),
    # minimums
    ("annotators", 4, "hourly_rate", "-5",
     "logs/annotators.csv: row 4, column hourly_rate: hourly_rate '-5' must be >= 0"),
    ("annotations", 3, "duration_s", "-1",
     "logs/annotations.csv: row 3, column duration_s: duration_s '-1' must be >= 0"),
    ("annotations", 3, "cost", "-0.5",
     "logs/annotations.csv: row 3, column cost: cost '-0.5' must be >= 0"),
    ("reviews", 1, "duration_s", "-3",
     "logs/reviews.csv: row 1, column duration_s: duration_s '-3' must be >= 0"),
    ("reviews", 2, "cost", "-2",
     "logs/reviews.csv: row 2, column cost: cost '-2' must be >= 0"),
    ("audits", 1, "cost", "-2.5",
     "logs/audits.csv: row 1, column cost: cost '-2.5' must be >= 0"),
    ("targets", 1, "target_accepted_items", "0",
     "logs/targets.csv: row 1, column target_accepted_items: target_accepted_items '0' must be > 0"),
    ("targets", 1, "target_accepted_items", "-4",
     "logs/targets.csv: row 1, column target_accepted_items: target_accepted_items '-4' must be > 0"),
    # singular checks (queries/checks/)
    ("reviews", 2, "corrected_label", "",
     "logs/reviews.csv: row 2, column corrected_label: verdict is fix but corrected_label is empty"),
    ("reviews", 1, "reviewed_at", "2026-01-05T09:59:59Z",
     "logs/reviews.csv: row 1, column reviewed_at: reviewed_at 2026-01-05 09:59:59 UTC is before "
     "annotation 'a1' was submitted (2026-01-05 10:00:00 UTC)"),
    ("reviews", 1, "reviewed_at", "2026-01-05T10:30:00+01:00",  # 09:30 UTC
     "logs/reviews.csv: row 1, column reviewed_at: reviewed_at 2026-01-05 09:30:00 UTC is before "
     "annotation 'a1' was submitted (2026-01-05 10:00:00 UTC)"),
    ("defects", 1, "resolved_at", "2026-01-02",
     "logs/defects.csv: row 1, column resolved_at: resolved_at 2026-01-02 00:00:00 UTC is before "
     "opened_at 2026-01-03 00:00:00 UTC"),
    ("calibration_decisions", 1, "week", "2026-7",
     "logs/calibration_decisions.csv: row 1, column week: "
     "week '2026-7' is not an ISO week written YYYY-Www"),
    ("calibration_decisions", 1, "week", "2025-W53",
     "logs/calibration_decisions.csv: row 1, column week: "
     "week '2025-W53' does not exist: 2025 has 52 ISO weeks"),
    ("calibration_decisions", 1, "week", "2026-W00",
     "logs/calibration_decisions.csv: row 1, column week: "
     "week '2026-W00' does not exist: 2026 has 53 ISO weeks"),
    # a value that fails its type is reported for its type only, not by rules using it
    ("reviews", 1, "reviewed_at", "2026-13-01",
     "logs/reviews.csv: row 1, column reviewed_at: not a valid timestamp: '2026-13-01'"),
    ("reviews", 1, "reviewed_at", "epoch",
     "logs/reviews.csv: row 1, column reviewed_at: not a valid timestamp: 'epoch'"),
    ("defects", 1, "resolved_at", "-infinity",
     "logs/defects.csv: row 1, column resolved_at: not a valid timestamp: '-infinity'"),
    ("targets", 1, "target_accepted_items", "0.4",
     "logs/targets.csv: row 1, column target_accepted_items: not a valid integer: '0.4'"),
    # what DuckDB's casts take but the contract does not: digit separators, zone names,
    # "(BC)", offsets past 23:59
    ("annotations", 3, "cost", "1_000",
     "logs/annotations.csv: row 3, column cost: not a valid number: '1_000'"),
    ("annotations", 3, "cost", "inf",
     "logs/annotations.csv: row 3, column cost: not a finite number: 'inf'"),
    ("targets", 1, "target_accepted_items", "1_0",
     "logs/targets.csv: row 1, column target_accepted_items: not a valid integer: '1_0'"),
    ("reviews", 1, "reviewed_at", "2026-01-05T11:00:00 Europe/Paris",
     "logs/reviews.csv: row 1, column reviewed_at: "
     "not a valid timestamp: '2026-01-05T11:00:00 Europe/Paris'"),
    ("reviews", 1, "reviewed_at", "2026-01-05 11:00:00 PST",
     "logs/reviews.csv: row 1, column reviewed_at: not a valid timestamp: '2026-01-05 11:00:00 PST'"),
    ("reviews", 1, "reviewed_at", "2026-01-05 (BC)",
     "logs/reviews.csv: row 1, column reviewed_at: not a valid timestamp: '2026-01-05 (BC)'"),
    ("reviews", 1, "reviewed_at", "2026-01-05T11:00:00+25:00",
     "logs/reviews.csv: row 1, column reviewed_at: "
     "not a valid timestamp: '2026-01-05T11:00:00+25:00'"),
]
# fmt: on


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "expected"),
    CASES,
    ids=[f"{t}.{c}={v!r}" for t, _, c, v, _ in CASES],
)
def test_each_broken_rule_gives_its_line(table, row, column, value, expected):
    write(Path("logs"), with_cell(table, row, column, value))
    assert lines("logs") == ([expected] if expected else [])


def counted_by_facts(root: str) -> dict[str, int]:
    dataset = open_dataset(root)
    register_models(dataset.con, materialize=True)
    try:
        return cross_table_counts(dataset.con)
    finally:
        dataset.con.close()


def test_clean_data_counts_no_cross_table_problem():
    write(Path("logs"), CLEAN)
    assert set(counted_by_facts("logs").values()) == {0}


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "expected"),
    CASES,
    ids=[f"{t}.{c}={v!r}" for t, _, c, v, _ in CASES],
)
def test_the_rules_left_to_the_facts_are_counted_there(table, row, column, value, expected):
    """``kpi report`` validates without the cross-table rules, then counts them from
    the facts: every broken rule is caught by one or the other, none by neither."""
    write(Path("logs"), with_cell(table, row, column, value))
    if validate(Path("logs"), cross_table=False):
        assert expected  # the per-table rules found it: the report validates in full
        return
    counts = counted_by_facts("logs")
    assert any(counts.values()) == bool(expected), counts
    if any(counts.values()):
        assert [str(p) for p in explain_counts(Path("logs"), counts)] == [expected]


def test_each_rule_left_to_the_facts_has_a_case():
    broken_references = {(t, c) for t, _, c, _, e in CASES if e and "not found in" in e}
    assert broken_references >= COUNTED_BY_FACTS_REFERENCES
    assert set(check_names()) >= COUNTED_BY_FACTS_CHECKS == {"review_after_submission"}
    assert any(e and "is before annotation" in e for *_, e in CASES)


def test_counts_with_no_row_behind_them_blame_the_edited_model():
    write(Path("logs"), CLEAN)
    (problem,) = explain_counts(Path("logs"), {"reviews_unmatched": 2, "audits_unmatched": 0})
    assert problem.file.endswith("cross_table_integrity.sql")
    assert problem.reason.startswith("reviews_unmatched is 2 but validation finds no such row")


#: Which generic rule a reason comes from, by its wording.
REASON_RULES = {
    "is required but empty": "required",
    "not a valid ": "type",
    "not a finite number": "type",
    "is not one of": "accepted",
    " must be ": "minimum",
    "duplicate ": "unique",
    "not found in": "references",
}


def declared_rules(column) -> set[str]:
    rules = {
        "required": column.required,
        "type": column.type != "string",
        "accepted": bool(column.accepted),
        "minimum": column.minimum is not None,
        "unique": column.unique,
        "references": column.references is not None,
    }
    return {rule for rule, declared in rules.items() if declared}


def test_every_generic_rule_of_the_contract_has_a_case():
    """Keep CASES true to contract.py: each rule declared on a column is broken at least once
    (required ones by ``test_required_column_left_empty`` below)."""
    covered = {
        (table, column, rule)
        for table, _, column, _, expected in CASES
        for wording, rule in REASON_RULES.items()
        if wording in expected
    }
    missing = [
        f"{table.name}.{column.name}: {rule}"
        for table in TABLES.values()
        for column in table.columns
        for rule in sorted(declared_rules(column) - {"required"})
        if (table.name, column.name, rule) not in covered
    ]
    assert missing == []


REQUIRED = [
    (table.name, column.name)
    for table in TABLES.values()
    for column in table.columns
    if column.required
]


@pytest.mark.parametrize(("table", "column"), REQUIRED, ids=[f"{t}.{c}" for t, c in REQUIRED])
def test_required_column_left_empty(table, column):
    """The last row of each clean table is referenced by nothing, so blanking a cell
    there breaks exactly one rule."""
    last = len(list(csv.DictReader(io.StringIO(CLEAN[table]))))
    write(Path("logs"), with_cell(table, last, column, ""))
    assert lines("logs") == [
        f"logs/{table}.csv: row {last}, column {column}: {column} is required but empty"
    ]


KEYS = [
    (table.name, column.name)
    for table in TABLES.values()
    for column in table.columns
    if column.unique and column.type == "string"
]


@pytest.mark.parametrize(("table", "column"), KEYS, ids=[f"{t}.{c}" for t, c in KEYS])
def test_a_key_holding_a_nul_byte_is_named(table, column):
    """The last row is referenced by nothing: the NUL byte is the one problem."""
    last = len(list(csv.DictReader(io.StringIO(CLEAN[table]))))
    key = list(csv.DictReader(io.StringIO(CLEAN[table])))[-1][column]
    write(Path("logs"), with_cell(table, last, column, key + "\0x"))
    assert lines("logs") == [
        f"logs/{table}.csv: row {last}, column {column}: {column} holds a NUL byte (\\0): "
        "the file may be damaged"
    ]


def test_the_generic_rules_and_singular_checks():
    assert set(RULES) == {
        "required",
        "type",
        "accepted",
        "minimum",
        "unique",
        "no_nul",
        "references",
    }
    assert check_names() == [
        "calibration_week_is_iso_week",
        "defect_resolved_after_opened",
        "fix_needs_corrected_label",
        "review_after_submission",
        "target_slice_once",
    ]


def test_long_values_are_cut_in_the_reason():
    write(Path("logs"), with_cell("reviews", 1, "verdict", "x" * 100))
    assert lines("logs") == [
        "logs/reviews.csv: row 1, column verdict: verdict "
        f"'{'x' * 40}...' is not one of accept, reject, fix"
    ]


def test_every_duplicate_after_the_first_names_the_first():
    tables = dict(CLEAN)
    tables["annotators"] += "an1,specialist,,,\nan1,generalist,,,\n"
    assert lines_of(tables) == [
        "logs/annotators.csv: row 5, column annotator_id: duplicate annotator_id 'an1' "
        "(first at row 1)",
        "logs/annotators.csv: row 6, column annotator_id: duplicate annotator_id 'an1' "
        "(first at row 1)",
    ]


def test_a_duplicated_annotation_is_judged_by_its_first_row_only():
    """r1 (2026-01-05 11:00) is after a1's first submission; a later copy of a1 must not
    make it 'before the annotation was submitted'."""
    tables = dict(CLEAN)
    tables["annotations"] += "a1,it1,an3,cat,2026-01-06,,\n"
    assert lines_of(tables) == [
        "logs/annotations.csv: row 4, column annotation_id: duplicate annotation_id 'a1' "
        "(first at row 1)",
    ]


def lines_of(tables: dict[str, str]) -> list[str]:
    write(Path("logs"), tables)
    return lines("logs")


def test_a_slice_with_two_targets():
    """An empty difficulty or risk class ("any") is the same slice as another empty one;
    a different one is another slice."""
    targets = CLEAN["targets"] + "medicine,,,80\nmedicine,hard,,80\nstem,easy,,100\n"
    assert lines_of({**CLEAN, "targets": targets}) == [
        "logs/targets.csv: row 3, column domain, difficulty, risk_class: the slice "
        "medicine / any / any already has a target (row 2); keep one row per slice",
        "logs/targets.csv: row 5, column domain, difficulty, risk_class: the slice "
        "stem / easy / any already has a target (row 1); keep one row per slice",
    ]


def test_problems_are_sorted_by_file_then_row():
    tables = with_cell("reviews", 2, "stage", "later")
    tables["annotations"] = CLEAN["annotations"] + "a4,it3,an3,,2026-01-07,,\n"
    tables["items"] = CLEAN["items"].replace("it3,coding,medium", "it3,coding,mild")
    assert lines_of(tables) == [
        "logs/annotations.csv: row 4, column label: label is required but empty",
        "logs/items.csv: row 3, column difficulty: difficulty 'mild' is not one of easy, medium, hard",
        "logs/reviews.csv: row 2, column stage: stage 'later' is not one of precheck, final",
    ]


def test_data_it_has_never_seen():
    """Hand-written input with several problems at once, written without contract.py."""
    Path("logs").mkdir()
    Path("logs/items.csv").write_text(
        "item_id,domain,difficulty,colour\n"
        "q-1,law,trivial,red\n"
        "q-2,,hard,blue\n"
        "q-1,law,easy,green\n"
    )
    Path("logs/annotators.csv").write_text(
        "annotator_id,tier,hourly_rate\nann-A,generalist,12.50\nann-B,Specialist,-1\n"
    )
    Path("logs/annotations.csv").write_text(
        "annotation_id,item_id,annotator_id,label,submitted_at,duration_s\n"
        "x1,q-1,ann-A,yes,2026-02-30,5\n"
        "x2,q-3,ann-C,no,2026-02-01 08:00,five\n"
        "x2,q-2,ann-B,,2026-02-01T08:00:00+05:00,-2\n"
    )
    Path("logs/reviews.csv").write_text(
        "review_id,annotation_id,reviewer_id,stage,verdict,corrected_label,reviewed_at\n"
        "v1,x1,ann-B,final,fix,,2026-03-01\n"
        "v2,x2,ann-A,final,accept,,2026-02-01T02:00:00Z\n"
    )
    assert lines("logs") == [
        "logs/annotations.csv: row 1, column submitted_at: not a valid timestamp: '2026-02-30'",
        "logs/annotations.csv: row 2, column annotator_id: "
        "annotator_id 'ann-C' not found in annotators",
        "logs/annotations.csv: row 2, column duration_s: not a valid number: 'five'",
        "logs/annotations.csv: row 2, column item_id: item_id 'q-3' not found in items",
        "logs/annotations.csv: row 3, column annotation_id: duplicate annotation_id 'x2' "
        "(first at row 2)",
        "logs/annotations.csv: row 3, column duration_s: duration_s '-2' must be >= 0",
        "logs/annotations.csv: row 3, column label: label is required but empty",
        "logs/annotators.csv: row 2, column hourly_rate: hourly_rate '-1' must be >= 0",
        "logs/annotators.csv: row 2, column tier: "
        "tier 'Specialist' is not one of generalist, specialist, programmatic",
        "logs/items.csv: row 1, column difficulty: difficulty 'trivial' is not one of easy, medium, hard",
        "logs/items.csv: row 2, column domain: domain is required but empty",
        "logs/items.csv: row 3, column item_id: duplicate item_id 'q-1' (first at row 1)",
        "logs/reviews.csv: row 1, column corrected_label: verdict is fix but corrected_label is empty",
        "logs/reviews.csv: row 2, column reviewed_at: reviewed_at 2026-02-01 02:00:00 UTC is before "
        "annotation 'x2' was submitted (2026-02-01 08:00:00 UTC)",
    ]


# --- whole-file problems: one line naming the file -------------------------------------------


def test_missing_directory():
    assert lines("nowhere") == ["nowhere: data directory not found"]


def test_missing_required_table():
    write(Path("logs"), {t: CLEAN[t] for t in ("items", "annotations")})
    assert lines("logs") == [
        "logs/annotators.csv: required table 'annotators' not found "
        "(expected annotators.csv, annotators.parquet, annotators.jsonl or annotators/)"
    ]


def test_two_files_for_one_table():
    write(Path("logs"), CLEAN)
    Path("logs/items.jsonl").write_text('{"item_id": "it1", "domain": "stem"}\n')
    assert lines("logs") == [
        "logs/items: two files for one table (items.csv, items.jsonl); keep exactly one"
    ]


def test_unknown_format():
    write(Path("logs"), {t: CLEAN[t] for t in ("annotators", "annotations")})
    Path("logs/items.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    assert lines("logs") == [
        "logs/items.xlsx: unknown table format '.xlsx'; use one of .csv, .parquet, .jsonl"
    ]


def test_table_files_that_are_not_read_are_named():
    """A file named after a table is read or refused, never passed over."""
    write(Path("logs"), {t: CLEAN[t] for t in CLEAN if t not in ("reviews", "audits", "defects")})
    Path("logs/reviews.csv.gz").write_bytes(b"\x1f\x8b not read")
    Path("logs/Audits.csv").write_text(CLEAN["audits"])
    Path("logs/defects").mkdir()
    Path("logs/defects/part-1.csv").write_text(CLEAN["defects"])
    Path("logs/benchmarks.csv").unlink()
    Path("logs/benchmarks.csv").mkdir()
    assert lines("logs") == [
        "logs/Audits.csv: table file names are lower-case: rename it audits.csv",
        "logs/benchmarks.csv: a folder, not a table file; a table folder is named benchmarks/",
        "logs/defects: a table folder must hold Parquet files (*.parquet); it holds none",
        "logs/reviews.csv.gz: unknown table format '.csv.gz'; use one of .csv, .parquet, .jsonl",
    ]


def test_column_names_are_lower_case():
    """An upper-case spelling of a contract column is named, not ignored as an extra."""
    tables = {**CLEAN, "annotations": CLEAN["annotations"].replace(",cost", ",Cost", 1)}
    tables["items"] = CLEAN["items"].replace("item_id,", "Item_ID,", 1)
    assert lines_of(tables) == [
        "logs/annotations.csv: column Cost: column names are lower-case, without spaces: "
        "rename 'Cost' to 'cost'",
        "logs/items.csv: column Item_ID: column names are lower-case, without spaces: "
        "rename 'Item_ID' to 'item_id'",
    ]


def test_a_column_twice_in_two_cases():
    header, rest = CLEAN["audits"].split("\n", 1)
    tables = {**CLEAN, "audits": header + ",COST\n" + rest.replace("\n", ",1\n")}
    assert lines_of(tables) == [
        "logs/audits.csv: column COST, cost appears more than once in the header"
    ]


def test_jsonl_line_that_is_not_an_object():
    write(Path("logs"), {t: CLEAN[t] for t in CLEAN if t != "defects"})
    Path("logs/defects.jsonl").write_text(
        '{"defect_id": "d1", "severity": "sev1", "opened_at": "2026-01-03"}\n[1, 2]\n'
    )
    assert lines("logs") == [
        "logs/defects.jsonl: row 2: a JSON array, not an object; each line must be one "
        "whole JSON object"
    ]


@pytest.mark.parametrize("before", ["", "{oops\n"], ids=["clean", "after-a-broken-line"])
def test_jsonl_object_or_array_where_a_value_belongs(before):
    """Each such row is named (and can be set aside), whether or not DuckDB could detect
    the keys' types (a broken line stops it); read as text, it would be a severity
    '{"level": 1}'."""
    write(Path("logs"), {t: CLEAN[t] for t in CLEAN if t != "defects"})
    Path("logs/defects.jsonl").write_text(
        before + '{"defect_id": "d1", "severity": "sev1", "opened_at": "2026-01-03"}\n'
        '{"defect_id": "d2", "severity": {"level": 1}, "opened_at": "2026-01-03"}\n'
        '{"defect_id": "d3", "severity": "sev2", "opened_at": "2026-01-04"}\n'
        '{"defect_id": ["d4"], "severity": [], "opened_at": "2026-01-04"}\n'
    )
    row = 2 + len(before.splitlines())
    broken = [
        "logs/defects.jsonl: row 1: not valid JSON: Expecting property name enclosed in "
        "double quotes at character 2; each line must be one whole JSON object"
    ]
    assert lines("logs") == broken[: len(before.splitlines())] + [
        f"logs/defects.jsonl: row {row}, column severity: a JSON object where one value belongs",
        f"logs/defects.jsonl: row {row + 2}, column defect_id: a JSON array where one value "
        "belongs",
        f"logs/defects.jsonl: row {row + 2}, column severity: a JSON array where one value belongs",
    ]


def test_jsonl_with_a_byte_order_mark():
    write(Path("logs"), {t: CLEAN[t] for t in CLEAN if t != "defects"})
    Path("logs/defects.jsonl").write_bytes(
        b'\xef\xbb\xbf{"defect_id": "d1", "severity": "sev1", "opened_at": "2026-01-03"}\n'
    )
    assert lines("logs") == [
        "logs/defects.jsonl: file starts with a byte-order mark (BOM), which JSON Lines "
        "does not allow; save it as UTF-8 without BOM"
    ]


def test_non_utf8_bytes():
    write(Path("logs"), CLEAN)
    Path("logs/items.csv").write_bytes(
        CLEAN["items"].replace("medicine", "m\xe9decine").encode("latin-1")
    )
    # every such row is named; what refers to it says it may be on that row
    unreadable = " not found in items (or on one of its rows that cannot be read)"
    assert lines("logs") == [
        f"logs/annotations.csv: row 3, column item_id: item_id 'it2'{unreadable}",
        f"logs/calibration_decisions.csv: row 2, column item_id: item_id 'it2'{unreadable}",
        "logs/items.csv: row 2: row is not valid UTF-8 text",
    ]


def test_non_utf8_header():
    write(Path("logs"), CLEAN)
    Path("logs/defects.csv").write_bytes(b"d\xe9fect_id,severity,opened_at\n")
    assert lines("logs") == ["logs/defects.csv: file is not valid UTF-8 text (line 1)"]


def test_a_file_separated_by_tabs_says_so():
    write(Path("logs"), {**CLEAN, "defects": CLEAN["defects"].replace(",", "\t")})
    assert lines("logs") == [
        "logs/defects.csv: column defect_id, severity, opened_at: required column missing "
        "from the header, which looks separated by tabs: a CSV file here is comma-separated"
    ]


def test_old_mac_line_ends_say_so():
    write(Path("logs"), {**CLEAN, "defects": CLEAN["defects"].replace("\n", "\r")})
    assert lines("logs") == [
        "logs/defects.csv: lines end in a bare carriage return (CR, old Mac style): "
        "save the file with LF or CRLF line ends"
    ]


def test_a_jsonl_file_of_arrays_says_what_a_line_must_be():
    write(Path("logs"), {t: CLEAN[t] for t in CLEAN if t != "defects"})
    Path("logs/defects.jsonl").write_text('[{"defect_id": "d1", "severity": "sev1"}]\n"d2"\n')
    assert lines("logs") == [
        "logs/defects.jsonl: line 1 is a JSON array, not an object; "
        'each line must be one object: {"column": value, ...}'
    ]


def test_a_broken_file_in_a_table_folder_is_named():
    write(Path("logs"), {t: CLEAN[t] for t in CLEAN if t != "benchmarks"})
    Path("logs/benchmarks").mkdir()
    pl.read_csv(io.StringIO(CLEAN["benchmarks"])).write_parquet("logs/benchmarks/part-0.parquet")
    Path("logs/benchmarks/part-1.parquet").write_bytes(b"PAR1 cut short")
    assert lines("logs") == [
        "logs/benchmarks/part-1.parquet: not a Parquet file (no Parquet footer)"
    ]


def test_a_parquet_file_with_damaged_metadata_says_so():
    write(Path("logs"), {t: CLEAN[t] for t in CLEAN if t != "benchmarks"})
    pl.read_csv(io.StringIO(CLEAN["benchmarks"])).write_parquet("logs/benchmarks.parquet")
    data = Path("logs/benchmarks.parquet").read_bytes()
    footer = int.from_bytes(data[-8:-4], "little")  # the metadata's length, before PAR1
    start = len(data) - 8 - footer
    damaged = data[:start] + bytes([0xFF] * footer) + data[-8:]
    Path("logs/benchmarks.parquet").write_bytes(damaged)
    assert lines("logs") == [
        "logs/benchmarks.parquet: a damaged Parquet file: its metadata cannot be read"
    ]


def test_unreadable_files():
    write(Path("logs"), {t: CLEAN[t] for t in CLEAN if t not in ("defects", "benchmarks")})
    Path("logs/defects.csv").symlink_to(Path("nowhere.csv").absolute())
    Path("logs/benchmarks.parquet").write_bytes(b"PAR1 cut short")
    assert lines("logs") == [
        "logs/benchmarks.parquet: not a Parquet file (no Parquet footer)",
        "logs/defects.csv: file cannot be read (No such file or directory)",
    ]


def test_empty_file_without_header():
    write(Path("logs"), {**CLEAN, "annotators": ""})
    assert lines("logs") == ["logs/annotators.csv: file is empty (no header row)"]


def test_missing_required_column():
    text = "\n".join(
        ",".join(cells[:3] + cells[4:])
        for cells in (line.split(",") for line in CLEAN["annotations"].splitlines())
    )
    write(Path("logs"), {**CLEAN, "annotations": text + "\n"})
    assert lines("logs") == [
        "logs/annotations.csv: column label: required column missing from the header"
    ]


def test_row_with_too_many_fields():
    tables = dict(CLEAN)
    tables["items"] = (
        CLEAN["items"]
        + "it4,stem,easy,low,,,,,2026-01-01,surplus\n"
        + "it5,stem,easy,low,,,,,2026-01-01\n"
        + "it6,stem,easy\n"
        + 'it7,"a ""quoted""\nname",easy,low,,,,,2026-01-01\n'
        + "it8,stem,easy,low,,,,,2026-01-01,,\n"
        + "it9,stem\n"
    )
    # every such row is named, by its number as a row (it7 spans two lines); empty
    # fields after the last column (a spreadsheet's trailing commas) hold nothing to lose
    assert lines_of(tables) == [
        "logs/items.csv: row 4: row has 10 fields but the header has 9",
        "logs/items.csv: row 6: row has 3 fields but the header has 9",
        "logs/items.csv: row 9: row has 2 fields but the header has 9",
    ]


def test_rows_after_an_unreadable_row_keep_their_numbers():
    tables = dict(CLEAN)
    tables["items"] = CLEAN["items"] + "it4,stem,easy\nit5,stem,easy,low,,,,,2026-13-01\n"
    assert lines_of(tables) == [
        "logs/items.csv: row 4: row has 3 fields but the header has 9",
        "logs/items.csv: row 5, column created_at: not a valid timestamp: '2026-13-01'",
    ]


def test_unclosed_quote():
    tables = {**CLEAN, "benchmarks": CLEAN["benchmarks"] + 'm2,stem,"mmlu,0.5,2026-01-02\n'}
    assert lines_of(tables) == [UNCLOSED.format(row=2)]


# The reader may take up again at some later line: the rows between are lost.
UNCLOSED = (
    "logs/benchmarks.csv: a quoted value on row {row} is not closed before the next comma "
    "or line end, so the reader cannot tell where the following rows begin"
)


def test_a_quote_not_closed_mid_file_stops_the_whole_file():
    # past about 8 MB DuckDB takes up again after the quote and keeps the rest
    rows = "".join(f"m{i},stem,mmlu,0.5,2026-01-02\n" for i in range(3, 300_000))
    tables = {**CLEAN, "benchmarks": CLEAN["benchmarks"] + 'm2,stem,"mmlu,0.5,2026-01-02\n' + rows}
    assert lines_of(tables) == [UNCLOSED.format(row=2)]


def test_blank_lines_are_no_rows_before_or_after_an_unreadable_row():
    tables = dict(CLEAN)
    tables["items"] = (
        CLEAN["items"]
        + "\n\nit4,stem,easy\n"
        + "it5,stem,easy,low,,,,,2026-13-01\n"
        + "it6,st\xe9m,easy,low,,,,,2026-01-01,surplus\n"
    )
    write(Path("logs"), {t: v for t, v in tables.items() if t != "items"})
    Path("logs/items.csv").write_bytes(tables["items"].encode("latin-1"))
    assert [line for line in lines("logs") if "items.csv" in line] == [
        "logs/items.csv: row 4: row has 3 fields but the header has 9",
        "logs/items.csv: row 5, column created_at: not a valid timestamp: '2026-13-01'",
        "logs/items.csv: row 6: row has 10 fields but the header has 9; "
        "row is not valid UTF-8 text",
    ]


GOOD_AUDIT = (
    '{"audit_id": "au1", "annotation_id": "a1", "auditor_id": "an2", '
    '"audited_at": "2026-01-10", "is_error": false}'
)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            "{'audit_id': 'au2'}",
            "not valid JSON: Expecting property name enclosed in double quotes at character 2",
        ),
        # DuckDB reads a line `null` as a row of empty values, without a word
        ("null", "a JSON null, not an object"),
    ],
    ids=["single-quotes", "null"],
)
def test_a_jsonl_line_that_is_not_one_object(line, reason):
    write(Path("logs"), {t: CLEAN[t] for t in CLEAN if t != "audits"})
    Path("logs/audits.jsonl").write_text(f"{GOOD_AUDIT}\n{line}\n")
    assert lines("logs") == [
        f"logs/audits.jsonl: row 2: {reason}; each line must be one whole JSON object"
    ]


def test_every_line_that_is_not_one_object_is_named_and_the_rest_is_checked():
    """DuckDB stops at the first; a blank line is no row; the rows after a bad line keep
    their numbers, and are checked like any other."""
    write(Path("logs"), {t: CLEAN[t] for t in CLEAN if t != "audits"})
    late = GOOD_AUDIT.replace("au1", "au2").replace("2026-01-10", "someday")
    truncated = GOOD_AUDIT[:30]  # a log writer stopped mid-line
    unclosed = '"annotatio'
    Path("logs/audits.jsonl").write_bytes(
        f"{GOOD_AUDIT}\n\n{{oops\n[1, 2]\n{late}\n".encode()
        + b'{"audit_id": "au\xff"}\n'
        + f"{GOOD_AUDIT.replace('au1', 'au3')} extra\n{truncated}\n".encode()
    )
    one_object = "; each line must be one whole JSON object"
    assert lines("logs") == [
        f"logs/audits.jsonl: row 2: not valid JSON: Expecting property name enclosed in "
        f"double quotes at character 2{one_object}",
        f"logs/audits.jsonl: row 3: a JSON array, not an object{one_object}",
        "logs/audits.jsonl: row 4, column audited_at: not a valid timestamp: 'someday'",
        "logs/audits.jsonl: row 5: row is not valid UTF-8 text",
        # the text after the object (and a space) starts at character len + 2
        f"logs/audits.jsonl: row 6: not valid JSON: Extra data at character "
        f"{len(GOOD_AUDIT) + 2}{one_object}",
        f"logs/audits.jsonl: row 7: not valid JSON: Unterminated string starting at "
        f"character {truncated.index(unclosed) + 1}{one_object}",
    ]


def test_every_object_giving_a_key_twice_is_named_with_its_values():
    """JSON leaves open which value counts: each such row is a problem, the others are read."""
    write(Path("logs"), {t: CLEAN[t] for t in CLEAN if t != "audits"})
    twice = GOOD_AUDIT.replace("au1", "au2")[:-1] + ', "is_error": true}'
    thrice = (
        GOOD_AUDIT.replace("au1", "au3")[:-1]
        + ', "is_error": true, "audit_id": "au4", "is_error": "maybe"}'
    )
    late = GOOD_AUDIT.replace("au1", "au5").replace("2026-01-10", "someday")
    nested = GOOD_AUDIT.replace("au1", "au6")[:-1] + ', "cost": {"eur": 2}, "cost": 3}'
    Path("logs/audits.jsonl").write_text(f"{GOOD_AUDIT}\n\n{twice}\n{thrice}\n{late}\n{nested}\n")
    assert lines("logs") == [
        "logs/audits.jsonl: row 2, column is_error: is_error is given twice in one object "
        "(false, then true): keep one",
        "logs/audits.jsonl: row 3, column audit_id: audit_id is given twice in one object "
        '("au3", then "au4"): keep one',
        "logs/audits.jsonl: row 3, column is_error: is_error is given 3 times in one object "
        '(false, then true, then "maybe"): keep one',
        "logs/audits.jsonl: row 4, column audited_at: not a valid timestamp: 'someday'",
        "logs/audits.jsonl: row 5, column cost: a JSON object where one value belongs",
        "logs/audits.jsonl: row 5, column cost: cost is given twice in one object "
        '({"eur": 2}, then 3): keep one',
    ]


def test_bom_crlf_and_header_only_files_are_valid():
    write(Path("logs"), CLEAN)
    Path("logs/items.csv").write_bytes(
        b"\xef\xbb\xbf" + CLEAN["items"].replace("\n", "\r\n").encode()
    )
    Path("logs/reviews.csv").write_text(CLEAN["reviews"].splitlines()[0] + "\n")
    assert lines("logs") == []


def test_no_row_is_silently_dropped():
    """Every data row of every file reaches both the raw and the typed view."""
    tables = dict(CLEAN)
    tables["annotations"] += 'a4,it3,an3,"two\nlines, quoted",2026-01-07,,\n'
    tables["annotations"] += "a5,it3,an3,x,not a date,,\n"  # broken rows stay too
    write(Path("logs"), tables)
    dataset = open_dataset(Path("logs"))
    for name, text in tables.items():
        n_written = sum(1 for _ in csv.DictReader(io.StringIO(text)))
        n_raw = dataset.con.execute(f"select count(*) from raw_{name}").fetchone()[0]
        n_typed = dataset.con.execute(f"select count(*) from {name}").fetchone()[0]
        assert n_raw == n_typed == n_written, name
    assert dataset.con.execute("select max(_row) from annotations").fetchone()[0] == 5


# --- the kpi validate verb -------------------------------------------------------------------


def test_cli_validate_reports_problems_on_stderr(capsys):
    write(Path("logs"), with_cell("reviews", 1, "verdict", "acept"))
    assert main(["validate", "logs"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "logs/reviews.csv: row 1, column verdict: verdict 'acept' is not one of accept, reject, fix",
        "1 problem(s) found in logs",
    ]


def test_cli_validate_file_problem_has_no_traceback(capsys):
    write(Path("logs"), {**CLEAN, "items": ""})
    assert main(["validate", "logs"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[0] == "logs/items.csv: file is empty (no header row)"


def test_cli_validate_clean_data_exits_0(capsys):
    write(Path("logs"), CLEAN)
    assert main(["validate", "logs"]) == 0
    assert capsys.readouterr().err == "logs: valid\n"
