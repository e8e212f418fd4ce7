"""Check a data directory against the input contract, one line per broken rule.

:func:`validate` works in three steps, each reported in the same form
(:class:`~kpi_core.problems.Problem`: file, row, column, reason):

1. **Files.** :func:`~kpi_core.loading.open_dataset` finds and opens every
   table; a missing directory, a missing required table or column, two files for
   one table, an unknown format or an unreadable file comes back as a problem
   naming the file (:mod:`kpi_core.file_checks`), and each CSV row the reader
   cannot split into fields as a problem naming its row.
2. **Generic rules**, declared on the columns of ``contract.py`` like dbt's
   generic tests: required, type, accepted values, minimum, unique and
   references. They are generated as one ``union all`` query per table over the
   raw view ``raw_<table>`` (text as written, or Parquet's own types), so the
   reason can quote the value as written.
   The SQL is built only from contract identifiers; accepted values, minimums
   and message texts are bound as parameters, and data never enters the SQL.
3. **Singular checks**, the rules that span columns or tables: one SQL file each
   in ``queries/checks/``, returning the violating rows as
   ``file, row, column, reason``. They read the typed views, where a value that
   fails its type is NULL, so a bad value is reported once, for its type.

Everything runs in DuckDB; no Python loop touches a data row, but for numbering
the rows of a CSV file the reader rejected some of.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

import duckdb

from kpi_core.contract import TABLES, Column, Table
from kpi_core.file_checks import reading_problem
from kpi_core.files import sql_identifier, sql_literal
from kpi_core.loading import Dataset, open_dataset, typed_value
from kpi_core.problems import DataError, Problem
from kpi_core.queries import QUERIES_DIR, QueryError, output_columns, query_paths, run

#: Where the singular checks live; each file returns ``file, row, column, reason``.
CHECKS_DIR = QUERIES_DIR / "checks"

#: Longest value quoted in full in a reason; longer ones are cut with "...".
_QUOTE_MAX = 40

#: What a value that fails its contract type is called in the reason.
_NOT_A = {
    "timestamp": "not a valid timestamp: ",
    "float": "not a valid number: ",
    "int": "not a valid integer: ",
    "bool": "not a valid boolean: ",
}


#: The cross-table rules that ``queries/cross_table_integrity.sql`` counts from
#: ``annotation_facts``, whose joins meet every key anyway: references as
#: (table, column), and singular checks by name. Checking them here hashes the
#: largest key columns once more; ``kpi report`` counts them there instead.
COUNTED_BY_FACTS_REFERENCES = frozenset(
    {
        ("annotations", "item_id"),
        ("annotations", "annotator_id"),
        ("reviews", "annotation_id"),
        ("audits", "annotation_id"),
    }
)
COUNTED_BY_FACTS_CHECKS = frozenset({"review_after_submission"})


def validate(
    root: Path | str,
    *,
    set_aside: Sequence[Problem] = (),
    on_step: Callable[[str], None] | None = None,
    cross_table: bool = True,
    broken_checks: list[QueryError] | None = None,
    on_valid: Callable[[Dataset], None] | None = None,
) -> list[Problem]:
    """Every broken rule of the data directory ``root``, sorted by file and row.

    Returns an empty list for valid data. Never raises for bad input: a problem
    with a whole file is a :class:`Problem` whose ``row`` is None. The rows named
    by ``set_aside`` are left out first (see :mod:`kpi_core.quarantine`).
    ``on_step`` is told each table and check before it runs (:func:`steps`
    of them in all), for a progress bar. ``cross_table=False`` leaves out the
    rules that ``queries/cross_table_integrity.sql`` counts (the caller must
    run it: see :func:`kpi_core.report.write_report`). A check file in
    ``queries/checks/`` that fails raises its :class:`QueryError`, or, given
    ``broken_checks``, is added there while the other checks run. ``on_valid``
    is given the open data when it is valid, to read more from it before it is
    closed (a CSV or JSONL file is parsed once, on opening).
    """
    try:
        dataset = open_dataset(root, materialize=False, set_aside=set_aside, report_rejected=True)
    except DataError as error:
        return _sorted(error.problems)
    step = on_step or (lambda name: None)
    references = frozenset() if cross_table else COUNTED_BY_FACTS_REFERENCES
    checks = frozenset() if cross_table else COUNTED_BY_FACTS_CHECKS
    try:
        # Rows the reader could not read are left out of their tables (and listed in
        # dataset.rejected): a reference into such a table may point at one of them,
        # which its message says.
        unread: _Unread = {p.table: "rows" for p in dataset.rejected}
        problems = list(dataset.rejected)
        more, some_unreadable = _generic_problems(dataset, unread, step, references)
        problems += more
        if not some_unreadable:
            problems += _check_problems(dataset, step=step, skip=checks, broken=broken_checks)
        if on_valid is not None and not problems:
            on_valid(dataset)
    finally:
        dataset.con.close()
    return _sorted(problems)


def cross_table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The rows breaking a cross-table rule, counted by ``cross_table_integrity.sql``
    from ``annotation_facts`` (which must be built on ``con``); all 0 when none does."""
    return run(con, "cross_table_integrity").row(0, named=True)


def explain_counts(root: Path | str, counts: dict[str, int]) -> list[Problem]:
    """The problems behind non-zero :func:`cross_table_counts`: full validation,
    naming each row. Should it find none, the counting query and the facts no
    longer agree (an edited model), and that is the problem reported."""
    problems = validate(root)
    if problems:
        return problems
    query = str(QUERIES_DIR / "cross_table_integrity.sql")
    return [
        Problem(
            file=query,
            reason=f"{name} is {n} but validation finds no such row: does "
            "models/annotation_facts.sql still hold one row per annotation and count "
            "every review and audit?",
        )
        for name, n in counts.items()
        if n
    ]


def steps() -> int:
    """How many steps :func:`validate` reports to ``on_step``: each table, each check."""
    return len(TABLES) + len(check_names())


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.row or 0, p.column or "", p.reason))


# --- generic rules: one union-all query per table ---------------------------------------------


class _Params:
    """Values bound to a query as ``$p0, $p1, ...``; never formatted into the SQL."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def __call__(self, value: object) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def _text(column: Column) -> str:
    """The cell as written, trimmed: for quoting a value in a reason."""
    return f"trim(cast({sql_identifier(column.name)} as varchar))"


def _is_empty(column: Column, raw_type: str) -> str:
    """SQL true when the cell is empty or blank; a typed (Parquet) cell only when NULL.

    Same as ``nullif(trim(x), '') is null``, but trims only the rare cells
    that start with a space.
    """
    name = sql_identifier(column.name)
    if raw_type.upper() != "VARCHAR":
        return f"{name} is null"
    return f"({name} is null or {name} = '' or ({name} like ' %' and trim({name}) = ''))"


def _quoted(expr: str) -> str:
    """SQL for ``expr`` in single quotes, cut to :data:`_QUOTE_MAX` characters."""
    cut = (
        f"case when length({expr}) > {_QUOTE_MAX} "
        f"then left({expr}, {_QUOTE_MAX}) || '...' else {expr} end"
    )
    return f"'''' || {cut} || ''''"


def _branch(column: str, reason: str, where: str, source: str = "cells") -> str:
    """One ``union all`` branch: the violating rows as ``file, row, column, reason``."""
    return (
        f'select _file as file, _row as row, {sql_literal(column)} as "column", {reason} as reason '
        f"from {source} where {where}"
    )


# Each rule yields the SQL branches that find its violations in one column of one table.
#: How far each table could be read, where not wholly: "file" (not at all: references into
#: it are not checked) or "rows" (some rows not: a value may be on one of those).
_Unread = Mapping[str, Literal["file", "rows"]]
_Rule = Callable[[Table, Column, str, _Params, _Unread], Iterator[str]]


def _required(table: Table, column: Column, raw_type: str, bind: _Params, _: _Unread):
    if column.required:
        reason = bind(f"{column.name} is required but empty")
        yield _branch(column.name, reason, _is_empty(column, raw_type))


def _type(table: Table, column: Column, raw_type: str, bind: _Params, _: _Unread):
    if column.type == "string":
        return
    text, value = _text(column), typed_value(column, raw_type)
    prefix = bind(_NOT_A[column.type])
    if column.type == "float":
        # A number DuckDB reads but that is NaN or infinite: say so, not "not a number".
        prefix = (
            f"case when isfinite(try_cast({text} as double)) = false "
            f"then {bind('not a finite number: ')} else {prefix} end"
        )
    reason = f"{prefix} || {_quoted(text)}"
    where = f"not ({_is_empty(column, raw_type)}) and {value} is null"
    yield _branch(column.name, reason, where)


def _accepted(table: Table, column: Column, raw_type: str, bind: _Params, _: _Unread):
    if column.accepted:
        value = typed_value(column, raw_type)
        allowed = bind(list(column.accepted))
        reason = (
            f"{bind(column.name + ' ')} || {_quoted(value)} || "
            f"{bind(' is not one of ' + ', '.join(column.accepted))}"
        )
        where = f"{value} is not null and not list_contains({allowed}, {value})"
        yield _branch(column.name, reason, where)


def _minimum(table: Table, column: Column, raw_type: str, bind: _Params, _: _Unread):
    if column.minimum is not None:
        value = typed_value(column, raw_type)
        below = "<=" if column.exclusive_minimum else "<"
        at_least = ">" if column.exclusive_minimum else ">="
        reason = (
            f"{bind(column.name + ' ')} || {_quoted(_text(column))} || "
            f"{bind(f' must be {at_least} {column.minimum:g}')}"
        )
        where = f"{value} {below} {bind(column.minimum)}"
        yield _branch(column.name, reason, where)


def _unique(table: Table, column: Column, raw_type: str, bind: _Params, _: _Unread):
    """Every row after the first with the same value, naming the first.

    Rows are first narrowed to those whose value's hash clashes (grouping
    integers is cheaper than grouping text), then compared by value.
    """
    if not column.unique:
        return
    value = typed_value(column, raw_type)
    reason = (
        f"{bind('duplicate ' + column.name + ' ')} || {_quoted('key')} || "
        "' (first at row ' || first.row || "
        "case when first.file <> _file then ' of ' || first.file else '' end || ')'"
    )
    source = f"""(
    with keyed as (
        select _file, _row, {value} as key from cells where {value} is not null
    ),
    clashing as (
        select * from keyed
        where hash(key) in (select hash(key) from keyed group by 1 having count(*) > 1)
    ),
    firsts as (
        select key, min({{'file': _file, 'row': _row}}) as first from clashing
        group by key having count(*) > 1
    )
    select clashing._file, clashing._row, key, first from clashing inner join firsts using (key)
) as duplicates"""
    where = "(_file, _row) <> (first.file, first.row)"
    yield _branch(column.name, reason, where, source)


def _no_nul(table: Table, column: Column, raw_type: str, bind: _Params, _: _Unread):
    """A key (a unique column) holding a NUL byte: damage, not an id. Its references,
    written without it, would read "not found" and blame the wrong file. Only keys:
    looking into every text column costs the report more than this rare damage."""
    if column.unique and column.type == "string" and raw_type.upper() == "VARCHAR":
        name = sql_identifier(column.name)
        reason = bind(f"{column.name} holds a NUL byte (\\0): the file may be damaged")
        yield _branch(column.name, reason, f"contains({name}, chr(0))")


def _references(table: Table, column: Column, raw_type: str, bind: _Params, unread: _Unread):
    """Values missing from the referenced table (skipped when that table cannot be read)."""
    if column.references is None or unread.get(column.references[0]) == "file":
        return
    parent, key = column.references
    value = typed_value(column, raw_type)
    source = (
        f"(select _file, _row, {value} as value from cells) as child "
        f"anti join {sql_identifier(parent)} as parent on parent.{sql_identifier(key)} = child.value"
    )
    missing = f" not found in {parent}" + (
        " (or on one of its rows that cannot be read)" if unread.get(parent) == "rows" else ""
    )
    reason = f"{bind(column.name + ' ')} || {_quoted('value')} || {bind(missing)}"
    yield _branch(column.name, reason, "value is not null", source)


#: The generic rules, in the order a reader meets them; each is one kind of dbt test.
RULES: dict[str, _Rule] = {
    "required": _required,
    "type": _type,
    "accepted": _accepted,
    "minimum": _minimum,
    "unique": _unique,
    "no_nul": _no_nul,
    "references": _references,
}


def generic_sql(
    table: Table,
    raw_types: dict[str, str],
    unread: _Unread | None = None,
    skip_references: frozenset[tuple[str, str]] = frozenset(),
) -> tuple[str, dict[str, object]]:
    """One query finding every generic-rule violation in ``table``, and its parameters.

    ``raw_types`` maps the columns present in ``raw_<table>`` to their DuckDB
    types; absent columns are not checked (a missing required column is a
    file-level problem found on loading). ``unread`` says which tables could not
    be read, or not all of their rows. References named in
    ``skip_references`` as (table, column) are not checked.
    """
    bind = _Params()
    branches = [
        sql
        for column in table.columns
        if column.name in raw_types
        for name, rule in RULES.items()
        if not (name == "references" and (table.name, column.name) in skip_references)
        for sql in rule(table, column, raw_types[column.name], bind, unread or {})
    ]
    if not branches:
        return "", bind.values
    columns = ", ".join(sql_identifier(c.name) for c in table.columns if c.name in raw_types)
    cells = (
        f"with cells as not materialized (select _file, _row, {columns} from raw_{table.name})\n"
    )
    return cells + "\nunion all\n".join(branches), bind.values


def _generic_problems(
    dataset: Dataset,
    unread: _Unread,
    step: Callable[[str], None],
    skip_references: frozenset[tuple[str, str]] = frozenset(),
) -> tuple[list[Problem], bool]:
    """Problems with generic rules, and whether some table turned out unreadable.

    Tables are checked in contract order, referenced tables first, so a table
    that fails to read is reported once, for its own file, and references into
    it are skipped.
    """
    problems: list[Problem] = []
    unread = dict(unread)
    con = dataset.con
    for name, table in TABLES.items():
        step(name)
        if not dataset.has(name) or unread.get(name) == "file":
            continue
        raw_types = {row[0]: row[1] for row in con.execute(f"describe raw_{name}").fetchall()}
        sql, params = generic_sql(table, raw_types, unread, skip_references)
        try:
            rows = con.execute(sql, params).fetchall() if sql else []
        except duckdb.Error as error:
            unread[name] = "file"
            problems.append(reading_problem(con, dataset.sources[name], error))
            continue
        problems += [Problem(file, row, column, reason, name) for file, row, column, reason in rows]
    return problems, "file" in unread.values()


# --- singular checks: one SQL file each in queries/checks/ -------------------------------------


def check_names(root: Path | None = None) -> list[str]:
    """The names of the singular checks (their file stems), sorted."""
    return [path.stem for path in query_paths(root or CHECKS_DIR)]


def _table_of(dataset: Dataset, file: str) -> str | None:
    for name, source in dataset.sources.items():
        if file == str(source.path) or Path(file).is_relative_to(source.path):
            return name
    return None


def _check_problems(
    dataset: Dataset,
    root: Path | None = None,
    step: Callable[[str], None] = lambda name: None,
    skip: frozenset[str] = frozenset(),
    broken: list[QueryError] | None = None,
) -> list[Problem]:
    """Rows returned by every singular check but those in ``skip``; a broken
    check file raises QueryError, or is added to ``broken`` when given."""
    problems = []
    for name in check_names(root):
        step(name)
        try:
            # A check counted elsewhere (skip) is still bound, so a broken file stops
            # every tool alike; only its run over the data is spared.
            frame = None if name in skip else run(dataset.con, name, root or CHECKS_DIR)
            columns = (
                output_columns(dataset.con, name, root or CHECKS_DIR)
                if frame is None
                else frame.columns
            )
            if columns != ["file", "row", "column", "reason"]:
                raise QueryError(
                    str((root or CHECKS_DIR) / f"{name}.sql"),
                    "a check must return file, row, column, reason; got " + ", ".join(columns),
                )
        except QueryError as error:
            if broken is None:
                raise
            broken.append(error)
            continue
        if frame is not None:
            problems += [
                Problem(file, row, column, reason, _table_of(dataset, file))
                for file, row, column, reason in frame.iter_rows()
            ]
    return problems
