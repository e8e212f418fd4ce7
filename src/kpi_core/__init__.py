"""kpi_core: quality KPIs for data-labelling operations.

A library with no Streamlit import: DuckDB runs the SQL in ``queries/`` over the
annotation logs, and polars finishes the arithmetic.
"""

from kpi_core.loading import Dataset, open_dataset
from kpi_core.problems import DataError, Problem, QueryError
from kpi_core.reliability import krippendorff_alpha

__all__ = ["DataError", "Dataset", "Problem", "QueryError", "krippendorff_alpha", "open_dataset"]
