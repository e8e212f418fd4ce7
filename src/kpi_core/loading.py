"""Open a data directory in DuckDB, where the files lie.

Each table of the contract becomes two views:

``raw_<table>``
    the file as written, every column as text, plus ``_file`` (the file a row
    came from) and ``_row`` (its data-row number, from 1, header not counted).
    Validation reads these, so it can quote the value it rejects.
``<table>``
    the contract's columns with the contract's types (timestamps in UTC), a
    missing optional column as NULL, plus ``_file`` and ``_row``. Queries read
    these.

An optional table that is absent still gets an empty ``<table>`` view, so that
every query runs; :attr:`Dataset.present` says which tables exist, and the
metrics report the KPIs that need an absent table as null, never 0.

Where each table's file lies and how DuckDB scans it is :mod:`kpi_core.files`;
what can be wrong with a file, and how that is said, :mod:`kpi_core.file_checks`.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import polars as pl

from kpi_core.contract import SQL_TYPES, TABLES, Column
from kpi_core.file_checks import (
    column_problems,
    parse_csv,
    parse_jsonl,
    reading_problem,
    refuse_renamed_repeats,
)
from kpi_core.files import (
    Source,
    Unreadable,
    discover,
    sql_identifier,
    sql_literal,
)
from kpi_core.problems import DataError, Problem
from kpi_core.queries import time_limit


@dataclass
class Dataset:
    """A data directory opened in DuckDB."""

    root: Path
    con: duckdb.DuckDBPyConnection
    sources: dict[str, Source]
    columns: dict[str, list[str]] = field(default_factory=dict)
    #: CSV rows the reader could not split into fields and JSONL lines that are not
    #: one object (not set aside), when the caller asked to report them itself
    #: (``open_dataset(report_rejected=True)``).
    rejected: list[Problem] = field(default_factory=list)

    @property
    def present(self) -> frozenset[str]:
        """The tables that exist on disk (required ones always do)."""
        return frozenset(self.sources)

    def has(self, table: str) -> bool:
        return table in self.sources


#: DuckDB types a Parquet column may already have, per contract type, read as they are.
_NATIVE: dict[str, tuple[str, ...]] = {
    "timestamp": (
        "TIMESTAMP",
        "TIMESTAMP WITH TIME ZONE",
        "TIMESTAMP_NS",
        "TIMESTAMP_MS",
        "TIMESTAMP_S",
        "DATE",
    ),
    "float": ("DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT"),
    "int": ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT"),
    "bool": ("BOOLEAN",),
}


#: An ISO 8601 date or date-time, with ``Z`` or a numeric offset, surrounding spaces
#: allowed. DuckDB's timestamptz cast also takes zone names ("PST", "Europe/Paris"),
#: "(BC)" and offsets past 23:59, none of which the contract allows.
_ISO_TIMESTAMP = (
    r"\s*\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"
    r"(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?\s*"
)


def typed_value(column: Column, raw_type: str | None = "VARCHAR") -> str:
    """SQL for the contract value of ``column`` read from its raw column of ``raw_type``.

    NULL when the cell is empty or not a valid value of the contract type, so a
    bad value never reaches a query (validation reports it): a timestamp must be
    ISO 8601 (``YYYY-MM-DD``, a time, ``Z`` or an offset), a float must be a finite
    plain decimal and an int a whole number (``2.5`` is not silently rounded). ``raw_type`` None
    means the column is absent.
    """
    target = SQL_TYPES[column.type]
    if raw_type is None:
        return f"cast(null as {target})"
    name = sql_identifier(column.name)
    if column.type == "string":
        # Keep the text as written: an empty cell is missing, anything else is data.
        return f"nullif(cast({name} as varchar), '')"
    if raw_type.upper() in _NATIVE[column.type]:
        # Already typed (Parquet): a timezone-less timestamp is UTC, as is the session.
        if column.type == "float":
            return f"case when isfinite(cast({name} as double)) then cast({name} as double) end"
        if raw_type.upper() == "TIMESTAMP WITH TIME ZONE":
            # The instant as UTC wall time. The same as a cast in a UTC session, but a
            # cast goes through ICU's calendar, five times slower on every read.
            return f"make_timestamp(epoch_us({name}))"
        return f"cast({name} as {target})"
    # Casts read surrounding spaces themselves; trimming every cell first costs more.
    text = f"cast({name} as varchar)"
    if column.type == "timestamp":
        # Shapes with no room for an offset (a bare date, seconds, a final Z) cast fast as
        # timestamp; anything else must start with an ISO date and is cast as timestamptz,
        # which converts an offset to UTC. (try_strptime is slower: a failed format is costly.)
        plain = " or ".join(
            f"{text} like '{shape}'"
            for shape in (
                "____-__-__",
                "____-__-__ __:__:__",
                "____-__-__T__:__:__",
                "____-__-__T__:__:__Z",
            )
        )
        return (
            f"case when {plain} then try_cast({text} as timestamp) "
            f"when regexp_full_match({text}, {sql_literal(_ISO_TIMESTAMP)}) "
            f"then cast(try_cast(trim({text}) as timestamptz) as timestamp) end"
        )
    # DuckDB reads 1_000 as 1000; the contract's numbers are plain decimals.
    plain_number = f"position('_' in {text}) = 0"
    if column.type == "float":
        number = f"try_cast({text} as double)"
        return f"case when isfinite({number}) and {plain_number} then {number} end"
    if column.type == "int":
        number = f"try_cast({text} as double)"
        return (
            f"case when {number} = trunc({number}) and {plain_number} "
            f"then try_cast({text} as bigint) end"
        )
    return f"try_cast(trim({text}) as {target})"


def _scan(source: Source) -> str:
    """The table expression of ``source``, every column of a text file as text (a CSV
    or JSONL file parsed into a temporary table on opening: see
    :func:`~kpi_core.file_checks.parse_csv` and :func:`~kpi_core.file_checks.parse_jsonl`)."""
    if source.format in ("csv", "jsonl"):
        return f"parsed_{source.table}"
    return source.scan_sql()


#: DuckDB's memory cap (DuckDB's own default is 80% of RAM). Past it DuckDB spills
#: to disk: a little slower, but a 10-million-annotation report then peaks under
#: 6 GiB with the polars frames beside it, and the dashboard's server leaves room
#: for everything else on the machine. ``KPI_DUCKDB_MEMORY_LIMIT`` overrides it.
MEMORY_LIMIT = os.environ.get("KPI_DUCKDB_MEMORY_LIMIT") or "4GB"  # set but empty: unset


def connect(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection set up as every part of the project expects: UTC, no
    progress bar of its own, the memory cap, and spill files in the system's temp
    folder (DuckDB's default is ``.tmp`` in the working directory, which may be
    read-only or someone's repository)."""
    con = duckdb.connect(database)
    con.execute("set TimeZone = 'UTC'")
    # Progress is the caller's to show (tqdm, Streamlit), never DuckDB's own bar on stdout.
    con.execute("set enable_progress_bar = false")
    try:
        con.execute("set memory_limit = $limit", {"limit": MEMORY_LIMIT})
    except duckdb.Error:
        con.close()
        reason = f"not a memory size DuckDB takes: {MEMORY_LIMIT!r} (write it as 4GB or 500MB)"
        raise DataError([Problem(file="KPI_DUCKDB_MEMORY_LIMIT", reason=reason)]) from None
    time_limit()  # a time limit that is no number of seconds is said now, once
    spill = Path(tempfile.gettempdir()) / f"kpi-duckdb-{uuid.uuid4().hex}"
    con.execute("set temp_directory = $spill", {"spill": str(spill)})
    return con


def open_dataset(
    root: Path | str,
    *,
    database: str = ":memory:",
    materialize: bool = False,
    set_aside: Sequence[Problem] = (),
    report_rejected: bool = False,
) -> Dataset:
    """Open ``root`` as a :class:`Dataset` of DuckDB views.

    A CSV or JSONL file is parsed once, on opening, into a temporary table of
    text (:func:`~kpi_core.file_checks.parse_csv`,
    :func:`~kpi_core.file_checks.parse_jsonl`), and Parquet is cheap to scan
    again where it lies; ``materialize`` stores every typed table as a DuckDB
    table as well.
    The rows named by ``set_aside`` (problems with a table, file and row: see
    :mod:`kpi_core.quarantine`) are left out of every view, raw ones included.
    Raises :class:`DataError` (one line per problem) for anything unreadable,
    and for CSV rows the reader cannot split into fields and JSONL lines that
    are not one object, unless they are set aside, or ``report_rejected`` asks
    for them in :attr:`Dataset.rejected`.
    """
    root = Path(root)
    sources = discover(root)
    con = connect(database)
    dataset = Dataset(root=root, con=con, sources=sources)
    aside_tables = _register_set_aside(con, set_aside)
    aside = {(p.file, p.row) for p in set_aside}
    problems: list[Problem] = []
    for name, table in TABLES.items():
        source = sources.get(name)
        if source is None:
            empty = ", ".join(
                f"cast(null as {SQL_TYPES[c.type]}) as {c.name}" for c in table.columns
            )
            con.execute(
                f"create view {name} as select {empty}, "
                f"cast(null as varchar) as _file, cast(null as bigint) as _row limit 0"
            )
            continue
        try:
            if source.format in ("csv", "jsonl"):
                parse = parse_csv if source.format == "csv" else parse_jsonl
                rejected = [p for p in parse(con, source) if (p.file, p.row) not in aside]
                (dataset.rejected if report_rejected else problems).extend(rejected)
            folder = source.format == "parquet-folder"
            file_expr = "" if folder else f", {sql_literal(str(source.path))} as _file"
            rows = f"select *{file_expr} from {_scan(source)}"
            if name in aside_tables:
                rows = (
                    f"select * from ({rows}) as kept where not exists (select 1 from set_aside "
                    f"where set_aside.tbl = {sql_literal(name)} and set_aside._file = kept._file "
                    "and set_aside._row = kept._row)"
                )
            con.execute(f"create view raw_{name} as {rows}")
            described = con.execute(f"describe raw_{name}").fetchall()
            refuse_renamed_repeats(con, source, [row[0] for row in described])
        except Unreadable as error:
            problems.append(Problem(table=name, file=str(source.path), reason=str(error)))
            continue
        except OSError as error:
            reason = f"file cannot be read ({error.strerror or error})"
            problems.append(Problem(table=name, file=str(source.path), reason=reason))
            continue
        except duckdb.Error as error:
            problems.append(reading_problem(con, source, error))
            continue
        present = [row[0] for row in described]
        dataset.columns[name] = present
        raw_types = {row[0]: row[1] for row in described}
        wrong = column_problems(con, source, raw_types)
        if wrong:
            problems += [replace(p, table=name, file=p.file or str(source.path)) for p in wrong]
            continue
        select = ", ".join(
            f"{typed_value(c, raw_types.get(c.name))} as {c.name}" for c in table.columns
        )
        con.execute(f"create view {name} as select {select}, _file, _row from raw_{name}")
    if problems:
        con.close()
        raise DataError(problems)
    for name, source in sources.items():
        if materialize:
            con.execute(f"alter view {name} rename to typed_{name}")
            try:
                con.execute(f"create table {name} as select * from typed_{name}")
            except duckdb.Error as error:
                # The first full read: a malformed row past the header shows here.
                problems.append(reading_problem(con, source, error))
    if problems:
        con.close()
        raise DataError(problems)
    return dataset


def _register_set_aside(con: duckdb.DuckDBPyConnection, set_aside: Sequence[Problem]) -> set[str]:
    """The table ``set_aside`` of rows to leave out; returns the tables that have some."""
    rows = sorted({(p.table, p.file, p.row) for p in set_aside if p.row is not None and p.table})
    if not rows:
        return set()
    frame = pl.DataFrame(
        rows, schema={"tbl": pl.String, "_file": pl.String, "_row": pl.Int64}, orient="row"
    )
    con.register("set_aside_rows", frame)
    con.execute("create temp table set_aside as select * from set_aside_rows")
    con.unregister("set_aside_rows")
    return {table for table, _, _ in rows}
