"""What is wrong with a data file, said so that a user can fix it.

Each function looks at one file as :mod:`kpi_core.loading` opens it and returns
(or raises, as :class:`~kpi_core.files.Unreadable`) problems naming the file, the
row and the column: CSV rows the reader cannot split into fields and JSONL lines
that are not one JSON object, give one key twice or nest a value (every one, by
its data-row number), columns spelled
unlike the contract or stored in a type that would read as other text, parts of a
Parquet folder that disagree, and DuckDB's reader errors in a user's words.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from kpi_core.contract import TABLES, Column
from kpi_core.files import (
    Source,
    Unreadable,
    csv_header,
    hive_keys,
    is_blank,
    parquet_files,
    refuse_repeated,
    sql_identifier,
    sql_literal,
    stored_names,
)
from kpi_core.problems import Problem

#: DuckDB's kinds of CSV rows it cannot read, as a user would say them.
_REJECTED = {
    "INVALID ENCODING": "row is not valid UTF-8 text",
    "LINE SIZE OVER MAXIMUM": "row is longer than the reader takes (2 MB)",
}
_FIELD_COUNTS = ("TOO MANY COLUMNS", "MISSING COLUMNS")


def parse_csv(con: duckdb.DuckDBPyConnection, source: Source) -> list[Problem]:
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
        raise Unreadable(
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


def parse_jsonl(con: duckdb.DuckDBPyConnection, source: Source) -> list[Problem]:
    """Parse a JSONL file once into the temporary table ``parsed_<table>``, every key
    as text; return a problem for each line that is not one JSON object, for each key
    an object gives twice, and for each object or array where a column's one value
    belongs (read as text, ``{"a": 1}`` would become the label ``'{"a": 1}'``).

    Such lines are left out of the table, not the error that stops at the first of
    them, so that every one is named (and can be set aside, as a log writer's
    truncated last line often must be). The rows after one keep their numbers (a
    blank line is no row). What no row can be read past stays a problem with the
    whole file (:class:`~kpi_core.files.Unreadable`): a byte-order mark, no object
    at all, one key in two spellings.
    """
    table = f"parsed_{source.table}"
    if is_blank(source.path):
        # No rows and so no keys: an empty table with the contract's columns.
        nothing = ", ".join(
            f"cast(null as varchar) as {sql_identifier(c)}"
            for c in TABLES[source.table].column_names
        )
        con.execute(f"create temp table {table} as select {nothing}, 0::bigint as _row limit 0")
        return []
    with source.path.open("rb") as handle:
        if handle.read(3) == b"\xef\xbb\xbf":
            # DuckDB's JSON reader stops at a BOM; JSON itself forbids one (RFC 8259).
            raise Unreadable(
                "file starts with a byte-order mark (BOM), which JSON Lines does not "
                "allow; save it as UTF-8 without BOM"
            )
    strict_error = None
    try:
        detected = _jsonl_keys(con, source, lenient=False)
        if detected is not None:
            keys, maybe_nested = detected
            # (a line `null` reads as a row of empty values without a word)
            if not _rows_nesting(con, source.path, maybe_nested) and not _non_objects(
                con, source.path
            ):
                con.execute(f"create temp table {table} as select * from {source.scan_sql(keys)}")
                return []
    except duckdb.Error as error:
        # most often a malformed line or a key twice in one object: found below, every one
        strict_error = error
    bad = _non_objects(con, source.path)
    repeating = _rows_repeating_a_key(con, source.path)
    keys, maybe_nested = _jsonl_keys(con, source, lenient=True)
    nesting = _rows_nesting(con, source.path, maybe_nested)
    if not bad and not repeating and not nesting and strict_error is not None:
        raise strict_error
    rows = sorted({row for row, _ in bad} | repeating.keys() | nesting.keys())
    con.execute(
        f"create temp table {table} as select * from {source.scan_sql(keys, lenient=True)} "
        "where not list_contains($rows, _row)",
        {"rows": rows},
    )
    lines = _lines_of_rows(source.path, rows)
    not_objects = [(row, None, _not_an_object(lines.get(row), kind)) for row, kind in bad]
    repeats = [
        (row, key, _repeated_key(lines.get(row), key))
        for row, keys in repeating.items()
        for key in keys
    ]
    nested = [
        (row, key, f"a JSON {kind} where one value belongs")
        for row, found in nesting.items()
        for key, kind in found
    ]
    return [
        Problem(file=str(source.path), row=row, column=column, reason=reason, table=source.table)
        for row, column, reason in sorted(
            not_objects + repeats + nested, key=lambda p: (p[0], p[1] or "")
        )
    ]


def _non_objects(con: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[int, str | None]]:
    """The JSONL rows that are not one JSON object, each with its JSON type (None where
    the line is not JSON)."""
    return con.execute(
        f"select ordinality, json_type(json) from {_lines_scan(path)} "
        "where json is null or json_type(json) <> 'OBJECT' order by ordinality"
    ).fetchall()


def _jsonl_keys(
    con: duckdb.DuckDBPyConnection, source: Source, *, lenient: bool
) -> tuple[list[str], list[str]] | None:
    """The keys of a JSONL file's objects (every line looked at), and those of the
    contract that may hold a nested value; refused when no line is an object or a
    key comes in two spellings. ``lenient`` looks past lines that are not objects,
    which DuckDB's detection of keys and types cannot (None: some line is not an
    object): the keys come from each object instead, slower, and any of the
    contract's may hold a nested value."""
    contract = TABLES[source.table].column_names
    if lenient:
        keys = object_keys(con, source.path)
        if not keys:
            raise Unreadable(first_non_object(con, source.path))
        maybe_nested = [key for key in keys if key in contract]
    else:
        detected = con.execute(f"describe select * from {source.scan_sql()}").fetchall()
        if [tuple(row[:2]) for row in detected] == [("json", "JSON"), ("_row", "BIGINT")]:
            return None
        keys = [row[0] for row in detected if row[0] != "_row"]
        # (JSON is also what DuckDB calls a key holding both strings and numbers.)
        maybe_nested = [
            key
            for key, kind in ((row[0], str(row[1])) for row in detected)
            if key in contract
            and (kind == "JSON" or kind.startswith(("STRUCT", "MAP")) or kind.endswith("]"))
        ]
    refuse_repeated(keys, "among the keys")
    return keys, maybe_nested


def _lines_scan(path: Path) -> str:
    """A JSONL file's lines as DuckDB's JSON values (``json``, NULL where a line is not
    JSON) and their row numbers (``ordinality``; a blank line is no row)."""
    return (
        f"read_json_objects({sql_literal(path.as_posix())}, format='newline_delimited', "
        "ignore_errors=true) with ordinality"
    )


def object_keys(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Every key of every JSON object on the lines of a JSONL file, as written (two
    spellings of one name stay two), sorted; lines that are no object are passed over."""
    found = con.execute(
        f"select distinct unnest(json_keys(json)) from {_lines_scan(path)} "
        "where json_type(json) = 'OBJECT'"
    ).fetchall()
    return sorted(key for (key,) in found)


def _lines_of_rows(path: Path, rows: Sequence[int]) -> dict[int, bytes]:
    """The JSONL lines of ``rows`` (a blank line is no row), read again in Python to
    say what is wrong with each: DuckDB says it for the first only. Only for a file
    with such rows."""
    wanted, lines, row = set(rows), {}, 0
    with path.open("rb") as handle:
        for line in handle:
            if not line.strip(b" \t\r\n"):
                continue
            row += 1
            if row in wanted:
                lines[row] = line
                if len(lines) == len(wanted):
                    break
    return lines


def _not_an_object(line: bytes | None, kind: str | None) -> str:
    """Why one JSONL line (of JSON type ``kind``; None where it is not JSON) is not
    one JSON object, in a user's words."""
    if kind is not None:
        return f"a JSON {_json_kind(kind)}, not an object{_ONE_OBJECT}"
    try:
        # without its line end: a line cut short inside a string reads "Unterminated string"
        text = (line or b"").decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return "row is not valid UTF-8 text"
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        at = "" if error.msg.endswith(" at") else " at"  # "Unterminated string starting at"
        return f"not valid JSON: {error.msg}{at} character {error.colno}{_ONE_OBJECT}"
    return f"not valid JSON{_ONE_OBJECT}"


def _rows_repeating_a_key(con: duckdb.DuckDBPyConnection, path: Path) -> dict[int, list[str]]:
    """The JSONL rows whose object gives one key more than once, each with those keys.

    JSON leaves open which of the values counts (RFC 8259), so such a row is a
    problem to name, not a value to pick. Lines are grouped by their list of keys
    first: a file has few such lists, so one cheap pass finds that none repeats."""
    scan = f"{_lines_scan(path)} where json_type(json) = 'OBJECT'"
    key_lists = con.execute(f"select distinct json_keys(json) from {scan}").fetchall()
    repeating = [keys for (keys,) in key_lists if len(set(keys)) < len(keys)]
    if not repeating:
        return {}
    found = con.execute(
        f"select ordinality, json_keys(json) from {scan} "
        "and list_contains($repeating, json_keys(json))",
        {"repeating": repeating},
    ).fetchall()
    return {row: sorted({key for key in keys if keys.count(key) > 1}) for row, keys in found}


def _repeated_key(line: bytes | None, key: str) -> str:
    """Why a JSONL row giving ``key`` more than once is not read: its values, in order."""
    pairs = json.loads(line or b"{}", object_pairs_hook=_Pairs)
    values = [
        _cut(json.dumps(_Pairs.plain(value), ensure_ascii=False))
        for name, value in pairs
        if name == key
    ]
    times = "twice" if len(values) == 2 else f"{len(values)} times"
    return f"{key} is given {times} in one object ({', then '.join(values)}): keep one"


class _Pairs(list):
    """A JSON object as its (key, value) pairs, every one kept (a dict keeps one per key)."""

    @staticmethod
    def plain(value: object) -> object:
        """``value`` with its objects as dicts again, to show it as written."""
        if isinstance(value, _Pairs):
            return {name: _Pairs.plain(inner) for name, inner in value}
        if isinstance(value, list):
            return [_Pairs.plain(inner) for inner in value]
        return value


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


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


def column_problems(
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
    if source.format == "jsonl" and _first_json_non_object(con, source.path):
        return Problem(file="", reason=first_non_object(con, source.path))
    return Problem(file="", column=", ".join(missing), reason=reason)


def refuse_renamed_repeats(
    con: duckdb.DuckDBPyConnection, source: Source, present: list[str]
) -> None:
    """Raise :class:`Unreadable` when a Parquet file or a JSONL file names one column
    twice. DuckDB reads the second as ``<name>_1``, an extra column that would be
    ignored, so the stored names are read again, only when a name looks renamed."""
    lowered = {c.lower() for c in present}
    renamed = [
        c for c in present if (m := re.fullmatch(r"(.+)_\d+", c)) and m.group(1).lower() in lowered
    ]
    if not renamed or source.format == "csv":  # a CSV header is checked as it is read
        return
    if source.format == "jsonl":
        refuse_repeated(object_keys(con, source.path), "among the keys")
        return
    for part in parquet_files(source):
        names = stored_names(part)
        refuse_repeated(names, f"in {part.relative_to(source.path.parent)}")


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
    keys = hive_keys(source.path)
    required = [c.name for c in columns if c.required and c.name in present and c.name not in keys]
    problems, stored_keys = [], set()
    for part in parquet_files(source):
        try:
            names = set(stored_names(part))
        except Unreadable as error:
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


def _failing_part(con: duckdb.DuckDBPyConnection, source: Source) -> Path | None:
    """The first file of a Parquet folder that DuckDB cannot read, if one alone fails."""
    for part in parquet_files(source):
        try:
            con.execute(
                f"select count(*) from read_parquet({sql_literal(part.as_posix())})"
            ).fetchall()
        except duckdb.Error:
            return part
    return None


def _first_json_non_object(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[int, str] | None:
    """The first line of a JSONL file that is JSON but not an object, with its JSON type;
    None if there is none."""
    return con.execute(
        f"select ordinality, json_type(json) from {_lines_scan(path)} "
        "where json_type(json) <> 'OBJECT' order by ordinality limit 1"
    ).fetchone()


def first_non_object(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    """Why DuckDB found no records in a JSONL file: its first line that is not an object."""
    found = _first_json_non_object(con, path)
    rule = 'each line must be one object: {"column": value, ...}'
    if found is None:
        return f"no JSON objects found; {rule}"
    line, kind = found
    return f"line {line} is a JSON {_json_kind(kind)}, not an object; {rule}"


def _json_kind(json_type: str) -> str:
    """DuckDB's ``json_type`` of a value, as JSON names it."""
    names = {"VARCHAR": "string", "ARRAY": "array", "BOOLEAN": "boolean", "NULL": "null"}
    return names.get(json_type, "object" if json_type == "OBJECT" else "number")


def _rows_nesting(
    con: duckdb.DuckDBPyConnection, path: Path, keys: Sequence[str]
) -> dict[int, list[tuple[str, str]]]:
    """The JSONL rows holding an object or an array under one of ``keys``, each with
    those keys and the JSON type found (all keys looked at in one pass over the file)."""
    if not keys:
        return {}
    paths = {f"key{i}": "$." + json.dumps(key) for i, key in enumerate(keys)}
    kinds = ", ".join(f"json_type(json, ${name})" for name in paths)
    found = con.execute(
        f"select ordinality, kinds from (select ordinality, [{kinds}] as kinds "
        f"from {_lines_scan(path)} where json_type(json) = 'OBJECT') "
        "where list_has_any(kinds, ['OBJECT', 'ARRAY'])",
        paths,
    ).fetchall()
    return {
        row: [
            (key, kind.lower())
            for key, kind in zip(keys, row_kinds, strict=True)
            if kind in ("OBJECT", "ARRAY")
        ]
        for row, row_kinds in found
    }


_ONE_OBJECT = "; each line must be one whole JSON object"


def reading_problem(con: duckdb.DuckDBPyConnection, source: Source, error: duckdb.Error) -> Problem:
    """The problem with a file DuckDB could not read: what is wrong, in the file that is
    wrong (a folder's error names no part)."""
    file = source.path
    if source.format == "parquet-folder":
        file = _failing_part(con, source) or source.path
    return Problem(table=source.table, file=str(file), reason=_reader_reason(error))


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
