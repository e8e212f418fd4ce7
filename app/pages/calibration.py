"""Calibration: run the weekly meeting. Are we agreeing, who drifts, which items cause the
disagreement, and what did the room decide?"""

from datetime import UTC, datetime, timedelta

import polars as pl
import streamlit as st

from kpi_app import data, filters, shell, widgets
from kpi_core import calibration as cal
from kpi_core import calibration_pack as pack
from kpi_core import decisions, drift
from kpi_core.formatting import count_of, format_timestamp
from kpi_core.grouping import SLICE, iso_week_label
from kpi_core.problems import DataError

ALL = "All domains"

ctx = shell.context()
ctx.header(
    "Calibration",
    "The weekly calibration meeting: agreement, drift, disputed items and decisions",
    view="Showing the week and domain picked below (the sidebar's filters do not apply)",
)

widgets.query_errors(ctx.aggs, ["annotation_kpi_counts", "item_label_counts"])

# ------------------------------------------------------------------------ the choices
options = data.options(ctx.source)
first_day, last_day = options["dates"]
as_of = ctx.aggs.as_of or last_day
if first_day is None or as_of is None:
    if not ctx.aggs.errors:  # else the weeks are unknown, not absent: the banner says why
        widgets.empty("There are no annotations yet, so there is no week to calibrate on.")
    st.stop()
# Every week of the data, newest first; the week still running is offered too, for a
# look before it ends, but the default is the last complete one.
mondays, default_week = cal.meeting_weeks(*options["weeks"], as_of)
weeks = [iso_week_label(monday) for monday in mondays]

left, middle, right = st.columns([1, 1, 1])
with left:
    filters.page_choice("calibration_week", "week", weeks, iso_week_label(default_week))
    week = st.selectbox(
        "ISO week",
        weeks,
        key="calibration_week",
        help="The meeting's week; the default is the last complete ISO week of the data "
        "(the week still running is listed first).",
    )
    filters.remember_choice("calibration_week", "week")
with middle:
    domains = [ALL, *options["domain"]]
    filters.page_choice("calibration_domain", "cal_domain", domains, ALL)
    domain_choice = st.selectbox("Domain", domains, key="calibration_domain")
    filters.remember_choice("calibration_domain", "cal_domain")
with right:
    pseudonymise = st.toggle(
        "Pseudonyms",
        value=True,
        key="calibration_pseudonyms",
        help="Replace annotator and reviewer ids with stable pseudonyms: the same person "
        "keeps the same pseudonym on this page, in the downloaded pack and on every screen "
        "in the room until the server restarts; from week to week too when the server runs "
        "with KPI_PSEUDONYM_KEY set.",
    )
domain = None if domain_choice == ALL else domain_choice
# Each table's name carries the week already.
widgets.name_downloads(f"domain-{domain}" if domain else "")

# ---------------------------------------------------------------------------- the view
memo = st.session_state.setdefault("calibration_views", {})
key = (ctx.source.fingerprint, week, domain)
if key not in memo:
    with st.spinner("Computing the meeting's view…"), ctx.loaded.lock:
        try:
            memo.clear()  # one view per session: the latest choice
            memo[key] = cal.build_view(
                ctx.loaded.dataset,
                week,
                domain=domain,
                rule=ctx.targets.promotion,
                aggs=ctx.aggs,
            )
        except DataError as error:
            st.error(str(error), icon=":material/error:")
            st.stop()
raw_view = memo[key]
view = raw_view.pseudonymised(cal.Pseudonyms(data.pseudonym_key())) if pseudonymise else raw_view

# ------------------------------------------------------------------------------ tiles
alpha = view.alpha
# Six figures in a row that wraps: in six columns, at 1100 px, their labels were cut.
with st.container(horizontal=True, wrap=True, gap="medium"):
    st.metric(
        "Krippendorff's alpha",
        pack.fmt_coefficient(alpha["krippendorff_alpha"]),
        help=f"95% bootstrap interval {pack.fmt_coefficient(alpha['krippendorff_alpha_ci_low'])} – "
        f"{pack.fmt_coefficient(alpha['krippendorff_alpha_ci_high'])} over "
        f"{count_of(alpha['n_units'], 'item')}",
        width="content",
        border=True,
    )
    st.metric(
        "Fleiss' kappa",
        pack.fmt_coefficient(view.fleiss_kappa),
        help=f"Computed {view.fleiss_scope_text}.",
        width="content",
        border=True,
    )
    st.metric("Drifting annotators", f"{view.drifting.height:,}", width="content", border=True)
    st.metric(
        "New annotators",
        f"{view.annotators.filter(pl.col('is_new')).height:,}",
        width="content",
        border=True,
    )
    st.metric(
        "Disputed items",
        f"{view.n_disputed:,}",
        help="Items of the week whose labels are not all the same; the most disputed are listed "
        "below.",
        width="content",
        border=True,
    )
    st.metric(
        "Promoted slices",
        f"{view.promoted.select(SLICE).unique().height:,}",
        width="content",
        border=True,
    )

stem = pack.pack_stem(view)
st.download_button(
    "Download the meeting pack (zip)",
    data=lambda: pack.zip_pack(pack.render_pack(view), folder=f"calibration-{stem}"),
    file_name=f"calibration-{stem}.zip",
    mime="application/zip",
    key="calibration_pack",
    on_click="ignore",
    icon=":material/folder_zip:",
    help="The HTML page (opens offline, prints on A4), the agenda and every table as CSV, "
    + ("with pseudonyms." if pseudonymise else "with real annotator ids."),
)


def _chart(figure, frame: pl.DataFrame, name: str) -> None:
    """The pack's figure at the page's width, under the widget's own title."""
    figure.update_layout(width=None, title=None, margin=dict(t=20))
    widgets.chart(figure, frame, name)


def _measure(annotators: pl.DataFrame, measure: str) -> pl.DataFrame:
    """Each annotator's figures of one measure (consensus or gold), as its chart draws."""
    return annotators.select(
        "annotator_id", "tier", "vendor", "status", pl.col(f"^(n_)?{measure}_.*$")
    )


# ---------------------------------------------------------------------- reliability
st.subheader("Reliability")
_chart(pack.alpha_trend_figure(view), view.alpha_trend, f"Krippendorff's alpha, {week}")
st.markdown(
    f"**Pairs of annotators with the lowest Cohen's kappa** (sharing at least "
    f"{cal.MIN_SHARED_ITEMS} of the week's items)"
)
if view.kappa_pairs.is_empty():
    widgets.empty(f"No two annotators shared {cal.MIN_SHARED_ITEMS} or more items this week.")
else:
    st.dataframe(
        # kappa first after the pair: on a narrow screen it is the column to keep
        view.kappa_pairs.select(
            "annotator_id_a",
            "annotator_id_b",
            "cohen_kappa",
            pl.exclude("annotator_id_a", "annotator_id_b", "cohen_kappa"),
        )
        # shown in percent with one decimal, as every rate on the dashboard
        .with_columns(pl.col("observed_agreement", "expected_agreement") * 100)
        .rename(
            {
                "annotator_id_a": "annotator A",
                "annotator_id_b": "annotator B",
                "n_shared": "shared",
                "observed_agreement": "agree",
                "expected_agreement": "by chance",
                "cohen_kappa": "Cohen's kappa",
            }
        ),
        hide_index=True,
        width="stretch",
        # Short headers, explained on hover: the whole table fits a laptop screen.
        column_config={
            "shared": st.column_config.NumberColumn(help="Items both annotators labelled"),
            "agree": st.column_config.NumberColumn(
                format="%.1f%%", help="Observed agreement: shared items labelled alike"
            ),
            "by chance": st.column_config.NumberColumn(
                format="%.1f%%", help="Agreement expected by chance from each one's labels"
            ),
            "Cohen's kappa": st.column_config.NumberColumn(format="%.3f"),
        },
    )
    widgets.download(view.kappa_pairs, f"cohen kappa pairs {week}")

# ------------------------------------------------------------------------ annotators
st.subheader("Annotators: agreement and drift")
st.caption(
    f"Drifting: agreement with the consensus or with gold dropped significantly against the "
    f"annotator's own {drift.BASELINE_WEEKS} previous weeks (one-sided Fisher's exact test, "
    f"Bonferroni over the two measures, at {drift.DRIFT_ALPHA}). Meeting-wide p: Holm-adjusted "
    "over all annotators. New: first label in this scope this week."
)
# Drift that holds across the meeting is each its own alert; drift that may be chance
# among many annotators is one note, its details a click away, not a wall of alerts.
sure = view.drifting.filter(pl.col("is_drifting_meeting_wide"))
maybe = view.drifting.filter(~pl.col("is_drifting_meeting_wide"))
for row in sure.to_dicts():
    st.error(
        f"**{row['annotator_id']}** ({row['tier']}, {row['vendor']}) drifts: "
        + pack.drift_summary(row),
        icon=":material/trending_down:",
    )
if maybe.height:
    st.warning(
        f"{maybe.height:,} more dropped against their own previous weeks, but not after "
        f"correcting for all {view.annotators.height:,} annotators, so some may be chance: "
        + ", ".join(maybe["annotator_id"].to_list()),
        icon=":material/trending_down:",
    )
    with st.expander("What moved for each of them"):
        st.markdown(
            "\n".join(
                f"- **{row['annotator_id']}** ({row['tier']}, {row['vendor']}): "
                + pack.drift_summary(row)
                for row in maybe.to_dicts()
            )
        )
new = view.annotators.filter(pl.col("is_new"))
if not new.is_empty():
    st.info(
        "New this week: " + ", ".join(new["annotator_id"].to_list()), icon=":material/person_add:"
    )
consensus_tab, gold_tab = st.tabs(["Agreement with consensus", "Agreement with gold"])
with consensus_tab:
    _chart(
        pack.agreement_figure(view, "consensus"),
        _measure(view.annotators, "consensus"),
        f"Consensus agreement {week}",
    )
with gold_tab:
    _chart(
        pack.agreement_figure(view, "gold"),
        _measure(view.annotators, "gold"),
        f"Gold agreement {week}",
    )
shown = pack.agreement_table(view.annotators)
if shown.is_empty():
    widgets.empty("Nobody labelled in this week and scope.")
else:
    # The figures the room discusses first, under short headers (the pack's long titles
    # are their tooltips), so they fit a laptop screen; who employs whom after them.
    short = {
        "status": "status",
        "consensus_week": "consensus (n)",
        "consensus_base": "consensus before",
        "consensus_change": "Δ consensus",
        "gold_week": "gold (n)",
        "gold_base": "gold before",
        "gold_change": "Δ gold",
        "p_adjusted": "p",
        "p_meeting": "meeting p",
    }
    titles = {"annotator_id": "annotator", **short, "tier": "tier", "vendor": "vendor"}
    widgets.plain_table(
        shown.select(list(titles)).rename(titles),
        {short[c]: title for c, title in pack.AGREEMENT_COLUMNS.items()},
    )
    widgets.download(view.annotators, f"annotator agreement {week}")
with st.expander("Vendors"):
    vendors = pack.agreement_table(view.vendors)
    if not vendors.is_empty():
        titles = {"vendor": "vendor", "n_annotators_week": "annotators", **pack.AGREEMENT_COLUMNS}
        widgets.plain_table(vendors.select(list(titles)).rename(titles))
    widgets.download(view.vendors, f"vendor agreement {week}")

# ------------------------------------------------------------------------- confusion
st.subheader("Confusion matrices")
gold_tab, final_tab = st.tabs(["Labels vs gold", "Labels vs the specialist's final decision"])
with gold_tab:
    _chart(
        pack.confusion_figure(view, "gold"),
        view.confusion.filter(pl.col("reference") == "gold"),
        f"Labels against gold, {week}",
    )
with final_tab:
    _chart(
        pack.confusion_figure(view, "final decision"),
        view.confusion.filter(pl.col("reference") == "final decision"),
        f"Labels against the final decision, {week}",
    )

# ----------------------------------------------------------------------- disputed items
st.subheader("Most disputed items")
st.caption(f"{view.disputed_heading}. {cal.DISPUTE_RANKING}")
disputed = view.disputed
if disputed.is_empty():
    widgets.empty("No item of this week has two annotators who disagree.")
else:
    widgets.table(
        disputed.select(
            "rank",
            "item_id",
            *SLICE,
            "label_counts",
            "spread",
            "score",
            "gold_label",
            "is_decided",
            "decided_label",
            "decided_week",
        ),
        f"disputed items {week}",
        download_frame=disputed,
    )
    # One item at a time, as the room discusses them: every item's labels and reviews
    # drawn at once (two tables each) made the page the slowest to redraw. An option's
    # text must not change when a decision is recorded: the picker would lose its item.
    items = {
        r["item_id"]: f"{r['rank']}. {r['item_id']} — {r['label_counts']}"
        for r in disputed.to_dicts()
    }
    order = list(items)

    def step_item(by: int) -> None:
        """Move the picker to the next (1) or previous (-1) item, as the room goes on."""
        current = st.session_state.get("calibration_item")
        at = order.index(current) if current in order else 0
        st.session_state["calibration_item"] = order[(at + by) % len(order)]

    picker, back, forward = st.columns([8, 1, 1], vertical_alignment="bottom")
    with picker:
        item = st.selectbox(
            "Item under discussion", order, format_func=items.get, key="calibration_item"
        )
    back.button(
        "",
        icon=":material/arrow_back:",
        help="Previous item",
        on_click=step_item,
        args=(-1,),
        key="calibration_item_back",
        width="stretch",
    )
    forward.button(
        "",
        icon=":material/arrow_forward:",
        help="Next item",
        on_click=step_item,
        args=(1,),
        key="calibration_item_next",
        width="stretch",
    )
    row = disputed.filter(pl.col("item_id") == item).row(0, named=True)
    known = []
    if row["gold_label"] is not None:
        known.append(f"Gold: **{row['gold_label']}** ({row['gold_source']})")
    if row["is_decided"]:
        known.append(f"Decided: **{row['decided_label']}** in {row['decided_week']}")
    if known:
        st.markdown(" · ".join(known))
    # gold is shown above the table, once
    labels = view.disputed_labels.filter(pl.col("item_id") == item).drop(
        "rank", "item_id", "annotation_id", "gold_label"
    )
    widgets.table(labels, None)  # the pack's CSVs hold every item's labels and reviews
    st.caption(
        "Counted in agreement: human labels, each annotator's latest on the item; "
        "programmatic labels and earlier ones are shown but not count_of."
    )
    reviews = view.disputed_reviews.filter(pl.col("item_id") == item).drop(
        "rank", "item_id", "annotation_id", "review_id"
    )
    if reviews.is_empty():
        st.caption("No review yet.")
    else:
        widgets.table(reviews, None)

# ------------------------------------------------------------------------ promoted
st.subheader("Slices promoted to specialist review")
if view.promoted.is_empty():
    widgets.empty("No slice is promoted as of the end of this week.")
else:
    widgets.table(view.promoted, f"promoted slices {week}")


# ------------------------------------------------------------------------ decisions
def record(data_dir: str, meeting_week: str, item_id: str, label_key: str) -> None:
    """Append the form's decision for ``item_id``, the item the form showed (a callback:
    it runs before the page, so the page that follows already reads the new decision)."""
    state = st.session_state
    if not state.get(label_key):
        state["calibration_flash"] = (
            "error",
            f"Nothing recorded for {item_id}: pick the label the room agreed on first.",
        )
        return
    row = {
        "week": meeting_week,
        "item_id": item_id,
        "agreed_label": state.get(label_key),
        "note": state.get("calibration_decide_note"),
    }
    try:
        written = decisions.record_decisions(data_dir, [row])
    except DataError as error:
        state["calibration_flash"] = ("error", str(error))
        return
    state.pop("calibration_views", None)
    state["calibration_flash"] = (
        "success",
        f"Recorded {written['decision_id'].item()}: {item_id} → {row['agreed_label']}.",
    )


st.subheader("Decisions")
flash = st.session_state.pop("calibration_flash", None)
if flash and flash[0] == "success":
    st.success(flash[1], icon=":material/check:")
elif flash:
    st.error(flash[1], icon=":material/error:")
if not disputed.is_empty():
    in_use = data.domain_labels(ctx.source).get(row["domain"], [])
    own = view.disputed_labels.filter(pl.col("item_id") == item)["label"].unique().sort().to_list()
    # The item's own labels first, then the rest of its domain's, most used first.
    choices = [*own, *(label for label in in_use if label not in own)]
    with st.form("calibration_decide", clear_on_submit=True):
        st.markdown(f"What did the room agree for **{items[item]}**?")
        label_key = f"calibration_decide_label_{item}"
        st.selectbox(
            "Agreed label",
            choices,
            index=None,
            placeholder="The label the room agreed on",
            key=label_key,
            help=f"A label in use in {row['domain']}: the item's own labels first.",
        )
        st.text_area("Note (guideline, reasoning)", key="calibration_decide_note")
        st.form_submit_button(
            "Record the decision",
            icon=":material/gavel:",
            on_click=record,
            args=(ctx.source.data_dir, week, item, label_key),
        )
    now = datetime.now(UTC).replace(tzinfo=None)
    note = (
        "It is appended to `calibration_decisions`, stamped with the current time, and is "
        "gold for this item's annotations submitted from then on: earlier ones, this week's "
        "included, keep their truth."
    )
    if ctx.aggs.as_of is not None and now - ctx.aggs.as_of > timedelta(days=1):
        note += (
            f" The data ends {format_timestamp(ctx.aggs.as_of)}: the decision moves the "
            "dashboard's as-of time (the latest timestamp in any table) to now, which ages "
            "the backlog and can end promotions."
        )
    st.caption(note)
decided = view.week_decisions
st.markdown(f"**Decided for {week}**")
if decided.is_empty():
    st.caption("Nothing recorded for this week yet.")
else:
    widgets.table(
        decided.select("item_id", "agreed_label", "note", "recorded_at"), f"decisions {week}"
    )
earlier = view.decisions.filter(pl.col("week") != week)
if not earlier.is_empty():
    with st.expander(f"Decided in earlier weeks ({earlier.height})"):
        widgets.table(
            earlier.select("week", "item_id", "agreed_label", "note", "recorded_at"),
            "earlier decisions",
        )
