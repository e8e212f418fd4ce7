"""The parts of a query's ``WITH`` clause that nothing reads.

DuckDB binds only the common table expressions a query reads, so a mistake in
one that nothing reads (a column misspelt, a table that is gone) raises no
error, and an analyst's new CTE that the final ``select`` was not changed to
read shows nowhere, without a word. ``kpi check`` names such a CTE instead.
The query's syntax tree comes from DuckDB's own parser (``json_serialize_sql``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import duckdb


def unread_ctes(sql: str) -> list[str]:
    """The CTEs of ``sql`` that its result does not depend on, in the order written.

    A CTE counts as read when the final query reads it, or a CTE read so
    reads it (one that only an unread CTE reads is unread too). Names compare
    case-insensitively, as SQL's do. Empty when DuckDB cannot parse ``sql``:
    running it says why.
    """
    con = duckdb.connect()
    try:
        tree = json.loads(
            con.execute("select json_serialize_sql($sql)", {"sql": sql}).fetchall()[0][0]
        )
    finally:
        con.close()
    if tree.get("error"):
        return []
    defined: dict[str, Any] = {}
    roots: set[str] = set()
    for statement in tree["statements"]:
        for name, node in _ctes(statement):
            defined.setdefault(name.lower(), (name, node))
        roots |= _tables_read(statement)
    read, to_visit = set(), [n for n in roots if n in defined]
    while to_visit:
        name = to_visit.pop()
        if name not in read:
            read.add(name)
            to_visit += [n for n in _tables_read(defined[name][1]) if n in defined]
    return [written for key, (written, _) in defined.items() if key not in read]


def _ctes(node: Any) -> Iterator[tuple[str, Any]]:
    """Every CTE defined anywhere in ``node``, as (name, its query)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "cte_map":
                for entry in value["map"]:
                    yield entry["key"], entry["value"]["query_node"]
                    yield from _ctes(entry["value"]["query_node"])
            else:
                yield from _ctes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _ctes(value)


def _tables_read(node: Any) -> set[str]:
    """The names ``node`` reads from (lower case), outside the CTEs it defines."""
    if isinstance(node, dict):
        found = {node["table_name"].lower()} if node.get("type") == "BASE_TABLE" else set()
        for key, value in node.items():
            if key != "cte_map":
                found |= _tables_read(value)
        return found
    if isinstance(node, list):
        return set().union(*(_tables_read(value) for value in node))
    return set()
