"""The weekly calibration meeting, computed: who agrees, who drifts, what is disputed.

Everything here is polars over frames the SQL layer delivers (``queries/calibration_*.sql``,
``item_label_counts``, ``annotation_kpi_counts``); :func:`build_view` fetches them once and
returns a :class:`CalibrationView`, the frames the Calibration page and the exported pack
show. :func:`kpi_core.decisions.record_decisions` appends what the meeting agreed.

Definitions (the meeting's week ``W`` is an ISO week, Monday start, UTC):

Reliability
    Krippendorff's alpha over the human labels of the items whose week is ``W`` (an
    item's week is that of its latest human annotation, as for every item-level KPI),
    with a 95% Poisson-bootstrap interval over items (:func:`kpi_core.reliability.bootstrap_alpha`),
    and the same for each of the :data:`TREND_WEEKS` weeks ending with ``W``. On the same
    labels: Fleiss' kappa and Cohen's kappa of every pair of annotators sharing at least
    :data:`MIN_SHARED_ITEMS` items (:mod:`kpi_core.kappa`), lowest first.

Agreement and drift, per human annotator with an annotation submitted in ``W``
    Agreement with the consensus and with gold this week against the annotator's own
    previous weeks, and who drifts: :mod:`kpi_core.drift`.
Disputed items (items whose week is ``W``, with >= 2 human annotators)
    *Spread* = 1 - the share of the modal label among the item's annotators (the
    variation ratio: 0 when all agree, 0.5 when two annotators differ, up to 1 - 1/m).
    *Score* = spread x the risk weight of the item's risk class (:data:`RISK_WEIGHTS`:
    low 1, medium 2, high 3; an unknown risk class counts as medium). Ranked by score,
    then by the number of annotators (more people, stronger evidence), then items that
    no gold label or calibration decision settles yet before those that one does, then
    item_id; items with spread 0 are not disputed.

Confusion matrices
    Human labels submitted in ``W``, per domain, against the gold label that judges them
    and against the specialist's final decision (the latest ``final`` review: its
    corrected_label for a fix, the label itself for an accept; rejected annotations have
    no final label).

Promoted slices
    :func:`kpi_core.promotion.promoted_slices` as of the last day of ``W``, flagged new
    when the slice was not promoted as of the week before.

Pseudonyms
    :class:`Pseudonyms` replaces the id of every human (annotator or reviewer) by
    ``Annotator-`` and a short keyed hash (HMAC-SHA256 of the id under the pack's key), so
    the same person has the same pseudonym throughout a pack; programmatic labellers keep
    their ids (they are programs, not people).

Decisions
    :func:`kpi_core.decisions.record_decisions` appends the agreed label and note per item to the data
    directory's ``calibration_decisions`` table; from its ``recorded_at`` on the agreed
    label is the item's gold (``queries/models/annotation_facts.sql``), and the views
    mark the items already decided.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from kpi_core import queries
from kpi_core.aggregates import Aggregates
from kpi_core.agreement import require_numeric_labels
from kpi_core.drift import BASELINE_WEEKS, agreement_counts, agreement_drift, drift_order
from kpi_core.formatting import count_of
from kpi_core.grouping import SLICE, iso_week, iso_week_label, week_start
from kpi_core.kappa import cohen_kappa_pairs, fleiss_kappa, fleiss_scope
from kpi_core.loading import Dataset
from kpi_core.problems import DataError, Problem
from kpi_core.promotion import promoted_slices, slice_weeks
from kpi_core.reliability import BOOTSTRAP_DRAWS, Level, bootstrap_alpha
from kpi_core.targets import Promotion

#: Weight of an item's risk class in the disputed-item score; unknown counts as medium.
RISK_WEIGHTS: dict[str, float] = {"low": 1.0, "medium": 2.0, "high": 3.0, "unknown": 2.0}
#: Weeks of the alpha trend, ending with the meeting's week.
TREND_WEEKS = 8
#: Items two annotators must share for their Cohen's kappa to be shown.
MIN_SHARED_ITEMS = 3
#: Disputed items shown by default.
TOP_DISPUTED = 20

#: How the disputed items are ranked, in the words the page and the pack print.
DISPUTE_RANKING = (
    "Spread = 1 − share of the modal label among the item's annotators; score = spread × "
    "risk weight ("
    + ", ".join(f"{k} {v:g}" for k, v in RISK_WEIGHTS.items())
    + "); ties go to more annotators, then to items no gold label or decision settles yet."
)

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


# ------------------------------------------------------------------------------- weeks


def parse_week(text: str, *, what: str = "--week") -> date:
    """The Monday of ISO week ``YYYY-Www``; a one-line :class:`DataError` when malformed."""
    match = _WEEK_RE.match(str(text).strip())
    if not match:
        raise DataError(
            [
                Problem(
                    file=what,
                    reason=f"{text!r} is not an ISO week written YYYY-Www (e.g. 2026-W07)",
                )
            ]
        )
    year, week = int(match.group(1)), int(match.group(2))
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError:
        n_weeks = date(year, 12, 28).isocalendar().week
        raise DataError(
            [
                Problem(
                    file=what,
                    reason=f"week {text!r} does not exist: {year} has {n_weeks} ISO weeks",
                )
            ]
        ) from None


def last_complete_week(as_of: datetime | date) -> date:
    """The Monday of the latest ISO week that ended at or before ``as_of``.

    The week holding ``as_of`` is never complete (it ends at the next Monday 00:00),
    so this is always the week before it.
    """
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    return week_start(day) - timedelta(weeks=1)


def meeting_weeks(
    first_week: date, last_week: date, as_of: datetime | date
) -> tuple[list[date], date]:
    """The weeks a meeting can pick (Mondays, newest first) and the default one.

    The weeks run from ``first_week`` to ``last_week``, the first and last weeks with
    annotations, and stop at the week holding ``as_of``. The default is the
    :func:`last_complete_week`, or the last week with annotations when the as-of
    time lies past it (a decision recorded today on older data moves the as-of
    time to today, and the weeks in between have nothing to discuss).
    """
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    newest = min(last_week, week_start(day))
    default = min(last_complete_week(as_of), newest)
    oldest = min(first_week, default)
    return [newest - timedelta(weeks=k) for k in range((newest - oldest).days // 7 + 1)], default


# -------------------------------------------------------------------------- the inputs


@dataclass(frozen=True)
class CalibrationInputs:
    """What leaves DuckDB for one meeting: the query results, filtered to its scope."""

    week_start: date
    domain: str | None
    annotations: pl.DataFrame  # calibration_item_annotations over the baseline + week
    reviews: pl.DataFrame  # calibration_item_reviews over the week
    decisions: pl.DataFrame  # calibration_decisions_log up to the meeting's week
    item_labels: pl.DataFrame  # item_label_counts over the trend weeks
    kpi_counts: pl.DataFrame  # annotation_kpi_counts (for promotion)
    has_reviews: bool
    domains: tuple[str, ...]  # every domain with annotations, whatever the scope


def fetch_inputs(
    dataset: Dataset, week: date, domain: str | None = None, aggs: Aggregates | None = None
) -> CalibrationInputs:
    """Run the calibration queries for the meeting of ``week`` (a Monday) once.

    The query models (``annotation_facts``) are registered unless the connection
    has them already, and ``item_label_counts`` and ``annotation_kpi_counts`` are
    taken from ``aggs`` when it holds them (the dashboard has both fetched already).
    """
    try:
        dataset.con.execute("select 1 from annotation_facts limit 0")
    except duckdb.CatalogException:
        queries.register_models(dataset.con, materialize=True)
    week_end = week + timedelta(weeks=1)
    baseline_start = week - timedelta(weeks=BASELINE_WEEKS)
    trend_start = week - timedelta(weeks=TREND_WEEKS - 1)
    con = dataset.con
    in_scope = pl.lit(True) if domain is None else pl.col("domain") == domain

    def fetched(name: str) -> pl.DataFrame:
        if aggs is not None and aggs.ok(name):
            return aggs.frames[name]
        if aggs is not None and name in aggs.errors:
            raise aggs.errors[name]  # the file to fix (a failed model, not its reader)
        return queries.run(con, name)

    item_labels = fetched("item_label_counts").filter(
        in_scope & pl.col("week_start").is_between(trend_start, week)
    )
    kpi_counts = fetched("annotation_kpi_counts")
    domains = tuple(sorted(kpi_counts.get_column("domain").drop_nulls().unique().to_list()))
    if domain is not None and domain not in domains:
        raise DataError(
            [
                Problem(
                    file="--domain",
                    reason=f"no annotation is in domain {domain!r}; "
                    f"the domains are {', '.join(domains) or '(none)'}",
                )
            ]
        )
    return CalibrationInputs(
        week_start=week,
        domain=domain,
        annotations=queries.run(
            con,
            "calibration_item_annotations",
            window_start=baseline_start,
            window_end=week_end,
            domain=domain,
        ),
        reviews=queries.run(
            con,
            "calibration_item_reviews",
            window_start=week,
            window_end=week_end,
            domain=domain,
        ),
        decisions=queries.run(
            con, "calibration_decisions_log", domain=domain, up_to_week=iso_week_label(week)
        ),
        item_labels=item_labels,
        kpi_counts=kpi_counts.filter(in_scope),
        has_reviews=dataset.has("reviews"),
        domains=domains,
    )


# ------------------------------------------------------------------------- reliability


def alpha_trend(
    item_labels: pl.DataFrame,
    week: date,
    *,
    level: Level = "nominal",
    weeks: int = TREND_WEEKS,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
) -> pl.DataFrame:
    """Alpha with its bootstrap interval for each of the ``weeks`` ISO weeks ending with ``week``.

    ``item_labels`` has the columns of ``queries/item_label_counts.sql``. Every week of
    the window has a row; alpha is null in a week without two pairable labels.
    """
    starts = [week - timedelta(weeks=k) for k in reversed(range(weeks))]
    frame = pl.DataFrame({"week_start": starts}, schema={"week_start": pl.Date})
    counts = item_labels.filter(pl.col("week_start").is_in(starts))
    alphas = bootstrap_alpha(
        counts.select("week_start", "item_id", "label", "n_annotators"),
        by=["week_start"],
        count="n_annotators",
        level=level,
        draws=draws,
        seed=seed,
    )
    return (
        frame.join(alphas, on="week_start", how="left", maintain_order="left")
        .with_columns(
            pl.col("n_pairable", "n_units").fill_null(0),
            iso_week().alias("week"),
        )
        .select(
            "week",
            "week_start",
            "krippendorff_alpha",
            "krippendorff_alpha_ci_low",
            "krippendorff_alpha_ci_high",
            "n_units",
            "n_pairable",
        )
    )


# --------------------------------------------------------------------- confusion matrices


def confusion_matrices(annotations: pl.DataFrame, week: date) -> pl.DataFrame:
    """Human labels submitted in ``week`` against gold and against the final decision.

    The labels are those the agreement tables count (``is_item_label``: an annotator
    who labelled an item twice counts once, with the latest label), so the matrices
    add up to their totals. One row per (reference, domain, label, reference_label)
    with ``n`` labels; ``reference`` is ``gold`` or ``final decision``.
    """
    human = annotations.filter(pl.col("is_item_label") & (pl.col("week_start") == week))
    parts = [
        human.filter(pl.col(column).is_not_null())
        .group_by("domain", "label", pl.col(column).alias("reference_label"))
        .agg(pl.len().cast(pl.Int64).alias("n"))
        .with_columns(pl.lit(name).alias("reference"))
        for name, column in (("gold", "gold_label"), ("final decision", "final_label"))
    ]
    return (
        pl.concat(parts)
        .select("reference", "domain", "label", "reference_label", "n")
        .sort(
            "reference",
            "domain",
            "label",
            "reference_label",
            descending=[True, False, False, False],
        )
    )


# ------------------------------------------------------------------------ disputed items


def _label_order(labels: pl.Expr) -> pl.Expr:
    """Sort key for labels: numerically when they read as numbers, else as text."""
    return labels.cast(pl.Float64, strict=False)


def disputed_items(
    annotations: pl.DataFrame,
    decisions: pl.DataFrame,
    week: date,
    *,
    top: int | None = TOP_DISPUTED,
    risk_weights: Mapping[str, float] = RISK_WEIGHTS,
) -> pl.DataFrame:
    """The week's most disputed items, ranked (see the module docstring for the score).

    One row per item with ``rank``, the slice, ``n_annotators``, ``label_counts`` (e.g.
    ``"4 ×2 · 3 ×1"``), ``modal_label`` (ties joined by " / "), ``spread``,
    ``risk_weight``, ``score``, the gold label with its source, and the item's latest
    calibration decision (``is_decided``, ``decided_label``, ``decided_week``,
    ``decided_note``, ``decided_at``).
    """
    labels = annotations.filter(pl.col("is_item_label") & (pl.col("item_week_start") == week))
    counts = (
        labels.group_by("item_id", "label")
        .agg(pl.len().alias("n"))
        .sort(
            pl.col("item_id"),
            pl.col("n"),
            _label_order(pl.col("label")),
            pl.col("label"),
            descending=[False, True, False, False],
            nulls_last=True,
        )
    )
    per_item = (
        counts.group_by("item_id", maintain_order=True)
        .agg(
            pl.col("n").sum().alias("n_annotators"),
            pl.col("n").max().alias("n_modal"),
            pl.col("label")
            .filter(pl.col("n") == pl.col("n").max())
            .str.join(" / ")
            .alias("modal_label"),
            pl.format("{} ×{}", "label", "n").str.join(" · ").alias("label_counts"),
        )
        .with_columns((1 - pl.col("n_modal") / pl.col("n_annotators")).alias("spread"))
        .filter((pl.col("n_annotators") >= 2) & (pl.col("spread") > 0))
    )
    item_info = labels.group_by("item_id").agg(
        pl.col("domain", "difficulty", "risk_class", "item_gold_label").first()
    )
    latest = decisions.filter(pl.col("is_latest")).select(
        "item_id",
        pl.col("agreed_label").alias("decided_label"),
        pl.col("week").alias("decided_week"),
        pl.col("note").alias("decided_note"),
        pl.col("recorded_at").alias("decided_at"),
    )
    weight = pl.col("risk_class").replace_strict(
        dict(risk_weights), default=risk_weights.get("unknown", 1.0), return_dtype=pl.Float64
    )
    ranked = (
        per_item.join(item_info, on="item_id")
        .join(latest, on="item_id", how="left", maintain_order="left")
        .with_columns(weight.alias("risk_weight"))
        .with_columns((pl.col("spread") * pl.col("risk_weight")).alias("score"))
        .sort(
            pl.col("score"),
            pl.col("n_annotators"),
            # Among equals, an item no gold settles yet comes first: the room must.
            pl.col("item_gold_label").is_not_null() | pl.col("decided_label").is_not_null(),
            pl.col("item_id"),
            descending=[True, True, False, False],
        )
        .with_row_index("rank", offset=1)
        .with_columns(
            pl.col("rank").cast(pl.Int64),
            pl.coalesce("item_gold_label", "decided_label").alias("gold_label"),
            pl.when(pl.col("item_gold_label").is_not_null())
            .then(pl.lit("items"))
            .when(pl.col("decided_label").is_not_null())
            .then(
                pl.format(
                    "agreed in {}, gold from {} UTC",
                    "decided_week",
                    pl.col("decided_at").dt.strftime("%Y-%m-%d %H:%M"),
                )
            )
            .alias("gold_source"),
            pl.col("decided_label").is_not_null().alias("is_decided"),
        )
    )
    if top is not None:
        ranked = ranked.head(top)
    return ranked.select(
        "rank",
        "item_id",
        *SLICE,
        "n_annotators",
        "label_counts",
        "modal_label",
        "spread",
        "risk_weight",
        "score",
        "gold_label",
        "gold_source",
        "is_decided",
        "decided_label",
        "decided_week",
        "decided_note",
        "decided_at",
    )


def disputed_labels(annotations: pl.DataFrame, disputed: pl.DataFrame) -> pl.DataFrame:
    """Every label given on the disputed items (human and programmatic), by whom."""
    return (
        disputed.select("rank", "item_id")
        .join(annotations, on="item_id")
        .sort("rank", "submitted_at", "annotation_id")
        .select(
            "rank",
            "item_id",
            "annotation_id",
            "annotator_id",
            "tier",
            "vendor",
            "label",
            "submitted_at",
            "is_item_label",
            "decision_verdict",
            "final_label",
            "gold_label",
        )
    )


def disputed_reviews(reviews: pl.DataFrame, disputed: pl.DataFrame) -> pl.DataFrame:
    """Every review decision on the annotations of the disputed items."""
    return (
        disputed.select("rank", "item_id")
        .join(reviews, on="item_id")
        .sort("rank", "reviewed_at", "review_id")
        .select(
            "rank",
            "item_id",
            "annotation_id",
            "annotator_id",
            "review_id",
            "reviewer_id",
            "reviewer_tier",
            "stage",
            "verdict",
            "corrected_label",
            "reviewed_at",
            "is_decision",
        )
    )


# ----------------------------------------------------------------------- promoted slices


def promoted_this_week(
    kpi_counts: pl.DataFrame, week: date, rule: Promotion | None = None
) -> pl.DataFrame:
    """Slices promoted as of the last day of ``week``, one row per slice and evidence week.

    ``is_newly_promoted``: the slice was not promoted as of the week before.
    """
    rule = rule or Promotion()
    evidence = slice_weeks(kpi_counts.lazy())
    now = promoted_slices(evidence, week + timedelta(days=6), rule)
    before = promoted_slices(evidence, week - timedelta(days=1), rule).select(SLICE)
    schema = {
        **dict.fromkeys(SLICE, pl.String),
        "is_newly_promoted": pl.Boolean,
        "week": pl.String,
        "accepted_label_error_rate": pl.Float64,
        "accepted_label_error_rate_ci_low": pl.Float64,
        "accepted_label_error_rate_ci_high": pl.Float64,
        "n_accepted_known": pl.Int64,
        "n_accepted_wrong": pl.Int64,
    }
    if now.is_empty():
        return pl.DataFrame(schema=schema)
    return (
        now.join(
            before.with_columns(pl.lit(False).alias("is_newly_promoted")),
            on=list(SLICE),
            how="left",
            maintain_order="left",
            nulls_equal=True,
        )
        .with_columns(pl.col("is_newly_promoted").fill_null(True))
        .explode("weeks")
        .unnest("weeks")
        .select(list(schema))
        .cast(schema)
    )


# --------------------------------------------------------------------------- pseudonyms


#: A secret that keeps pseudonyms the same from one pack (and week) to the next.
PSEUDONYM_KEY_ENV = "KPI_PSEUDONYM_KEY"


def default_pseudonym_key() -> str:
    """``$KPI_PSEUDONYM_KEY`` when set (a team's secret: the same person keeps the same
    pseudonym week after week), else a fresh random key (packs cannot be linked)."""
    return os.environ.get(PSEUDONYM_KEY_ENV) or secrets.token_hex(16)


class Pseudonyms:
    """Stable pseudonyms for people: ``Annotator-`` + a short keyed hash of the id.

    The hash is HMAC-SHA256 under ``key`` (:func:`default_pseudonym_key` when not
    given), cut to 8 hex digits, lengthened for everyone when two ids of one mapping
    would collide. The same key and ids give the same pseudonyms.
    """

    prefix = "Annotator-"

    def __init__(self, key: bytes | str | None = None):
        if key is None:
            key = default_pseudonym_key()
        self.key = key.encode() if isinstance(key, str) else key

    def mapping(self, ids: Iterable[str]) -> dict[str, str]:
        unique = sorted({i for i in ids if i is not None})
        digests = {
            i: hmac.new(self.key, i.encode(), hashlib.sha256).hexdigest().upper() for i in unique
        }
        for width in range(8, 65, 2):
            names = {i: f"{self.prefix}{d[:width]}" for i, d in digests.items()}
            if len(set(names.values())) == len(names):
                return names
        raise AssertionError("SHA-256 collision")  # pragma: no cover


def kappa_pairs(week_labels: pl.DataFrame, min_shared: int = MIN_SHARED_ITEMS) -> pl.DataFrame:
    """Cohen's kappa of every pair of annotators sharing ``min_shared`` of the week's items.

    ``week_labels``: the item labels (one per annotator and item) of the items whose
    week is the meeting's. Lowest kappa first: the pairs that most need calibrating.
    """
    return _pair_order(cohen_kappa_pairs(week_labels, min_shared=min_shared))


def _pair_order(pairs: pl.DataFrame) -> pl.DataFrame:
    """Each pair as (smaller id, larger id), lowest kappa first, ties by the ids."""
    a, b = pl.col("annotator_id_a"), pl.col("annotator_id_b")
    return pairs.with_columns(
        pl.min_horizontal(a, b).alias("annotator_id_a"),
        pl.max_horizontal(a, b).alias("annotator_id_b"),
    ).sort(
        "cohen_kappa",
        "n_shared",
        "annotator_id_a",
        "annotator_id_b",
        descending=[False, True, False, False],
        nulls_last=True,
    )


# ----------------------------------------------------------------------------- the view


@dataclass(frozen=True)
class CalibrationView:
    """Everything one calibration meeting looks at, as frames (see the module docstring)."""

    week: str
    week_start: date
    domain: str | None
    level: str
    alpha_trend: pl.DataFrame
    fleiss_kappa: float | None
    kappa_pairs: pl.DataFrame
    annotators: pl.DataFrame
    vendors: pl.DataFrame
    confusion: pl.DataFrame
    disputed: pl.DataFrame
    disputed_labels: pl.DataFrame
    disputed_reviews: pl.DataFrame
    promoted: pl.DataFrame
    decisions: pl.DataFrame
    #: Items of the week whose labels disagree at all; ``disputed`` holds the top ones.
    n_disputed: int = 0
    #: Fleiss' kappa's items: how many, their number of annotators, out of how many
    #: items with two or more (:func:`kpi_core.kappa.fleiss_scope`).
    fleiss_items: tuple[int, int | None, int] = (0, None, 0)
    is_pseudonymised: bool = False

    @property
    def disputed_heading(self) -> str:
        """ "57 disputed items, the 20 most disputed listed" (or "3 disputed items")."""
        shown, total = self.disputed.height, self.n_disputed
        listed = f", the {shown} most disputed listed" if shown < total else ""
        return count_of(total, "disputed item") + listed

    @property
    def fleiss_scope_text(self) -> str:
        """ "over 218 of 322 items with 2+ annotators: those with 2, the most common
        number", or why there is no such item."""
        n, raters, rated = self.fleiss_items
        if raters is None:
            return "as no item of the week has two or more annotators"
        return (
            f"over {n} of {rated} items with 2+ annotators: those with {raters}, "
            "the most common number"
        )

    @property
    def alpha(self) -> dict:
        """This week's row of the alpha trend."""
        return self.alpha_trend.filter(pl.col("week_start") == self.week_start).to_dicts()[0]

    @property
    def drifting(self) -> pl.DataFrame:
        return self.annotators.filter(pl.col("is_drifting"))

    @property
    def week_decisions(self) -> pl.DataFrame:
        """Decisions recorded for this meeting's week."""
        return self.decisions.filter(pl.col("week") == self.week)

    def tables(self) -> dict[str, pl.DataFrame]:
        """The tables behind the view, by file stem (the pack's CSVs)."""
        return {
            "alpha_trend": self.alpha_trend,
            "cohen_kappa_pairs": self.kappa_pairs,
            "annotator_agreement": self.annotators,
            "vendor_agreement": self.vendors,
            "confusion_matrices": self.confusion,
            "disputed_items": self.disputed,
            "disputed_labels": self.disputed_labels,
            "disputed_reviews": self.disputed_reviews,
            "promoted_slices": self.promoted,
            "decisions": self.decisions,
        }

    def pseudonymised(self, pseudonyms: Pseudonyms) -> CalibrationView:
        """The same view with every human id replaced by its pseudonym."""
        people = _people(self)
        names = pseudonyms.mapping(people)
        out = {}
        for f in fields(self):
            frame = getattr(self, f.name)
            if isinstance(frame, pl.DataFrame):
                out[f.name] = frame.with_columns(
                    pl.col(c).replace_strict(names, default=pl.col(c), return_dtype=pl.String)
                    for c in _PERSON_COLUMNS
                    if c in frame.columns
                )
        # Ordered again by the pseudonyms: an order by the real ids would leak them.
        out["kappa_pairs"] = _pair_order(out["kappa_pairs"])
        out["annotators"] = drift_order(out["annotators"], "annotator_id")
        return replace(self, **out, is_pseudonymised=True)


_PERSON_COLUMNS = ("annotator_id", "reviewer_id", "annotator_id_a", "annotator_id_b")


def _people(view: CalibrationView) -> set[str]:
    """Human ids in the view: annotators of a human tier and reviewers (never programs)."""
    ids: set[str] = set()
    for frame in view.tables().values():
        if "annotator_id" in frame.columns and "tier" in frame.columns:
            ids |= set(
                frame.filter(pl.col("tier") != "programmatic").get_column("annotator_id").to_list()
            )
        if "reviewer_id" in frame.columns:
            ids |= set(frame.get_column("reviewer_id").to_list())
    if not view.disputed_reviews.is_empty():
        # the labeller of a reviewed annotation: a person unless a program labelled it
        programs = set(
            view.disputed_labels.filter(pl.col("tier") == "programmatic")
            .get_column("annotator_id")
            .to_list()
        )
        ids |= set(view.disputed_reviews.get_column("annotator_id").to_list()) - programs
    return {i for i in ids if i is not None}


def compute_view(
    inputs: CalibrationInputs,
    *,
    level: Level = "nominal",
    top: int | None = TOP_DISPUTED,
    rule: Promotion | None = None,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
) -> CalibrationView:
    """The meeting's frames from the fetched query results (no database access)."""
    require_numeric_labels(inputs.item_labels.lazy(), level)
    week = inputs.week_start
    every_disputed = disputed_items(inputs.annotations, inputs.decisions, week, top=None)
    disputed = every_disputed.head(top) if top is not None else every_disputed
    # without reviews nothing is accepted, so no slice can be promoted
    counts = inputs.kpi_counts if inputs.has_reviews else inputs.kpi_counts.clear()
    promoted = promoted_this_week(counts, week, rule)
    week_labels = inputs.annotations.filter(
        pl.col("is_item_label") & (pl.col("item_week_start") == week)
    )
    agreement = agreement_counts(inputs.annotations, week)
    return CalibrationView(
        week=iso_week_label(week),
        week_start=week,
        domain=inputs.domain,
        level=level,
        alpha_trend=alpha_trend(inputs.item_labels, week, level=level, draws=draws, seed=seed),
        fleiss_kappa=fleiss_kappa(week_labels),
        fleiss_items=fleiss_scope(week_labels),
        kappa_pairs=kappa_pairs(week_labels),
        annotators=agreement_drift(inputs.annotations, week, "annotator_id", counts=agreement),
        vendors=agreement_drift(inputs.annotations, week, "vendor", counts=agreement),
        confusion=confusion_matrices(inputs.annotations, week),
        disputed=disputed,
        disputed_labels=disputed_labels(inputs.annotations, disputed),
        disputed_reviews=disputed_reviews(inputs.reviews, disputed),
        promoted=promoted,
        decisions=inputs.decisions,
        n_disputed=every_disputed.height,
    )


def build_view(
    dataset: Dataset,
    week: str | date,
    *,
    domain: str | None = None,
    level: Level = "nominal",
    top: int | None = TOP_DISPUTED,
    rule: Promotion | None = None,
    draws: int = BOOTSTRAP_DRAWS,
    seed: int = 0,
    aggs: Aggregates | None = None,
) -> CalibrationView:
    """Fetch and compute the view of the meeting of ``week`` (``YYYY-Www`` or its Monday).

    ``aggs``: the dataset's fetched aggregates, when there are some, to reuse
    (see :func:`fetch_inputs`).
    """
    monday = parse_week(week) if isinstance(week, str) else week_start(week)
    inputs = fetch_inputs(dataset, monday, domain, aggs)
    return compute_view(inputs, level=level, top=top, rule=rule, draws=draws, seed=seed)
