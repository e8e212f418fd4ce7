"""Defects & model lift: open data defects by severity and age, how fast they are
resolved, and what each model version did to each benchmark."""

import plotly.graph_objects as go
import streamlit as st

from kpi_app import data, shell, widgets
from kpi_core.defects import TARGET, against_target

SEVERITY_COLORS = {"sev1": "#b71c1c", "sev2": "#e65100", "sev3": "#f9a825", "sev4": "#9e9e9e"}

ctx = shell.context()
ctx.header(
    "Defects & model lift",
    "Which data defects are open, and do new model versions improve?",
    applies=("dates", "domain"),
)
widgets.query_errors(ctx.aggs, ["defect_durations", "model_lift"])

st.subheader("Data defects")
if not ctx.aggs.has("defects"):
    widgets.empty("This data has no defects table.")
else:
    turnaround, defects = data.defects(ctx.source, ctx.filters)
    turnaround = turnaround.sort("severity")
    rule = ctx.targets.rule(TARGET)
    target = widgets.fmt("age_h", rule["target"], short=True) if rule is not None else None
    judged = against_target(turnaround, defects, ctx.targets)
    overdue = dict(judged.select("severity", "n_open_past").rows())
    open_defects = defects.filter(defects["is_open"]).sort("age_h", descending=True)
    st.markdown("**Median time to resolve, by severity**")
    for column, row in zip(
        st.columns(len(turnaround)), turnaround.iter_rows(named=True), strict=True
    ):
        with column, st.container(border=True):
            median = row["median_resolution_h"]
            st.metric(
                row["severity"],
                widgets.fmt("turnaround_median_h", median, short=True),
                help=(
                    "Median hours from opened_at to resolved_at over resolved defects. "
                    + (
                        ""
                        if median is not None
                        else "Not available: none resolved in this selection. "
                    )
                    + widgets.target_text(ctx.targets, TARGET)
                ),
            )
            st.caption(
                f"{row['n_open']} open · {row['n_resolved']} resolved · oldest open "
                f"{widgets.fmt('age_h', row['oldest_open_age_h'])}"
            )
            with st.container(horizontal=True, gap="small"):
                widgets.status_badge(ctx.targets, TARGET, median)
                if overdue.get(row["severity"]):
                    st.badge(
                        f"{overdue[row['severity']]} open > {target}",
                        color="red",
                        icon=":material/schedule:",
                    )
    left, right = st.columns(2)
    with left:
        figure = go.Figure(
            go.Bar(
                x=turnaround["severity"].to_list(),
                y=turnaround["median_resolution_h"].to_list(),
                # coloured by status against the turnaround target, like the tiles above
                marker_color=[
                    widgets.STATUS_HEX[ctx.targets.status(TARGET, median)]
                    for median in turnaround["median_resolution_h"]
                ],
                text=widgets.hover_text(
                    turnaround,
                    {
                        "median_resolution_h": "median resolution",
                        "n_resolved": "resolved",
                        "n_open": "open",
                    },
                ),
                hovertemplate="<b>%{x}</b><br>%{text}<extra></extra>",
                textposition="none",
            )
        )
        if rule is not None:
            widgets.target_line(figure, rule["target"], f"target {target}")
        widgets.style(figure, x="Severity", y="Median hours to resolve (h)", height=340)
        widgets.chart(figure, turnaround, "Defect turnaround by severity")
        if rule is None:
            st.caption(
                f"No defect-turnaround target is set: add `[kpi.{TARGET}]` (direction, "
                "target, warn, in hours) to the targets file to colour these."
            )
    with right:
        if open_defects.height:
            figure = go.Figure()
            for severity, color in SEVERITY_COLORS.items():
                part = open_defects.filter(open_defects["severity"] == severity)
                if part.height:
                    figure.add_trace(
                        go.Bar(
                            name=severity,
                            y=part["defect_id"].to_list(),
                            x=part["age_h"].to_list(),
                            orientation="h",
                            marker_color=color,
                            customdata=part["domain"].to_list(),
                            hovertemplate="<b>%{y}</b> (%{customdata})<br>open for %{x:,.1f} h<extra></extra>",
                        )
                    )
            figure.update_yaxes(autorange="reversed")
            figure.update_layout(showlegend=True)  # names the severity even when there is one
            if rule is not None:  # a bar past the line: open longer than a resolution may take
                widgets.target_line(figure, rule["target"], f"target {target}", axis="x")
            widgets.style(
                figure,
                x="Age at the as-of time (h)",
                y="Open defect",
                legend="Severity",
                height=max(260, 60 + 28 * open_defects.height),
            )
            widgets.chart(
                figure,
                open_defects.select("defect_id", "domain", "severity", "opened_at", "age_h"),
                "Open defects by severity and age",
            )
        else:
            st.success("No defect is open at the as-of time.", icon=":material/check_circle:")
    with st.expander(f"All {defects.height} defects in this selection"):
        widgets.table(defects.drop("week_start").sort("opened_at", descending=True), "defects")

st.subheader("Model lift")
st.caption(
    "Every evaluation in the data: of the filters, only the domain applies "
    "(the dates keep defects by the ISO week they were opened in)."
)
if not ctx.aggs.has("benchmarks"):
    widgets.empty("This data has no benchmarks table.")
else:
    lift = data.filtered(ctx.source, "model_lift", ctx.filters).sort(
        "domain", "benchmark", "evaluated_at"
    )
    if lift.height == 0:
        widgets.empty("No benchmark result in this selection.")
    else:
        left, right = st.columns(2)
        series = lift.select("domain", "benchmark").unique(maintain_order=True).rows()
        score, gain = go.Figure(), go.Figure()
        for i, (domain, benchmark) in enumerate(series):
            part = lift.filter((lift["domain"] == domain) & (lift["benchmark"] == benchmark))
            name, color = f"{domain} · {benchmark}", widgets.series_color(i)
            text = widgets.hover_text(
                part,
                {
                    "score": "score",
                    "lift": "lift vs previous",
                    "previous_model_version": "previous",
                },
            )
            score.add_trace(
                go.Scatter(
                    x=part["model_version"].to_list(),
                    y=part["score"].to_list(),
                    name=name,
                    mode="lines+markers",
                    line=dict(color=color),
                    text=text,
                    hovertemplate=f"<b>{name}</b> · %{{x}}<br>%{{text}}<extra></extra>",
                )
            )
            gain.add_trace(
                go.Bar(
                    x=part["model_version"].to_list(),
                    y=part["lift"].to_list(),
                    name=name,
                    marker_color=color,
                    text=text,
                    textposition="none",
                    hovertemplate=f"<b>{name}</b> · %{{x}}<br>%{{text}}<extra></extra>",
                )
            )
        gain.update_layout(barmode="group")
        with left:
            widgets.chart(
                widgets.style(
                    score,
                    x="Model version (by evaluation date)",
                    y="Benchmark score",
                    legend="Domain · benchmark",
                    legend_side=True,
                    height=460,
                ),
                lift,
                "Benchmark score by model version",
            )
        with right:
            widgets.chart(
                widgets.style(
                    gain,
                    x="Model version",
                    y="Lift (score − previous version's score)",
                    legend="Domain · benchmark",
                    legend_side=True,
                    height=460,
                ),
                lift.select(
                    "domain", "benchmark", "model_version", "previous_model_version", "lift"
                ),
                "Model lift by version",
            )
