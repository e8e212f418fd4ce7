"""kpi_app: the Streamlit side of the dashboard.

Every Streamlit import and cache of the project lives in this package, so
``kpi_core`` stays importable without Streamlit. Pages in ``app/pages/`` import
from here (never from a neighbouring file) and call ``kpi_core`` for every number.
"""
