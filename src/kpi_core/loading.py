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

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from kpi_core.contract import FORMATS, REQUIRED_TABLES, SQL_TYPES, TABLES, Column
from kpi_core.problems import DataError, Problem

_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl"}


@dataclass(frozen=True)
class Source:
    """Where one table lives on disk."""

    table: str
    path: Path
    format: str  # csv | parquet | jsonl | parquet-folder

    def scan_sql(self) -> str:
        """A DuckDB table expression over the file(s), every column as text.

        The path is a literal (file names cannot be bound as parameters) and is
        quoted; it comes from the directory listing, not from user SQL.
        """
        p = _quote(self.path.as_posix())
        if self.format == "csv":
            # header=true with every column as text: validation, not the reader, judges values.
            return (
                f"(select *, ordinality as _row from read_csv({p}, header=true, all_varchar=true, "
                f"auto_detect=true, strict_mode=true) with ordinality)"
            )
        if self.format == "jsonl":
            return (
                f"(select *, ordinality as _row from "
                f"read_json({p}, format='newline_delimited') with ordinality)"
            )
        if self.format == "parquet":
            return f"(select * exclude (file_row_number), file_row_number + 1 as _row from read_parquet({p}, file_row_number=true))"
        glob = _quote((self.path / "**" / "*.parquet").as_posix())
        return (
            f"(select * exclude (file_row_number, filename), file_row_number + 1 as _row, "
            f"filename as _file from read_parquet({glob}, file_row_number=true, filename=true, "
            f"hive_partitioning=true, union_by_name=true))"
        )


@dataclass
class Dataset:
    """A data directory opened in DuckDB."""

    root: Path
    con: duckdb.DuckDBPyConnection
    sources: dict[str, Source]
    columns: dict[str, list[str]] = field(default_factory=dict)

    @property
    def present(self) -> frozenset[str]:
        """The tables that exist on disk (required ones always do)."""
        return frozenset(self.sources)

    def has(self, table: str) -> bool:
        return table in self.sources


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def discover(root: Path) -> dict[str, Source]:
    """Find the file (or Parquet folder) of every contract table under ``root``.

    Raises :class:`DataError` for a missing directory, a missing required table,
    two files for one table or a table file in an unknown format.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError([Problem(file=str(root), reason="data directory not found")])
    problems: list[Problem] = []
    found: dict[str, list[Source]] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        stem, suffix = entry.stem, entry.suffix.lower()
        if entry.is_dir():
            if entry.name in TABLES and any(entry.rglob("*.parquet")):
                found.setdefault(entry.name, []).append(
                    Source(entry.name, entry, "parquet-folder")
                )
            continue
        if stem not in TABLES:
            continue  # other files (notes, quarantine output) are not tables
        fmt = _SUFFIXES.get(suffix)
        if fmt is None:
            problems.append(
                Problem(
                    table=stem,
                    file=str(entry),
                    reason=f"unknown table format {suffix or '(none)'!r}; "
                    f"use one of {', '.join('.' + f for f in FORMATS)}",
                )
            )
            continue
        found.setdefault(stem, []).append(Source(stem, entry, fmt))
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
        if table not in found:
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


def _cast(column: Column, present: bool) -> str:
    target = SQL_TYPES[column.type]
    if not present:
        return f"cast(null as {target}) as {column.name}"
    raw = f"nullif(trim(cast({_ident(column.name)} as varchar)), '')"
    if column.type == "string":
        # Keep the text as written: an empty cell is missing, anything else is data.
        value = f"nullif(cast({_ident(column.name)} as varchar), '')"
    elif column.type == "timestamp":
        # Session time zone is UTC: offsets convert to UTC, no offset means UTC.
        value = f"cast(try_cast({raw} as timestamptz) as timestamp)"
    else:
        value = f"try_cast({raw} as {target})"
    return f"{value} as {column.name}"


def open_dataset(
    root: Path | str,
    *,
    database: str = ":memory:",
    materialize: bool = False,
) -> Dataset:
    """Open ``root`` as a :class:`Dataset` of DuckDB views.

    With ``materialize=True`` the typed views are stored as DuckDB tables once,
    so that many queries over CSV or JSON files parse each file only once.
    Raises :class:`DataError` (one line per problem) for anything unreadable.
    """
    root = Path(root)
    sources = discover(root)
    con = duckdb.connect(database)
    con.execute("set TimeZone = 'UTC'")
    dataset = Dataset(root=root, con=con, sources=sources)
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
            file_expr = "" if source.format == "parquet-folder" else f", {_quote(str(source.path))} as _file"
            con.execute(f"create view raw_{name} as select *{file_expr} from {source.scan_sql()}")
            described = con.execute(f"describe raw_{name}").fetchall()
        except duckdb.Error as error:
            problems.append(
                Problem(table=name, file=str(source.path), reason=_reader_reason(error))
            )
            continue
        present = [row[0] for row in described]
        dataset.columns[name] = present
        missing = [c.name for c in table.columns if c.required and c.name not in present]
        if missing:
            problems.append(
                Problem(
                    table=name,
                    file=str(source.path),
                    column=", ".join(missing),
                    reason="required column missing from the header",
                )
            )
            continue
        select = ", ".join(_cast(c, c.name in present) for c in table.columns)
        con.execute(f"create view {name} as select {select}, _file, _row from raw_{name}")
    if problems:
        con.close()
        raise DataError(problems)
    if materialize:
        for name in sources:
            con.execute(f"alter view {name} rename to typed_{name}")
            con.execute(f"create table {name} as select * from typed_{name}")
    return dataset


def _reader_reason(error: duckdb.Error) -> str:
    """DuckDB's reader message, cut to its first line, as a user-facing reason."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    lowered = str(error).lower()
    if "unicode" in lowered or "utf-8" in lowered or "utf8" in lowered:
        return "file is not valid UTF-8 text"
    if "no such file" in lowered or "permission denied" in lowered:
        return f"file cannot be read ({text})"
    return f"file cannot be read: {text}"
