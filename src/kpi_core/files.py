"""Where the tables of a data directory lie, and how DuckDB reads each.

:func:`discover` finds one file (CSV, Parquet or JSONL) or one Parquet folder per
table of the contract, and :class:`Source` says how DuckDB scans it: every column
as text for CSV and JSONL, Parquet's own types, and a folder's partition keys from
the folders below it only. Paths and column names go into SQL text through
:func:`sql_literal` and :func:`sql_identifier`, as they cannot be bound.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from kpi_core.contract import FORMATS, REQUIRED_TABLES, TABLES
from kpi_core.problems import DataError, Problem


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal. For what cannot be bound as a parameter:
    file paths in a table function, and the names of columns and tables."""
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (a column named by a file's header)."""
    return '"' + name.replace('"', '""') + '"'


class Unreadable(Exception):
    """A file that cannot be read as a table; the message is the user-facing reason."""


@dataclass(frozen=True)
class Source:
    """Where one table lives on disk."""

    table: str
    path: Path
    format: str  # csv | parquet | jsonl | parquet-folder

    def scan_sql(
        self, columns: list[str] | None = None, rejects: str | None = None, lenient: bool = False
    ) -> str:
        """A DuckDB table expression over the file(s), every column as text.

        The path is a literal (file names cannot be bound as parameters) and is
        quoted; it comes from the directory listing, not from user SQL. A CSV
        file is read with ``columns`` (its header, see :func:`csv_header`) and
        a fixed dialect, so that no sniffing guesses at a malformed row. A JSONL file is read with ``columns`` as text
        when given, else with DuckDB's detected types, every line looked at (to
        find its keys: an optional key may first appear on the last line); with
        ``lenient``, a line that is not one JSON object reads as a row of nulls
        (the rows keep their numbers: :func:`kpi_core.file_checks.parse_jsonl`).
        DuckDB's hive partitioning is off: it would read ``key=value`` anywhere in
        the path, such as a data directory under ``/data/domain=finance/``, as a
        column and overwrite that column in every row. A Parquet folder's
        partition columns come from the folders below it only (:func:`hive_keys`).
        With ``rejects``, a CSV row the reader cannot split into the header's
        fields is not an error but a row of the temporary table ``rejects`` (and
        the rows after it are numbered one too low: see
        :func:`kpi_core.file_checks.parse_csv`).
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
                f"format='newline_delimited', hive_partitioning=false{typed}"
                f"{', ignore_errors=true' if lenient else ''}) with ordinality)"
            )
        if self.format == "parquet":
            return (
                f"(select * exclude (file_row_number), file_row_number + 1 as _row "
                f"from read_parquet({p}, file_row_number=true, hive_partitioning=false))"
            )
        keys = hive_keys(self.path)
        partitions = "".join(f", {self.partition_value(k)} as {sql_identifier(k)}" for k in keys)
        # A partition key stored in the files too must agree (file_checks): the
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


def hive_keys(folder: Path) -> list[str]:
    """The partition keys (``key=value`` folders) below ``folder``, the same in every
    branch; raises :class:`Unreadable` when branches disagree."""
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
            raise Unreadable(f"partition folders differ: {named(*first)}, {named(path, keys)}")
    return first[1]


def _varchar_struct(columns: list[str]) -> str:
    return "{" + ", ".join(f"{sql_literal(c)}: 'varchar'" for c in columns) + "}"


def is_blank(path: Path) -> bool:
    """True for a file holding nothing but whitespace (or a bare byte-order mark)."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    return len(head) < 4096 and not head.removeprefix(b"\xef\xbb\xbf").strip()


def csv_header(path: Path) -> list[str]:
    """The column names on the first line of a CSV file (a UTF-8 BOM is allowed)."""
    if is_blank(path):
        raise Unreadable("file is empty (no header row)")
    with path.open("rb") as handle:
        first_line = handle.readline()
    try:
        header = next(csv.reader([first_line.decode("utf-8-sig")]), [])
    except UnicodeDecodeError:
        raise Unreadable("file is not valid UTF-8 text (line 1)") from None
    except csv.Error as error:
        if "new-line character seen in unquoted field" in str(error):
            raise Unreadable(
                "lines end in a bare carriage return (CR, old Mac style): "
                "save the file with LF or CRLF line ends"
            ) from None
        raise Unreadable(f"header row cannot be read: {error}") from None
    if not header:
        raise Unreadable("line 1 is blank; the header row must come first")
    # An unnamed column (a pandas index, a trailing comma) is an extra column like any other.
    header = [name or f"column{i}" for i, name in enumerate(header)]
    refuse_repeated(header, "in the header")
    return header


def refuse_repeated(names: list[str], where: str) -> None:
    """Raise :class:`Unreadable` when a column name comes twice; DuckDB's names are
    case-insensitive, so ``cost`` and ``COST`` are the same column."""
    lowered = [name.lower() for name in names]
    repeated = sorted({n for n in names if lowered.count(n.lower()) > 1})
    if repeated:
        raise Unreadable(f"column {', '.join(repeated)} appears more than once {where}")


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
    maybe_misnamed: list[Path] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        # "reviews.csv.gz" and "Reviews.csv" name the reviews table too: say why they
        # are not read rather than leave the table out.
        table, dot, suffix = entry.name.partition(".")
        if table.lower() not in TABLES:
            if entry.is_dir() or suffix.lower() in FORMATS:
                maybe_misnamed.append(entry)
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
    for entry in maybe_misnamed:
        # "review.csv" or "reviews (1).csv" for reviews.csv: its rows would be left out
        # without a word.
        stem, _, suffix = entry.name.partition(".")
        meant = _table_meant(stem)
        if meant and meant not in found and meant not in unknown:
            unknown.add(meant)
            name = meant + ("." + suffix if suffix else "/")
            problems.append(
                Problem(
                    table=meant,
                    file=str(entry),
                    reason=f"no table is named {stem!r}: rename it {name} to have it read",
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


def _table_meant(stem: str) -> str | None:
    """The table a file named ``stem`` (not a table's name) was most likely meant to
    be: one whose name it starts with, singular or plural, then a non-letter
    (``reviews (1)``, ``review_2026``, ``reviews-old``), or one it is spelt almost
    like (``reveiws``, ``my_reviews``)."""
    stem = stem.lower()
    starting = [
        table
        for table in TABLES
        if re.match(rf"{re.escape(table.removesuffix('s'))}s?(?![a-z])", stem)
    ]
    if starting:
        return max(starting, key=len)
    close = difflib.get_close_matches(stem, TABLES, n=1, cutoff=0.8)
    return close[0] if close else None


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


def parquet_files(source: Source) -> list[Path]:
    """The Parquet file of ``source``, or each file of its folder."""
    if source.format == "parquet-folder":
        return sorted(source.path.rglob("*.parquet"))
    return [source.path]


def stored_names(part: Path) -> list[str]:
    """The column names a Parquet file stores, repeats included (DuckDB renames them)."""
    try:
        return pq.read_schema(part).names
    except (pa.ArrowException, OSError) as error:
        raise Unreadable(f"not a readable Parquet file ({error})") from None
