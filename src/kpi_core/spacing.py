"""Text with spaces around it: valid and kept as written, but worth a warning.

Any text is a valid string, so validation cannot refuse ``' stem'`` or ``'4 '``;
yet each is a value of its own (another domain and slice, another label), and
almost always an export slip. The tools say so where they say the rest:
``kpi validate``, the report's warnings and every dashboard page's header.
"""

from __future__ import annotations

import polars as pl

from kpi_core import queries
from kpi_core.aggregates import Aggregates
from kpi_core.loading import Dataset
from kpi_core.problems import Problem


def spaced_value_notes(spaced: pl.DataFrame) -> list[Problem]:
    """One note per table and column of ``spaced`` (the rows of
    ``queries/spaced_values.sql``): the first such cell by file and row, the
    value quoted, and how many more rows are like it."""
    notes = []
    for row in spaced.sort("first_file", "first_row", "column_name").iter_rows(named=True):
        value, more = row["first_value"], row["n_rows"] - 1
        others = f"; {more} more row(s) like it" if more else ""
        reason = (
            f"{value!r} has spaces around it, so it counts as a value of its own, "
            f"not as {value.strip(' ')!r}{others}"
        )
        notes.append(
            Problem(
                row["first_file"], row["first_row"], row["column_name"], reason, row["table_name"]
            )
        )
    return notes


def fetched_spaced_values(aggs: Aggregates) -> list[Problem]:
    """:func:`spaced_value_notes` of fetched aggregates (none when the query failed:
    its own error says so)."""
    return spaced_value_notes(aggs.frames["spaced_values"]) if aggs.ok("spaced_values") else []


def spaced_values(dataset: Dataset) -> list[Problem]:
    """:func:`spaced_value_notes` of ``dataset`` (a valid one: its typed views are read)."""
    return spaced_value_notes(queries.run(dataset.con, "spaced_values"))
