"""The input contract of ``shared/spec/annotation-log.md``, as data.

Every table, column and rule the loader, the validator and the sample generator
rely on is declared here once. The rules are dbt-style generic tests attached to
columns (required, unique, accepted values, relationship, minimum); the rules
that span columns or tables live as SQL checks in ``queries/checks/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["string", "timestamp", "float", "int", "bool"]

#: DuckDB type each contract type is read as.
SQL_TYPES: dict[ColumnType, str] = {
    "string": "varchar",
    "timestamp": "timestamp",
    "float": "double",
    "int": "bigint",
    "bool": "boolean",
}


@dataclass(frozen=True)
class Column:
    """One column of a table and the generic rules on it."""

    name: str
    type: ColumnType = "string"
    required: bool = False
    unique: bool = False
    accepted: tuple[str, ...] = ()
    references: tuple[str, str] | None = None  # (table, column)
    minimum: float | None = None
    exclusive_minimum: bool = False


@dataclass(frozen=True)
class Table:
    """A table of the data directory."""

    name: str
    columns: tuple[Column, ...]
    required: bool = False
    grain: str = ""
    key: str | None = field(default=None)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


DIFFICULTIES = ("easy", "medium", "hard")
RISK_CLASSES = ("low", "medium", "high")
TIERS = ("generalist", "specialist", "programmatic")
STAGES = ("precheck", "final")
VERDICTS = ("accept", "reject", "fix")
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
TRIAGE = ("automate", "generalist", "specialist")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "items",
            required=True,
            grain="one row per thing to be labelled",
            key="item_id",
            columns=(
                Column("item_id", required=True, unique=True),
                Column("domain", required=True),
                Column("difficulty", accepted=DIFFICULTIES),
                Column("risk_class", accepted=RISK_CLASSES),
                Column("dataset"),
                Column("dataset_version"),
                Column("triage", accepted=TRIAGE),
                Column("gold_label"),
                Column("created_at", "timestamp"),
            ),
        ),
        Table(
            "annotators",
            required=True,
            grain="one row per person or program that labels or reviews",
            key="annotator_id",
            columns=(
                Column("annotator_id", required=True, unique=True),
                Column("tier", required=True, accepted=TIERS),
                Column("vendor"),
                Column("expertise"),
                Column("hourly_rate", "float", minimum=0),
            ),
        ),
        Table(
            "annotations",
            required=True,
            grain="one row per label submitted",
            key="annotation_id",
            columns=(
                Column("annotation_id", required=True, unique=True),
                Column("item_id", required=True, references=("items", "item_id")),
                Column("annotator_id", required=True, references=("annotators", "annotator_id")),
                Column("label", required=True),
                Column("submitted_at", "timestamp", required=True),
                Column("duration_s", "float", minimum=0),
                Column("cost", "float", minimum=0),
            ),
        ),
        Table(
            "reviews",
            grain="one row per QA decision on an annotation",
            key="review_id",
            columns=(
                Column("review_id", required=True, unique=True),
                Column(
                    "annotation_id",
                    required=True,
                    references=("annotations", "annotation_id"),
                ),
                Column("reviewer_id", required=True, references=("annotators", "annotator_id")),
                Column("stage", required=True, accepted=STAGES),
                Column("verdict", required=True, accepted=VERDICTS),
                Column("corrected_label"),
                Column("reviewed_at", "timestamp", required=True),
                Column("duration_s", "float", minimum=0),
                Column("cost", "float", minimum=0),
            ),
        ),
        Table(
            "audits",
            grain="one row per later spot check of an accepted label",
            key="audit_id",
            columns=(
                Column("audit_id", required=True, unique=True),
                Column(
                    "annotation_id",
                    required=True,
                    references=("annotations", "annotation_id"),
                ),
                Column("auditor_id", required=True, references=("annotators", "annotator_id")),
                Column("audited_at", "timestamp", required=True),
                Column("is_error", "bool", required=True),
                Column("cost", "float", minimum=0),
            ),
        ),
        Table(
            "targets",
            grain="one row per slice with a coverage target",
            columns=(
                Column("domain", required=True),
                Column("difficulty", accepted=DIFFICULTIES),
                Column("risk_class", accepted=RISK_CLASSES),
                Column(
                    "target_accepted_items",
                    "int",
                    required=True,
                    minimum=0,
                    exclusive_minimum=True,
                ),
            ),
        ),
        Table(
            "defects",
            grain="one row per data-defect incident",
            key="defect_id",
            columns=(
                Column("defect_id", required=True, unique=True),
                Column("domain"),
                Column("severity", required=True, accepted=SEVERITIES),
                Column("opened_at", "timestamp", required=True),
                Column("resolved_at", "timestamp"),
            ),
        ),
        Table(
            "benchmarks",
            grain="one row per model version, domain and benchmark",
            columns=(
                Column("model_version", required=True),
                Column("domain", required=True),
                Column("benchmark", required=True),
                Column("score", "float", required=True),
                Column("evaluated_at", "timestamp", required=True),
            ),
        ),
        Table(
            "calibration_decisions",
            grain="one row per decision of a calibration meeting (append-only)",
            key="decision_id",
            columns=(
                Column("decision_id", required=True, unique=True),
                Column("week", required=True),
                Column("item_id", required=True, references=("items", "item_id")),
                Column("agreed_label", required=True),
                Column("note"),
                Column("recorded_at", "timestamp", required=True),
            ),
        ),
    )
}

REQUIRED_TABLES = tuple(name for name, t in TABLES.items() if t.required)
FORMATS = ("csv", "parquet", "jsonl")
