"""The dashboard's building blocks: KPI tiles, charts with their data as CSV,
tables formatted for people, and banners for what could not be computed.

Numbers are formatted by :mod:`kpi_core.formatting` (percent with one decimal,
currency, seconds, hours); a null is "n/a" with the reason on hover, never 0.
A status is a colour and a word, never a colour alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from numbers import Real
from pathlib import Path

import plotly.colors
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from kpi_app.data import REPO, Loaded
from kpi_core import breaches, views
from kpi_core.aggregates import Aggregates
from kpi_core.catalog import KPIS, OTHER_UNITS, Unit
from kpi_core.formatting import NOT_AVAILABLE, as_csv, format_as
from kpi_core.problems import Problem, QueryError
from kpi_core.quarantine import as_frame as quarantine_frame
from kpi_core.quarantine import counted
from kpi_core.spacing import fetched_spaced_values
from kpi_core.targets import Targets

#: Colours for series that have no colour of their own (one per vendor, domain...),
#: the same on every page: plotly's D3 palette.
PALETTE = tuple(color.lower() for color in plotly.colors.qualitative.D3)


def series_color(i: int) -> str:
    """The colour of the ``i``-th series, cycling through :data:`PALETTE`."""
    return PALETTE[i % len(PALETTE)]


#: Extra "KPIs" the dashboard shows that the catalog does not list: title, whether
#: higher is better, definition (their units: catalog.OTHER_UNITS).
EXTRA: dict[str, tuple[str, bool | None, str]] = {
    "domain_coverage": (
        "Domain coverage",
        True,
        "target slices whose distinct accepted items reach target_accepted_items / target "
        "slices; a state at the as-of time, so of the sidebar's filters only the domain applies",
    ),
    "defect_turnaround_h": (
        "Defect turnaround",
        False,
        "median hours from a data defect's opened_at to its resolved_at, per severity; "
        "a defect still open longer than the target breaks it too",
    ),
}

STATUS = {
    "ok": ("green", ":material/check_circle:", "ok"),
    "warn": ("orange", ":material/warning:", "warn"),
    "breach": ("red", ":material/error:", "breach"),
    None: ("gray", ":material/remove:", "no target"),
}
#: The same colours for plotly marks (a bar's status, met or missed).
STATUS_HEX = {"ok": "#2e7d32", "warn": "#f9a825", "breach": "#c62828", None: "#1f77b4"}

#: Readable titles of the count columns tables show.
COLUMN_TITLES = {
    "n_annotations": "Annotations",
    "n_accepted": "Accepted",
    "n_accepted_known": "Accepted, truth known",
    "n_accepted_wrong": "Accepted, wrong",
    "n_decided": "Decided",
    "n_gold": "On gold items",
    "n_items_multi": "Items with ≥ 2 annotators",
    "n_backlog": "Waiting",
    "oldest_age_h": "Oldest waiting",
    "annotator_id": "Annotator",
    "dataset_version": "Dataset version",
    "risk_class": "Risk class",
    "majority_share": "Majority share",
    "majority_label": "Majority label",
    "n_annotators": "Annotators",
    "n_labels": "Distinct labels",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "age_h": "Age",
    "resolution_h": "Time to resolve",
    "model_version": "Model version",
    "consensus_rate": "Agrees with consensus",
    "gold_rate": "Agrees with gold",
    "n_consensus": "Items with a consensus",
    "n_given": "Labels given",
    "item_id": "Item",
    "label_counts": "Labels given (count)",
    "spread": "Spread",
    "gold_label": "Gold label",
    "is_decided": "Decided",
    "decided_label": "Agreed label",
    "decided_week": "Decided in",
    "agreed_label": "Agreed label",
    "recorded_at": "Recorded at (UTC)",
    "submitted_at": "Submitted at (UTC)",
    "is_item_label": "Counted in agreement",
    "decision_verdict": "Decision",
    "final_label": "Final label",
    "reviewer_tier": "Reviewer tier",
    "corrected_label": "Corrected label",
    "is_decision": "Is the decision",
    "reviewer_id": "Reviewer",
    "reviewed_at": "Reviewed at (UTC)",
    "annotation_id": "Annotation",
    "week": "ISO week",
    "target_accepted_items": "Target (accepted items)",
    "n_accepted_items": "Accepted items",
    "missing_items": "Still missing",
    "share_of_target": "Accepted / target (capped at 100%)",
}


#: Units of plain columns tables show (besides n_* counts, *_h hours, *_s seconds).
COLUMN_UNITS: dict[str, Unit] = {
    "cost": "currency",
    "score": "coefficient",
    "lift": "coefficient",
    "krippendorff_alpha_ci_low": "coefficient",
    "krippendorff_alpha_ci_high": "coefficient",
    "ci_low": "rate",
    "ci_high": "rate",
    "age_h": "hours",
    "resolution_h": "hours",
    "consensus_rate": "rate",
    "gold_rate": "rate",
    "spread": "rate",
    "target_accepted_items": "count",
    "missing_items": "count",
    "share_of_target": "rate",
}


#: Tile titles where three or four tiles share a row: a metric's label does not
#: wrap, and at 1100 px "Accepted-label error rate" is cut to "Accepted-lab...".
#: The full title heads the tile's tooltip. A median is the unqualified figure.
SHORT_TITLES = {
    "accepted_label_error_rate": "Error rate",
    "disagreement_rate": "Disagreement",
    "krippendorff_alpha": "Alpha",
    "cost_per_accepted_label": "Cost / label",
    "specialist_review_time_median_s": "Review time",
    "specialist_review_time_p90_s": "Review time (p90)",
    "turnaround_median_h": "Turnaround",
    "review_backlog": "Backlog",
    "review_backlog_oldest_h": "Oldest unreviewed",
    "domain_coverage": "Coverage",
}


def short_title(kpi: str) -> str:
    return SHORT_TITLES.get(kpi, title(kpi))


def title(kpi: str) -> str:
    if kpi in KPIS:
        return KPIS[kpi].title
    if kpi in EXTRA:
        return EXTRA[kpi][0]
    for bound, words in (("_ci_low", "95% CI low"), ("_ci_high", "95% CI high")):
        if kpi.endswith(bound) and kpi.removesuffix(bound) in KPIS:
            return f"{title(kpi.removesuffix(bound))}, {words}"
    return COLUMN_TITLES.get(kpi, kpi.replace("_", " ").capitalize())


def unit(kpi: str) -> Unit | None:
    for bound in ("_ci_low", "_ci_high"):  # an interval bound is in its KPI's unit
        if kpi.endswith(bound):
            return unit(kpi.removesuffix(bound))
    if kpi in KPIS:
        return KPIS[kpi].unit
    if kpi in OTHER_UNITS:
        return OTHER_UNITS[kpi]
    if kpi in COLUMN_UNITS:
        return COLUMN_UNITS[kpi]
    if kpi.endswith("_rate") or kpi.endswith("_share") or kpi.endswith("_accuracy"):
        return "rate"
    if kpi.endswith("_h"):
        return "hours"
    if kpi.endswith("_s"):
        return "seconds"
    if kpi.startswith("n_"):
        return "count"
    return None


def fmt(kpi: str, value: float | None, *, short: bool = False) -> str:
    """``value`` of ``kpi`` as people read it; "n/a" for null. ``short``: without the
    days beside long hours, for a tile's big figure or badge, which has room for few
    characters."""
    return format_as(unit(kpi), value, days=not short)


def fmt_change(kpi: str, change: float | None) -> str | None:
    """A week-over-week change: percentage points for rates, the unit otherwise."""
    if change is None:
        return None
    kind = unit(kpi)
    text = (
        f"{change * 100:+.1f} pp"
        if kind == "rate"
        else {
            "count": f"{change:+,.0f}",
            "currency": f"{change:+,.2f}",
            "seconds": f"{change:+,.0f} s",
            "hours": f"{change:+,.1f} h",
        }.get(kind, f"{change:+.3f}")
    )
    # A change that rounds to nothing has no sign ("-0.0 pp" read as a fall).
    return "±" + text[1:] if not any(c in "123456789" for c in text) else text


def higher_is_better(kpi: str) -> bool | None:
    if kpi in KPIS:
        return KPIS[kpi].higher_is_better
    return EXTRA[kpi][1] if kpi in EXTRA else None


def definition(kpi: str) -> str:
    if kpi in KPIS:
        return KPIS[kpi].definition
    return EXTRA[kpi][2] if kpi in EXTRA else ""


def target_text(targets: Targets, kpi: str, domain: str | None = None) -> str:
    rule = targets.rule(kpi, domain)
    if rule is None:
        return "No target set."
    if rule["direction"] == "max":
        return f"Target: at most {fmt(kpi, rule['target'])}; warn above {fmt(kpi, rule['warn'])}."
    return f"Target: at least {fmt(kpi, rule['target'])}; warn below {fmt(kpi, rule['warn'])}."


# ----------------------------------------------------------------------------- status


def badge(status: str | None, prefix: str = "") -> None:
    """The status as a coloured badge with its word (ok / warn / breach / no target)."""
    color, icon, word = STATUS.get(status, STATUS[None])
    st.badge(prefix + word, color=color, icon=icon)


def status_badge(targets: Targets, kpi: str, value: float | None, prefix: str = "") -> None:
    """``value``'s status against ``kpi``'s target as a badge; "n/a" when the KPI has
    a target but no value (not "no target", which would hide the target)."""
    status = targets.status(kpi, value)
    if status is None and targets.rule(kpi) is not None:
        st.badge(prefix + "n/a", color="gray", icon=":material/help:")
    else:
        badge(status, prefix)


def status_word(status: str | None) -> str:
    """The status as coloured markdown text with an icon and its word."""
    color, icon, word = STATUS.get(status, STATUS[None])
    return f":{color}-badge[{icon} {word}]"


# ------------------------------------------------------------------------------ tiles


def tile(
    aggs: Aggregates,
    targets: Targets,
    kpi: str,
    value: float | None,
    weeks: pl.DataFrame | None = None,
    *,
    compact: bool = False,
) -> None:
    """One KPI tile: its value, the change between the last two ISO weeks of
    ``weeks`` with a sparkline, and its status against its target; a second
    badge when the KPI breaches in every week of a run that goes on in the
    latest week, or else when the latest week's status is not the period's (a
    tile's value over the whole period can hide either). A ``compact`` tile, one
    of three or four in a row, is titled :func:`short_title`."""
    lines = [definition(kpi), target_text(targets, kpi)]
    if value is None or value != value:
        lines.insert(0, views.unavailable_reason(aggs, kpi))
    if compact and short_title(kpi) != title(kpi):
        lines.insert(0, f"**{title(kpi)}**")
    delta = chart = description = ongoing = latest_status = latest_week = None
    if weeks is not None and kpi in weeks.columns and weeks.height:
        run = breaches.breach_since(weeks, targets, [kpi])
        if run.height:
            ongoing = run.row(0, named=True)
            low, high = ongoing["latest_ci_low"], ongoing["latest_ci_high"]
            lines.append(
                f"Breaches its target in every week since {ongoing['since']}: "
                f"{fmt(kpi, ongoing['latest_value'])} in {ongoing['latest_week']}"
                + (
                    f" (95% interval {fmt(kpi, low)} – {fmt(kpi, high)})."
                    if low is not None
                    else "."
                )
            )
        change = views.week_over_week(weeks, kpi)
        latest_status, latest_week = targets.status(kpi, change.last), change.last_week
        delta = fmt_change(kpi, change.change)
        if change.last_week and change.last is not None:
            lines.append(
                f"Latest week, {change.last_week}: {fmt(kpi, change.last)}"
                + (f" ({latest_status})." if latest_status else ".")
            )
        chart = _sparkline(kpi, views.trend(weeks, kpi)[kpi].to_list()) or None
        if delta is not None:
            # "vs W07" still reads where "W08 vs W07" is cut to "W08 ..."
            description = f"vs {short_week(change.previous_week, change.last_week)}"
            lines.append(f"Change: {change.last_week} against {change.previous_week}.")
        elif change.previous_week:
            lines.append("No week-over-week change: the KPI is n/a in one of the last two weeks.")
        elif change.last_week:
            lines.append(f"No week-over-week change: {change.last_week} is the only week.")
    better = higher_is_better(kpi)
    unchanged = delta is not None and delta.startswith("±")  # see fmt_change
    # Green is better, red is worse, as everywhere: whether the latest weeks are off
    # target is the badges' to say ("breach since ..."), not the arrow's.
    delta_color = (
        "off"
        if better is None or delta is None or unchanged
        else ("normal" if better else "inverse")
    )
    with st.container(border=True):
        st.metric(
            short_title(kpi) if compact else title(kpi),
            fmt(kpi, value, short=True),
            delta=delta,
            delta_color=delta_color,
            delta_arrow="off" if unchanged else "auto",
            # a quarter of 1100 px cuts "vs W07" to "vs ...": the tooltip says it
            delta_description=None if compact else description,
            help="\n\n".join(lines),
            chart_data=chart if chart and len(chart) > 1 else None,
        )
        # The value is the whole period's; its latest week may be judged otherwise.
        latest_differs = latest_status is not None and latest_status != targets.status(kpi, value)
        with st.container(horizontal=True, gap="small"):
            # Beside the latest weeks' badge, say which badge judges what.
            status_badge(
                targets, kpi, value, "period: " if ongoing is not None or latest_differs else ""
            )
            if ongoing is None and latest_differs and latest_week is not None:
                # No icon, as "breach since W03": two badges share a quarter of 1100 px.
                color, _, word = STATUS[latest_status]
                st.badge(f"{short_week(latest_week)}: {word}", color=color)
            elif ongoing is not None:
                # No icon: in a tile a quarter of 1100 px wide, "breach since W03" just fits.
                # There the week alone ("breach since 2025-W48" does not fit; the tooltip
                # names the weeks in full); a wider tile gives the year when it is not the
                # latest week's. A run of one week is a new breach.
                since = short_week(ongoing["since"], None if compact else ongoing["latest_week"])
                new = ongoing["since"] == ongoing["latest_week"]
                st.badge(f"breach in {since}" if new else f"breach since {since}", color="red")


def _sparkline(kpi: str, values: Sequence[float | None]) -> list[float]:
    """A tile's weekly values as its sparkline's hover shows them: a rate in percent
    with one decimal (43.4, not 0.433962264151), a count whole, others to 3 decimals."""
    scale, digits = {"rate": (100, 1), "count": (1, 0)}.get(unit(kpi) or "", (1, 3))
    return [round(v * scale, digits) for v in values if v is not None and math.isfinite(v)]


def short_week(week: str, latest: str | None = None) -> str:
    """``2026-W08`` -> ``W08`` (the tile's caption is narrow), unless its year is
    not that of the ``latest`` week shown beside it."""
    if latest is not None and week[:4] != latest[:4]:
        return week
    return week.split("-")[-1]


# ----------------------------------------------------------------------------- charts


def style(
    figure: go.Figure,
    *,
    x: str,
    y: str,
    y_unit: Unit | None = None,
    height: int = 360,
    legend: str | None = None,
    legend_side: bool = False,
) -> go.Figure:
    """Axis titles (with units), readable ticks, a compact layout; the legend above
    the plot, or under it with ``legend_side`` (for many series)."""
    place = (
        dict(orientation="h", yanchor="top", y=-0.22, x=0)
        if legend_side
        else dict(orientation="h", yanchor="bottom", y=1.02, x=0)
    )
    # Once a reference line is named in the legend, an unnamed trace would read "trace 0".
    figure.update_traces(showlegend=False, selector=lambda trace: trace.name is None)
    figure.update_layout(
        xaxis_title=x,
        yaxis_title=y,
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        legend=dict(**place, title=legend, traceorder="normal"),
        hoverlabel=dict(namelength=-1),
    )
    if y_unit == "rate":
        figure.update_yaxes(tickformat=".0%")
    elif y_unit == "currency":
        figure.update_yaxes(tickformat=",.2f")
    return figure


def hover_text(
    frame: pl.DataFrame, columns: Mapping[str, str], formats: Mapping[str, str] | None = None
) -> list[str]:
    """One hover text per row: "label: value" for each of ``columns`` (column -> label),
    each value formatted as its column's KPI (or as ``formats[column]``'s)."""
    formats = formats or {}
    names = list(columns.items())
    rows = frame.select(list(columns)).rows()

    def show(column: str, value) -> str:
        kind = formats.get(column, column)
        return fmt(kind, value) if unit(kind) else (NOT_AVAILABLE if value is None else str(value))

    return [
        "<br>".join(
            f"{label}: {show(name, v)}" for (name, label), v in zip(names, row, strict=True)
        )
        for row in rows
    ]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "data"


#: The filters of the page being drawn, for its downloads' names (see :func:`download`);
#: set by the page's header, each run.
DOWNLOAD_VIEW: ContextVar[str] = ContextVar("kpi_download_view", default="")


def name_downloads(view: str) -> None:
    """Name the page's downloads after ``view`` (``domain-medicine``), for a page that
    picks what it shows itself: the header names them after the sidebar's filters."""
    DOWNLOAD_VIEW.set(view)


def download(frame: pl.DataFrame, name: str, label: str = "Download data (CSV)") -> None:
    """A button that downloads ``frame`` (raw numbers, nulls empty) as ``name``.csv,
    followed by the page's filters (:data:`DOWNLOAD_VIEW`) when it has some: an export
    of one domain is not named like the whole data's."""
    slug = _slug(name)
    view = DOWNLOAD_VIEW.get()
    st.download_button(
        label,
        data=as_csv(frame),
        file_name=f"{slug}_{_slug(view)}.csv" if view else f"{slug}.csv",
        mime="text/csv",
        key=f"download-{slug}",
        on_click="ignore",
        type="tertiary",
        icon=":material/download:",
    )


#: The ``meta`` of a trace that only gives a reference (a target): drawn beside data,
#: but on its own nothing to show.
REFERENCE = "reference"


def _draws_nothing(figure: go.Figure) -> bool:
    """True when no trace but references has a number to plot (every value n/a, or
    no trace)."""

    def numbers(values) -> bool:
        for value in values if values is not None else ():
            if isinstance(value, Iterable) and not isinstance(value, str):  # a heatmap's rows
                if numbers(value):
                    return True
            elif isinstance(value, Real) and not isinstance(value, bool) and value == value:
                return True  # numpy's numbers are Real too
        return False

    return not any(
        numbers(getattr(trace, axis, None))
        for trace in figure.data
        if trace.meta != REFERENCE
        for axis in ("x", "y", "z", "values")
    )


def chart(
    figure: go.Figure, frame: pl.DataFrame, name: str, *, why_empty: str | None = None, **kwargs
) -> object:
    """A plotly chart and, under it, the CSV of the data behind it; a note instead of
    empty axes when there is nothing to draw (None is returned then): ``why_empty``
    when the caller knows why (a query file that failed), else an empty selection."""
    st.markdown(f"**{name}**")
    if frame.height == 0 or _draws_nothing(figure):
        empty(why_empty or "Nothing to draw: this selection has no data for this chart.")
        return None
    state = st.plotly_chart(
        figure, key=f"chart-{_slug(name)}", config={"displaylogo": False}, **kwargs
    )
    download(frame, name)
    return state


def table(
    frame: pl.DataFrame,
    name: str | None,
    *,
    height: int | str = "auto",
    download_frame: pl.DataFrame | None = None,
) -> None:
    """A table formatted for people (KPI columns as %, currency, hours; null as
    n/a) with the raw data as CSV named ``name`` (none when ``name`` is None)."""
    shown = frame
    for column in frame.columns:
        if unit(column) and frame[column].dtype.is_numeric():
            shown = shown.with_columns(
                pl.col(column)
                .map_elements(lambda v, c=column: fmt(c, v), return_dtype=pl.String)
                .fill_null(NOT_AVAILABLE)
            )
    # Text columns: a missing value reads as a dash, booleans as yes / no.
    shown = shown.with_columns(
        *(pl.col(c).fill_null("—") for c, t in shown.schema.items() if t == pl.String),
        *(
            pl.col(c).replace_strict(
                {True: "yes", False: "no"}, default="—", return_dtype=pl.String
            )
            for c, t in shown.schema.items()
            if t == pl.Boolean
        ),
    )
    shown = shown.rename({c: title(c) for c in frame.columns})
    helps = {title(c): _column_help(c) for c in frame.columns if definition(c)}
    if isinstance(height, int):  # never taller than the rows need
        height = min(height, 38 + 35 * max(frame.height, 1))
    plain_table(shown, helps, height=height)
    if name is not None:
        download(download_frame if download_frame is not None else frame, name)


def plain_table(
    shown: pl.DataFrame, helps: Mapping[str, str] | None = None, *, height: int | str = "auto"
) -> None:
    """``shown`` as it is (formatted and titled already), each column wide enough
    for its header; ``helps`` are the headers' tooltips."""
    st.dataframe(
        shown,
        hide_index=True,
        height=height,
        width="stretch",
        column_config=fitted_columns(shown, helps),
    )


def fitted_columns(
    shown: pl.DataFrame, helps: Mapping[str, str] | None = None
) -> dict[str, st.column_config.Column]:
    """Column widths that fit each header as well as its longest cell: the grid sizes
    a column to its cells alone and cuts a longer header ("Accepted-label error ra")."""
    flat = [c for c, t in shown.schema.items() if not t.is_nested()]
    longest = shown.select(pl.col(flat).cast(pl.String).str.len_chars().max().fill_null(0))
    return {
        column: st.column_config.Column(
            # about 8 px a character of the header's bold font, with room for its menu
            width=min(
                400, 32 + 8 * max(len(column), longest[column].item() if column in flat else 0)
            ),
            help=(helps or {}).get(column),
        )
        for column in shown.columns
    }


def _column_help(column: str) -> str:
    text = definition(column)
    if unit(column) in ("rate", "currency", "seconds", "hours", "coefficient"):
        text += (
            ". n/a: not available in that row (nothing to divide by, or the data lacks a table)."
        )
    return text


def empty(message: str) -> None:
    st.info(message, icon=":material/info:")


# --------------------------------------------------------------------- problem banners


def relative(file: str) -> str:
    try:
        return str(Path(file).resolve().relative_to(REPO))
    except ValueError:
        return file


def _where(error: QueryError) -> str:
    return relative(error.file) + (f":{error.line}" if error.line is not None else "")


def _query_banner(error: QueryError) -> None:
    st.error(
        f"**Query file `{_where(error)}` failed:** {error.reason}\n\n"
        "The numbers that need it show n/a; every other number on this page is "
        "unaffected. Fix the file and the dashboard picks it up on the next rerun "
        "(see the Queries page).",
        icon=":material/error:",
    )


def check_banner(error: QueryError) -> None:
    """A check file of ``queries/checks/`` that failed: the data was checked without it."""
    st.error(
        f"**Check file `{_where(error)}` failed:** {error.reason}\n\n"
        "The data was checked against every other rule, not this one. Fix the file and "
        "the dashboard picks it up on the next rerun (see the Queries page).",
        icon=":material/error:",
    )


def query_errors(aggs: Aggregates, names: Sequence[str] | None = None) -> None:
    """A banner for each failed query file this page needs (all when ``names`` is None),
    naming the file, the line and DuckDB's message."""
    seen = set()
    for name, error in aggs.errors.items():
        if names is not None and name not in names and name != "data_as_of":
            continue
        if _where(error) + error.reason in seen:
            continue
        seen.add(_where(error) + error.reason)
        _query_banner(error)


def failed_note(aggs: Aggregates, query: str) -> str | None:
    """ "Not available: `file:line` failed (see above)." when ``query`` failed, else None:
    for a chart whose numbers come from it (:func:`chart`'s ``why_empty``)."""
    error = aggs.errors.get(query)
    return f"Not available: `{_where(error)}` failed (see above)." if error else None


def page_stopped(aggs: Aggregates, error: QueryError | None = None) -> None:
    """What is left of a page that stopped because it needs a failed query file: the
    banner of ``error`` (a file the page runs itself; the aggregates' failures have
    theirs at the top of the page already) and which files to fix."""
    # An aggregates' failure the page raised again has its banner at the top already.
    if error is not None and not any(error is known for known in aggs.errors.values()):
        _query_banner(error)
    failed = [error] if error is not None else aggs.errors.values()
    files = ", ".join(sorted({f"`{_where(e)}`" for e in failed}))
    st.info(
        f"The rest of this page needs {files}, which failed; it shows again on the first "
        "rerun after the fix. The other pages show whatever does not need it.",
        icon=":material/construction:",
    )


_HINTS = (
    (
        "data directory not found",
        "Point the dashboard at the folder holding the tables: `kpi serve DATA_DIR` or "
        "`KPI_DATA_DIR=DATA_DIR`. To try it out, make one with `kpi sample DATA_DIR`.",
    ),
    (
        "required table",
        "Add the missing table as `<table>.csv`, `<table>.parquet`, `<table>.jsonl` or a "
        "folder `<table>/` of Parquet files.",
    ),
    ("two files for one table", "Keep exactly one file per table; move the other away."),
    ("unknown table format", "Save the table as CSV, Parquet or JSONL."),
    ("column missing", "Add the column to the file's header (see annotation-log.md)."),
    ("targets", "Fix the targets file (`KPI_TARGETS`): it must be valid TOML."),
)


def set_aside_notice(aside: list[Problem], quarantine: str | None) -> None:
    """How many invalid rows the numbers leave out, and their reasons to download."""
    total, tables = counted(aside)
    st.warning(
        f"**{total} invalid row{'s' if total != 1 else ''} set aside** ({tables}): every number "
        f"here leaves {'them' if total != 1 else 'it'} out. Reasons in `{quarantine}`.",
        icon=":material/block:",
    )
    st.download_button(
        "Download the set-aside rows (CSV)",
        quarantine_frame(aside).write_csv(),
        file_name="quarantine.csv",
        mime="text/csv",
        icon=":material/download:",
    )


def _problems_frame(problems: Sequence[Problem]) -> pl.DataFrame:
    """One row per problem: file (relative to the repository), row, column, reason."""
    return pl.DataFrame(
        [(relative(p.file), p.row, p.column, p.reason) for p in problems],
        schema={"file": pl.String, "row": pl.Int64, "column": pl.String, "reason": pl.String},
        orient="row",
    )


def spaced_values_notice(aggs: Aggregates) -> None:
    """A warning naming the text values with spaces around them (:mod:`kpi_core.spacing`):
    each counts as a value of its own, which no number on the page shows."""
    notes = fetched_spaced_values(aggs)
    if not notes:
        return
    columns = ", ".join(f"{note.table}.{note.column}" for note in notes)
    st.warning(
        f"**Text with spaces around it** in {columns} counts as a value of its own: "
        "`' stem'` is another domain than `'stem'`, `'4 '` another label than `'4'`. "
        "Trim it where the data is exported.",
        icon=":material/space_bar:",
    )
    with st.expander("Where: the first such cell of each column"):
        st.dataframe(_problems_frame(notes), hide_index=True, width="stretch")


def problems_page(loaded: Loaded) -> None:
    """The page shown instead of the dashboard when the data cannot be used."""
    problems: list[Problem] = loaded.problems
    st.title("The data cannot be shown yet")
    root = loaded.source.data_dir
    st.error(
        f"**{len(problems)} problem{'s keep' if len(problems) != 1 else ' keeps'}** the dashboard "
        f"from opening on the data directory `{root}`. Fix "
        f"{'them' if len(problems) != 1 else 'it'} (edit the files) and reload this page.",
        icon=":material/report:",
    )
    hints = {hint for key, hint in _HINTS if any(key in p.reason for p in problems)}
    if any(p.row is not None for p in problems):
        hints.add(
            "Each row problem names the file, the data row (from 1, header not counted) "
            "and the column: correct the value or remove the row."
        )
    st.subheader("How to fix it")
    for hint in sorted(hints) or ["Correct each problem below."]:
        st.markdown(f"- {hint}")
    st.markdown(f"- Check again from a terminal with `kpi validate {root}` (exit 0 when clean).")
    st.subheader("Validation report")
    frame = _problems_frame(problems)
    # A problem with a whole file has no row or column: show a dash, not "None".
    shown = frame.with_columns(
        pl.col("row").cast(pl.String).fill_null("—"), pl.col("column").fill_null("—")
    )
    st.dataframe(shown, hide_index=True, width="stretch")
    download(frame, "validation-report")


# ------------------------------------------------------------------------ trend lines


def weekly_figure(
    weeks: pl.DataFrame,
    kpi: str,
    targets: Targets | None = None,
    *,
    low: str | None = None,
    high: str | None = None,
    interval_name: str = "95% Wilson interval",
    height: int = 320,
) -> go.Figure:
    """``kpi`` per ISO week as a line, its interval as a band, its target as a dashed line."""
    low = low or f"{kpi}_ci_low"
    high = high or f"{kpi}_ci_high"
    x = weeks["week"].to_list()
    figure = go.Figure()
    if low in weeks.columns and high in weeks.columns:
        band = weeks.drop_nulls([low, high])
        bx = band["week"].to_list()
        figure.add_trace(
            go.Scatter(
                x=bx + bx[::-1],
                y=band[high].to_list() + band[low].to_list()[::-1],
                fill="toself",
                line=dict(width=0),
                fillcolor="rgba(31,119,180,0.15)",
                hoverinfo="skip",
                name=interval_name,
                showlegend=True,
            )
        )
    hover_columns = {kpi: title(kpi)}
    if low in weeks.columns:
        hover_columns |= {low: "interval low", high: "interval high"}
    for extra in ("n_accepted_known", "accepted", "n_items_multi", "n_units"):
        if extra in weeks.columns:
            hover_columns[extra] = title(extra)
    figure.add_trace(
        go.Scatter(
            x=x,
            y=weeks[kpi].to_list(),
            mode="lines+markers",
            name=title(kpi),
            line=dict(color="#1f77b4"),
            text=hover_text(weeks, hover_columns),
            hovertemplate="<b>%{x}</b><br>%{text}<extra></extra>",
        )
    )
    rule = targets.rule(kpi) if targets is not None else None
    if rule is not None:
        target_line(figure, rule["target"], f"target {fmt(kpi, rule['target'])}")
    figure.update_xaxes(categoryorder="category ascending")
    return style(figure, x="ISO week", y=_axis_title(kpi), y_unit=unit(kpi), height=height)


def reference_line(
    figure: go.Figure,
    value: float,
    text: str,
    *,
    axis: str = "y",
    color: str = "#c62828",
    dash: str = "dash",
) -> go.Figure:
    """A line across the plot at ``value`` on ``axis``, named in the legend: a label
    on the plot hides the points and bars the line crosses."""
    line = dict(color=color, dash=dash, width=1)
    (figure.add_hline if axis == "y" else figure.add_vline)(value, line=line)
    return figure.add_trace(
        go.Scatter(x=[None], y=[None], mode="lines", line=line, name=text, hoverinfo="skip")
    )


def target_line(
    figure: go.Figure, value: float, text: str, *, axis: str = "y", dash: str = "dash"
) -> go.Figure:
    """A target: a red :func:`reference_line`, dashed unless told (two targets on one
    plot are told apart by their dashes)."""
    return reference_line(figure, value, text, axis=axis, dash=dash)


def _axis_title(kpi: str) -> str:
    suffix = {
        "rate": " (%)",
        "currency": " (currency units)",
        "seconds": " (s)",
        "hours": " (h)",
        "count": " (count)",
    }.get(unit(kpi) or "", "")
    return title(kpi) + suffix


axis_title = _axis_title


def target_colors(
    values: Sequence[float | None], target: float | None, higher_is_better: bool | None
) -> dict:
    """Heatmap colour settings: green on the good side of the target, yellow at it, red on
    the bad side (a plain blue scale when the KPI has no target or no direction)."""
    finite = [v for v in values if v is not None and v == v]
    if target is None or higher_is_better is None or not finite:
        return dict(colorscale="Blues")
    low, high = min(min(finite), target), max(max(finite), target)
    if high <= low:
        high = low + (abs(low) or 1.0)
    middle = (target - low) / (high - low)
    good, bad = "#1a9850", "#d73027"
    ends = (bad, good) if higher_is_better else (good, bad)
    return dict(
        colorscale=[[0.0, ends[0]], [middle, "#fee08b"], [1.0, ends[1]]], zmin=low, zmax=high
    )


def weekly_chart(
    weeks: pl.DataFrame,
    kpi: str,
    name: str,
    targets: Targets | None = None,
    aggs: Aggregates | None = None,
    *,
    last: int = 104,
    **kwargs,
) -> None:
    """:func:`weekly_figure` as a chart with its CSV, or a note when the KPI is n/a in
    every week (an empty chart would only show axes)."""
    if kpi not in weeks.columns or weeks[kpi].drop_nulls().len() == 0:
        st.markdown(f"**{name}**")
        reason = views.unavailable_reason(aggs, kpi) if aggs is not None else "Not available."
        empty(f"No week has a value. {reason}")
        return
    recent = weeks.sort("week").tail(last)
    chart(weekly_figure(recent, kpi, targets, **kwargs), views.trend(recent, kpi, last), name)
