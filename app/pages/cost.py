"""Cost & throughput: cost per accepted label by vendor, tier and domain, accepted
labels per week, and cost against quality for vendors and annotators."""

import plotly.graph_objects as go
import streamlit as st

from kpi_app import shell, widgets
from kpi_core import views
from kpi_core.formatting import interval_error_bars

KPI = "cost_per_accepted_label"
QUALITY = "accepted_label_error_rate"

ctx = shell.context()
ctx.header("Cost & throughput", "What does an accepted label cost, and how many do we get a week?")
widgets.query_errors(ctx.aggs, ["annotation_kpi_counts"])

overall = ctx.overall()
weeks = ctx.table("week")
for column, kpi in zip(st.columns(3), (KPI, "accepted", "rework_rate"), strict=True):
    with column:
        widgets.tile(ctx.aggs, ctx.targets, kpi, overall.get(kpi), weeks)
if overall.get("n_cost_missing"):
    st.warning(
        f"{widgets.fmt('n_annotations', overall['n_cost_missing'])} annotations, reviews or audits "
        "have no cost and nothing to derive one from (no duration or hourly rate); they count 0.",
        icon=":material/warning:",
    )

rule = ctx.targets.rule(KPI)
for column, dimension in zip(st.columns(3), ("vendor", "tier", "domain"), strict=True):
    with column:
        frame = ctx.table(dimension).sort(KPI, descending=True, nulls_last=True)
        # Bars across: a third of a laptop screen cuts names written under upright bars.
        figure = go.Figure(
            go.Bar(
                y=frame[dimension].to_list(),
                x=frame[KPI].to_list(),
                orientation="h",
                # each bar judged by the target (a domain by its own), as the tiles are
                marker_color=[
                    widgets.STATUS_HEX[
                        ctx.targets.status(KPI, v, name if dimension == "domain" else None)
                    ]
                    for name, v in frame.select(dimension, KPI).rows()
                ],
                text=widgets.hover_text(
                    frame,
                    {KPI: "cost per accepted", "cost": "total cost", "accepted": "accepted labels"},
                    {"cost": KPI},
                ),
                hovertemplate="<b>%{y}</b><br>%{text}<extra></extra>",
                textposition="none",
            )
        )
        if rule is not None:
            widgets.target_line(
                figure, rule["target"], f"target {widgets.fmt(KPI, rule['target'])}", axis="x"
            )
        widgets.style(
            figure,
            # short: the chart is a third of a laptop screen (the unit is the tiles')
            x=widgets.short_title(KPI),
            y="",
            height=max(220, 110 + 30 * frame.height),
        )
        figure.update_yaxes(autorange="reversed")  # the dearest on top
        figure.update_xaxes(tickformat=",.0f")
        widgets.chart(
            figure,
            frame.select(dimension, KPI, "cost", "accepted", "n_annotations"),
            f"Cost per accepted label by {dimension}",
            why_empty=views.missing_reason(ctx.aggs, KPI),
        )

st.subheader("Throughput")
by_vendor_week = ctx.table("week", "vendor").sort("week", "vendor")
figure = go.Figure()
for i, vendor in enumerate(by_vendor_week["vendor"].unique(maintain_order=True).to_list()):
    part = by_vendor_week.filter(by_vendor_week["vendor"] == vendor)
    figure.add_trace(
        go.Bar(
            name=str(vendor),
            x=part["week"].to_list(),
            y=part["accepted"].to_list(),
            marker_color=widgets.series_color(i),
            hovertemplate=f"<b>{vendor}</b> · %{{x}}<br>accepted: %{{y:,}}<extra></extra>",
        )
    )
figure.update_layout(barmode="stack")
widgets.style(figure, x="ISO week", y="Accepted labels per week (count)", legend="Vendor")
widgets.chart(
    figure,
    by_vendor_week.select("week", "vendor", "accepted", "n_annotations"),
    "Throughput: accepted labels per ISO week, by vendor",
    why_empty=views.missing_reason(ctx.aggs, "throughput"),
)

st.subheader("Cost against quality")
st.caption(
    "Lower-left is better: cheap accepted labels that are rarely wrong. Marker size: "
    "accepted labels; a vendor's vertical bar: the error rate's 95% Wilson interval. "
    "Groups whose error rate or cost is n/a are left out."
)
left, right = st.columns(2)
for column, dimension in zip((left, right), ("vendor", "annotator_id"), strict=True):
    with column:
        by = ("vendor", "annotator_id") if dimension == "annotator_id" else ("vendor",)
        frame = ctx.table(*by).drop_nulls([KPI, QUALITY])
        if frame.height == 0:
            widgets.empty(
                f"No {widgets.title(dimension).lower()} has both a cost and an error rate."
            )
            continue
        peak = max(frame["accepted"].max() or 1, 1)
        figure = go.Figure()
        vendors = frame["vendor"].unique().sort().to_list()  # colours in name order
        # The largest bubbles drawn first, so a small one at the same place shows on top.
        drawn = frame.sort("accepted", descending=True)["vendor"].unique(maintain_order=True)
        for vendor in drawn.to_list():
            i = vendors.index(vendor)
            part = frame.filter(frame["vendor"] == vendor)
            sizes = (8 + 32 * (part["accepted"].cast(float) / peak).sqrt()).to_list()
            # A few vendors: each with its 95% interval (names in the legend, as labels
            # beside close markers overlap); hundreds of annotators: markers alone.
            interval = (
                dict(
                    interval_error_bars(part, QUALITY),
                    color=widgets.series_color(i),
                    thickness=1.5,
                )
                if dimension == "vendor"
                else None
            )
            figure.add_trace(
                go.Scatter(
                    x=part[KPI].to_list(),
                    y=part[QUALITY].to_list(),
                    name=str(vendor),
                    legendrank=i,  # the legend in name order, whatever the drawing order
                    mode="markers",
                    error_y=interval,
                    marker=dict(
                        size=sizes,
                        color=widgets.series_color(i),
                        opacity=0.75,
                        line=dict(width=1, color="white"),
                    ),
                    customdata=widgets.hover_text(
                        part,
                        {
                            dimension: widgets.title(dimension),
                            KPI: "cost per accepted",
                            QUALITY: "error rate",
                            f"{QUALITY}_ci_low": "interval low",
                            f"{QUALITY}_ci_high": "interval high",
                            "accepted": "accepted",
                        },
                        {f"{QUALITY}_ci_low": QUALITY, f"{QUALITY}_ci_high": QUALITY},
                    ),
                    hovertemplate="%{customdata}<extra></extra>",
                )
            )
        for kpi, axis in ((KPI, "x"), (QUALITY, "y")):
            if (rule := ctx.targets.rule(kpi)) is not None:
                # dashes for one, dots for the other: the legend names each
                # short: two legend entries share a row of half a laptop screen
                what = "cost" if kpi == KPI else "error"
                text = f"{what} ≤ {widgets.fmt(kpi, rule['target'])}"
                widgets.target_line(
                    figure, rule["target"], text, axis=axis, dash="dot" if axis == "x" else "dash"
                )
        widgets.style(
            figure,
            x=widgets.axis_title(KPI),
            y=widgets.axis_title(QUALITY),
            y_unit="rate",
            # In half a laptop screen the legend (six vendors, two targets) wraps into a
            # column above the plot: two entries a row, and some extra height, keep the
            # plot itself readable.
            height=480,
            legend="Vendor",
        )
        figure.update_layout(legend=dict(entrywidthmode="fraction", entrywidth=0.5))
        widgets.chart(
            figure,
            frame.select(*by, KPI, QUALITY, f"{QUALITY}_ci_low", f"{QUALITY}_ci_high", "accepted"),
            f"Cost vs accepted-label error rate, by {widgets.title(dimension).lower()}",
        )

st.subheader("Cost by vendor and tier")
widgets.table(
    ctx.table("vendor", "tier").select(
        "vendor", "tier", "n_annotations", "accepted", "cost", KPI, QUALITY, "rework_rate"
    ),
    "cost by vendor and tier",
)
