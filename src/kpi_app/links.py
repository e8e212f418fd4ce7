"""The dashboard's pages, by name, and links between them that keep the filters."""

from __future__ import annotations

import streamlit as st

from kpi_app import filters
from kpi_app.data import REPO

#: The folder of the entry point, which page paths are relative to.
APP_DIR = REPO / "app"

#: Page name -> (file relative to the entry point, title, icon).
PAGES: dict[str, tuple[str, str, str]] = {
    "overview": ("pages/overview.py", "Overview", ":material/dashboard:"),
    "slices": ("pages/slices.py", "Slices", ":material/grid_view:"),
    "coverage": ("pages/coverage.py", "Domain coverage", ":material/target:"),
    "quality": ("pages/quality.py", "Quality & QA funnel", ":material/verified:"),
    "reliability": ("pages/reliability.py", "Reliability", ":material/handshake:"),
    "calibration": ("pages/calibration.py", "Calibration", ":material/tune:"),
    "cost": ("pages/cost.py", "Cost & throughput", ":material/payments:"),
    "backlog": ("pages/backlog.py", "Backlog & turnaround", ":material/hourglass_top:"),
    "defects": ("pages/defects.py", "Defects & model lift", ":material/bug_report:"),
    "queries": ("pages/queries.py", "Queries", ":material/database:"),
}

#: Which page tells the story behind each KPI.
KPI_PAGE: dict[str, str] = {
    "accepted_label_error_rate": "quality",
    "gold_accuracy": "quality",
    "rework_rate": "quality",
    "programmatic_accuracy": "quality",
    "precheck_pass_rate": "quality",
    "final_overturn_rate": "quality",
    "disagreement_rate": "reliability",
    "pairwise_agreement": "reliability",
    "krippendorff_alpha": "reliability",
    "cost_per_accepted_label": "cost",
    "accepted": "cost",
    "review_backlog": "backlog",
    "review_backlog_oldest_h": "backlog",
    "turnaround_median_h": "backlog",
    "turnaround_p90_h": "backlog",
    "specialist_review_time_median_s": "backlog",
    "specialist_review_time_p90_s": "backlog",
    "domain_coverage": "coverage",
}


def link(page: str, label: str, *, icon: str | None = None, **params: str | list[str]) -> None:
    """A link to ``page`` that carries the current filters, overridden by ``params``."""
    path, _, page_icon = PAGES[page]
    if not (APP_DIR / path).exists():
        st.markdown(label)
        return
    st.page_link(
        path, label=label, icon=icon or page_icon, query_params=filters.link_params(**params)
    )
