"""Slices: a domain x difficulty x risk-class heatmap, one slice in detail, promoted slices."""

import plotly.graph_objects as go
import streamlit as st

from kpi_app import data, filters, shell, widgets
from kpi_core import promotion, views
from kpi_core.catalog import KPIS
from kpi_core.grouping import SLICE

CHOICES = [k for k in KPIS if k not in ("review_backlog_oldest_h",)]

ctx = shell.context()
ctx.header("Slices", "Which domain × difficulty × risk class slices are off, and why?")
widgets.query_errors(
    ctx.aggs,
    [
        "annotation_kpi_counts",
        "item_label_counts",
        "review_backlog",
        "turnaround_hours",
        "specialist_review_times",
    ],
)

kpi = filters.page_choice("slices_kpi", "kpi", CHOICES, "accepted_label_error_rate")
st.selectbox("KPI", CHOICES, key="slices_kpi", format_func=widgets.title)
filters.remember_choice("slices_kpi", "kpi")

slices = ctx.table(*SLICE)
grid = views.slice_grid(slices, kpi)
risks = [c for c in grid.columns if c not in ("row", "domain", "difficulty")]
better = widgets.higher_is_better(kpi)
z = [list(r) for r in grid.select(risks).rows()]
counts = views.slice_grid(slices, "n_annotations").select(risks).rows()
text = [[widgets.fmt(kpi, v) for v in row] for row in z]
one_domain = ctx.filters.domains[0] if len(ctx.filters.domains) == 1 else None
# Domains held to their own target: with more than one domain shown, cells are shaded
# by their distance to their own domain's target, so one colour means one status.
own_targets = [d for d in grid["domain"].unique(maintain_order=True) if ctx.targets.has_own(kpi, d)]
by_own_target = one_domain is None and bool(own_targets)
rules = [ctx.targets.rule(kpi, d if by_own_target else None) for d in grid["domain"]]
if by_own_target:
    gaps = views.gap_to_target(slices, kpi, ctx.targets)
    shade = [list(r) for r in views.slice_grid(gaps, f"{kpi}_vs_target").select(risks).rows()]
    centre, colorbar = 0.0, f"{widgets.axis_title(kpi)} − its domain's target"
else:
    shade, centre = z, rules[0]["target"] if rules and rules[0] else None
    colorbar = widgets.axis_title(kpi)
hover = [
    [
        f"{widgets.title(kpi)}: {widgets.fmt(kpi, v)}"
        + (f" (target {widgets.fmt(kpi, rule['target'])})" if rule else "")
        + f"<br>Annotations: {widgets.fmt('n_annotations', n)}"
        for v, n in zip(row, nrow, strict=True)
    ]
    for row, nrow, rule in zip(z, counts, rules, strict=True)
]
if not any(v is not None for row in z for v in row):
    st.markdown(f"**{widgets.title(kpi)} by slice**")
    widgets.empty(f"No slice has a value. {views.unavailable_reason(ctx.aggs, kpi)}")
    selection = None
else:
    figure = go.Figure(
        go.Heatmap(
            z=shade,
            x=risks,
            y=grid["row"].to_list(),
            text=text,
            texttemplate="%{text}",
            hoverinfo="skip",
            colorbar=dict(title=dict(text=colorbar, side="right")),
            **widgets.target_colors([v for row in shade for v in row], centre, better),
            xgap=2,
            ygap=2,
        )
    )
    # Plotly reports clicks on markers, not heatmap cells: one clear marker per cell carries
    # the hover text and makes the cell clickable.
    cells = [
        (risk, row, hover[i][j])
        for i, row in enumerate(grid["row"].to_list())
        for j, risk in enumerate(risks)
    ]
    figure.add_trace(
        go.Scatter(
            x=[c[0] for c in cells],
            y=[c[1] for c in cells],
            customdata=[c[2] for c in cells],
            mode="markers",
            marker=dict(symbol="square", size=28, opacity=0.01, color="#000"),
            hovertemplate="<b>%{y} / %{x}</b><br>%{customdata}<extra></extra>",
            showlegend=False,
            selected=dict(marker=dict(opacity=0.01)),
            unselected=dict(marker=dict(opacity=0.01)),
        )
    )
    figure.update_yaxes(autorange="reversed")
    widgets.style(
        figure, x="Risk class", y="Domain / difficulty", height=max(320, 34 * grid.height + 120)
    )
    if widgets.unit(kpi) == "rate":
        figure.update_traces(
            colorbar_tickformat="+.0%" if by_own_target else ".0%", selector=dict(type="heatmap")
        )
    selection = widgets.chart(
        figure,
        slices.select(
            *SLICE,
            # the KPI first, then its interval and the counts behind it (once each:
            # "accepted" and "n_annotations" are KPIs one can pick too)
            *dict.fromkeys(
                [
                    kpi,
                    *[c for c in (f"{kpi}_ci_low", f"{kpi}_ci_high") if c in slices.columns],
                    "n_annotations",
                    "accepted",
                ]
            ),
        ),
        f"{widgets.title(kpi)} by slice",
        on_select="rerun",
        selection_mode="points",
    )
on_target = "(yellow = on target"
st.caption(
    (
        "The KPI has no target: the darker the blue, the higher the value."
        if centre is None
        else f"Colours are centred on {one_domain}'s target for the KPI {on_target})."
        if one_domain
        else f"Colours show each slice's distance to its own domain's target {on_target}; "
        f"{', '.join(own_targets)} {'has its' if len(own_targets) == 1 else 'have their'} own)."
        if by_own_target
        else f"Colours are centred on the KPI's target {on_target})."
    )
    + " Click a cell, or pick a slice below, to see its weekly trend, annotators and worst items."
)

# Worst first: by the distance to their own domain's target where domains differ in it.
ranked = (
    views.rank_slices(gaps, f"{kpi}_vs_target", better)
    if by_own_target
    else views.rank_slices(slices, kpi, better)
)
labels = [views.slice_label(*row) for row in ranked.select(SLICE).rows()]
value_of = dict(zip(labels, ranked[kpi].to_list(), strict=True))
points = (selection or {}).get("selection", {}).get("points", []) if selection else []
clicked = f"{points[0].get('y')} / {points[0].get('x')}" if points else None
# A chart's selection lasts across reruns: act when it changes, so picking another slice
# below is not undone, and a cell clicked again (after a click that clears it) counts.
if clicked != st.session_state.get("_slices_clicked"):
    st.session_state["_slices_clicked"] = clicked
    if clicked in labels:
        st.session_state["slices_pick"] = clicked

promoted = data.promoted(ctx.source, ctx.filters)
first_promoted = (
    [views.slice_label(*r) for r in promoted.select(SLICE).rows()] if promoted is not None else []
)
st.subheader("One slice")
if not labels:
    widgets.empty("No slice has data in this selection.")
else:
    filters.page_choice("slices_pick", "slice", labels, (first_promoted or labels)[0])
    chosen_label = st.selectbox(
        "Slice (domain / difficulty / risk class), worst first"
        + (" against its domain's target" if by_own_target else ""),
        labels,
        key="slices_pick",
        format_func=lambda s: (
            f"{s} — {widgets.fmt(kpi, value_of[s])}"
            + (" · promoted" if s in first_promoted else "")
        ),
    )
    filters.remember_choice("slices_pick", "slice")
    chosen = views.parse_slice(chosen_label)
    # One above the other: the annotators' nine columns do not fit half the page.
    weekly = views.select_slice(ctx.table(*SLICE, "week"), chosen).sort("week")
    widgets.weekly_chart(
        weekly,
        kpi,
        f"{widgets.title(kpi)} of {chosen_label} by ISO week",
        ctx.targets.for_domain(chosen["domain"]),  # a slice is judged by its domain's targets
        ctx.aggs,
    )
    st.markdown(f"**Annotators in {chosen_label}**")
    annotators = views.select_slice(ctx.table(*SLICE, "vendor", "tier", "annotator_id"), chosen)
    widgets.table(
        annotators.select(
            "annotator_id",
            "vendor",
            "tier",
            "n_annotations",
            "accepted",
            "accepted_label_error_rate",
            "rework_rate",
            "gold_accuracy",
            "cost_per_accepted_label",
        ).sort("n_annotations", descending=True),
        f"annotators of {chosen_label}",
        height=360,
    )
    st.markdown(f"**Items annotators agree on least in {chosen_label}**")
    worst = data.worst_items(ctx.source, tuple(chosen.items()), ctx.filters)
    if worst.height:
        widgets.table(worst.drop(*SLICE), f"worst items of {chosen_label}")
    else:
        widgets.empty("No item in this slice has two or more human annotators.")

st.subheader("Slices promoted to specialist review")
rule = ctx.targets.promotion
st.caption(
    f"Promoted: accepted-label error rate above {widgets.fmt('accepted_label_error_rate', rule.max_error_rate)} "
    f"in each of the last {rule.weeks} ISO weeks, with at least {rule.min_known} accepted "
    "annotations of known truth each week."
)
if promoted is None:
    widgets.empty(promotion.unavailable_reason(ctx.aggs))
elif promoted.height == 0:
    st.success("No slice is promoted.", icon=":material/check_circle:")
else:
    evidence = views.promotion_evidence(promoted)
    widgets.table(evidence, "promoted slices")
