"""Shared test set-up: tests import the readable fixtures in tests/datasets.py."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def parsed_tables(monkeypatch) -> list[str]:
    """The table of every CSV file parsed from now on, once per parse (the real parser
    runs): for holding the tools to parsing a large file once."""
    from kpi_core import file_checks, loading

    parsed: list[str] = []

    def parse_csv(con, source):
        parsed.append(source.table)
        return file_checks.parse_csv(con, source)

    monkeypatch.setattr(loading, "parse_csv", parse_csv)
    return parsed


def pytest_sessionfinish(session, exitstatus):
    """Release what the dashboard's caches hold (the loaded data and its DuckDB
    connection) before the interpreter ends: the bindings report objects still alive
    then as leaks, at the end of an otherwise clean run."""
    import gc

    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    gc.collect()
