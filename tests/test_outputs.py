"""A query's result held to its Output: header (kpi_core.outputs), on tiny frames."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from kpi_core.outputs import header_mismatch, held_to_header
from kpi_core.problems import QueryError
from kpi_core.queries import QueryFile


def _query(*outputs: tuple[str, str], key: str = "") -> QueryFile:
    return QueryFile(
        name="totals",
        path=Path("queries/totals.sql"),
        sql="select 1",
        doc=f"Key: {key}" if key else "",
        parameters=(),
        outputs=outputs,
        sql_lines=(1,),
    )


def test_a_whole_decimal_comes_as_the_whole_number_declared():
    frame = pl.DataFrame({"n": [Decimal("3"), Decimal("4")]}, schema={"n": pl.Decimal(38, 0)})
    held = held_to_header(_query(("n", "bigint")), frame)
    assert held.schema["n"] == pl.Int64 and held["n"].to_list() == [3, 4]


def test_a_decimal_declared_double_comes_as_a_double():
    frame = pl.DataFrame({"x": [Decimal("0.25")]}, schema={"x": pl.Decimal(38, 2)})
    assert held_to_header(_query(("x", "double")), frame).schema["x"] == pl.Float64


@pytest.mark.parametrize(
    ("declared", "values", "said"),
    [
        ("bigint", [1.5], "n is declared bigint but the result's numbers may have fractions"),
        ("dubble", [1.0], "n is declared dubble, which is not a DuckDB type"),
        ("varchar", [1.0], "n is declared varchar but the result's is number"),
    ],
)
def test_a_column_unlike_its_declaration_is_named(declared, values, said):
    assert said in header_mismatch(_query(("n", declared)), pl.DataFrame({"n": values}))


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_infinity_or_nan_is_the_files_error(bad):
    with pytest.raises(QueryError, match="x holds infinity or NaN"):
        held_to_header(_query(("x", "double")), pl.DataFrame({"x": [1.0, bad, None]}))


def test_a_result_matching_its_header_passes_as_it_is():
    frame = pl.DataFrame({"domain": ["stem"], "n": [2], "share": [0.5]})
    query = _query(("domain", "varchar"), ("n", "bigint"), ("share", "double"))
    assert header_mismatch(query, frame) is None
    assert held_to_header(query, frame).equals(frame)


def test_rows_that_share_their_key_are_the_files_error():
    """Readers add the rows up: a join that repeats them would double a KPI."""
    query = _query(("domain", "varchar"), ("week", "varchar"), ("n", "bigint"), key="domain, week")
    frame = pl.DataFrame({"domain": ["stem", "stem", "coding"], "week": ["W01", "W02", "W01"]})
    held_to_header(query, frame.with_columns(n=pl.lit(1)))  # each (domain, week) once
    twice = pl.concat([frame, frame.head(1)]).with_columns(n=pl.lit(1))
    with pytest.raises(QueryError, match=r"2 rows share their Key \(domain, week\)"):
        held_to_header(query, twice)


def test_a_key_of_columns_not_returned_is_named():
    query = _query(("domain", "varchar"), key="domain, slice")
    said = header_mismatch(query, pl.DataFrame({"domain": ["stem"]}))
    assert "the Key names columns the Output does not: slice" in said
