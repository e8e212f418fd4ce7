"""Which CTEs of a query nothing reads: what kpi check names, as DuckDB does not bind them."""

from __future__ import annotations

import pytest

from kpi_core.ctes import unread_ctes


@pytest.mark.parametrize(
    ("sql", "unread"),
    [
        ("with a as (select 1 as x) select * from a", []),
        ("with a as (select 1 as x), b as (select nosuch from a) select * from a", ["b"]),
        # read only by an unread CTE: unread too
        ("with a as (select 1 as x), b as (select * from a) select 2", ["a", "b"]),
        # read through another CTE, in a subquery, or under another case
        ("with a as (select 1 as x), b as (select * from a) select * from b", []),
        ("with a as (select 1 as x) select 2 where 1 in (select x from a)", []),
        ("with A as (select 1 as x) select * from a", []),
        # a WITH inside a subquery
        ("select * from (with q as (select 1) , r as (select 2) select * from q)", ["r"]),
        # a parameter, and text DuckDB cannot parse (running it says why)
        ("with a as (select $as_of as t), b as (select 1) select * from a", ["b"]),
        ("selec oops", []),
    ],
)
def test_unread_ctes(sql, unread):
    assert unread_ctes(sql) == unread
