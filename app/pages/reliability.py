"""Reliability: Krippendorff's alpha by week and domain with bootstrap intervals,
Cohen's kappa between annotators, and each annotator's agreement with consensus and gold."""

import plotly.graph_objects as go
import streamlit as st

from kpi_app import data, shell, widgets

GUIDES = ((0.800, "0.800: reliable"), (0.667, "0.667: tentative conclusions only"))

ctx = shell.context()
ctx.header("Reliability", "Do annotators agree beyond chance, and who drifts from the consensus?")
widgets.query_errors(ctx.aggs, ["item_label_counts"])

level = st.segmented_control(
    "Level of measurement", ["nominal", "ordinal", "interval", "ratio"], default="nominal",
    key="reliability_level",
    help="Nominal treats labels as categories; the others read labels as numbers.",
) or "nominal"

overall = ctx.overall() if level == "nominal" else ctx.table(level=level).to_dicts()[0]
weeks = ctx.table("week")
for column, kpi in zip(st.columns(3), ("krippendorff_alpha", "disagreement_rate", "pairwise_agreement"),
                       strict=True):
    with column:
        widgets.tile(ctx.aggs, ctx.targets, kpi, overall.get(kpi),
                     weeks if level == "nominal" else None)


def guide_lines(figure: go.Figure) -> go.Figure:
    for value, text in GUIDES:
        figure.add_hline(y=value, line=dict(color="#888", dash="dot", width=1),
                         annotation_text=text, annotation_position="bottom right")
    return figure


try:
    by_week = data.alpha(ctx.source, ("week",), ctx.filters, level)
    by_domain = data.alpha(ctx.source, ("domain",), ctx.filters, level)
except Exception as error:  # labels that are not numbers at a numeric level
    st.warning(f"Alpha at the {level} level cannot be computed on these labels: {error}",
               icon=":material/warning:")
    st.stop()

left, right = st.columns(2)
with left:
    if by_week.height:
        figure = widgets.weekly_figure(by_week, "krippendorff_alpha", None,
                                       interval_name="95% bootstrap interval")
        widgets.chart(guide_lines(figure), by_week,
                      "Krippendorff's alpha by ISO week (95% bootstrap interval)")
    else:
        widgets.empty("No item has two or more human annotators in this selection.")
with right:
    if by_domain.height:
        kpi = "krippendorff_alpha"
        figure = go.Figure(go.Bar(
            x=by_domain["domain"].to_list(), y=by_domain[kpi].to_list(),
            error_y=dict(type="data", symmetric=False,
                         array=(by_domain[f"{kpi}_ci_high"] - by_domain[kpi]).to_list(),
                         arrayminus=(by_domain[kpi] - by_domain[f"{kpi}_ci_low"]).to_list()),
            text=widgets.hover_text(
                by_domain,
                {kpi: "alpha", f"{kpi}_ci_low": "interval low", f"{kpi}_ci_high": "interval high",
                 "n_units": "items with ≥ 2 annotators"},
                {f"{kpi}_ci_low": kpi, f"{kpi}_ci_high": kpi, "n_units": "n_annotations"},
            ),
            hovertemplate="<b>%{x}</b><br>%{text}<extra></extra>", textposition="none",
            marker_color="#1f77b4",
        ))
        widgets.style(figure, x="Domain", y="Krippendorff's alpha (coefficient)")
        widgets.chart(guide_lines(figure), by_domain,
                      "Krippendorff's alpha by domain (95% bootstrap interval)")
    else:
        widgets.empty("No domain has items with two or more human annotators.")

st.caption("Krippendorff: alpha ≥ 0.800 is reliable; 0.667 ≤ alpha < 0.800 allows only tentative "
           "conclusions; below 0.667 the labels should not be relied on. Intervals: 400 Poisson "
           "bootstrap replicates over items.")

st.subheader("Annotator × annotator agreement (Cohen's kappa)")
widgets.empty("Cohen's kappa per annotator pair and agreement with consensus and gold "
              "arrive with kpi_core.kappa.")
