"""The queries are meant to run on Spark too, transpiled with SQLGlot: each must
transpile without unsupported constructs, and the Spark text, read back,
must give DuckDB's own answer on the TINY data."""

from __future__ import annotations

import pytest
import sqlglot
from polars.testing import assert_frame_equal

from datasets import TINY, write_dataset
from kpi_core import queries
from kpi_core.aggregates import data_as_of
from kpi_core.loading import open_dataset

QUERIES = [queries.parse_file(p) for p in queries.query_paths()]


def to_spark(sql: str) -> str:
    return sqlglot.transpile(
        sql, read="duckdb", write="spark", unsupported_level=sqlglot.ErrorLevel.RAISE
    )[0]


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_query_transpiles_to_spark(query):
    assert to_spark(query.sql)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    dataset = open_dataset(write_dataset(tmp_path_factory.mktemp("tiny"), TINY))
    queries.register_models(dataset.con)
    return dataset


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_spark_text_keeps_the_meaning(query, tiny):
    params = {"as_of": data_as_of(tiny)} if "as_of" in query.parameters else {}
    bound = {p: params.get(p) for p in query.parameters} or None
    round_trip = sqlglot.transpile(to_spark(query.sql), read="spark", write="duckdb")[0]
    expected = tiny.con.sql(query.sql, params=bound).pl()
    got = tiny.con.sql(round_trip, params=bound).pl()
    assert_frame_equal(got, expected, check_dtypes=False, check_row_order=False)
