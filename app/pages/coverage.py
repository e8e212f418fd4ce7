"""Coverage: which target slices have enough accepted items, and how many the others lack."""

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from kpi_app import data, shell, widgets
from kpi_core.coverage import GAP_COLUMNS, coverage_gaps

MET, SHORT = widgets.STATUS_HEX["ok"], widgets.STATUS_HEX["breach"]
KPI = "domain_coverage"

ctx = shell.context()
ctx.header(
    "Domain coverage",
    "Which target slices have enough accepted items, and how many do the others lack?",
    applies=("domain",),
)
widgets.query_errors(ctx.aggs, [KPI])

if not ctx.aggs.has("targets"):
    widgets.empty(
        "This data has no targets table, so there is no coverage to show: add targets "
        "(domain, difficulty, risk_class, target_accepted_items) to measure it."
    )
    st.stop()
if not ctx.aggs.has("reviews"):
    widgets.empty("Coverage counts accepted items, and this data has no reviews table.")
    st.stop()

overall, frame = data.coverage(ctx.source, ctx.filters)
gaps = coverage_gaps(frame)
left, right = st.columns([1, 2])
with left:
    widgets.tile(ctx.aggs, ctx.targets, KPI, overall)
with right:
    st.markdown(
        "An item counts toward its slice's target once any of its annotations is "
        "accepted (its latest review's verdict), whatever its date, vendor, tier or "
        "dataset version: coverage is a state at the as-of time, so only the domain "
        "filter applies. A target with an empty difficulty or risk class covers them all."
    )
    if gaps.height:
        short = gaps.filter(~gaps["met"])
        st.markdown(
            f"**{gaps.height - short.height} of {gaps.height}** target slices are covered; "
            f"the others lack **{short['missing_items'].sum():,}** accepted items in all."
        )

if gaps.height == 0:
    widgets.empty("No target in this selection.")
    st.stop()

labels = [
    " / ".join(v if v is not None else "any" for v in row)
    for row in gaps.select("domain", "difficulty", "risk_class").rows()
]
# Least covered at the top: plotly draws a horizontal bar chart's first row at the bottom.
figure = go.Figure(
    go.Bar(
        x=gaps[KPI].to_list()[::-1],
        y=labels[::-1],
        orientation="h",
        marker_color=[MET if met else SHORT for met in gaps["met"].to_list()][::-1],
        text=[
            f"{n:,} of {t:,}"
            for n, t in gaps.select("n_accepted_items", "target_accepted_items").rows()
        ][::-1],
        textposition="auto",
        hovertext=widgets.hover_text(
            gaps,
            {
                KPI: "coverage",
                "n_accepted_items": "accepted items",
                "target_accepted_items": "target",
                "missing_items": "still missing",
            },
        )[::-1],
        hoverinfo="text+y",
    )
)
figure.add_vline(x=1, line_dash="dot", line_color="#555")
widgets.style(
    figure,
    x="Accepted items / target (capped at 100%)",
    y="Target slice (domain / difficulty / risk class)",
    height=max(260, 60 + 28 * gaps.height),
)
figure.update_xaxes(tickformat=".0%", range=[0, 1.05])
widgets.chart(figure, gaps, "Coverage by target slice")

# Per slice the KPI's column is accepted / target; "Domain coverage" names the share of
# slices covered (the tile), so the table says what its column holds.
widgets.table(
    gaps.select(GAP_COLUMNS)
    .with_columns(pl.col("difficulty", "risk_class").fill_null("any"))
    .rename({KPI: "share_of_target"}),
    "Coverage targets",
    download_frame=gaps.select(GAP_COLUMNS),
)
