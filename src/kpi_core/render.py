"""Markdown (for a meeting doc) and self-contained HTML renderings of a report.

Both are drawn from the same :func:`sections`, so what one shows the other shows
too; HTML adds tiles at the top and weekly charts.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import plotly.graph_objects as go
import polars as pl

from kpi_core.breaches import AS_OF_STATES, breach_since
from kpi_core.catalog import KPIS
from kpi_core.coverage import GAP_COLUMNS, coverage_gaps
from kpi_core.coverage import NEEDS as COVERAGE_NEEDS
from kpi_core.formatting import (
    NOT_AVAILABLE,
    STATUS_WORDS,
    format_as,
    format_timestamp,
    format_value,
    interval_error_bars,
)
from kpi_core.grouping import SLICE
from kpi_core.report import KpiReport, to_dict
from kpi_core.targets import Targets

_TABLE_KPIS = (
    "accepted",
    "accepted_label_error_rate",
    "disagreement_rate",
    "krippendorff_alpha",
    "rework_rate",
    "cost_per_accepted_label",
    "review_backlog",
)
_AGE_BUCKETS = (
    ("n_age_lt_1d", "under 1 day"),
    ("n_age_1_3d", "1 to 3 days"),
    ("n_age_3_7d", "3 to 7 days"),
    ("n_age_gt_7d", "over 7 days"),
)


@dataclass(frozen=True)
class Section:
    """A titled part of the report: notes, a bulleted list, a table (all optional)."""

    title: str
    notes: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def target_text(targets: Targets, kpi: str) -> str:
    """``≤ 5.0%`` or ``≥ 0.667``: the value ``kpi`` breaches past; empty without one."""
    rule = targets.rule(kpi)
    if rule is None:
        return ""
    return f"{'≤' if rule['direction'] == 'max' else '≥'} {format_value(kpi, rule['target'])}"


def status_text(status: str | None, value: float | None) -> str:
    """The status word; ``n/a`` when there is no value to judge (not "no target")."""
    return NOT_AVAILABLE if value is None else STATUS_WORDS[status]


#: A cell's mark when its value is off target.
_MARKS = {"breach": " ⛔", "warn": " ⚠️"}


def _kpi_table(title: str, frame: pl.DataFrame, keys: list[str], targets: Targets) -> Section:
    """A table of ``frame``'s groups (``keys``) and the report's table KPIs, each value
    marked when off target (a slice's by its domain's target)."""

    def cell(kpi: str, row: dict) -> str:
        # A backlog's target is for the whole backlog at the as-of time, not a group's share.
        status = (
            None if kpi in AS_OF_STATES else targets.status(kpi, row.get(kpi), row.get("domain"))
        )
        return format_value(kpi, row.get(kpi)) + _MARKS.get(status, "")

    return Section(
        title,
        notes=["⛔ breaches its target, ⚠️ is within it but past the warning level."],
        header=[*keys, *(KPIS[k].title for k in _TABLE_KPIS)],
        rows=[
            [str(row[k]) for k in keys] + [cell(k, row) for k in _TABLE_KPIS]
            for row in frame.to_dicts()
        ],
    )


def _breaching_since(report: KpiReport) -> dict[str, str]:
    """KPI -> "since 2026-W03 (10.9% in 2026-W08)" for each KPI that breaches its
    target in every ISO week of a run that goes on in the latest week; a value
    over the whole report can be within target while its latest weeks are not."""
    runs = breach_since(report.weeks, report.targets, list(KPIS))
    return {
        kpi: f"since {since} ({format_value(kpi, value)} in {latest}"
        + (
            f", 95% {format_value(kpi, low)} – {format_value(kpi, high)})"
            if low is not None
            else ")"
        )
        for kpi, since, latest, value, low, high in runs.select(
            "kpi", "since", "latest_week", "latest_value", "latest_ci_low", "latest_ci_high"
        ).rows()
    }


def _interval(overall: dict, kpi: str) -> str:
    if not KPIS[kpi].has_interval or overall.get(f"{kpi}_ci_low") is None:
        return ""
    low, high = overall[f"{kpi}_ci_low"], overall[f"{kpi}_ci_high"]
    return f"{format_value(kpi, low)} – {format_value(kpi, high)}"


def _headline(report: KpiReport, data: dict, breaching: dict[str, str]) -> Section:
    overall = data["overall"]
    rows = [
        [
            kpi.title,
            format_value(name, overall.get(name)),
            _interval(overall, name),
            target_text(report.targets, name),
            status_text(data["status"].get(name), overall.get(name)),
            breaching.get(name, ""),
        ]
        for name, kpi in KPIS.items()
    ]
    return Section(
        "Headline KPIs",
        notes=[
            "Status judges the value over all the data; *breaching every week* names a run "
            "of ISO weeks, up to the latest, in each of which the KPI breaches its target. "
            "A domain's own targets judge its slices (see By slice)."
        ],
        header=["KPI", "value", "95% interval", "target", "status", "breaching every week"],
        rows=rows,
    )


def _promoted(report: KpiReport, data: dict) -> Section:
    rule = report.targets.promotion
    bullets = [
        f"**{p['domain']} / {p['difficulty']} / {p['risk_class']}**: "
        + ", ".join(
            f"{w['week']}: {format_value('accepted_label_error_rate', w['accepted_label_error_rate'])}"
            f" of {w['n_accepted_known']}"
            for w in p["weeks"]
        )
        for p in data["promoted_slices"]
    ]
    return Section(
        "Slices promoted to specialist review",
        notes=[
            f"A slice is promoted when its accepted-label error rate is above "
            f"{format_value('accepted_label_error_rate', rule.max_error_rate)} in each of the "
            f"{rule.weeks} ISO weeks ending with the as-of week, with at least {rule.min_known} "
            "accepted annotations of known truth each week. Each week: its rate, of how many."
        ],
        bullets=bullets or ["None."],
    )


def _coverage(report: KpiReport, data: dict) -> Section | None:
    if not report.coverage.height:
        lacking = [t for t in COVERAGE_NEEDS if t not in report.present]
        if "targets" not in report.present or not lacking:
            return None  # no target was set
        return Section(
            "Domain coverage", notes=[f"Not available: the data has no {lacking[0]} table."]
        )
    share = data["overall"].get("domain_coverage")
    rows = [
        [domain, difficulty or "any", risk or "any"]
        + [format_as("count", v) for v in (target, n, missing)]
        + [format_as("rate", covered)]
        for domain, difficulty, risk, target, n, missing, covered in coverage_gaps(report.coverage)
        .select(GAP_COLUMNS)
        .rows()
    ]
    return Section(
        "Domain coverage",
        notes=[
            f"{format_value('domain_coverage', share)} of the target slices have all the accepted "
            f"items they need (target {target_text(report.targets, 'domain_coverage')}): "
            f"{status_text(data['status'].get('domain_coverage'), share)}. Least covered first."
        ],
        header=[
            "domain",
            "difficulty",
            "risk_class",
            "target",
            "accepted items",
            "missing",
            "share",
        ],
        rows=rows,
    )


def _backlog(data: dict) -> Section | None:
    overall = data["overall"]
    if overall.get("review_backlog") is None:
        return None
    oldest = overall.get("review_backlog_oldest_h")
    return Section(
        "Review backlog",
        notes=[
            f"{format_as('count', overall['review_backlog'])} annotations wait for review at the "
            f"as-of time; the oldest has waited {format_as('hours', oldest)}."
        ],
        header=["waiting", "annotations"],
        rows=[[label, format_as("count", overall.get(key))] for key, label in _AGE_BUCKETS],
    )


def _defects(report: KpiReport) -> Section | None:
    if not report.defects.height:
        return None
    target = target_text(report.targets, "defect_turnaround_h")
    rows = [
        [
            row["severity"],
            format_as("hours", row["median_resolution_h"]),
            status_text(
                report.targets.status("defect_turnaround_h", row["median_resolution_h"]),
                row["median_resolution_h"],
            ),
            format_as("count", row["n_resolved"]),
            format_as("count", row["n_open"]),
            format_as("hours", row["oldest_open_age_h"]),
        ]
        for row in report.defects.to_dicts()
    ]
    return Section(
        "Data-defect turnaround",
        notes=[f"Median hours from opened to resolved, per severity (target {target})."],
        header=["severity", "median turnaround", "status", "resolved", "open", "oldest open"],
        rows=rows,
    )


def _model_lift(report: KpiReport) -> Section | None:
    lift = report.model_lift
    if not lift.height:
        return None
    latest = (
        lift.filter(pl.col("previous_model_version").is_not_null())
        .sort("evaluated_at")
        .group_by("domain", "benchmark", maintain_order=True)
        .last()
        .sort("domain", "benchmark")
    )
    rows = [
        [
            row["domain"],
            row["benchmark"],
            f"{row['previous_model_version']} → {row['model_version']}",
            format_as("coefficient", row["score"]),
            f"{row['lift']:+.3f}" if row["lift"] is not None else NOT_AVAILABLE,
        ]
        for row in latest.to_dicts()
    ]
    return Section(
        "Model lift",
        notes=["Each benchmark's latest model version against the version before it."],
        header=["domain", "benchmark", "versions", "score", "lift"],
        rows=rows,
    )


def sections(report: KpiReport, data: dict, breaching: dict[str, str]) -> list[Section]:
    """The report's parts, in reading order, formatted for people; ``data`` is
    :func:`~kpi_core.report.to_dict` of ``report`` and ``breaching`` its runs of
    breaching weeks (computed once by the caller, which shows them too)."""
    parts = [
        _headline(report, data, breaching),
        _promoted(report, data),
        Section("Data quality", bullets=list(data["warnings"])) if data["warnings"] else None,
        _coverage(report, data),
        _backlog(data),
        _defects(report),
        _model_lift(report),
        _kpi_table("By slice", report.slices, list(SLICE), report.targets),
        _kpi_table("By ISO week", report.weeks, ["week"], report.targets),
    ]
    return [p for p in parts if p is not None]


def _markdown_cell(text: str) -> str:
    # A pipe would end the cell, a line break the row, and a < open an HTML tag (a
    # domain named "<b>x</b>" would render bold): each is escaped, read as written.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "\\<").replace("\n", " ")


def _markdown(section: Section) -> list[str]:
    lines = [f"## {section.title}", ""]
    for note in section.notes:
        lines += [note, ""]
    if section.bullets:
        lines += [f"- {b}" for b in section.bullets] + [""]
    if section.header:
        lines.append("| " + " | ".join(_markdown_cell(h) for h in section.header) + " |")
        lines.append("|" + "---|" * len(section.header))
        lines += ["| " + " | ".join(_markdown_cell(c) for c in r) + " |" for r in section.rows]
        lines.append("")
    return lines


def to_markdown(report: KpiReport) -> str:
    """A markdown report: headline KPIs with targets and status, promoted slices,
    coverage, backlog, defects, model lift, slices, weeks."""
    lines = [
        "# Labelling quality report",
        "",
        f"As of {format_timestamp(report.as_of)} · alpha level {report.level}",
        "",
    ]
    for section in sections(report, to_dict(report), _breaching_since(report)):
        lines += _markdown(section)
    return "\n".join(lines)


def _inline_markdown(text: str) -> str:
    """The bold (``**...**``) of a bullet as HTML, the rest escaped."""
    parts = html.escape(text).split("**")
    return "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))


def _html(section: Section) -> str:
    out = [f"<h2>{html.escape(section.title)}</h2>"]
    out += [f"<p>{_inline_markdown(note)}</p>" for note in section.notes]
    if section.bullets:
        out.append("<ul>" + "".join(f"<li>{_inline_markdown(b)}</li>" for b in section.bullets))
        out.append("</ul>")
    if section.header:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in section.header)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
            for cells in section.rows
        )
        out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    return "\n".join(out)


def _figure_html(figure: go.Figure, div_id: str, first: bool) -> str:
    # The first chart carries plotly.js inline, so the file opens offline. A fixed id
    # (plotly's default is a random one) keeps the file the same bytes for the same data.
    return figure.to_html(full_html=False, include_plotlyjs=first, div_id=div_id)


def weekly_rate_figure(weeks: pl.DataFrame, kpi: str, targets: Targets | None = None) -> go.Figure:
    """A weekly line of ``kpi`` with its Wilson interval as error bars, and its target."""
    title = KPIS[kpi].title
    figure = go.Figure(
        go.Scatter(
            x=weeks["week"].to_list(),
            y=weeks[kpi].to_list(),
            mode="lines+markers",
            name=title,
            error_y=interval_error_bars(weeks, kpi) if KPIS[kpi].has_interval else None,
        )
    )
    rule = targets.rule(kpi) if targets is not None else None
    if rule is not None:
        figure.add_hline(y=rule["target"], line=dict(color="#c62828", dash="dash"))
        figure.add_trace(  # names the target line in the legend
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                line=dict(color="#c62828", dash="dash"),
                name=f"target {target_text(targets, kpi)}",
            )
        )
    figure.update_layout(
        title=f"{title} by ISO week",
        xaxis_title="ISO week",
        yaxis_title=title,
        yaxis_tickformat=".1%" if KPIS[kpi].unit == "rate" else None,
        height=360,
        margin=dict(l=60, r=20, t=50, b=50),
        legend=dict(orientation="h", y=-0.25),
    )
    return figure


def _tile(name: str, data: dict, targets: Targets, breaching: dict[str, str]) -> str:
    overall, status = data["overall"], data["status"].get(name)
    value, title = overall.get(name), KPIS[name].title if name in KPIS else "Domain coverage"
    target = target_text(targets, name)
    interval = _interval(overall, name) if name in KPIS else ""
    return (
        f"<div class='tile {status if value is not None and status else 'none'}'>"
        f"<div class='t'>{html.escape(title)}</div>"
        f"<div class='v'>{format_value(name, value)}</div>"
        f"<div class='s'>{status_text(status, value)}"
        + (f" · target {html.escape(target)}" if target else "")
        + "</div>"
        + (f"<div class='ci'>95%: {html.escape(interval)}</div>" if interval else "")
        + (
            f"<div class='run'>⛔ breaching every week {html.escape(breaching[name])}</div>"
            if name in breaching
            else ""
        )
        + "</div>"
    )


_SEVERITY = {"breach": 0, "warn": 1, "ok": 2}


def to_html(report: KpiReport) -> str:
    """A self-contained HTML report (plotly.js inline: opens offline)."""
    data = to_dict(report)
    breaching = _breaching_since(report)
    shown = [*KPIS, *(["domain_coverage"] if report.coverage.height else [])]
    # Off target first, each group in the catalogue's order; what has no value last.
    order = sorted(
        shown,
        key=lambda k: (
            data["overall"].get(k) is None,
            _SEVERITY.get(data["status"].get(k), 3) - (k in breaching),
        ),
    )
    tiles = "".join(_tile(name, data, report.targets, breaching) for name in order)
    trends = ("accepted_label_error_rate", "disagreement_rate", "krippendorff_alpha")
    drawn = [k for k in trends if k in report.weeks.columns and report.weeks[k].drop_nulls().len()]
    charts = "".join(
        _figure_html(weekly_rate_figure(report.weeks, kpi, report.targets), f"chart-{kpi}", i == 0)
        for i, kpi in enumerate(drawn)
    ) + "".join(  # an empty chart would only show axes
        f"<p>{html.escape(KPIS[k].title)}: no week has a value.</p>"
        for k in trends
        if k not in drawn
    )
    parts = sections(report, data, breaching)[1:]  # the tiles stand for the headline table
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Labelling quality report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
.tiles {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 8px; }}
.tile {{ border: 1px solid #ccc; border-left: 6px solid #999; padding: 8px; }}
.tile.ok {{ border-left-color: #2e7d32; }} .tile.warn {{ border-left-color: #f9a825; }}
.tile.breach {{ border-left-color: #c62828; }}
.t {{ font-size: 0.85em; color: #555; }} .v {{ font-size: 1.5em; font-weight: 600; }}
.s, .ci {{ font-size: 0.85em; color: #555; }}
.run {{ font-size: 0.85em; color: #c62828; margin-top: 4px; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin-bottom: 1em; }}
th, td {{ border: 1px solid #ddd; padding: 3px 6px; text-align: left; }}
@media print {{ .tile, tr {{ break-inside: avoid; }} }}
</style></head><body>
<h1>Labelling quality report</h1>
<p>As of {format_timestamp(report.as_of)} · alpha level {report.level}.
Off-target KPIs first. The status judges the value over all the data;
<i>breaching every week</i> names a run of ISO weeks, up to the latest, each over target.</p>
<div class="tiles">{tiles}</div>
{_html(parts[0])}
<h2>Trends</h2>{charts}
{"".join(_html(part) for part in parts[1:])}
</body></html>
"""
