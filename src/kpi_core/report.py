"""``kpi report``: every KPI, overall, per slice and per ISO week, as JSON,
markdown or self-contained HTML."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from tqdm import tqdm

from kpi_core import aggregates
from kpi_core.agreement import Level
from kpi_core.catalog import KPIS
from kpi_core.coverage import NEEDS as COVERAGE_NEEDS
from kpi_core.coverage import coverage_overall
from kpi_core.defects import defect_turnaround
from kpi_core.formatting import format_timestamp
from kpi_core.grouping import SLICE
from kpi_core.loading import open_dataset
from kpi_core.metrics import kpi_table
from kpi_core.problems import DataError, Problem, QueryError
from kpi_core.promotion import promoted_slices, slice_weeks
from kpi_core.promotion import unavailable_reason as promotion_unavailable
from kpi_core.quarantine import rows_by_table, rows_to_leave_out, summary
from kpi_core.spacing import fetched_spaced_values
from kpi_core.targets import Targets
from kpi_core.validation import cross_table_counts, explain_counts, validate
from kpi_core.validation import steps as validation_steps


def parse_timestamp(text: str, *, what: str = "--as-of") -> datetime:
    """An ISO 8601 timestamp as naive UTC (a bare date is midnight UTC)."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DataError(
            [Problem(file=what, reason=f"not a valid ISO 8601 timestamp: {text!r}")]
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


@dataclass(frozen=True)
class KpiReport:
    """Everything a report shows, as frames; render with :func:`to_json` and friends."""

    as_of: datetime | None
    level: Level
    overall: pl.DataFrame
    slices: pl.DataFrame
    weeks: pl.DataFrame
    promoted: pl.DataFrame
    coverage: pl.DataFrame
    defects: pl.DataFrame
    model_lift: pl.DataFrame
    targets: Targets
    #: The tables the data directory has.
    present: frozenset[str] = frozenset()
    #: Text values with spaces around them (:mod:`kpi_core.spacing`).
    spaced: list[Problem] = field(default_factory=list)
    #: What to know about an ``--as-of`` outside the data's time (:func:`as_of_notes`).
    as_of_notes: list[str] = field(default_factory=list)
    #: Rows set aside as invalid (``--quarantine``), and the file naming them.
    set_aside: list[Problem] = field(default_factory=list)
    quarantine_file: Path | None = None


def build_report(
    aggs: aggregates.Aggregates, *, level: Level = "nominal", targets: Targets | None = None
) -> KpiReport:
    """Compute the report's frames from fetched aggregates."""
    targets = targets or Targets.load()

    def frame_if(query: str, *tables: str) -> pl.DataFrame | None:
        return aggs.frames[query] if aggs.ok(query) and aggs.has(*tables) else None

    coverage = frame_if("domain_coverage", *COVERAGE_NEEDS)
    defects = frame_if("defect_durations", "defects")
    lift = frame_if("model_lift", "benchmarks")
    overall = kpi_table(aggs, level=level).with_columns(
        pl.lit(
            coverage_overall(coverage) if coverage is not None else None,
            pl.Float64,
        ).alias("domain_coverage")
    )
    promoted = (
        promoted_slices(
            slice_weeks(aggs["annotation_kpi_counts"]), aggs.as_of.date(), targets.promotion
        )
        if promotion_unavailable(aggs) is None
        else pl.DataFrame(schema={**{c: pl.String for c in SLICE}, "weeks": pl.List(pl.Null)})
    )
    return KpiReport(
        as_of=aggs.as_of,
        level=level,
        overall=overall,
        slices=kpi_table(aggs, list(SLICE), level=level),
        weeks=kpi_table(aggs, ["week"], level=level),
        promoted=promoted,
        coverage=coverage if coverage is not None else pl.DataFrame(),
        defects=defect_turnaround(defects.lazy()) if defects is not None else pl.DataFrame(),
        model_lift=lift if lift is not None else pl.DataFrame(),
        targets=targets,
        present=aggs.present,
        spaced=fetched_spaced_values(aggs),
    )


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [_clean(row) for row in frame.to_dicts()]


def to_dict(report: KpiReport) -> dict[str, Any]:
    """The JSON report of interfaces.md (plus coverage, defects, model lift, statuses)."""
    overall = _rows(report.overall)[0]
    status = {
        kpi: report.targets.status(kpi, overall.get(kpi))
        for kpi in [*KPIS, "domain_coverage"]
        if report.targets.rule(kpi) is not None
    }
    return {
        "as_of": format_timestamp(report.as_of),
        "level": report.level,
        "overall": overall,
        "slices": _rows(report.slices),
        "weeks": _rows(report.weeks),
        "promoted_slices": _rows(report.promoted),
        "status": status,
        "domain_coverage": _rows(report.coverage),
        "defect_turnaround": _rows(report.defects),
        "model_lift": _rows(report.model_lift),
        "quarantine": _quarantine(report),
        "warnings": _warnings(report, overall),
    }


def _quarantine(report: KpiReport) -> dict[str, Any] | None:
    """What ``--quarantine`` set aside (None when it was not asked for)."""
    if report.quarantine_file is None:
        return None
    rows = rows_by_table(report.set_aside)
    return {"file": str(report.quarantine_file), "rows": rows, "total": sum(rows.values())}


def _warnings(report: KpiReport, overall: dict[str, Any]) -> list[str]:
    """Data-quality warnings: what the KPIs had to assume or leave out."""
    warnings = []
    if report.set_aside and report.quarantine_file is not None:
        warnings.append(summary(report.set_aside, report.quarantine_file))
    if overall.get("n_cost_missing"):
        warnings.append(
            f"{overall['n_cost_missing']} annotation, review or audit cost(s) missing with no "
            "duration and hourly rate to derive them from; counted as 0"
        )
    warnings += [str(note) for note in report.spaced]
    warnings += report.as_of_notes
    return warnings


def _first_week(aggs: aggregates.Aggregates) -> datetime | None:
    """Monday 00:00 of the ISO week of the data's first annotation."""
    first = aggs.frames["annotation_kpi_counts"]["week_start"].min()
    return datetime.combine(first, datetime.min.time()) if first is not None else None


def as_of_notes(as_of: datetime, first: datetime | None, latest: datetime | None) -> list[str]:
    """What an ``--as-of`` time before the week of the data's first annotation (``first``,
    its Monday) or after its ``latest`` timestamp means: the report is not wrong, but it
    may not be what was meant."""
    moment = format_timestamp(as_of)
    if first is not None and as_of < first:
        return [
            f"--as-of {moment} is before the week of the first annotation "
            f"({format_timestamp(first)}): nothing waits for review then, no defect is "
            "open, and no slice is promoted"
        ]
    if latest is not None and as_of > latest:
        return [
            f"--as-of {moment} is after the latest timestamp in the data "
            f"({format_timestamp(latest)}): what still waits for review, and each open "
            "defect, ages up to it"
        ]
    return []


def to_json(report: KpiReport) -> str:
    return json.dumps(to_dict(report), indent=2, allow_nan=False) + "\n"


def write_report(
    data_dir: Path,
    *,
    fmt: str = "json",
    level: Level = "nominal",
    as_of: str | None = None,
    out: Path | None = None,
    targets: Path | None = None,
    progress: bool = True,
    quarantine: Path | None = None,
) -> None:
    """Validate ``data_dir``, compute every KPI and write the report (stdout by default).

    With ``quarantine``, invalid rows are set aside (and written there) instead of
    stopping the report; see :mod:`kpi_core.quarantine`.
    """
    from kpi_core.render import to_html, to_markdown

    moment = parse_timestamp(as_of) if as_of is not None else None
    target_settings = Targets.load(targets)
    steps = tqdm(
        # validation's tables and checks, the facts, each query, the KPI tables
        total=validation_steps() + len(aggregates.report_queries(level)) + 2,
        desc="report",
        unit="step",
        # None: only on a terminal (in a log a bar is noise, and no line is cleared).
        disable=None if progress else True,
        file=sys.stderr,
        leave=False,
    )

    def step(name: str) -> None:
        steps.set_postfix_str(name)
        steps.update()

    try:
        if quarantine is None:
            # The cross-table rules are counted from the facts instead (below), which
            # spares hashing the largest keys twice; rows are named only when one fails.
            if validate(data_dir, on_step=step, cross_table=False):
                raise DataError(validate(data_dir))
            aside = []
        else:
            aside = rows_to_leave_out(data_dir, quarantine, on_step=step)
    except (DataError, QueryError):  # the bar's line is cleared before the error's
        steps.close()
        raise
    dataset = open_dataset(data_dir, set_aside=aside)
    try:
        aggs = aggregates.fetch(
            dataset,
            as_of=moment,
            on_step=step,
            names=aggregates.report_queries(level),
            by_annotator=False,
        )
        if aggs.errors:
            raise next(iter(aggs.errors.values()))
        counts = cross_table_counts(dataset.con) if quarantine is None else {}
        if any(counts.values()):
            raise DataError(explain_counts(data_dir, counts))
        notes = (
            as_of_notes(moment, _first_week(aggs), aggregates.data_as_of(dataset))
            if moment is not None
            else []
        )
    except (DataError, QueryError):
        steps.close()
        raise
    finally:
        # Everything the report needs has left DuckDB: free its tables before polars works.
        dataset.con.close()
    report = replace(
        build_report(aggs, level=level, targets=target_settings),
        set_aside=aside,
        quarantine_file=quarantine,
        as_of_notes=notes,
    )
    steps.update()
    steps.close()
    renderers = {"json": to_json, "markdown": to_markdown, "html": to_html}
    text = renderers[fmt](report)
    if out is None:
        sys.stdout.write(text)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        if progress:
            print(f"wrote {fmt} report to {out}", file=sys.stderr)
    if progress and quarantine is not None:
        # said where a user looks, not only inside the report
        print(summary(aside, quarantine), file=sys.stderr)
    if progress:
        for note in notes:
            print(f"warning: {note}", file=sys.stderr)
