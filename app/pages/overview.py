"""Overview: the headline KPIs, their trends, and what needs attention."""

import streamlit as st

from kpi_app import data, links, shell, widgets
from kpi_core import views

HEADLINE = (
    "accepted_label_error_rate",
    "disagreement_rate",
    "krippendorff_alpha",
    "cost_per_accepted_label",
    "specialist_review_time_median_s",
    "turnaround_median_h",
    "review_backlog",
    "domain_coverage",
)
#: KPIs whose week-over-week change means something (backlog and coverage are as-of states).
WEEKLY = HEADLINE[:6]
TRENDS = HEADLINE[:4]
WATCHED = (*HEADLINE[:7], "gold_accuracy", "rework_rate", "programmatic_accuracy",
           "final_overturn_rate", "domain_coverage")

ctx = shell.context()
ctx.header("Overview", "How good are the accepted labels, and what needs attention now?")
widgets.query_errors(ctx.aggs)

overall = ctx.overall()
weeks = ctx.table("week")
coverage, _ = data.coverage(ctx.source, ctx.filters)
values = {**overall, "domain_coverage": coverage}

for start in (0, 4):
    for column, kpi in zip(st.columns(4), HEADLINE[start:start + 4], strict=True):
        with column:
            widgets.tile(ctx.aggs, ctx.targets, kpi, values.get(kpi),
                         weeks if kpi in WEEKLY else None)

st.subheader("What needs attention")
breaches = views.attention(values, ctx.table("domain"), ctx.targets, WATCHED)
promoted = data.promoted(ctx.source, ctx.filters)
if breaches.height == 0 and (promoted is None or promoted.height == 0):
    st.success("No KPI breaches its target and no slice is promoted to specialist review.",
               icon=":material/check_circle:")
for scope, kpi, value, _, target in breaches.rows():
    where = "Overall" if scope == "all" else f"Domain **{scope}**"
    label = (f"{where}: {widgets.title(kpi)} is {widgets.fmt(kpi, value)} "
             f"(target {widgets.fmt(kpi, target)}) — breach")
    params = {} if scope == "all" else {"domain": [scope]}
    links.link(links.KPI_PAGE.get(kpi, "overview"), label, icon=":material/error:", **params)
if promoted is not None:
    for row in promoted.iter_rows(named=True):
        name = views.slice_label(row["domain"], row["difficulty"], row["risk_class"])
        rates = ", ".join(
            f"{w['week']} {widgets.fmt('accepted_label_error_rate', w['accepted_label_error_rate'])}"
            for w in row["weeks"]
        )
        links.link("slices", f"Slice **{name}** promoted to specialist review ({rates})",
                   icon=":material/priority_high:", slice=name)

st.subheader("Trends")
recent = weeks.sort("week").tail(12)
for pair in (TRENDS[:2], TRENDS[2:]):
    for column, kpi in zip(st.columns(2), pair, strict=True):
        with column:
            widgets.chart(
                widgets.weekly_figure(recent, kpi, ctx.targets),
                views.trend(recent, kpi),
                f"{widgets.title(kpi)} by ISO week",
            )
