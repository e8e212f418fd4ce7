"""Backlog & turnaround: what waits for review and for how long, the oldest waiting
work, turnaround, and how long specialist (final) reviews take."""

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from kpi_app import data, shell, widgets
from kpi_core import views
from kpi_core.backlog import AGE_BUCKETS

AGE_COLORS = ("#9ecae1", "#4292c6", "#fd8d3c", "#d62728")
STAGES = {
    "awaiting_review": "Awaiting first review",
    "awaiting_final": "Passed precheck, awaiting final",
}
TILES = (
    "review_backlog",
    "review_backlog_oldest_h",
    "turnaround_median_h",
    "turnaround_p90_h",
    "specialist_review_time_median_s",
    "specialist_review_time_p90_s",
)

ctx = shell.context()
ctx.header(
    "Backlog & turnaround", "What is waiting, how old is it, and how fast do reviews come back?"
)
widgets.query_errors(
    ctx.aggs,
    [
        "review_backlog",
        "turnaround_hours",
        "specialist_review_times",
        "oldest_waiting_annotations",
    ],
)

overall = ctx.overall()
weeks = ctx.table("week")
for start in (0, 3):
    for column, kpi in zip(st.columns(3), TILES[start : start + 3], strict=True):
        with column:
            weekly = weeks if kpi.startswith(("turnaround", "specialist")) else None
            widgets.tile(ctx.aggs, ctx.targets, kpi, overall.get(kpi), weekly, compact=True)

if not ctx.aggs.has("reviews"):
    widgets.empty(
        "This data has no reviews table, so there is no backlog, turnaround or review time to show."
    )
    st.stop()

# The review backlog KPI counts annotations with no review at all; those past the
# precheck wait for a specialist too, and leaders ask for both.
final = data.backlog_stages(ctx.source, (), ctx.filters).filter(pl.col("stage") == "awaiting_final")
if final.height and final["n_backlog"][0]:
    st.info(
        f"Besides the review backlog, **{final['n_backlog'][0]:,}** annotations passed the "
        f"precheck and await a final review, the oldest for "
        f"**{widgets.fmt('age_h', final['oldest_age_h'][0])}** (the review backlog counts "
        "only annotations with no review yet).",
        icon=":material/hourglass_top:",
    )

st.subheader("Aging of the backlog")
stages = data.backlog_stages(ctx.source, ("domain",), ctx.filters)
aging = views.aging(stages, "domain")
aging = aging.sort(
    aging["stage"].replace_strict(list(STAGES), list(range(len(STAGES))), default=len(STAGES)),
    maintain_order=True,
)
if aging.height == 0 or aging["n"].sum() == 0:
    st.success("Nothing is waiting for review at the as-of time.", icon=":material/check_circle:")
else:
    figure = go.Figure()
    for color, label in zip(AGE_COLORS, AGE_BUCKETS.values(), strict=True):
        part = aging.filter(aging["age"] == label)
        figure.add_trace(
            go.Bar(
                name=label,
                x=[[STAGES.get(s, s) for s in part["stage"].to_list()], part["domain"].to_list()],
                y=part["n"].to_list(),
                marker_color=color,
                hovertemplate=f"<b>%{{x}}</b><br>waiting {label}: %{{y:,}}<extra></extra>",
            )
        )
    figure.update_layout(barmode="stack")
    widgets.style(
        figure, x="Stage / domain", y="Waiting annotations (count)", legend="Age", height=380
    )
    widgets.chart(figure, aging, "Waiting annotations by stage, domain and age")

left, right = st.columns(2)
with left:
    histogram = data.review_time_histogram(ctx.source, ctx.filters)
    if histogram.height:
        mids = ((histogram["bin_start"] + histogram["bin_end"]) / 2).to_list()
        widths = (histogram["bin_end"] - histogram["bin_start"]).to_list()
        labels = [
            f"{a:,.0f}–{b:,.0f} s" for a, b in histogram.select("bin_start", "bin_end").rows()
        ]
        figure = go.Figure(
            go.Bar(
                x=mids,
                y=histogram["n"].to_list(),
                width=widths,
                marker_color="#1f77b4",
                customdata=labels,
                hovertemplate="%{customdata}<br>%{y:,} reviews<extra></extra>",
            )
        )
        for kpi, dash in (
            ("specialist_review_time_median_s", "dash"),
            ("specialist_review_time_p90_s", "dot"),
        ):
            if overall.get(kpi) is not None:
                widgets.reference_line(
                    figure,
                    overall[kpi],
                    f"{'median' if 'median' in kpi else 'p90'} {widgets.fmt(kpi, overall[kpi])}",
                    axis="x",
                    dash=dash,
                )
        widgets.style(figure, x="Final-review duration (s)", y="Final reviews (count)", height=360)
        widgets.chart(figure, histogram, "Specialist review time distribution")
        st.caption("The last bin holds everything above the 99th percentile.")
    else:
        widgets.empty("No final-stage review has a duration in this selection.")
with right:
    domains = ctx.table("domain")
    figure = go.Figure()
    for kpi, color in (("turnaround_median_h", "#1f77b4"), ("turnaround_p90_h", "#9ecae1")):
        figure.add_trace(
            go.Bar(
                name=widgets.title(kpi),
                x=domains["domain"].to_list(),
                y=domains[kpi].to_list(),
                marker_color=color,
                customdata=[widgets.fmt(kpi, v) for v in domains[kpi].to_list()],
                hovertemplate="<b>%{x}</b><br>%{customdata}<extra></extra>",
            )
        )
    rule = ctx.targets.rule("turnaround_median_h")
    if rule is not None:
        text = f"median target {widgets.fmt('turnaround_median_h', rule['target'])}"
        widgets.target_line(figure, rule["target"], text)
    figure.update_layout(barmode="group")
    widgets.style(figure, x="Domain", y="Hours from submission to decision (h)", height=360)
    widgets.chart(
        figure,
        domains.select(
            "domain",
            "turnaround_median_h",
            "turnaround_p90_h",
            "review_backlog",
            "review_backlog_oldest_h",
        ),
        "Turnaround by domain",
        why_empty=widgets.failed_note(ctx.aggs, "turnaround_hours"),
    )

st.subheader("Oldest waiting annotations")
st.caption(
    "The annotations waiting longest at the as-of time, oldest first, with their age in "
    "hours: for a first review (the review backlog), and for the final review after a "
    "passed precheck."
)
for tab, stage in zip(st.tabs(list(STAGES.values())), STAGES, strict=True):
    with tab:
        oldest = data.oldest_waiting(ctx.source, ctx.filters, stage)
        failed = widgets.failed_note(ctx.aggs, "oldest_waiting_annotations")
        if failed:  # an empty table would read as "nothing waits"
            widgets.empty(failed)
        elif oldest.height:
            # The tab names the stage; the age leads, as it is what the table is about.
            widgets.table(
                oldest.select("age_h", "annotation_id", pl.exclude("age_h", "annotation_id")).drop(
                    "stage"
                ),
                f"oldest {stage.replace('_', ' ')}",
                download_frame=oldest,
            )
        else:
            widgets.empty("Nothing is waiting at this stage.")
