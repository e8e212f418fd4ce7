"""The frame around every page: page setup, the data check, the sidebar, the page itself.

The entry point ``app/streamlit_app.py`` lists the pages and calls :func:`run`;
each page calls :func:`context` for the loaded data, the targets and the filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl
import streamlit as st

from kpi_app import data, filters, widgets
from kpi_core.aggregates import Aggregates
from kpi_core.agreement import Level
from kpi_core.grouping import Filters
from kpi_core.targets import Targets


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
    source = data.current_source()
    loaded = data.load(source)
    if not loaded.ok:
        widgets.problems_page(loaded)
        return
    filters.sidebar(source)
    with st.sidebar:
        st.caption(
            f"Data: `{source.data_dir}`  \nAs of {_as_of(loaded.aggs.as_of)}"
            + (f"  \nTargets: `{source.targets}`" if source.targets else "")
        )
    page.run()


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
        return self.loaded.targets

    def table(self, *by: str, level: Level = "nominal", filters: Filters | None = None) -> pl.DataFrame:
        """Every KPI per group of ``by`` under the sidebar filters (cached)."""
        return data.kpi_table(self.source, tuple(by), filters or self.filters, level)

    def overall(self) -> dict:
        return self.table().to_dicts()[0]

    def header(self, title: str, lead: str) -> None:
        """The page title, one line on what it answers, and the view it shows."""
        st.title(title)
        st.caption(
            f"{lead} · As of {_as_of(self.aggs.as_of)} · Showing {filters.describe(self.filters)}"
        )


def context() -> Context:
    """The page's context; stops the page when the data cannot be used."""
    source = data.current_source()
    loaded = data.load(source)
    if not loaded.ok:
        widgets.problems_page(loaded)
        st.stop()
    return Context(source, loaded, filters.current())
