"""Overview: the headline KPIs, their trends, and what needs attention."""

import streamlit as st

from kpi_app import data, links, shell, widgets
from kpi_core import breaches, promotion, views
from kpi_core.defects import TARGET as DEFECTS
from kpi_core.defects import against_target
from kpi_core.grouping import iso_week_label, iso_week_start

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
WATCHED = (
    *HEADLINE[:7],
    "gold_accuracy",
    "rework_rate",
    "programmatic_accuracy",
    "final_overturn_rate",
    "domain_coverage",
)

#: Widths (px) of the attention cards, which wrap: wide enough for their longest
#: link, "medicine: 20.5% (target 3.0%) in W08, since 2025-W50".
BREACH_CARD_PX = 400
PROMOTED_CARD_PX = 260

ctx = shell.context()
ctx.header("Overview", "How good are the accepted labels, and what needs attention now?")
widgets.query_errors(ctx.aggs)

overall = ctx.overall()
weeks = ctx.table("week")
coverage, _ = data.coverage(ctx.source, ctx.filters)
values = {**overall, "domain_coverage": coverage}

for start in (0, 4):
    for column, kpi in zip(st.columns(4), HEADLINE[start : start + 4], strict=True):
        with column:
            widgets.tile(
                ctx.aggs,
                ctx.targets,
                kpi,
                values.get(kpi),
                weeks if kpi in WEEKLY else None,
                compact=True,
            )

st.subheader("What needs attention")
# Narrowed to one domain, "Overall" is that domain: its own rows would repeat it.
one_domain = len(ctx.filters.domains) == 1
by_domain = ctx.table("domain").clear() if one_domain else ctx.table("domain")
since = breaches.breach_since(
    weeks, ctx.targets, WATCHED, None if one_domain else ctx.table("domain", "week")
)
off_target = breaches.attention(values, by_domain, ctx.targets, WATCHED, since)
promoted = data.promoted(ctx.source, ctx.filters)
st.markdown("**Slices promoted to specialist review**")
if promoted is None:
    widgets.empty(promotion.unavailable_reason(ctx.aggs))
elif promoted.height == 0:
    as_of_week = iso_week_label(ctx.aggs.as_of.date()) if ctx.aggs.as_of else None
    labelled = ctx.aggs.frames["annotation_kpi_counts"]["week_start"].max()  # all, unfiltered
    last_week = iso_week_label(labelled) if labelled is not None else None
    if not (as_of_week and last_week and as_of_week > last_week):
        st.success("No slice is promoted.", icon=":material/check_circle:")
    else:
        # A calibration decision recorded today moves the as-of time past the labels:
        # "no slice is promoted" would read as good news.
        st.info(
            f"Promotion looks at the {ctx.targets.promotion.weeks} ISO weeks ending with the "
            f"as-of week, {as_of_week}, but the last annotation is in {last_week}: the "
            "as-of time is the latest timestamp in any table (a calibration decision "
            "recorded since counts). `kpi report --as-of` judges another time.",
            icon=":material/event_busy:",
        )
else:
    # Cards of a fixed width that wrap: a link is one line and would be cut in a column.
    with st.container(horizontal=True, wrap=True, gap="small"):
        for row in promoted.iter_rows(named=True):
            name = views.slice_label(row["domain"], row["difficulty"], row["risk_class"])
            rates = ", ".join(
                f"{w['week'].split('-')[-1]} "
                f"{widgets.fmt('accepted_label_error_rate', w['accepted_label_error_rate'])}"
                for w in row["weeks"]
            )
            with st.container(border=True, width=PROMOTED_CARD_PX):
                links.link("slices", f"**{name}**", icon=":material/priority_high:", slice=name)
                st.caption(f"Accepted-label error rate {rates}")


def defects_off_target() -> list[str]:
    """Each severity whose median time to resolve breaches the defect turnaround
    target, or with defects open longer than it, as a line for a link."""
    if ctx.targets.rule(DEFECTS) is None or "defect_durations" in ctx.aggs.errors:
        return []
    if not ctx.aggs.has("defects"):
        return []
    judged = against_target(*data.defects(ctx.source, ctx.filters), ctx.targets)
    target = widgets.fmt(DEFECTS, ctx.targets.rule(DEFECTS)["target"], short=True)
    lines = []
    for severity, median, status, n_open_past in judged.rows():
        parts = [f"median {widgets.fmt(DEFECTS, median)}"] if status == "breach" else []
        if n_open_past:
            parts.append(f"{n_open_past} open > {target}")
        if parts:
            lines.append(f"{severity}: {', '.join(parts)}")
    return lines


st.markdown(
    "**Targets breached** over the period, or in every week since the week named · "
    "each link opens the page behind the KPI, filtered to the domain"
)
# A KPI that could not be computed cannot be said to be on target.
uncomputed = [k for k in WATCHED if views.SOURCE_QUERY.get(k, k) in ctx.aggs.errors]
if uncomputed:
    st.warning(
        "Not judged, as their query files failed (see above): "
        + ", ".join(widgets.title(k) for k in uncomputed)
        + ".",
        icon=":material/warning:",
    )
late_defects = defects_off_target()
if not uncomputed and off_target.height == 0 and not late_defects:
    st.success("No KPI breaches its target.", icon=":material/check_circle:")
with st.container(horizontal=True, wrap=True, gap="small"):
    for kpi in off_target["kpi"].unique(maintain_order=True).to_list():
        part = off_target.filter(off_target["kpi"] == kpi)
        page = links.KPI_PAGE.get(kpi, "overview")
        with st.container(border=True, width=BREACH_CARD_PX):
            st.markdown(
                f"{widgets.status_word('breach')} **{widgets.title(kpi)}** — "
                f"{widgets.target_text(ctx.targets, kpi)}"
            )
            with st.container(gap=None):  # one link a line: side by side, they were cut
                for scope, value, target, first, latest, latest_value in part.select(
                    "scope", "value", "target", "since", "latest_week", "latest_value"
                ).rows():
                    where = "Overall" if scope == "all" else scope
                    own_target = scope != "all" and ctx.targets.has_own(kpi, scope)
                    note = f" (target {widgets.fmt(kpi, target)})" if own_target else ""
                    if first is None:
                        when = (
                            "at the as-of time"
                            if kpi in breaches.AS_OF_STATES
                            else "over the period"
                        )
                        text = f"{where}: {widgets.fmt(kpi, value)}{note} {when}"
                    else:
                        # Short, as the heading says "in every week since": a link
                        # is one line, cut where the card ends.
                        text = (
                            f"{where}: {widgets.fmt(kpi, latest_value)}{note} in "
                            f"{widgets.short_week(latest)}, "
                            + (
                                "a new breach"
                                if first == latest
                                else f"since {widgets.short_week(first, latest)}"
                            )
                        )
                    # An ongoing breach opens on its run of weeks, where the page's
                    # numbers are the ones the link cites.
                    narrowed = {} if scope == "all" else {"domain": [scope]}
                    if first is not None:
                        narrowed["from"] = iso_week_start(first).isoformat()
                    links.link(page, text, icon=":material/arrow_forward:", **narrowed)

    if late_defects:
        with st.container(border=True, width=BREACH_CARD_PX):
            st.markdown(
                f"{widgets.status_word('breach')} **{widgets.title(DEFECTS)}** — "
                f"{widgets.target_text(ctx.targets, DEFECTS)}"
            )
            with st.container(gap=None):
                for line in late_defects:
                    links.link("defects", line, icon=":material/arrow_forward:")

st.subheader("Trends")
recent = weeks.sort("week").tail(12)
span = f", last {recent.height} ISO weeks" if weeks.height > recent.height else " by ISO week"
for pair in (TRENDS[:2], TRENDS[2:]):
    for column, kpi in zip(st.columns(2), pair, strict=True):
        with column:
            widgets.weekly_chart(recent, kpi, f"{widgets.title(kpi)}{span}", ctx.targets, ctx.aggs)
