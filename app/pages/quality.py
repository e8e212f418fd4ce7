"""Quality & QA funnel: error rate with intervals, gold accuracy, rework, the two-tier
funnel, and programmatic versus human accuracy by difficulty."""

import plotly.graph_objects as go
import streamlit as st

from kpi_app import shell, widgets
from kpi_core import views
from kpi_core.formatting import interval_error_bars

TILES = (
    "accepted_label_error_rate",
    "gold_accuracy",
    "rework_rate",
    "precheck_pass_rate",
    "final_overturn_rate",
    "programmatic_accuracy",
)

ctx = shell.context()
ctx.header("Quality & QA funnel", "Are accepted labels right, and where does review catch errors?")
widgets.query_errors(ctx.aggs, ["annotation_kpi_counts"])

overall = ctx.overall()
weeks = ctx.table("week")
for start in (0, 3):
    for column, kpi in zip(st.columns(3), TILES[start : start + 3], strict=True):
        with column:
            widgets.tile(ctx.aggs, ctx.targets, kpi, overall.get(kpi), weeks)

left, right = st.columns(2)
with left:
    widgets.weekly_chart(
        weeks,
        "accepted_label_error_rate",
        "Accepted-label error rate by ISO week",
        ctx.targets,
        ctx.aggs,
    )
with right:
    domains = ctx.table("domain")
    kpi = "accepted_label_error_rate"
    low, high = f"{kpi}_ci_low", f"{kpi}_ci_high"
    figure = go.Figure(
        go.Bar(
            x=domains["domain"].to_list(),
            y=domains[kpi].to_list(),
            error_y=interval_error_bars(domains, kpi),
            text=widgets.hover_text(
                domains,
                {
                    kpi: widgets.title(kpi),
                    low: "interval low",
                    high: "interval high",
                    "n_accepted_known": "of known truth",
                },
            ),
            hovertemplate="<b>%{x}</b><br>%{text}<extra></extra>",
            textposition="none",
            # each domain judged by its own target (medicine's may be stricter)
            marker_color=[
                widgets.STATUS_HEX[ctx.targets.status(kpi, v, d)]
                for d, v in domains.select("domain", kpi).rows()
            ],
            showlegend=False,
        )
    )
    if ctx.targets.rule(kpi) is not None:
        figure.add_trace(
            go.Scatter(
                x=domains["domain"].to_list(),
                y=[ctx.targets.rule(kpi, d)["target"] for d in domains["domain"]],
                mode="markers",
                name="the domain's target",
                meta=widgets.REFERENCE,  # a target alone is nothing to draw
                marker=dict(
                    symbol="line-ew", size=36, color="#222", line=dict(width=2, color="#222")
                ),
                hovertemplate="<b>%{x}</b><br>target %{y:.1%}<extra></extra>",
            )
        )
    widgets.chart(
        widgets.style(figure, x="Domain", y=widgets.axis_title(kpi), y_unit="rate"),
        domains.select("domain", kpi, low, high, "n_accepted_known", "n_accepted_wrong"),
        "Accepted-label error rate by domain (95% Wilson interval)",
        why_empty=views.missing_reason(ctx.aggs, kpi),
    )

left, right = st.columns(2)
with left:
    funnel = views.qa_funnel(overall)
    figure = go.Figure(
        go.Funnel(
            y=funnel["stage"].to_list(),
            x=funnel["n"].to_list(),
            texttemplate="%{value:,}<br>%{percentInitial:.1%}",
            hovertemplate="<b>%{y}</b><br>%{x:,} (%{percentInitial:.1%} of submitted)<extra></extra>",
            marker_color=["#1f77b4", "#4a90c2", "#2e7d32", "#7a9a3a", "#2e7d32"],
        )
    )
    widgets.chart(
        widgets.style(figure, x="Count", y="Stage", height=380),
        funnel,
        "Two-tier QA funnel: submitted → precheck → final",
        why_empty=views.missing_reason(ctx.aggs, "precheck_pass_rate"),
    )
    st.caption(
        f"Precheck pass rate {widgets.fmt('precheck_pass_rate', overall.get('precheck_pass_rate'))}; "
        f"final overturn rate {widgets.fmt('final_overturn_rate', overall.get('final_overturn_rate'))} "
        "(passed precheck, but the latest final review is not accept)."
    )
with right:
    accuracy = views.accuracy_by_tier(ctx.table("difficulty", "tier"))
    figure = go.Figure()
    colors = {"programmatic": "#9467bd", "generalist": "#1f77b4", "specialist": "#2e7d32"}
    for tier in accuracy["tier"].unique(maintain_order=True).to_list():
        part = accuracy.filter(accuracy["tier"] == tier)
        figure.add_trace(
            go.Bar(
                name=f"{tier} ({part['measure'][0].lower()})",
                x=part["difficulty"].to_list(),
                y=part["accuracy"].to_list(),
                error_y=interval_error_bars(part, "accuracy", "ci_low", "ci_high"),
                marker_color=colors.get(tier),
                text=widgets.hover_text(
                    part,
                    {
                        "accuracy": "accuracy",
                        "ci_low": "interval low",
                        "ci_high": "interval high",
                        "n": "annotations judged",
                    },
                    {
                        "accuracy": "gold_accuracy",
                        "ci_low": "gold_accuracy",
                        "ci_high": "gold_accuracy",
                        "n": "n_annotations",
                    },
                ),
                hovertemplate=f"<b>{tier}</b> · %{{x}}<br>%{{text}}<extra></extra>",
                textposition="none",
            )
        )
    figure.update_layout(barmode="group")
    widgets.chart(
        widgets.style(
            figure, x="Difficulty", y="Accuracy (%)", y_unit="rate", height=380, legend="Tier"
        ),
        accuracy,
        "Programmatic vs human accuracy by difficulty",
    )
    st.caption(
        "Programmatic: labels of known truth that are right. Human tiers: labels on "
        "gold items equal to the gold label. Bars show 95% Wilson intervals."
    )

left, right = st.columns(2)
for column, kpi in zip((left, right), ("gold_accuracy", "rework_rate"), strict=True):
    with column:
        widgets.weekly_chart(weeks, kpi, f"{widgets.title(kpi)} by ISO week", ctx.targets, ctx.aggs)

st.subheader("By vendor")
vendors = ctx.table("vendor")
widgets.table(
    vendors.select("vendor", "n_annotations", "accepted", *TILES),
    "quality by vendor",
)
