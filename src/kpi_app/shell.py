"""The frame around every page: page setup, the data check, the sidebar, the page itself.

The entry point ``app/streamlit_app.py`` lists the pages and calls :func:`run`;
each page calls :func:`context` for the loaded data, the targets and the filters.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

import polars as pl
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from kpi_app import data, filters, widgets
from kpi_core.aggregates import Aggregates
from kpi_core.agreement import Level
from kpi_core.grouping import Filters
from kpi_core.problems import QueryError
from kpi_core.targets import Targets

_log = logging.getLogger(__name__)

#: True while the entry point runs the current page (a context variable, not session
#: state: a write to session state after st.stop() is lost, and the next page would then
#: run unframed, without the safety net below).
_FRAMED: ContextVar[bool] = ContextVar("kpi_framed", default=False)

# Streamlit decides per run between st.navigation and its legacy ``pages/`` folder mode
# (a class-level flag, set True when a ``pages/`` folder sits beside the entry point and
# set False only when st.navigation runs). A server whose first request is a deep link
# (``/slices?...``) would take the legacy path, run the page without the entry point, and
# stay there. Pages import this module, so clearing the flag here, and rerunning a page
# that ran without its frame (see context()), keeps every run on st.navigation.
PagesManager.uses_pages_directory = False


def configure() -> None:
    """Page settings shared by every page (call before ``st.navigation``)."""
    st.set_page_config(
        page_title="Labelling quality KPIs",
        page_icon=":material/fact_check:",
        layout="wide",
        initial_sidebar_state="expanded",
    )


def run(page) -> None:
    """Show ``page`` (from ``st.navigation``) inside the frame, or the validation
    report when the data directory cannot be used."""
    widgets.DOWNLOAD_VIEW.set("")  # until a page's header names its filters
    source = data.current_source()
    loaded = data.load(source)
    for error in loaded.broken_checks:
        widgets.check_banner(error)
    if not loaded.ok:
        widgets.problems_page(loaded)
        return
    filters.sidebar(source)
    with st.sidebar:
        st.caption(
            f"Data: `{source.data_dir}`  \nAs of {_as_of(loaded.aggs.as_of)}"
            + (f"  \nTargets: `{source.targets}`" if source.targets else "")
        )
        if loaded.set_aside:
            widgets.set_aside_notice(loaded.set_aside, source.quarantine)
    filters.url_notice()
    framed = _FRAMED.set(True)
    try:
        page.run()
    except QueryError as error:
        # A query file the page runs itself failed: named with its line, as the others.
        widgets.page_stopped(loaded.aggs, error)
    except Exception:
        # An analyst's broken query file leaves its frames out; a page drawn from them
        # stops with the banner naming the file and line, never a traceback. (Streamlit's
        # own stop and rerun are BaseExceptions and pass.) Without a failed file, a
        # failure is a bug and shows as one.
        if not loaded.aggs.errors:
            raise
        _log.exception("page %s stopped on a failed query file", page.title)
        widgets.page_stopped(loaded.aggs)
    finally:
        _FRAMED.reset(framed)


def _as_of(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "n/a"


@dataclass(frozen=True)
class Context:
    """What a page shows: the loaded data, its targets, and the sidebar filters."""

    source: data.Source
    loaded: data.Loaded
    filters: Filters

    @property
    def aggs(self) -> Aggregates:
        return self.loaded.aggs

    @property
    def targets(self) -> Targets:
        """The targets, with a domain's own where the sidebar narrows to that one domain."""
        if len(self.filters.domains) == 1:
            return self.loaded.targets.for_domain(self.filters.domains[0])
        return self.loaded.targets

    def table(
        self, *by: str, level: Level = "nominal", filters: Filters | None = None
    ) -> pl.DataFrame:
        """Every KPI per group of ``by`` under the sidebar filters (cached)."""
        return data.kpi_table(self.source, tuple(by), filters or self.filters, level)

    def overall(self) -> dict:
        return self.table().to_dicts()[0]

    def header(
        self,
        title: str,
        lead: str,
        *,
        view: str | None = None,
        applies: Collection[str] | None = None,
    ) -> None:
        """The page title, one line on what it answers, and the view it shows (the
        sidebar's filters unless the page says otherwise in ``view``; ``applies``:
        the filters its data honours, see :func:`kpi_app.filters.describe`)."""
        st.title(title)
        shows = view or f"Showing {filters.describe(self.filters, applies)}"
        widgets.DOWNLOAD_VIEW.set("" if view else filters.file_part(self.filters, applies))
        st.caption(f"{lead} · As of {_as_of(self.aggs.as_of)} · {shows}")
        # On every page: a spaced ' stem' shows as a second, look-alike stem everywhere.
        widgets.spaced_values_notice(self.aggs)
        narrowed = view is None and applies is None and self.filters != Filters()
        if (
            narrowed
            and self.aggs.ok("annotation_kpi_counts")
            and self.overall()["n_annotations"] == 0
        ):
            st.warning(
                "No annotation matches these filters, so every KPI below is 0 or n/a. "
                "Widen the selection in the sidebar, or clear the filters.",
                icon=":material/filter_alt_off:",
            )


def context() -> Context:
    """The page's context; stops the page when the data cannot be used."""
    if not _FRAMED.get():
        # Run without the entry point (Streamlit's legacy pages-folder mode): again, framed.
        PagesManager.uses_pages_directory = False
        st.rerun()
    source = data.current_source()
    loaded = data.load(source)
    if not loaded.ok:
        widgets.problems_page(loaded)
        st.stop()
    return Context(source, loaded, filters.current())
