"""Reliability: Krippendorff's alpha by week and domain with bootstrap intervals,
Cohen's kappa between annotators, and each annotator's agreement with consensus and gold."""

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from kpi_app import data, shell, widgets
from kpi_core import views
from kpi_core.formatting import interval_error_bars
from kpi_core.problems import DataError, QueryError

#: Krippendorff's guides: value, legend text, dash (two lines must differ in the legend).
GUIDES = (
    (0.800, "0.800: reliable", "dot"),
    (0.667, "0.667: tentative conclusions only", "dash"),
)

ctx = shell.context()
ctx.header("Reliability", "Do annotators agree beyond chance, and who drifts from the consensus?")
widgets.query_errors(ctx.aggs, ["item_label_counts"])

level = (
    st.segmented_control(
        "Level of measurement",
        ["nominal", "ordinal", "interval", "ratio"],
        default="nominal",
        key="reliability_level",
        help="Nominal treats labels as categories; the others read labels as numbers.",
    )
    or "nominal"
)


def guide_lines(figure: go.Figure) -> go.Figure:
    for value, text, dash in GUIDES:
        widgets.reference_line(figure, value, text, color="#888", dash=dash)
    return figure


try:
    overall = ctx.overall() if level == "nominal" else ctx.table(level=level).to_dicts()[0]
    by_week = data.alpha(ctx.source, ("week",), ctx.filters, level)
    by_domain = data.alpha(ctx.source, ("domain",), ctx.filters, level)
except (DataError, pl.exceptions.PolarsError) as error:  # labels that are not numbers
    st.warning(
        f"Alpha at the {level} level cannot be computed on these labels: "
        f"{str(error).splitlines()[0]}. Choose the nominal level.",
        icon=":material/warning:",
    )
    st.stop()

weeks = ctx.table("week")
for column, kpi in zip(
    st.columns(3), ("krippendorff_alpha", "disagreement_rate", "pairwise_agreement"), strict=True
):
    with column:
        widgets.tile(
            ctx.aggs, ctx.targets, kpi, overall.get(kpi), weeks if level == "nominal" else None
        )

left, right = st.columns(2)
with left:
    if by_week.height:
        figure = widgets.weekly_figure(
            by_week, "krippendorff_alpha", None, interval_name="95% bootstrap interval"
        )
        widgets.chart(
            guide_lines(figure),
            by_week,
            "Krippendorff's alpha by ISO week (95% bootstrap interval)",
        )
    else:
        widgets.empty("No item has two or more human annotators in this selection.")
with right:
    if by_domain.height:
        kpi = "krippendorff_alpha"
        figure = go.Figure(
            go.Bar(
                x=by_domain["domain"].to_list(),
                y=by_domain[kpi].to_list(),
                error_y=interval_error_bars(by_domain, kpi),
                text=widgets.hover_text(
                    by_domain,
                    {
                        kpi: "alpha",
                        f"{kpi}_ci_low": "interval low",
                        f"{kpi}_ci_high": "interval high",
                        "n_units": "items with ≥ 2 annotators",
                    },
                    {f"{kpi}_ci_low": kpi, f"{kpi}_ci_high": kpi, "n_units": "n_annotations"},
                ),
                hovertemplate="<b>%{x}</b><br>%{text}<extra></extra>",
                textposition="none",
                # each domain judged by its own target, as the guide lines show the default
                marker_color=[
                    widgets.STATUS_HEX[ctx.targets.status(kpi, v, d)]
                    for d, v in by_domain.select("domain", kpi).rows()
                ],
            )
        )
        widgets.style(figure, x="Domain", y="Krippendorff's alpha (coefficient)")
        widgets.chart(
            guide_lines(figure),
            by_domain,
            "Krippendorff's alpha by domain (95% bootstrap interval)",
        )
    else:
        widgets.empty("No domain has items with two or more human annotators.")

st.caption(
    "Krippendorff: alpha ≥ 0.800 is reliable; 0.667 ≤ alpha < 0.800 allows only tentative "
    "conclusions; below 0.667 the labels should not be relied on. Intervals: 400 Poisson "
    "bootstrap replicates over items."
)

st.subheader("Annotator × annotator agreement (Cohen's kappa)")
min_shared = st.slider(
    "Only pairs sharing at least this many items", 5, 100, 20, step=5, key="reliability_min_shared"
)
try:
    with st.spinner("Pairing annotators' labels (first time only)…"):
        pairs = data.kappa_pairs(ctx.source, ctx.filters, min_shared)
        agreement = data.annotator_agreement(ctx.source, ctx.filters)
except QueryError as error:
    widgets.query_errors(ctx.aggs)
    st.error(
        f"**Query file `{widgets.relative(error.file)}"
        f"{':' + str(error.line) if error.line else ''}` failed:** {error.reason}",
        icon=":material/error:",
    )
    st.stop()

if pairs.height == 0:
    widgets.empty(
        f"No two annotators share {min_shared} or more items in this selection; "
        "lower the threshold or widen the filters."
    )
else:
    names, kappas, shared = views.kappa_grid(pairs)
    z = [list(r) for r in kappas.drop("annotator").rows()]
    counts = shared.drop("annotator").rows()
    hover = [
        [
            f"{a} × {b}<br>kappa {widgets.fmt('krippendorff_alpha', k)}<br>"
            f"{widgets.fmt('n_annotations', n)} shared items"
            if k is not None
            else f"{a} × {b}<br>n/a: fewer than {min_shared} shared items"
            for b, k, n in zip(names, zrow, nrow, strict=True)
        ]
        for a, zrow, nrow in zip(names, z, counts, strict=True)
    ]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=names,
            y=names,
            customdata=hover,
            colorscale="RdYlGn",
            zmin=0,
            zmax=1,
            hovertemplate="%{customdata}<extra></extra>",
            xgap=1,
            ygap=1,
            colorbar=dict(title=dict(text="Cohen's kappa")),
        )
    )
    figure.update_yaxes(autorange="reversed")
    side = min(900, max(360, 18 * len(names) + 160))
    widgets.style(figure, x="Annotator", y="Annotator", height=side)
    widgets.chart(figure, pairs, f"Cohen's kappa per annotator pair (≥ {min_shared} shared items)")
    st.caption(
        f"{pairs.height} pairs of {len(names)} annotators. Kappa is agreement beyond chance "
        "on the items both labelled: 1 perfect (green), 0 chance level; the scale stops at 0, "
        "so chance level and worse (negative) both show the deepest red: hover for the value."
    )

st.subheader("Each annotator against the consensus and gold")
if agreement.height == 0:
    widgets.empty("No human annotator labelled an item in this selection.")
else:
    shown = agreement.drop_nulls(["consensus_agreement_rate", "gold_agreement_rate"])
    if shown.height:
        figure = go.Figure()
        for i, vendor in enumerate(sorted(shown["vendor"].unique().drop_nulls().to_list())):
            part = shown.filter(shown["vendor"] == vendor)
            peak = max(shown["n_labels"].max() or 1, 1)
            figure.add_trace(
                go.Scatter(
                    x=part["consensus_agreement_rate"].to_list(),
                    y=part["gold_agreement_rate"].to_list(),
                    mode="markers",
                    name=vendor,
                    marker=dict(
                        size=(7 + 25 * (part["n_labels"] / peak).sqrt()).to_list(),
                        color=widgets.series_color(i),
                        opacity=0.75,
                        line=dict(width=1, color="white"),
                    ),
                    customdata=widgets.hover_text(
                        part,
                        {
                            "annotator_id": "annotator",
                            "tier": "tier",
                            "consensus_agreement_rate": "agrees with consensus",
                            "n_consensus": "of items with a consensus",
                            "gold_agreement_rate": "agrees with gold",
                            "n_gold": "of gold labels",
                        },
                        {
                            "consensus_agreement_rate": "gold_accuracy",
                            "gold_agreement_rate": "gold_accuracy",
                        },
                    ),
                    hovertemplate="%{customdata}<extra></extra>",
                )
            )
        widgets.style(
            figure,
            x="Agreement with the consensus of the others (%)",
            y="Agreement with gold (%)",
            y_unit="rate",
            height=440,
            legend="Vendor",
        )
        figure.update_xaxes(tickformat=".0%")
        widgets.chart(figure, shown, "Annotators: consensus vs gold agreement")
    else:
        widgets.empty("No annotator has both a consensus and a gold label to compare with.")
    st.markdown("**Annotators, lowest consensus agreement first**")
    widgets.table(
        agreement.sort("consensus_agreement_rate", nulls_last=True).rename(
            {
                "consensus_agreement_rate": "consensus_rate",
                "gold_agreement_rate": "gold_rate",
                "n_labels": "n_given",
            }
        ),
        "annotator agreement",
        height=420,
    )
    st.caption(
        "Consensus: the label most of the item's other annotators gave (items without a "
        "unique majority do not count). Gold: the item's gold label, or an agreed "
        "calibration label for labels given after it was recorded. Each annotator counts "
        "once per item, with their latest label."
    )
