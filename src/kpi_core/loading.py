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
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from kpi_core.contract import FORMATS, REQUIRED_TABLES, SQL_TYPES, TABLES, Column
from kpi_core.problems import DataError, Problem


@dataclass(frozen=True)
class Source:
    """Where one table lives on disk."""

    table: str
    path: Path
    format: str  # csv | parquet | jsonl | parquet-folder

    def scan_sql(self, columns: list[str] | None = None, rejects: str | None = None) -> str:
        """A DuckDB table expression over the file(s), every column as text.

        The path is a literal (file names cannot be bound as parameters) and is
        quoted; it comes from the directory listing, not from user SQL. A CSV
        file is read with ``columns`` (its header, see :func:`csv_header`) and
        a fixed dialect, so that no sniffing guesses and a malformed row is an
        error naming its line. A JSONL file is read with ``columns`` as text
        when given, else with DuckDB's detected types, every line looked at (to
        find its keys: an optional key may first appear on the last line).
        DuckDB's hive partitioning is off: it would read ``key=value`` anywhere in
        the path, such as a data directory under ``/data/domain=finance/``, as a
        column and overwrite that column in every row. A Parquet folder's
        partition columns come from the folders below it only (:func:`_hive_keys`).
        With ``rejects``, a CSV row the reader cannot split into the header's
        fields is not an error but a row of the temporary table ``rejects`` (and
        the rows after it are numbered one too low: see :func:`_parse_csv`).
        """
        p = sql_literal(self.path.as_posix())
        if self.format == "csv":
            # header=true with every column as text: validation, not the reader, judges values.
            return (
                f"(select * exclude (ordinality), ordinality as _row from read_csv({p}, "
                f"header=true, auto_detect=false, columns={_varchar_struct(columns or [])}, "
                "delim=',', quote='\"', escape='\"', strict_mode=true, hive_partitioning=false"
                + (
                    f", store_rejects=true, rejects_table={sql_literal(rejects)}, "
                    f"rejects_scan={sql_literal(rejects + '_scan')}"
                    if rejects
                    else ""
                )
                + ") with ordinality)"
            )
        if self.format == "jsonl":
            typed = (
                ", sample_size=-1" if columns is None else f", columns={_varchar_struct(columns)}"
            )
            return (
                f"(select * exclude (ordinality), ordinality as _row from read_json({p}, "
                f"format='newline_delimited', hive_partitioning=false{typed}) with ordinality)"
            )
        if self.format == "parquet":
            return (
                f"(select * exclude (file_row_number), file_row_number + 1 as _row "
                f"from read_parquet({p}, file_row_number=true, hive_partitioning=false))"
            )
        keys = _hive_keys(self.path)
        partitions = "".join(f", {self.partition_value(k)} as {sql_identifier(k)}" for k in keys)
        # A partition key stored in the files too must agree (_partition_conflicts): the
        # folder's value is read.
        dropped = ", ".join(sql_literal(c) for c in ("file_row_number", "filename", *keys))
        return (
            f"(select columns(lambda c: c not in ({dropped})){partitions}, file_row_number + 1 as _row, "
            f"filename as _file from {self.folder_scan()})"
        )

    def folder_scan(self) -> str:
        """``read_parquet`` over every file of a Parquet folder, with ``filename``."""
        glob = sql_literal((self.path / "**" / "*.parquet").as_posix())
        return (
            f"read_parquet({glob}, file_row_number=true, filename=true, "
            "hive_partitioning=false, union_by_name=true)"
        )

    def partition_value(self, key: str) -> str:
        """SQL for a row's value of partition ``key``, from its file's folders."""
        below = f"substr(filename, {len(self.path.as_posix()) + 2})"
        # Hive writes a missing value as the folder key=__HIVE_DEFAULT_PARTITION__.
        return (
            f"nullif(url_decode(regexp_extract({below}, "
            f"{sql_literal(f'(?:^|/){re.escape(key)}=([^/]*)/')}, 1)), '__HIVE_DEFAULT_PARTITION__')"
        )


def _hive_keys(folder: Path) -> list[str]:
    """The partition keys (``key=value`` folders) below ``folder``, the same in every
    branch; raises :class:`_Unreadable` when branches disagree."""
    by_file = {
        path: [
            part.partition("=")[0] for part in path.relative_to(folder).parts[:-1] if "=" in part
        ]
        for path in sorted(folder.rglob("*.parquet"))
    }

    def named(path: Path, keys: list[str]) -> str:
        has = f"partition keys {', '.join(keys)}" if keys else "no partition keys"
        return f"{path.relative_to(folder)} has {has}"

    first, *others = by_file.items() or [(folder, [])]
    for path, keys in others:
        if keys != first[1]:
            raise _Unreadable(f"partition folders differ: {named(*first)}, {named(path, keys)}")
    return first[1]


def _varchar_struct(columns: list[str]) -> str:
    return "{" + ", ".join(f"{sql_literal(c)}: 'varchar'" for c in columns) + "}"


class _Unreadable(Exception):
    """A file that cannot be read as a table; the message is the user-facing reason."""


def _is_blank(path: Path) -> bool:
    """True for a file holding nothing but whitespace (or a bare byte-order mark)."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    return len(head) < 4096 and not head.removeprefix(b"\xef\xbb\xbf").strip()


def csv_header(path: Path) -> list[str]:
    """The column names on the first line of a CSV file (a UTF-8 BOM is allowed)."""
    if _is_blank(path):
        raise _Unreadable("file is empty (no header row)")
    with path.open("rb") as handle:
        first_line = handle.readline()
    try:
        header = next(csv.reader([first_line.decode("utf-8-sig")]), [])
    except UnicodeDecodeError:
        raise _Unreadable("file is not valid UTF-8 text (line 1)") from None
    except csv.Error as error:
        if "new-line character seen in unquoted field" in str(error):
            raise _Unreadable(
                "lines end in a bare carriage return (CR, old Mac style): "
                "save the file with LF or CRLF line ends"
            ) from None
        raise _Unreadable(f"header row cannot be read: {error}") from None
    if not header:
        raise _Unreadable("line 1 is blank; the header row must come first")
    # An unnamed column (a pandas index, a trailing comma) is an extra column like any other.
    header = [name or f"column{i}" for i, name in enumerate(header)]
    _refuse_repeated(header, "in the header")
    return header


def _refuse_repeated(names: list[str], where: str) -> None:
    """Raise :class:`_Unreadable` when a column name comes twice; DuckDB's names are
    case-insensitive, so ``cost`` and ``COST`` are the same column."""
    lowered = [name.lower() for name in names]
    repeated = sorted({n for n in names if lowered.count(n.lower()) > 1})
    if repeated:
        raise _Unreadable(f"column {', '.join(repeated)} appears more than once {where}")


@dataclass
class Dataset:
    """A data directory opened in DuckDB."""

    root: Path
    con: duckdb.DuckDBPyConnection
    sources: dict[str, Source]
    columns: dict[str, list[str]] = field(default_factory=dict)
    #: CSV rows the reader could not split into fields (not set aside), when the
    #: caller asked to report them itself (``open_dataset(report_rejected=True)``).
    rejected: list[Problem] = field(default_factory=list)

    @property
    def present(self) -> frozenset[str]:
        """The tables that exist on disk (required ones always do)."""
        return frozenset(self.sources)

    def has(self, table: str) -> bool:
        return table in self.sources


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal. For what cannot be bound as a parameter:
    file paths in a table function, and the names of columns and tables."""
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (a column named by a file's header)."""
    return '"' + name.replace('"', '""') + '"'


def discover(root: Path) -> dict[str, Source]:
    """Find the file (or Parquet folder) of every contract table under ``root``.

    Raises :class:`DataError` for a missing directory, a missing required table,
    two files for one table or a table file in an unknown format.
    """
    root = Path(root)
    if not root.is_dir():
        reason = "is a file, not a data directory" if root.exists() else "data directory not found"
        raise DataError([Problem(file=str(root), reason=reason)])
    problems: list[Problem] = []
    found: dict[str, list[Source]] = {}
    unknown: set[str] = set()  # tables with a file in an unknown format, reported as such
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        # "reviews.csv.gz" and "Reviews.csv" name the reviews table too: say why they
        # are not read rather than leave the table out.
        table, dot, suffix = entry.name.partition(".")
        if table.lower() not in TABLES:
            continue  # other files (notes, quarantine output) are not tables
        reason = _not_a_table_file(entry, table, dot + suffix)
        if reason:
            unknown.add(table.lower())
            problems.append(Problem(table=table.lower(), file=str(entry), reason=reason))
        elif entry.is_dir():
            found.setdefault(table, []).append(Source(table, entry, "parquet-folder"))
        else:
            found.setdefault(table, []).append(Source(table, entry, suffix.lower()))
    for table, sources in found.items():
        if len(sources) > 1:
            names = ", ".join(s.path.name for s in sources)
            problems.append(
                Problem(
                    table=table,
                    file=str(root / table),
                    reason=f"two files for one table ({names}); keep exactly one",
                )
            )
    for table in REQUIRED_TABLES:
        if table not in found and table not in unknown:
            problems.append(
                Problem(
                    table=table,
                    file=str(root / f"{table}.csv"),
                    reason=f"required table {table!r} not found "
                    f"(expected {table}.csv, {table}.parquet, {table}.jsonl or {table}/)",
                )
            )
    if problems:
        raise DataError(problems)
    return {t: s[0] for t, s in found.items()}


def _not_a_table_file(entry: Path, table: str, suffix: str) -> str | None:
    """Why ``entry``, named after a table, cannot be read as it; None when it can."""
    formats = ", ".join("." + f for f in FORMATS)
    if table != table.lower():
        return f"table file names are lower-case: rename it {table.lower()}{suffix}"
    if entry.is_dir():
        if suffix:
            return f"a folder, not a table file; a table folder is named {table}/"
        if not any(entry.rglob("*.parquet")):
            return "a table folder must hold Parquet files (*.parquet); it holds none"
        # Spark's _SUCCESS and hidden .crc files are no data; anything else would be ignored.
        strays = sorted(
            path.relative_to(entry).as_posix()
            for path in entry.rglob("*")
            if path.is_file() and path.suffix != ".parquet" and not path.name.startswith((".", "_"))
        )
        if strays:
            more = f" and {len(strays) - 1} more" if len(strays) > 1 else ""
            return f"a table folder holds Parquet files only; {strays[0]}{more} would be ignored"
        return None
    if suffix[1:].lower() not in FORMATS:
        return f"unknown table format {suffix or '(none)'!r}; use one of {formats}"
    return None


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


def _scan(con: duckdb.DuckDBPyConnection, source: Source) -> str:
    """The table expression of ``source``, every column of a text file as text (a CSV
    file parsed into a temporary table by :func:`_parse_csv`)."""
    if source.format == "csv":
        return f"parsed_{source.table}"
    if source.format == "jsonl" and _is_blank(source.path):
        # No rows and so no keys: an empty table with the contract's columns.
        nothing = ", ".join(
            f"cast(null as varchar) as {sql_identifier(c)}"
            for c in TABLES[source.table].column_names
        )
        return f"(select {nothing}, cast(null as bigint) as _row limit 0)"
    if source.format == "jsonl":
        with source.path.open("rb") as handle:
            if handle.read(3) == b"\xef\xbb\xbf":
                # DuckDB's JSON reader stops at a BOM; JSON itself forbids one (RFC 8259).
                raise _Unreadable(
                    "file starts with a byte-order mark (BOM), which JSON Lines does not "
                    "allow; save it as UTF-8 without BOM"
                )
        # Find the keys, then read every one as text: detected types would turn a value
        # unlike those of the first rows into a read error or a JSON-quoted string.
        detected = con.execute(f"describe select * from {source.scan_sql()}").fetchall()
        if [tuple(row[:2]) for row in detected] == [("json", "JSON"), ("_row", "BIGINT")]:
            raise _Unreadable(_first_non_object(con, source.path))
        keys = [row[0] for row in detected if row[0] != "_row"]
        _refuse_repeated(keys, "among the keys")
        contract = TABLES[source.table].column_names
        for key, kind in ((row[0], str(row[1])) for row in detected if row[0] in contract):
            # Read as text, {"a": 1} would become a label '{"a": 1}'.
            # (JSON is also what DuckDB calls a key holding both strings and numbers.)
            nested = kind == "JSON" or kind.startswith(("STRUCT", "MAP")) or kind.endswith("]")
            if nested and (reason := _first_nested(con, source.path, key)):
                raise _Unreadable(reason)
        return source.scan_sql(keys)
    return source.scan_sql()


#: DuckDB's kinds of CSV rows it cannot read, as a user would say them.
_REJECTED = {
    "INVALID ENCODING": "row is not valid UTF-8 text",
    "LINE SIZE OVER MAXIMUM": "row is longer than the reader takes (2 MB)",
}
_FIELD_COUNTS = ("TOO MANY COLUMNS", "MISSING COLUMNS")


def _parse_csv(con: duckdb.DuckDBPyConnection, source: Source) -> list[Problem]:
    """Parse a CSV file once into the temporary table ``parsed_<table>``; return a
    problem for each row the reader could not split into the header's fields.

    Such rows are left out of the table, not the error that stops at the first of
    them, so that every one is named (and can be set aside). The rows after one
    keep their own numbers. A quote not closed where it should be makes the reader
    lose an unknown stretch of the file: that stays a problem with the whole file.
    """
    table, rejects = source.table, f"rejects_{source.table}"
    header = csv_header(source.path)
    con.execute(
        f"create temp table parsed_{table} as "
        f"select * from {source.scan_sql(header, rejects=rejects)}"
    )
    entries = con.execute(
        "select line, error_type, "
        "try_cast(regexp_extract(error_message, 'Found: (\\d+)', 1) as bigint) "
        f"from {rejects} order by line, error_type"
    ).fetchall()
    if not entries:
        return []
    row_of = _data_rows(source.path, sorted({line for line, _, _ in entries}))
    unclosed = [line for line, kind, _ in entries if kind == "UNQUOTED VALUE"]
    if unclosed:
        raise _Unreadable(
            f"a quoted value on row {row_of[unclosed[0]]} is not closed before the next comma "
            "or line end, so the reader cannot tell where the following rows begin"
        )
    kinds: dict[int, dict[str, list[int]]] = {}
    for line, kind, found in entries:
        kinds.setdefault(row_of[line], {}).setdefault(kind, []).append(found)

    def reason(found_by_kind: dict[str, list[int]]) -> str:
        reasons = []
        for kind, found in found_by_kind.items():
            if kind in _FIELD_COUNTS:
                # A short row is reported once per missing field, each with a count so far.
                n = min(found) if kind == "MISSING COLUMNS" else max(found)
                fields = "field" if n == 1 else "fields"
                reasons.append(f"row has {n} {fields} but the header has {len(header)}")
            else:
                reasons.append(_REJECTED.get(kind, f"row cannot be read ({kind.lower()})"))
        return "; ".join(reasons)

    rows = sorted(kinds)
    _renumber_after(con, table, rows)
    return [
        Problem(file=str(source.path), row=row, reason=reason(kinds[row]), table=table)
        for row in rows
    ]


def _data_rows(path: Path, lines: list[int]) -> dict[int, int]:
    """DuckDB's line numbers of rejected CSV records (the header is line 1 and a blank
    line counts) as data-row numbers (a blank line is no row), by reading the records
    again. Only for a file with rejected rows."""
    wanted, rows, row = set(lines), {}, 0
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)  # a field may be long: DuckDB took it
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
            for line, record in enumerate(csv.reader(handle), start=1):
                row += line > 1 and bool(record)
                if line in wanted:
                    rows[line] = row
                    if len(rows) == len(wanted):
                        break
    finally:
        csv.field_size_limit(limit)
    return {line: rows.get(line, line - 1) for line in lines}


def _renumber_after(con: duckdb.DuckDBPyConnection, table: str, rejected: list[int]) -> None:
    """Give the rows of ``parsed_<table>`` their own numbers again: the reader numbers
    the rows it keeps, so a kept row's number adds the ``rejected`` rows before it
    (those with fewer kept rows before them than it)."""
    skipped = (
        pl.DataFrame({"kept_before": [row - i for i, row in enumerate(rejected, start=1)]})
        .group_by("kept_before")
        .agg(n_skipped=pl.len())
        .sort("kept_before")
        .with_columns(pl.col("n_skipped").cum_sum())
    )
    con.register("skipped_rows", skipped)
    con.execute(
        f"create or replace temp table parsed_{table} as select parsed.* exclude (_row), "
        "parsed._row + coalesce(skipped.n_skipped, 0) as _row "
        f"from parsed_{table} as parsed asof left join skipped_rows as skipped "
        "on parsed._row > skipped.kept_before"
    )
    con.unregister("skipped_rows")


def _first_line_of_type(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    json_type: str,
    wanted: str,
    params: dict[str, str] | None = None,
) -> tuple[int, str] | None:
    """The first line of a JSONL file, with its ``json_type`` (SQL over the line's
    ``json``), where that type meets ``wanted`` (e.g. ``<> 'OBJECT'``); None if none does."""
    return con.execute(
        f"select ordinality, {json_type} from read_json_objects({sql_literal(path.as_posix())}, "
        f"format='newline_delimited') with ordinality where {json_type} {wanted} "
        "order by ordinality limit 1",
        params,
    ).fetchone()


def _first_non_object(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """Why DuckDB found no records in a JSONL file: its first line that is not an object."""
    found = _first_line_of_type(con, path, "json_type(json)", "<> 'OBJECT'")
    rule = 'each line must be one object: {"column": value, ...}'
    if found is None:
        return f"no JSON objects found; {rule}"
    line, kind_of_line = found
    kind = {"VARCHAR": "string", "ARRAY": "array", "BOOLEAN": "boolean", "NULL": "null"}
    return f"line {line} is a JSON {kind.get(kind_of_line, 'number')}, not an object; {rule}"


def _first_nested(con: duckdb.DuckDBPyConnection, path: Path, key: str) -> str | None:
    """Why a JSONL file's ``key`` cannot be read: its first object or array value, if any."""
    found = _first_line_of_type(
        con,
        path,
        "json_type(json, $key)",
        "in ('OBJECT', 'ARRAY')",
        {"key": "$." + json.dumps(key)},
    )
    if found is None:
        return None
    line, kind = found
    return f"line {line}, key {key}: a JSON {kind.lower()} where one value belongs"


#: DuckDB's memory cap (DuckDB's own default is 80% of RAM). Past it DuckDB spills
#: to disk: a little slower, but a 10-million-annotation report then peaks under
#: 6 GiB with the polars frames beside it, and the dashboard's server leaves room
#: for everything else on the machine. ``KPI_DUCKDB_MEMORY_LIMIT`` overrides it.
MEMORY_LIMIT = os.environ.get("KPI_DUCKDB_MEMORY_LIMIT", "4GB")


def connect(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection set up as every part of the project expects: UTC, no
    progress bar of its own, the memory cap, and spill files in the system's temp
    folder (DuckDB's default is ``.tmp`` in the working directory, which may be
    read-only or someone's repository)."""
    con = duckdb.connect(database)
    con.execute("set TimeZone = 'UTC'")
    # Progress is the caller's to show (tqdm, Streamlit), never DuckDB's own bar on stdout.
    con.execute("set enable_progress_bar = false")
    con.execute("set memory_limit = $limit", {"limit": MEMORY_LIMIT})
    spill = Path(tempfile.gettempdir()) / f"kpi-duckdb-{uuid.uuid4().hex}"
    con.execute("set temp_directory = $spill", {"spill": str(spill)})
    return con


def open_dataset(
    root: Path | str,
    *,
    database: str = ":memory:",
    materialize: bool | None = None,
    set_aside: Sequence[Problem] = (),
    report_rejected: bool = False,
) -> Dataset:
    """Open ``root`` as a :class:`Dataset` of DuckDB views.

    Materialized tables are stored as DuckDB tables once, so that the many
    queries over them parse each file only once. By default (None) that is
    done for JSONL tables; a CSV file is always parsed once, on opening, into a
    temporary table of text (:func:`_parse_csv`), and Parquet is cheap to scan
    again where it lies.
    The rows named by ``set_aside`` (problems with a table, file and row: see
    :mod:`kpi_core.quarantine`) are left out of every view, raw ones included.
    Raises :class:`DataError` (one line per problem) for anything unreadable,
    and for CSV rows the reader cannot split into fields unless they are set
    aside, or ``report_rejected`` asks for them in :attr:`Dataset.rejected`.
    """
    root = Path(root)
    sources = discover(root)
    con = connect(database)
    dataset = Dataset(root=root, con=con, sources=sources)
    aside_tables = _register_set_aside(con, set_aside)
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
            if source.format == "csv":
                aside = {(p.file, p.row) for p in set_aside}
                rejected = [p for p in _parse_csv(con, source) if (p.file, p.row) not in aside]
                (dataset.rejected if report_rejected else problems).extend(rejected)
            folder = source.format == "parquet-folder"
            file_expr = "" if folder else f", {sql_literal(str(source.path))} as _file"
            rows = f"select *{file_expr} from {_scan(con, source)}"
            if name in aside_tables:
                rows = (
                    f"select * from ({rows}) as kept where not exists (select 1 from set_aside "
                    f"where set_aside.tbl = {sql_literal(name)} and set_aside._file = kept._file "
                    "and set_aside._row = kept._row)"
                )
            con.execute(f"create view raw_{name} as {rows}")
            described = con.execute(f"describe raw_{name}").fetchall()
            _refuse_renamed_repeats(con, source, [row[0] for row in described])
        except _Unreadable as error:
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
        wrong = _column_problems(con, source, raw_types)
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
        # A CSV file is parsed on opening (as text): typing it again would double the memory.
        text = source.format == "jsonl"
        if materialize or (materialize is None and text):
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


def _column_problems(
    con: duckdb.DuckDBPyConnection, source: Source, raw_types: dict[str, str]
) -> list[Problem]:
    """What is wrong with the columns of ``source`` (read with ``raw_types``), as problems
    without a table (and without a file where it is the source's own)."""
    columns = TABLES[source.table].columns
    names = [c.name for c in columns]
    # "Cost" or " cost" would otherwise be an extra column, ignored, and every cost derived.
    misnamed = {
        c: c.strip().lower()
        for c in raw_types
        if c != c.strip().lower() and c.strip().lower() in names
    }
    problems = [
        Problem(
            file="",
            column=column,
            reason=f"column names are lower-case, without spaces: rename {column!r} to {meant!r}",
        )
        for column, meant in misnamed.items()
    ]
    missing = [
        c.name
        for c in columns
        if c.required and c.name not in raw_types and c.name not in misnamed.values()
    ]
    if missing:
        return [*problems, _missing_columns(con, source, list(raw_types), missing)]
    if problems:
        return problems
    problems = _not_text(columns, raw_types)
    if source.format == "parquet-folder":
        problems += _part_problems(con, source, columns, list(raw_types))
    return problems


def _failing_part(con: duckdb.DuckDBPyConnection, source: Source) -> Path | None:
    """The first file of a Parquet folder that DuckDB cannot read, if one alone fails."""
    for part in _parquet_files(source):
        try:
            con.execute(
                f"select count(*) from read_parquet({sql_literal(part.as_posix())})"
            ).fetchall()
        except duckdb.Error:
            return part
    return None


def _stored_names(part: Path) -> list[str]:
    """The column names a Parquet file stores, repeats included (DuckDB renames them)."""
    try:
        return pq.read_schema(part).names
    except (pa.ArrowException, OSError) as error:
        raise _Unreadable(f"not a readable Parquet file ({error})") from None


def _missing_columns(
    con: duckdb.DuckDBPyConnection, source: Source, present: list[str], missing: list[str]
) -> Problem:
    """Required columns are missing: because they are, or because the file is not
    comma-separated (CSV) or not one object per line (JSONL)."""
    where = "keys" if source.format == "jsonl" else "header"
    reason = f"required column missing from the {where}"
    if source.format == "csv":
        header = ",".join(present)
        for separator, name in (("\t", "tabs"), (";", "semicolons"), ("|", "pipes")):
            if separator in header:
                reason += f", which looks separated by {name}: a CSV file here is comma-separated"
                break
    if source.format == "jsonl" and _first_line_of_type(
        con, source.path, "json_type(json)", "<> 'OBJECT'"
    ):
        return Problem(file="", reason=_first_non_object(con, source.path))
    return Problem(file="", column=", ".join(missing), reason=reason)


def _refuse_renamed_repeats(
    con: duckdb.DuckDBPyConnection, source: Source, present: list[str]
) -> None:
    """Raise :class:`_Unreadable` when a Parquet file or a JSONL file names one column
    twice. DuckDB reads the second as ``<name>_1``, an extra column that would be
    ignored, so the stored names are read again, only when a name looks renamed."""
    lowered = {c.lower() for c in present}
    renamed = [
        c for c in present if (m := re.fullmatch(r"(.+)_\d+", c)) and m.group(1).lower() in lowered
    ]
    if not renamed or source.format == "csv":  # a CSV header is checked as it is read
        return
    if source.format == "jsonl":
        keys = con.execute(
            "select distinct unnest(json_keys(json)) from read_json_objects("
            f"{sql_literal(source.path.as_posix())}, format='newline_delimited')"
        ).fetchall()
        _refuse_repeated([k for (k,) in keys], "among the keys")
        return
    for part in _parquet_files(source):
        names = _stored_names(part)
        _refuse_repeated(names, f"in {part.relative_to(source.path.parent)}")


def _parquet_files(source: Source) -> list[Path]:
    """The Parquet file of ``source``, or each file of its folder."""
    if source.format == "parquet-folder":
        return sorted(source.path.rglob("*.parquet"))
    return [source.path]


#: Stored types that do not read as the text they stand for: 4.0 would be the label
#: '4.0' where gold says '4', a struct would be '{'v': 4}'.
_NOT_TEXT = re.compile(r"^(FLOAT|DOUBLE|DECIMAL|STRUCT|MAP|UNION)|\]$")


def _not_text(columns: Sequence[Column], raw_types: dict[str, str]) -> list[Problem]:
    """The contract's text columns stored as numbers with a fraction, or as nested values."""
    return [
        Problem(
            file="",
            column=c.name,
            reason=f"stored as {raw_types[c.name]}, but {c.name} is text: store it as text "
            "(a string column), or as whole numbers",
        )
        for c in columns
        if c.type == "string" and _NOT_TEXT.search(raw_types.get(c.name, "").upper())
    ]


def _part_problems(
    con: duckdb.DuckDBPyConnection, source: Source, columns: Sequence[Column], present: list[str]
) -> list[Problem]:
    """Parts of a Parquet folder without a required column the other parts have (read by
    name, their rows would all be "required but empty"), and partition keys whose value
    in a file differs from its folder's."""
    keys = _hive_keys(source.path)
    required = [c.name for c in columns if c.required and c.name in present and c.name not in keys]
    problems, stored_keys = [], set()
    for part in _parquet_files(source):
        try:
            names = set(_stored_names(part))
        except _Unreadable as error:
            problems.append(Problem(file=str(part), reason=str(error)))
            continue
        stored_keys |= names & set(keys)
        lacking = [c for c in required if c not in names]
        if lacking:
            problems.append(
                Problem(
                    file=str(part),
                    column=", ".join(lacking),
                    reason="required column missing from this part of the folder",
                )
            )
    conflicts = [_partition_conflict(con, source, key) for key in sorted(stored_keys)]
    return problems + [c for c in conflicts if c is not None]


def _partition_conflict(con: duckdb.DuckDBPyConnection, source: Source, key: str) -> Problem | None:
    """Where a partition key stored in the files differs from the folders' value, if it does.
    A whole-folder problem: the layout, not a row, is to be fixed."""
    stored, folder = f"cast({sql_identifier(key)} as varchar)", source.partition_value(key)
    differ = con.execute(
        f"select filename, file_row_number + 1, {stored}, {folder}, count(*) over () "
        f"from {source.folder_scan()} where {stored} is distinct from {folder} "
        "order by filename, file_row_number limit 1"
    ).fetchall()
    if not differ:
        return None
    [(file, row, in_file, in_folder, n)] = differ
    more = f" (and {n - 1} more rows)" if n > 1 else ""
    return Problem(
        file=file,
        column=key,
        reason=f"row {row} stores {key} {in_file!r} but its folder says {key}={in_folder}"
        f"{more}: keep the value in one place",
    )


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


#: Malformed JSONL rows named in full; more are counted.
_ROWS_LISTED = 10
_ONE_OBJECT = "; each line must be one whole JSON object"


def reading_problem(con: duckdb.DuckDBPyConnection, source: Source, error: duckdb.Error) -> Problem:
    """The problem with a file DuckDB could not read: what is wrong, in the file that is
    wrong (a folder's error names no part), and every malformed row of a JSONL file
    (DuckDB stops at the first)."""
    file = source.path
    if source.format == "parquet-folder":
        file = _failing_part(con, source) or source.path
    reason = _reader_reason(error)
    if source.format == "jsonl" and reason.startswith("not valid JSON"):
        rows = [
            row
            for (row,) in con.execute(
                "select ordinality from read_json_objects("
                f"{sql_literal(source.path.as_posix())}, format='newline_delimited', "
                "ignore_errors=true) with ordinality where json is null order by ordinality"
            ).fetchall()
        ]
        if len(rows) > 1:
            others = rows[1:]
            listed = ", ".join(str(r) for r in others[:_ROWS_LISTED])
            more = f" and {len(others) - _ROWS_LISTED} more" if len(others) > _ROWS_LISTED else ""
            also = f"row {listed} is" if len(others) == 1 else f"rows {listed}{more} are"
            reason = reason.replace(_ONE_OBJECT, f"; {also} not valid JSON either{_ONE_OBJECT}")
    return Problem(table=source.table, file=str(file), reason=reason)


def _reader_reason(error: duckdb.Error) -> str:
    """DuckDB's reader message, cut to what a user needs: the line and what is wrong."""
    message = str(error).strip()
    text = message.splitlines()[0] if message else type(error).__name__
    lowered = message.lower()
    at = ""
    if line := re.search(r"CSV Error on Line: (\d+)", message):
        at = f" (row {int(line.group(1)) - 1})"  # DuckDB counts the header as line 1
    elif line := re.search(r"JSON in file .* in line (\d+)", text):
        # DuckDB 2.0's "line" is one past the row (blank lines are not rows).
        at = f" (row {int(line.group(1)) - 1})"
    if "unicode" in lowered or "utf-8" in lowered or "utf8" in lowered:
        return f"file is not valid UTF-8 text{at}"
    malformed = re.search(r"Malformed JSON .*?: (.*?)\.?\s*$", text)
    if malformed:
        # DuckDB's own advice ("Try auto-detecting the JSON format") is about its options.
        what = re.sub(r"\.\s*Try auto-detecting.*$", "", malformed.group(1))
        return f"not valid JSON: {what}{at}{_ONE_OBJECT}"
    if "no magic bytes" in lowered or "too small to be a parquet file" in lowered:
        return "not a Parquet file (no Parquet footer)"
    if "tprotocolexception" in lowered or "don't know what type" in lowered:  # Thrift's words
        return "a damaged Parquet file: its metadata cannot be read"
    text = re.sub(r"^[A-Z][A-Za-z ]* Error: ", "", text)  # DuckDB's class name is noise
    if "no such file" in lowered or "permission denied" in lowered:
        return f"file cannot be read ({text})"
    return f"file cannot be read: {text}"
