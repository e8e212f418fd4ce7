"""kpi_core: quality KPIs for data-labelling operations.

A library with no Streamlit import: DuckDB runs the SQL in ``queries/`` over the
annotation logs, and polars finishes the arithmetic.
"""

from kpi_core.kappa import cohen_kappa_pairs, consensus_agreement, fleiss_kappa, gold_agreement
from kpi_core.loading import Dataset, open_dataset
from kpi_core.problems import DataError, Problem, QueryError
from kpi_core.reliability import (
    alpha_from_value_counts,
    bootstrap_alpha,
    grouped_krippendorff_alpha,
    krippendorff_alpha,
)

__all__ = [
    "DataError",
    "Dataset",
    "Problem",
    "QueryError",
    "alpha_from_value_counts",
    "bootstrap_alpha",
    "cohen_kappa_pairs",
    "consensus_agreement",
    "fleiss_kappa",
    "gold_agreement",
    "grouped_krippendorff_alpha",
    "krippendorff_alpha",
    "open_dataset",
]
