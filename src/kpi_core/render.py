"""Markdown (for a meeting doc) and self-contained HTML renderings of a report."""

from __future__ import annotations

import html

import plotly.graph_objects as go
import polars as pl

from kpi_core.breaches import breach_since
from kpi_core.catalog import KPIS
from kpi_core.coverage import GAP_COLUMNS, coverage_gaps
from kpi_core.formatting import (
    STATUS_WORDS,
    format_as,
    format_timestamp,
    format_value,
    interval_error_bars,
)
from kpi_core.grouping import SLICE
from kpi_core.report import KpiReport, to_dict

_TABLE_KPIS = (
    "accepted",
    "accepted_label_error_rate",
    "disagreement_rate",
    "krippendorff_alpha",
    "rework_rate",
    "cost_per_accepted_label",
    "review_backlog",
)


def _kpi_cells(frame: pl.DataFrame, keys: list[str]) -> tuple[list[str], list[list[str]]]:
    """The header and cells of a table of ``frame``'s groups (``keys``) and the report's
    table KPIs, formatted for people."""
    header = [*keys, *(KPIS[k].title for k in _TABLE_KPIS)]
    rows = [
        [str(row[k]) for k in keys] + [format_value(k, row.get(k)) for k in _TABLE_KPIS]
        for row in frame.to_dicts()
    ]
    return header, rows


def _coverage_cells(coverage: pl.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Each target slice, least covered first (an empty difficulty or risk class: any)."""
    header = ["domain", "difficulty", "risk_class", "target", "accepted items", "missing", "share"]
    rows = [
        [domain, difficulty or "any", risk or "any"]
        + [format_as("count", v) for v in (target, n, missing)]
        + [format_as("rate", share)]
        for domain, difficulty, risk, target, n, missing, share in coverage_gaps(coverage)
        .select(GAP_COLUMNS)
        .rows()
    ]
    return header, rows


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(cells) + " |" for cells in rows]


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>" for cells in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _breaching_since(report: KpiReport) -> dict[str, str]:
    """KPI -> "since 2026-W03 (10.9% in 2026-W08)" for each KPI that breaches its
    target in every ISO week of a run that goes on in the latest week; a value
    over the whole report can be within target while its latest weeks are not."""
    runs = breach_since(report.weeks, report.targets, list(KPIS))
    return {
        kpi: f"since {since} ({format_value(kpi, value)} in {latest})"
        for kpi, since, latest, value in runs.select(
            "kpi", "since", "latest_week", "latest_value"
        ).rows()
    }


def to_markdown(report: KpiReport) -> str:
    """A markdown report: headline KPIs with status, promoted slices, slices, weeks."""
    data = to_dict(report)
    overall = data["overall"]
    breaching = _breaching_since(report)
    lines = [
        "# Labelling quality report",
        "",
        f"As of {format_timestamp(report.as_of)} · alpha level {report.level}",
        "",
        "## Headline KPIs",
        "",
        "Status judges the value over all the data; *breaching every week* names a run of",
        "ISO weeks, up to the latest, in each of which the KPI breaches its target.",
        "",
        "| KPI | value | 95% interval | status | breaching every week |",
        "|---|---|---|---|---|",
    ]
    for name, kpi in KPIS.items():
        interval = ""
        if kpi.has_interval and overall.get(f"{name}_ci_low") is not None:
            interval = (
                f"{format_value(name, overall[f'{name}_ci_low'])} – "
                f"{format_value(name, overall[f'{name}_ci_high'])}"
            )
        status = STATUS_WORDS[data["status"].get(name)]
        lines.append(
            f"| {kpi.title} | {format_value(name, overall.get(name))} | {interval} | {status} "
            f"| {breaching.get(name, '')} |"
        )
    lines += ["", "## Slices promoted to specialist review", ""]
    if not data["promoted_slices"]:
        lines.append("None.")
    for promoted in data["promoted_slices"]:
        weeks = ", ".join(
            f"{w['week']}: {format_value('accepted_label_error_rate', w['accepted_label_error_rate'])}"
            f" of {w['n_accepted_known']}"
            for w in promoted["weeks"]
        )
        lines.append(
            f"- **{promoted['domain']} / {promoted['difficulty']} / "
            f"{promoted['risk_class']}**: {weeks}"
        )
    if data["warnings"]:
        lines += ["", "## Data quality", "", *(f"- {w}" for w in data["warnings"])]
    if report.coverage.height:
        lines += ["", "## Domain coverage", "", *_markdown_table(*_coverage_cells(report.coverage))]
    lines += ["", "## By slice", "", *_markdown_table(*_kpi_cells(report.slices, list(SLICE)))]
    lines += ["", "## By ISO week", "", *_markdown_table(*_kpi_cells(report.weeks, ["week"])), ""]
    return "\n".join(lines)


def _figure_html(figure: go.Figure, div_id: str, first: bool) -> str:
    # The first chart carries plotly.js inline, so the file opens offline. A fixed id
    # (plotly's default is a random one) keeps the file the same bytes for the same data.
    return figure.to_html(full_html=False, include_plotlyjs=first, div_id=div_id)


def weekly_rate_figure(weeks: pl.DataFrame, kpi: str) -> go.Figure:
    """A weekly line of ``kpi`` with its Wilson interval as error bars."""
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
    figure.update_layout(
        title=f"{title} by ISO week",
        xaxis_title="ISO week",
        yaxis_title=title,
        yaxis_tickformat=".1%" if KPIS[kpi].unit == "rate" else None,
        height=360,
        margin=dict(l=60, r=20, t=50, b=50),
    )
    return figure


def to_html(report: KpiReport) -> str:
    """A self-contained HTML report (plotly.js inline: opens offline)."""
    markdown_free = to_dict(report)
    overall = markdown_free["overall"]
    breaching = _breaching_since(report)
    tiles = "".join(
        f"<div class='tile {markdown_free['status'].get(name) or 'none'}'><div class='t'>"
        f"{html.escape(kpi.title)}</div><div class='v'>{format_value(name, overall.get(name))}</div>"
        f"<div class='s'>{STATUS_WORDS[markdown_free['status'].get(name)]}</div>"
        + (
            f"<div class='run'>⛔ breaching every week {html.escape(breaching[name])}</div>"
            if name in breaching
            else ""
        )
        + "</div>"
        for name, kpi in KPIS.items()
    )
    trends = ("accepted_label_error_rate", "disagreement_rate", "krippendorff_alpha")
    body = "".join(
        _figure_html(weekly_rate_figure(report.weeks, kpi), f"chart-{kpi}", i == 0)
        for i, kpi in enumerate(trends)
    )
    promoted = (
        "".join(
            f"<li>{html.escape(p['domain'])} / {html.escape(str(p['difficulty']))} / "
            f"{html.escape(str(p['risk_class']))}</li>"
            for p in markdown_free["promoted_slices"]
        )
        or "<li>None</li>"
    )
    warnings = "".join(f"<li>{html.escape(w)}</li>" for w in markdown_free["warnings"])
    quality = f"<h2>Data quality</h2><ul>{warnings}</ul>" if warnings else ""
    coverage = (
        f"<h2>Domain coverage</h2>{_html_table(*_coverage_cells(report.coverage))}"
        if report.coverage.height
        else ""
    )
    slices = f"<h2>By slice</h2>{_html_table(*_kpi_cells(report.slices, list(SLICE)))}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Labelling quality report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
.tiles {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 8px; }}
.tile {{ border: 1px solid #ccc; border-left: 6px solid #999; padding: 8px; }}
.tile.ok {{ border-left-color: #2e7d32; }} .tile.warn {{ border-left-color: #f9a825; }}
.tile.breach {{ border-left-color: #c62828; }}
.t {{ font-size: 0.85em; color: #555; }} .v {{ font-size: 1.5em; font-weight: 600; }}
.run {{ font-size: 0.85em; color: #c62828; margin-top: 4px; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin-bottom: 1em; }}
th, td {{ border: 1px solid #ddd; padding: 3px 6px; text-align: left; }}
@media print {{ .tile, tr {{ break-inside: avoid; }} }}
</style></head><body>
<h1>Labelling quality report</h1>
<p>As of {format_timestamp(report.as_of)} · alpha level {report.level}</p>
<div class="tiles">{tiles}</div>
<h2>Slices promoted to specialist review</h2><ul>{promoted}</ul>
{quality}
<h2>Trends</h2>{body}
{coverage}
{slices}
</body></html>
"""
