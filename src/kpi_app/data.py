"""Where the dashboard's numbers come from, and the caches around them.

Every Streamlit cache of the dashboard lives here:

- :func:`load` (``st.cache_resource``): validate the data directory, open it in
  DuckDB and run every KPI query once. It is keyed by a :class:`Source`, whose
  ``fingerprint`` hashes the size and modification time of every data file,
  every query file and the targets file, so an edit to any of them makes the
  next rerun load afresh (and releases the old connection).
- the ``st.cache_data`` wrappers below: the KPI tables and views a page shows,
  keyed by the source, the grouping and the sidebar filters. They are
  polars-fast, but on a million annotations a grouping costs up to a few
  seconds, so a page switch with unchanged filters only reads caches.

The data directory is ``$KPI_DATA_DIR`` (default: the repository's
``sample_data/``); the targets file ``$KPI_TARGETS`` (optional).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl
import streamlit as st

from kpi_core import aggregates, metrics, queries, views
from kpi_core.agreement import Level
from kpi_core.backlog import backlog_by_stage
from kpi_core.coverage import NEEDS as COVERAGE_NEEDS
from kpi_core.coverage import coverage_overall
from kpi_core.defects import defect_turnaround
from kpi_core.grouping import SLICE, Filters
from kpi_core.loading import Dataset, open_dataset
from kpi_core.problems import DataError, Problem, QueryError
from kpi_core.promotion import promoted_slices
from kpi_core.promotion import unavailable_reason as promotion_unavailable
from kpi_core.quarantine import rows_to_leave_out
from kpi_core.targets import Targets

REPO = Path(__file__).resolve().parents[2]
#: Rows of a query's result the Queries page shows.
PREVIEW_ROWS = 500
DEFAULT_DATA_DIR = REPO / "sample_data"


def data_dir() -> Path:
    """The data directory: ``$KPI_DATA_DIR``, else the bundled sample."""
    return Path(os.environ.get("KPI_DATA_DIR") or DEFAULT_DATA_DIR)


def targets_file() -> Path | None:
    """The user's targets file, ``$KPI_TARGETS``, when set."""
    value = os.environ.get("KPI_TARGETS")
    return Path(value) if value else None


def quarantine_file() -> Path | None:
    """Where invalid rows are set aside, ``$KPI_QUARANTINE`` (``kpi serve --quarantine``),
    when the user asked to go on despite them."""
    value = os.environ.get("KPI_QUARANTINE")
    return Path(value) if value else None


@dataclass(frozen=True)
class Source:
    """What the dashboard shows: a data directory, a targets file, and a
    fingerprint of everything on disk the numbers depend on."""

    data_dir: str
    targets: str | None
    fingerprint: str
    #: The part of the fingerprint validation depends on (data files and checks only),
    #: so that editing a KPI query does not validate the data again.
    data_fingerprint: str = ""
    #: Set invalid rows aside (and write them here) instead of refusing the data.
    quarantine: str | None = None


def _stamp(path: Path) -> str:
    try:
        info = path.stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{info.st_size}:{info.st_mtime_ns}"


def _hash(stamps: list[str]) -> str:
    return hashlib.sha1("\n".join(stamps).encode()).hexdigest()


def _data_stamps(root: Path) -> list[str]:
    stamps = [_stamp(root)]
    if root.is_dir():
        stamps += [_stamp(p) for p in sorted(root.rglob("*")) if p.is_file()]
    return stamps


def fingerprint(root: Path, targets: Path | None) -> str:
    """A hash of the size and mtime of every file under ``root``, every query file
    and the targets file: it changes when any of them is edited."""
    stamps = _data_stamps(root) + [_stamp(p) for p in queries.query_paths()]
    if targets is not None:
        stamps.append(_stamp(targets))
    return _hash(stamps)


def current_source() -> Source:
    """The source as it is on disk now (cheap: a directory listing)."""
    root, targets, quarantine = data_dir(), targets_file(), quarantine_file()
    checks = sorted((Path(queries.QUERIES_DIR) / "checks").glob("*.sql"))
    return Source(
        str(root),
        str(targets) if targets else None,
        fingerprint(root, targets),
        _hash(_data_stamps(root) + [_stamp(p) for p in checks]),
        str(quarantine) if quarantine else None,
    )


@dataclass
class Loaded:
    """A validated, opened data directory and its aggregates; or why not."""

    source: Source
    problems: list[Problem]
    dataset: Dataset | None = None
    aggs: aggregates.Aggregates | None = None
    targets: Targets = field(default_factory=Targets.load)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Invalid rows left out (only when the source asks for quarantine).
    set_aside: list[Problem] = field(default_factory=list)
    #: Check files of ``queries/checks/`` that failed: the data was checked without them.
    broken_checks: list[QueryError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.aggs is not None


def _release(loaded: Loaded) -> None:
    if loaded.dataset is not None:
        loaded.dataset.con.close()


@st.cache_data(max_entries=4, show_spinner=False)
def _validate(data_dir: str, data_fingerprint: str) -> tuple[list[Problem], list[QueryError]]:
    """Every broken rule of the data directory (kpi_core.validation), once per state
    of its files and of the checks; and the check files that failed (an analyst's
    edit), which the dashboard names on every page instead of stopping."""
    from kpi_core.validation import validate

    broken: list[QueryError] = []
    return validate(Path(data_dir), broken_checks=broken), broken


@st.cache_resource(max_entries=2, show_spinner=False, on_release=_release)
def _load(source: Source) -> Loaded:
    root = Path(source.data_dir)
    try:
        targets = Targets.load(Path(source.targets) if source.targets else None)
    except DataError as error:
        return Loaded(source, error.problems)
    problems, broken = _validate(source.data_dir, source.data_fingerprint)
    aside: list[Problem] = []
    try:
        if problems and source.quarantine:
            aside = _set_aside(source.data_dir, source.data_fingerprint, source.quarantine)
        elif problems:
            return Loaded(source, problems, targets=targets, broken_checks=broken)
        dataset = open_dataset(root, set_aside=aside)
    except DataError as error:
        return Loaded(source, error.problems, targets=targets, broken_checks=broken)
    # Validated in full above (or its invalid rows set aside): the facts model is judged too.
    aggs = aggregates.fetch(dataset, validated=True)
    return Loaded(source, [], dataset, aggs, targets, set_aside=aside, broken_checks=broken)


@st.cache_data(max_entries=4, show_spinner=False)
def _set_aside(data_dir: str, data_fingerprint: str, quarantine: str) -> list[Problem]:
    """The invalid rows to leave out, written to the quarantine file, once per state
    of the data files; raises DataError for a file that cannot be read at all."""
    found, _ = _validate(data_dir, data_fingerprint)  # cached: validation's first round
    return rows_to_leave_out(Path(data_dir), Path(quarantine), found=found)


def load(source: Source | None = None) -> Loaded:
    """The loaded data of ``source`` (default: the data on disk now), from cache when warm."""
    source = source or current_source()
    with st.spinner("Validating the data and computing the aggregates (first load only)…"):
        return _load(source)


# ------------------------------------------------------------------ cached views


@st.cache_data(max_entries=512, show_spinner=False)
def kpi_table(
    source: Source, by: tuple[str, ...], filters: Filters, level: Level = "nominal"
) -> pl.DataFrame:
    """``kpi_core.metrics.kpi_table`` of the source's aggregates, cached."""
    return metrics.kpi_table(_load(source).aggs, list(by), filters, level=level)


@st.cache_data(max_entries=64, show_spinner=False)
def promoted(source: Source, filters: Filters) -> pl.DataFrame | None:
    """The promoted slices at the as-of time (or the end of the date filter, if
    earlier) with their evidence; None when there are no reviews to judge by."""
    loaded = _load(source)
    aggs = loaded.aggs
    if promotion_unavailable(aggs) is not None:
        return None
    as_of = aggs.as_of.date()
    if filters.date_to is not None and filters.date_to < as_of:
        as_of = filters.date_to
    slice_weeks = kpi_table(source, (*SLICE, "week"), filters)
    return promoted_slices(slice_weeks, as_of, loaded.targets.promotion)


@st.cache_data(max_entries=64, show_spinner=False)
def alpha(
    source: Source, by: tuple[str, ...], filters: Filters, level: Level = "nominal"
) -> pl.DataFrame:
    """Krippendorff's alpha per group with its bootstrap interval."""
    return views.alpha_with_interval(
        _load(source).aggs["item_label_counts"], by, filters, level=level
    )


@st.cache_data(max_entries=64, show_spinner=False)
def worst_items(
    source: Source, chosen: tuple[tuple[str, str], ...], filters: Filters
) -> pl.DataFrame:
    return views.worst_items(_load(source).aggs["item_label_counts"], dict(chosen), filters)


@st.cache_data(max_entries=64, show_spinner=False)
def backlog_stages(source: Source, by: tuple[str, ...], filters: Filters) -> pl.DataFrame:
    frame = _load(source).aggs["review_backlog"]
    frame = filters.apply(frame)
    return backlog_by_stage(frame, by).collect()


@st.cache_data(max_entries=64, show_spinner=False)
def oldest_waiting(source: Source, filters: Filters, stage: str) -> pl.DataFrame:
    aggs = _load(source).aggs
    if not aggs.ok("oldest_waiting_annotations"):
        return pl.DataFrame()
    return views.oldest_waiting(aggs["oldest_waiting_annotations"], filters, stage=stage)


@st.cache_data(max_entries=64, show_spinner=False)
def review_time_histogram(source: Source, filters: Filters) -> pl.DataFrame:
    frame = _load(source).aggs["specialist_review_times"]
    frame = filters.apply(frame)
    return views.weighted_histogram(frame, "duration_s", "n_reviews")


@st.cache_resource(max_entries=2, show_spinner=False)
def item_labels(source: Source) -> pl.DataFrame:
    """Every annotation with its item-level flag and judging gold
    (``calibration_item_annotations``), once per data; :class:`QueryError` when it fails."""
    loaded = _load(source)
    with loaded.lock:
        frame = queries.run(loaded.dataset.con, "calibration_item_annotations")
    return frame.select(views.LABEL_COLUMNS)


@st.cache_data(max_entries=2, show_spinner=False)
def domain_labels(source: Source) -> dict[str, list[str]]:
    """The labels in use in each domain, most used first (what a decision may agree on)."""
    from kpi_core.decisions import domain_labels as labels_in_use

    loaded = _load(source)
    with loaded.lock:
        return labels_in_use(loaded.dataset.con)


@st.cache_resource(show_spinner=False)
def pseudonym_key() -> str:
    """One pseudonym key per server: every screen in a calibration meeting, and every
    reload, shows a person under the same pseudonym (see default_pseudonym_key)."""
    from kpi_core.calibration import default_pseudonym_key

    return default_pseudonym_key()


@st.cache_data(max_entries=32, show_spinner=False)
def kappa_pairs(source: Source, filters: Filters, min_shared: int) -> pl.DataFrame:
    """Cohen's kappa of every annotator pair sharing at least ``min_shared`` items."""
    from kpi_core.kappa import cohen_kappa_pairs

    labels = views.annotator_labels(item_labels(source), filters)
    return cohen_kappa_pairs(
        labels.select("item_id", "annotator_id", "label"), min_shared=min_shared
    )


@st.cache_data(max_entries=32, show_spinner=False)
def annotator_agreement(source: Source, filters: Filters) -> pl.DataFrame:
    """Each annotator's agreement with the consensus of the others and with gold."""
    return views.annotator_agreement(views.annotator_labels(item_labels(source), filters))


def filtered(source: Source, name: str, filters: Filters) -> pl.DataFrame:
    """One aggregate frame with the filters applied (small frames only)."""
    frame = _load(source).aggs[name]
    return filters.apply(frame).collect()


@st.cache_data(max_entries=64, show_spinner=False)
def defects(source: Source, filters: Filters) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(turnaround per severity, the defects themselves), filtered."""
    frame = filtered(source, "defect_durations", filters)
    return defect_turnaround(frame.lazy()), frame


def coverage(source: Source, filters: Filters) -> tuple[float | None, pl.DataFrame]:
    """Domain coverage overall (share of target slices at 1) and per target slice."""
    loaded = _load(source)
    if not loaded.aggs.has(*COVERAGE_NEEDS) or not loaded.aggs.ok("domain_coverage"):
        return None, pl.DataFrame()
    frame = loaded.aggs.frames["domain_coverage"]
    if filters.domains:
        frame = frame.filter(pl.col("domain").is_in(list(filters.domains)))
    return coverage_overall(frame), frame


@st.cache_data(max_entries=8, show_spinner=False)
def options(source: Source) -> dict[str, list]:
    """The values each sidebar filter offers, and the data's date range."""
    aggs = _load(source).aggs
    frames = [aggs.frames[n] for n in ("annotation_kpi_counts", "item_label_counts") if aggs.ok(n)]
    result: dict[str, list] = {}
    for column in ("domain", "vendor", "tier", "dataset_version"):
        values = set()
        for frame in frames:
            if column in frame.columns:
                values.update(v for v in frame[column].unique().to_list() if v is not None)
        result[column] = sorted(values)
    weeks = [f["week_start"].min() for f in frames if f.height] or []
    first: date | None = min(weeks) if weeks else None
    ends = [f["week_start"].max() for f in frames if f.height]
    # The Mondays of the first and last weeks with annotations.
    result["weeks"] = [first, max(ends) if ends else None]
    last: date | None = aggs.as_of.date() if isinstance(aggs.as_of, datetime) else None
    if last is None:
        last = max(ends) if ends else None
    result["dates"] = [first, last]
    return result


def preview_query(source: Source, query: queries.QueryFile) -> tuple[pl.DataFrame, int]:
    """A query's first rows on the current data; :class:`QueryError` when it fails.

    Not cached here (the Queries page caches by file stamp): a query runs on the
    shared connection, one at a time.
    """
    loaded = _load(source)
    with loaded.lock:
        return views.preview_query(
            loaded.dataset.con, query, limit=PREVIEW_ROWS, as_of=loaded.aggs.as_of
        )


@dataclass(frozen=True)
class QueryFailure:
    """Why a query file failed: its file, the line where known, and DuckDB's message;
    ``not_run`` when it was not run at all, as it reads a model that failed."""

    file: str
    line: int | None
    reason: str
    not_run: bool = False

    @classmethod
    def of(cls, error: QueryError) -> QueryFailure:
        return cls(error.file, error.line, error.reason)

    @classmethod
    def reads_failed(cls, query: queries.QueryFile, model: QueryError) -> QueryFailure:
        reason = f"not run: it reads a model that failed ({model.located})"
        return cls(str(query.path), None, reason, not_run=True)


@st.cache_data(max_entries=256, show_spinner=False)
def query_result(
    source: Source, path: str, stamp: str
) -> tuple[pl.DataFrame | None, int, QueryFailure | None]:
    """(first rows, row count, failure) of the query file at ``path`` on the current
    data; ``stamp`` (the file's size and mtime) keys the cache so an edit reruns it."""
    loaded = _load(source)
    try:
        query = queries.parse_file(Path(path))
        unread = queries.unread_cte_error(query)
        failed = loaded.aggs.failed_models
        if (broken := queries.failed_model_read(query, failed)) is not None:
            return None, 0, QueryFailure.reads_failed(query, broken)
        if query.name in loaded.aggs.errors or query.name in failed:
            raise loaded.aggs.errors.get(query.name) or failed[query.name]
        if query.name in loaded.aggs.frames:
            # A KPI query: its result is already here, from the same file and as-of time.
            frame = loaded.aggs.frames[query.name]
            n = frame.height
        else:
            if Path(path).parent.name == "models":
                # A model is already materialized under its name: read it, not rebuild it.
                query = dataclasses.replace(
                    query, sql=f'select * from "{query.name}"', parameters=()
                )
            frame, n = preview_query(source, query)
    except QueryError as error:
        return None, 0, QueryFailure.of(error)
    # Held to its header as it ran (as kpi check holds it); kpi check also wants every
    # CTE read.
    failure = QueryFailure.of(unread) if unread is not None else None
    return frame.head(PREVIEW_ROWS), n, failure


def file_stamp(path: Path) -> str:
    return _stamp(path)


__all__ = [
    "DEFAULT_DATA_DIR",
    "Loaded",
    "QueryFailure",
    "Source",
    "alpha",
    "backlog_stages",
    "coverage",
    "current_source",
    "data_dir",
    "defects",
    "annotator_agreement",
    "fingerprint",
    "item_labels",
    "kappa_pairs",
    "kpi_table",
    "load",
    "oldest_waiting",
    "options",
    "promoted",
    "query_result",
    "review_time_histogram",
    "targets_file",
    "worst_items",
]
