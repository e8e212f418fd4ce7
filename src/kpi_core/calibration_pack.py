"""``kpi calibration-pack``: the weekly calibration meeting as files to take into the room.

A pack is a directory (or, from the dashboard, a zip of it) holding:

``calibration-<week>[-<domain>].html``
    One self-contained page: plotly.js is inlined once in the head, so it opens
    offline in any browser, and an ``@media print`` style sheet lays it out on A4
    (charts sized to the page width, no chart or item split across pages).
``agenda-<week>[-<domain>].md``
    The meeting's agenda: one line per disputed item and one per drifting annotator
    (and vendor), with what to look at.
``<table>-<week>[-<domain>].csv``
    The data behind every table and chart (:meth:`CalibrationView.tables`), named
    for the week so that packs of two weeks written to one folder stay apart.

Annotator ids are replaced by pseudonyms by default (:class:`kpi_core.calibration.Pseudonyms`,
a fresh key per pack unless one is given). The figures are built here too, so the
Calibration page shows the same charts.
"""

from __future__ import annotations

import html
import io
import math
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from kpi_core.calibration import (
    DISPUTE_RANKING,
    MIN_SHARED_ITEMS,
    CalibrationInputs,
    CalibrationView,
    Level,
    Pseudonyms,
    compute_view,
    fetch_inputs,
    parse_week,
)
from kpi_core.drift import BASELINE_WEEKS, DRIFT_ALPHA
from kpi_core.formatting import NOT_AVAILABLE, as_csv, count_of, interval_error_bars
from kpi_core.grouping import SLICE, iso_week_label
from kpi_core.loading import open_dataset
from kpi_core.problems import DataError, Problem
from kpi_core.targets import Targets

#: Width of a chart in the pack, in CSS pixels: the text width of A4 with 12 mm margins.
PAGE_WIDTH_PX = 700
#: Alpha guide lines (Krippendorff: >= 0.800 reliable, >= 0.667 tentative conclusions).
ALPHA_GUIDES = (0.667, 0.800)
#: Annotator pairs listed in the pack's Cohen's kappa table (the CSV has all).
MAX_KAPPA_PAIRS = 15
#: Most annotators drawn in the agreement chart (drifting ones first; the CSV has all).
MAX_CHART_ANNOTATORS = 40
_STATUS_COLOURS = {
    "drifting": "#c62828",
    "drifting on the other measure": "#ef9a9a",
    "new": "#1565c0",
    "no baseline": "#9e9e9e",
    "stable": "#2e7d32",
}


# ------------------------------------------------------------------------------ formatting
# Numbers for people (the page shows them the same way): percent with one decimal, n/a.


def fmt_percent(value: float | None) -> str:
    return NOT_AVAILABLE if value is None or value != value else f"{value:.1%}"


def fmt_p_value(value: float | None) -> str:
    if value is None or value != value:
        return NOT_AVAILABLE
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def fmt_coefficient(value: float | None) -> str:
    return NOT_AVAILABLE if value is None or value != value else f"{value:.3f}"


def _cell(value: object) -> str:
    if value is None:
        return NOT_AVAILABLE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return NOT_AVAILABLE if math.isnan(value) else f"{value:.3g}"
    return str(value)


def fmt_rate_with_n(rate: float | None, n: int | None) -> str:
    return f"{fmt_percent(rate)} ({n or 0})"


def _scope(view: CalibrationView) -> str:
    return view.domain or "all domains"


def fmt_change(value: float | None) -> str:
    if value is None or value != value:
        return NOT_AVAILABLE
    return f"{value * 100:+.1f} pts"


# --------------------------------------------------------------------------------- figures


def _empty(figure: go.Figure, message: str) -> go.Figure:
    figure.add_annotation(
        text=message,
        showarrow=False,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        font=dict(size=14, color="#666"),
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def _layout(figure: go.Figure, title: str, height: int) -> go.Figure:
    figure.update_layout(
        title=dict(text=title, x=0.01),
        width=PAGE_WIDTH_PX,
        height=height,
        margin=dict(l=70, r=60, t=50, b=50),
        template="plotly_white",
        font=dict(size=11),
    )
    return figure


def alpha_trend_figure(view: CalibrationView) -> go.Figure:
    """Alpha per ISO week with its 95% bootstrap interval and the 0.667 / 0.800 guides."""
    trend = view.alpha_trend
    figure = go.Figure()
    if trend.get_column("krippendorff_alpha").drop_nulls().is_empty():
        return _layout(
            _empty(figure, "No week has two labels on one item"),
            "Krippendorff's alpha by ISO week",
            320,
        )
    figure.add_trace(
        go.Scatter(
            x=trend.get_column("week").to_list(),
            y=trend.get_column("krippendorff_alpha").to_list(),
            mode="lines+markers",
            name="alpha",
            error_y=interval_error_bars(trend, "krippendorff_alpha"),
            customdata=trend.select("n_units", "n_pairable").rows(),
            hovertemplate="%{x}: alpha %{y:.3f}<br>%{customdata[0]} items, "
            "%{customdata[1]} labels<extra></extra>",
        )
    )
    for guide in ALPHA_GUIDES:
        figure.add_hline(
            y=guide,
            line_dash="dot",
            line_color="#888",
            annotation_text=f"{guide:.3f}",
            annotation_position="right",
        )
    figure.update_xaxes(title="ISO week", type="category")
    figure.update_yaxes(title=f"alpha ({view.level})")
    return _layout(figure, f"Krippendorff's alpha by ISO week ({_scope(view)})", 340)


def agreement_figure(view: CalibrationView, measure: str = "consensus") -> go.Figure:
    """Each annotator's agreement this week (dot) against their previous weeks (ring)."""
    title = f"Agreement with {measure}: {view.week} vs the {BASELINE_WEEKS} weeks before"
    labelled = view.annotators.filter(pl.col(f"n_{measure}_week") > 0)
    if labelled.height > MAX_CHART_ANNOTATORS:
        title += (
            f" ({MAX_CHART_ANNOTATORS} of {labelled.height} annotators: drifting and new "
            "first, then the largest drops)"
        )
    rows = (
        labelled.sort(
            pl.col("is_drifting"),
            pl.col("is_new"),
            pl.col(f"{measure}_change"),
            descending=[True, True, False],
            nulls_last=True,
        )
        .head(MAX_CHART_ANNOTATORS)
        .reverse()
    )
    figure = go.Figure()
    if rows.is_empty():
        return _layout(
            _empty(figure, f"No label this week has a {measure} to compare with"), title, 260
        )
    names = rows.get_column("annotator_id").to_list()
    base = rows.get_column(f"{measure}_agreement_base").to_list()
    week = rows.get_column(f"{measure}_agreement_week").to_list()
    for name, b, w in zip(names, base, week, strict=True):
        if b is not None:
            figure.add_trace(
                go.Scatter(
                    x=[b, w],
                    y=[name, name],
                    mode="lines",
                    line=dict(color="#bbb", width=2),
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
    figure.add_trace(
        go.Scatter(
            x=base,
            y=names,
            mode="markers",
            name=f"previous {BASELINE_WEEKS} weeks",
            marker=dict(symbol="circle-open", size=9, color="#555"),
            customdata=rows.get_column(f"n_{measure}_base").to_list(),
            hovertemplate="%{y}: %{x:.1%} of %{customdata} labels<extra>baseline</extra>",
        )
    )
    # A drifter whose drop is on the other measure is not painted as drifting on this one.
    rows = rows.with_columns(
        pl.when(pl.col("is_drifting") & ~pl.col("drifted_on").str.contains(measure))
        .then(pl.lit("drifting on the other measure"))
        .otherwise(pl.col("status"))
        .alias("status")
    )
    for status, colour in _STATUS_COLOURS.items():
        part = rows.filter(pl.col("status") == status)
        if part.is_empty():
            continue
        figure.add_trace(
            go.Scatter(
                x=part.get_column(f"{measure}_agreement_week").to_list(),
                y=part.get_column("annotator_id").to_list(),
                mode="markers",
                name=f"{view.week}: {status}",
                marker=dict(size=10, color=colour),
                customdata=part.select(f"n_{measure}_week", f"{measure}_p_value").rows(),
                hovertemplate="%{y}: %{x:.1%} of %{customdata[0]} labels, one-sided p "
                "%{customdata[1]:.3g}<extra>" + status + "</extra>",
            )
        )
    figure.update_xaxes(
        title=f"share of labels equal to the {measure}", tickformat=".0%", range=[-0.02, 1.02]
    )
    figure.update_yaxes(type="category", automargin=True)
    figure.update_layout(legend=dict(orientation="h", y=-0.12))
    return _layout(figure, title, 140 + 22 * rows.height)


def _label_key(label: str) -> tuple:
    try:
        return (0, float(label), label)
    except (TypeError, ValueError):
        return (1, 0.0, str(label))


def confusion_figure(view: CalibrationView, reference: str = "gold") -> go.Figure:
    """Heatmaps of the week's human labels against ``gold`` or the ``final decision``, per domain."""
    title = f"Labels against {reference}, {view.week}"
    frame = view.confusion.filter(pl.col("reference") == reference)
    domains = sorted(frame.get_column("domain").unique().to_list())
    if not domains:
        return _layout(_empty(go.Figure(), f"No label this week has a {reference}"), title, 260)
    cols = min(2, len(domains))
    n_rows = math.ceil(len(domains) / cols)
    figure = make_subplots(
        rows=n_rows,
        cols=cols,
        subplot_titles=domains,
        horizontal_spacing=0.14,
        vertical_spacing=0.16,
    )
    for i, domain in enumerate(domains):
        part = frame.filter(pl.col("domain") == domain)
        labels = sorted(
            set(part.get_column("label").to_list())
            | set(part.get_column("reference_label").to_list()),
            key=_label_key,
        )
        counts = {(r["label"], r["reference_label"]): r["n"] for r in part.to_dicts()}
        z = [[counts.get((y, x), 0) for x in labels] for y in labels]
        figure.add_trace(
            go.Heatmap(
                z=z,
                x=labels,
                y=labels,
                colorscale="Blues",
                showscale=False,
                text=[[str(v) if v else "" for v in row] for row in z],
                texttemplate="%{text}",
                hovertemplate="label %{y}, "
                + reference
                + " %{x}: %{z}<extra>"
                + domain
                + "</extra>",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
        figure.update_xaxes(
            title_text=reference, type="category", row=i // cols + 1, col=i % cols + 1
        )
        figure.update_yaxes(
            title_text="label",
            type="category",
            autorange="reversed",
            row=i // cols + 1,
            col=i % cols + 1,
        )
    return _layout(figure, title, 90 + 300 * n_rows)


def figures(view: CalibrationView) -> dict[str, go.Figure]:
    """Every chart of the pack, by name."""
    return {
        "alpha_trend": alpha_trend_figure(view),
        "consensus_agreement": agreement_figure(view, "consensus"),
        "gold_agreement": agreement_figure(view, "gold"),
        "confusion_gold": confusion_figure(view, "gold"),
        "confusion_final": confusion_figure(view, "final decision"),
    }


# ----------------------------------------------------------------------------------- agenda


def _item_line(row: Mapping) -> str:
    gold = (
        f"gold {row['gold_label']} ({row['gold_source']})"
        if row["gold_label"] is not None
        else "no gold"
    )
    decided = (
        f"; already decided in {row['decided_week']}: {row['decided_label']}"
        if row["is_decided"]
        else ""
    )
    return (
        f"{row['rank']}. [ ] **{row['item_id']}** — {row['domain']} / {row['difficulty']} / "
        f"{row['risk_class']} (risk weight {row['risk_weight']:g}): labels "
        f"{row['label_counts']}; spread {fmt_percent(row['spread'])}, score {row['score']:.2f}; "
        f"{gold}{decided}"
    )


def drift_summary(row: Mapping) -> str:
    """What moved for a drifting annotator or vendor (a row of ``view.annotators`` or
    ``view.vendors``): each measure this week against before, and how sure that is."""
    parts = [
        f"{m} agreement {fmt_rate_with_n(row[f'{m}_agreement_week'], row[f'n_{m}_week'])} vs "
        f"{fmt_rate_with_n(row[f'{m}_agreement_base'], row[f'n_{m}_base'])} before "
        f"(p {fmt_p_value(row[f'{m}_p_value'])})"
        for m in ("consensus", "gold")
        if row[f"n_{m}_week"]
    ]
    strength = (
        "it holds across the meeting too"
        if row["is_drifting_meeting_wide"]
        else "across all annotators it may be chance"
    )
    return (
        "; ".join(parts) + f"; p {fmt_p_value(row['p_adjusted'])} for this one, {strength} "
        f"(p {fmt_p_value(row['p_meeting'])} corrected for all)"
    )


def _drift_line(row: Mapping, who: str) -> str:
    return f"- [ ] **{who}**: {drift_summary(row)}"


def agenda_markdown(view: CalibrationView, *, generated_at: datetime | None = None) -> str:
    """The meeting's agenda: one line per disputed item and per drifting annotator or vendor."""
    generated_at = generated_at or datetime.now(UTC)
    alpha = view.alpha
    lines = [
        f"# Calibration meeting {view.week} — {_scope(view)}",
        "",
        f"Generated {generated_at:%Y-%m-%d %H:%M} UTC"
        + (" · annotators are pseudonymised" if view.is_pseudonymised else ""),
        "",
        f"Krippendorff's alpha ({view.level}) this week: {fmt_coefficient(alpha['krippendorff_alpha'])}"
        f" (95% CI {fmt_coefficient(alpha['krippendorff_alpha_ci_low'])} – "
        f"{fmt_coefficient(alpha['krippendorff_alpha_ci_high'])}) over "
        f"{count_of(alpha['n_units'], 'item')}; "
        f"Fleiss' kappa {fmt_coefficient(view.fleiss_kappa)} {view.fleiss_scope_text}.",
        "",
        "## Disputed items",
        "",
        f"{view.disputed_heading}.",
        "",
    ]
    lines += [_item_line(r) for r in view.disputed.to_dicts()] or ["None this week."]
    drifting = view.drifting
    lines += ["", f"## Drifting annotators ({drifting.height})", ""]
    lines += [
        _drift_line(r, f"{r['annotator_id']} ({r['tier']}, {r['vendor']})")
        for r in drifting.to_dicts()
    ] or ["None this week."]
    vendors = view.vendors.filter(pl.col("is_drifting"))
    if not vendors.is_empty():
        lines += ["", f"## Drifting vendors ({vendors.height})", ""]
        lines += [_drift_line(r, f"vendor {r['vendor']}") for r in vendors.to_dicts()]
    new = view.annotators.filter(pl.col("is_new"))
    if not new.is_empty():
        lines += ["", "## New annotators (for information)", ""]
        lines += [
            f"- {r['annotator_id']} ({r['tier']}, {r['vendor']}): {r['n_labels_week']} "
            f"label{'s' if r['n_labels_week'] != 1 else ''} this week"
            for r in new.to_dicts()
        ]
    rates = view.promoted.with_columns(
        pl.col("accepted_label_error_rate").map_elements(fmt_percent, return_dtype=pl.String)
    )
    promoted = rates.group_by(list(SLICE), maintain_order=True).agg(
        pl.col("is_newly_promoted").first(),
        pl.format("{} {}", "week", "accepted_label_error_rate").str.join(", ").alias("evidence"),
    )
    lines += ["", f"## Slices promoted to specialist review ({promoted.height})", ""]
    lines += [
        f"- {r['domain']} / {r['difficulty']} / {r['risk_class']}"
        f"{' (new this week)' if r['is_newly_promoted'] else ''}: error rate by week "
        f"{r['evidence']}"
        for r in promoted.to_dicts()
    ] or ["None."]
    decided = view.week_decisions
    lines += ["", f"## Decisions recorded for {view.week} ({decided.height})", ""]
    lines += [
        f"- {r['item_id']} → {r['agreed_label']}" + (f": {r['note']}" if r["note"] else "")
        for r in decided.to_dicts()
    ] or ["None yet: record them on the dashboard's Calibration page."]
    lines += [
        "",
        "---",
        f"{DISPUTE_RANKING} "
        f"Drift: one-sided Fisher's exact test of this week's agreement against the "
        f"annotator's own {BASELINE_WEEKS} weeks before, for consensus and gold, "
        f"Bonferroni-adjusted over the two, at {DRIFT_ALPHA}; the meeting-wide p is "
        "Holm-adjusted over all annotators.",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------- html

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1000px; color: #222; font-size: 14px; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.meta { color: #555; }
.tiles { display: flex; flex-wrap: wrap; gap: 8px; margin: 1em 0; }
.tile { border: 1px solid #ccc; border-left: 6px solid #1565c0; padding: 6px 10px; min-width: 150px; }
.tile .t { font-size: 0.85em; color: #555; } .tile .v { font-size: 1.4em; font-weight: 600; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td:first-child { white-space: nowrap; }
.status-drifting { color: #c62828; font-weight: 600; } .status-new { color: #1565c0; }
.item { border: 1px solid #ccc; padding: 6px 10px; margin: 0.8em 0; }
.item h3 { margin: 0.2em 0; font-size: 1.05em; }
.decided { background: #e8f5e9; }
.chart { margin: 0.5em 0 1em; }
.definitions { font-size: 0.85em; color: #444; }
@page { size: A4 portrait; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .chart, .item, .tile, tr { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  table { font-size: 7pt; width: 100%; }
  th, td { padding: 1px 3px; overflow-wrap: anywhere; }
  td:first-child { white-space: normal; }
  .item { padding: 4px 6px; }
  .page-break { break-before: page; page-break-before: always; }
  a { color: inherit; text-decoration: none; }
}
"""


def _html_table(
    frame: pl.DataFrame,
    columns: Mapping[str, str],
    *,
    row_class: str | None = None,
    empty: str = "None.",
) -> str:
    if frame.is_empty():
        return f"<p>{html.escape(empty)}</p>"
    head = "".join(f"<th>{html.escape(title)}</th>" for title in columns.values())
    rows = []
    for row in frame.to_dicts():
        css = (
            f" class='{html.escape(str(row[row_class]))}'"
            if row_class and row.get(row_class)
            else ""
        )
        cells = "".join(f"<td>{html.escape(_cell(row.get(c)))}</td>" for c in columns)
        rows.append(f"<tr{css}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def agreement_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The agreement table as the pack shows it: rates with their counts, changes, p."""
    out = []
    for row in frame.to_dicts():
        shown = {k: row.get(k) for k in ("annotator_id", "tier", "vendor", "status")}
        if row.get("drifted_on"):
            shown["status"] = f"drifting ({row['drifted_on']})"
        if "n_annotators_week" in row:
            shown["n_annotators_week"] = row["n_annotators_week"]
        for m in ("consensus", "gold"):
            shown[f"{m}_week"] = fmt_rate_with_n(row[f"{m}_agreement_week"], row[f"n_{m}_week"])
            shown[f"{m}_base"] = fmt_rate_with_n(row[f"{m}_agreement_base"], row[f"n_{m}_base"])
            shown[f"{m}_change"] = fmt_change(row[f"{m}_change"])
        shown["p_adjusted"] = fmt_p_value(row["p_adjusted"])
        shown["p_meeting"] = fmt_p_value(row["p_meeting"])
        shown["row_class"] = f"status-{row['status'].replace(' ', '-')}"
        out.append(shown)
    return pl.DataFrame(out, infer_schema_length=None) if out else pl.DataFrame()


#: The columns of :func:`agreement_table` the pack shows, with their titles.
AGREEMENT_COLUMNS = {
    "status": "status",
    "consensus_week": "consensus, this week (n)",
    "consensus_base": f"consensus, {BASELINE_WEEKS} weeks before (n)",
    "consensus_change": "consensus change",
    "gold_week": "gold, this week (n)",
    "gold_base": f"gold, {BASELINE_WEEKS} weeks before (n)",
    "gold_change": "gold change",
    "p_adjusted": "adjusted p",
    "p_meeting": "meeting-wide p",
}


def _disputed_html(view: CalibrationView) -> str:
    if view.disputed.is_empty():
        return "<p>No item of this week has two annotators who disagree.</p>"
    labels = view.disputed_labels.with_columns(
        pl.col("submitted_at").dt.strftime("%Y-%m-%d %H:%M").alias("submitted_at")
    )
    reviews = view.disputed_reviews.with_columns(
        pl.col("reviewed_at").dt.strftime("%Y-%m-%d %H:%M").alias("reviewed_at")
    )
    blocks = []
    for row in view.disputed.to_dicts():
        gold = (
            f"{row['gold_label']} ({row['gold_source']})"
            if row["gold_label"] is not None
            else "none"
        )
        decided = (
            f"<p><b>Already decided</b> in {html.escape(row['decided_week'])}: "
            f"{html.escape(row['decided_label'])}"
            + (f" — {html.escape(row['decided_note'])}" if row["decided_note"] else "")
            + "</p>"
            if row["is_decided"]
            else ""
        )
        blocks.append(
            f"<div class='item{' decided' if row['is_decided'] else ''}' id='item-{row['rank']}'>"
            f"<h3>{row['rank']}. {html.escape(row['item_id'])} — "
            f"{html.escape(' / '.join(str(row[c]) for c in SLICE))}</h3>"
            f"<p>Labels {html.escape(row['label_counts'])} · spread {fmt_percent(row['spread'])} × "
            f"risk weight {row['risk_weight']:g} = score {row['score']:.2f} · gold "
            f"{html.escape(gold)}</p>{decided}"
            + _html_table(
                labels.filter(pl.col("rank") == row["rank"]),
                {
                    "annotator_id": "by",
                    "tier": "tier",
                    "vendor": "vendor",
                    "label": "label",
                    "submitted_at": "submitted (UTC)",
                    "decision_verdict": "decision",
                    "final_label": "final label",
                },
            )
            + _html_table(
                reviews.filter(pl.col("rank") == row["rank"]),
                {
                    "annotator_id": "label by",
                    "reviewer_id": "reviewer",
                    "reviewer_tier": "reviewer tier",
                    "stage": "stage",
                    "verdict": "verdict",
                    "corrected_label": "corrected to",
                    "reviewed_at": "reviewed (UTC)",
                    "is_decision": "is the decision",
                },
                empty="No review yet.",
            )
            + "</div>"
        )
    return "".join(blocks)


def _promoted_html(view: CalibrationView) -> str:
    return _html_table(
        view.promoted.with_columns(
            pl.col("accepted_label_error_rate").map_elements(fmt_percent, return_dtype=pl.String),
        ),
        {
            "domain": "domain",
            "difficulty": "difficulty",
            "risk_class": "risk class",
            "is_newly_promoted": "new this week",
            "week": "week",
            "accepted_label_error_rate": "accepted-label error rate",
            "n_accepted_known": "accepted, truth known",
            "n_accepted_wrong": "wrong",
        },
    )


def pack_html(view: CalibrationView, *, generated_at: datetime | None = None) -> str:
    """The pack's self-contained HTML page (plotly.js inline, A4 print styles)."""
    generated_at = generated_at or datetime.now(UTC)
    charts = {
        name: figure.to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{name}",
            config={"responsive": False, "displaylogo": False, "staticPlot": False},
        )
        for name, figure in figures(view).items()
    }
    alpha = view.alpha
    drifting = view.drifting
    tiles = [
        ("alpha this week", fmt_coefficient(alpha["krippendorff_alpha"])),
        (
            "95% interval",
            f"{fmt_coefficient(alpha['krippendorff_alpha_ci_low'])} – "
            f"{fmt_coefficient(alpha['krippendorff_alpha_ci_high'])}",
        ),
        ("items with 2+ labels", str(alpha["n_units"])),
        ("Fleiss' kappa", fmt_coefficient(view.fleiss_kappa)),
        ("drifting annotators", str(drifting.height)),
        ("new annotators", str(view.annotators.filter(pl.col("is_new")).height)),
        ("disputed items", str(view.n_disputed)),
        ("promoted slices", str(view.promoted.select(SLICE).unique().height)),
    ]
    tiles_html = "".join(
        f"<div class='tile'><div class='t'>{html.escape(t)}</div>"
        f"<div class='v'>{html.escape(v)}</div></div>"
        for t, v in tiles
    )
    annotators = agreement_table(view.annotators)
    vendors = agreement_table(view.vendors)
    decisions = view.week_decisions
    privacy = (
        "Annotator and reviewer ids are replaced by pseudonyms (the same person has "
        "the same pseudonym throughout this pack)."
        if view.is_pseudonymised
        else "Annotator ids are shown as recorded."
    )
    body = f"""
<h1>Calibration meeting {html.escape(view.week)}</h1>
<p class="meta">{html.escape(_scope(view))} · week starting {view.week_start:%Y-%m-%d} ·
generated {generated_at:%Y-%m-%d %H:%M} UTC · {html.escape(privacy)}</p>
<div class="tiles">{tiles_html}</div>

<h2>Reliability</h2>
<div class="chart">{charts["alpha_trend"]}</div>
{
        _html_table(
            view.alpha_trend,
            {
                "week": "week",
                "krippendorff_alpha": "alpha",
                "krippendorff_alpha_ci_low": "95% low",
                "krippendorff_alpha_ci_high": "95% high",
                "n_units": "items",
                "n_pairable": "labels",
            },
        )
    }
<h3>Pairs of annotators with the lowest Cohen's kappa</h3>
<p>Over the week's items both labelled, pairs sharing at least {MIN_SHARED_ITEMS} items; the
{MAX_KAPPA_PAIRS} lowest (every pair is in cohen_kappa_pairs-{pack_stem(view)}.csv).</p>
{
        _html_table(
            view.kappa_pairs.head(MAX_KAPPA_PAIRS),
            {
                "annotator_id_a": "annotator",
                "annotator_id_b": "annotator",
                "n_shared": "shared items",
                "observed_agreement": "observed agreement",
                "expected_agreement": "chance agreement",
                "cohen_kappa": "Cohen's kappa",
            },
            empty=f"No two annotators shared {MIN_SHARED_ITEMS} or more items this week.",
        )
    }

<h2 class="page-break">Annotators: agreement and drift</h2>
<p>Drifting: a significant drop against the annotator's own {BASELINE_WEEKS} previous weeks
(one-sided Fisher's exact test on agreement with consensus and with gold, Bonferroni-adjusted
over the two, at {DRIFT_ALPHA}). Meeting-wide p: the same, Holm-adjusted over all annotators
(what stays below {DRIFT_ALPHA} is unlikely to be chance even among many people). New: first
label in scope this week.</p>
<div class="chart">{charts["consensus_agreement"]}</div>
<div class="chart">{charts["gold_agreement"]}</div>
{
        _html_table(
            annotators,
            {"annotator_id": "annotator", "tier": "tier", "vendor": "vendor", **AGREEMENT_COLUMNS},
            row_class="row_class",
        )
    }
<h3>Vendors</h3>
{
        _html_table(
            vendors,
            {"vendor": "vendor", "n_annotators_week": "annotators", **AGREEMENT_COLUMNS},
            row_class="row_class",
        )
    }

<h2 class="page-break">Confusion matrices</h2>
<div class="chart">{charts["confusion_gold"]}</div>
<div class="chart">{charts["confusion_final"]}</div>

<h2 class="page-break">Most disputed items</h2>
<p>{html.escape(DISPUTE_RANKING)}</p>
{_disputed_html(view)}

<h2>Slices promoted to specialist review</h2>
{_promoted_html(view)}

<h2>Decisions recorded for {html.escape(view.week)}</h2>
{
        _html_table(
            decisions,
            {
                "item_id": "item",
                "agreed_label": "agreed label",
                "note": "note",
                "recorded_at": "recorded (UTC)",
            },
        )
    }
"""
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>Calibration meeting {html.escape(view.week)} — {html.escape(_scope(view))}</title>"
        f"<style>{_CSS}</style><script type='text/javascript'>{get_plotlyjs()}</script>"
        f"</head><body>{body}</body></html>\n"
    )


# ------------------------------------------------------------------------------- the pack


def pack_stem(view: CalibrationView) -> str:
    return view.week + (f"-{view.domain}" if view.domain else "")


def render_pack(view: CalibrationView, *, generated_at: datetime | None = None) -> dict[str, bytes]:
    """Every file of the pack, by name: the HTML page, the agenda and the CSVs."""
    generated_at = generated_at or datetime.now(UTC)
    stem = pack_stem(view)
    files = {
        f"calibration-{stem}.html": pack_html(view, generated_at=generated_at).encode("utf-8"),
        f"agenda-{stem}.md": agenda_markdown(view, generated_at=generated_at).encode("utf-8"),
    }
    files.update(
        {
            f"{name}-{stem}.csv": as_csv(frame).encode("utf-8")
            for name, frame in view.tables().items()
        }
    )
    return files


def zip_pack(files: Mapping[str, bytes], folder: str = "") -> bytes:
    """The pack's files as one zip (for the dashboard's download button)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"{folder}/{name}" if folder else name, data)
    return buffer.getvalue()


def _require_data_weeks(inputs: CalibrationInputs, data_dir: Path) -> None:
    """A pack of a week outside the data's annotations (in its domain) would be empty,
    most likely for a mistyped week: say which weeks the data has instead. A quiet week
    within them still makes a pack, which says it was quiet."""
    counts = inputs.kpi_counts
    if inputs.domain is not None:
        counts = counts.filter(pl.col("domain") == inputs.domain)
    weeks = counts.filter(pl.col("n_annotations") > 0).get_column("week_start")
    if weeks.len() and weeks.min() <= inputs.week_start <= weeks.max():
        return
    where = f" in {inputs.domain}" if inputs.domain else ""
    span = (
        f"they run from {iso_week_label(weeks.min())} to {iso_week_label(weeks.max())}"
        if weeks.len()
        else "there are none"
    )
    reason = f"{iso_week_label(inputs.week_start)} is outside the data's annotations{where}: {span}"
    raise DataError([Problem(file=str(data_dir), reason=reason)])


def write_pack(
    data_dir: Path,
    *,
    week: str,
    domain: str | None = None,
    out: Path,
    pseudonymise: bool = True,
    level: Level = "nominal",
    pseudonym_key: bytes | str | None = None,
    targets: Path | None = None,
) -> dict[str, Path]:
    """Write the calibration pack of ``week`` (``YYYY-Www``) for ``data_dir`` into ``out``.

    Raises :class:`DataError` (one line each) for a malformed week, a week outside
    the data's annotations, an unknown domain, or a data directory that breaks the
    contract. Returns the files
    written, by name.
    """
    from kpi_core.validation import validate

    monday = parse_week(week)
    problems = validate(Path(data_dir))
    if problems:
        raise DataError(problems)
    dataset = open_dataset(data_dir)
    try:
        inputs = fetch_inputs(dataset, monday, domain)
    finally:
        dataset.con.close()
    _require_data_weeks(inputs, Path(data_dir))
    view = compute_view(inputs, level=level, rule=Targets.load(targets).promotion)
    if pseudonymise:
        view = view.pseudonymised(Pseudonyms(pseudonym_key))
    files = render_pack(view)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, data in files.items():
        (out / name).write_bytes(data)
        written[name] = out / name
    return written
