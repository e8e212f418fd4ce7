"""A query's result held to its header: the columns its ``Output:`` line declares, in
order, each of the declared family (number, text, date, timestamp, boolean), whole
numbers whole, no infinity, and no two rows alike in the columns of its ``Key:``
line. A KPI page fed a text column where it expects hours would fail in polars, far
from the file that changed; a row counted twice would double a KPI without a word.
Here either is the file's error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import polars as pl

from kpi_core.problems import QueryError
from kpi_core.read_columns import READ_COLUMNS

if TYPE_CHECKING:
    from kpi_core.queries import QueryFile

#: Why a query file without an ``Output:`` header fails kpi check.
NO_OUTPUT_HEADER = "header has no 'Output:' line declaring the columns"

#: Declared types of whole numbers and of floating-point ones (decimals are neither).
_WHOLE_NUMBERS = (
    "bigint",
    "integer",
    "int",
    "smallint",
    "tinyint",
    "hugeint",
    "ubigint",
    "uinteger",
    "usmallint",
    "utinyint",
)
_FRACTIONS = ("double", "float", "real")
#: Families of declared column types, for comparing a header with a result's dtypes.
_TYPE_FAMILIES = {
    **dict.fromkeys(_WHOLE_NUMBERS, "number"),
    **dict.fromkeys((*_FRACTIONS, "decimal", "numeric"), "number"),
    **dict.fromkeys(("varchar", "text", "string"), "text"),
    "date": "date",
    **dict.fromkeys(
        ("timestamp", "timestamptz", "datetime", "timestamp_s", "timestamp_ms", "timestamp_ns"),
        "timestamp",
    ),
    **dict.fromkeys(("boolean", "bool"), "boolean"),
}


def _family(dtype: pl.DataType) -> str | None:
    if dtype.is_numeric():
        return "number"
    if dtype == pl.String:
        return "text"
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "timestamp"
    if dtype == pl.Boolean:
        return "boolean"
    return None  # Null (an all-NULL column) and nested types: not compared


#: Types a header may declare that no family above compares (nested values and the like).
_OTHER_TYPES = re.compile(
    r"(?i)^(interval|time|timetz|uuid|blob|json|struct|map|list|union|enum|bit|varint)\b|\[\]$"
)


#: SQL's names of several words for the types above, as DuckDB also takes them.
_SPELLED_OUT = {
    "double precision": "double",
    "character varying": "varchar",
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
}


def _base_type(declared: str) -> str:
    """A declared (or DuckDB's) type without its parameters, in one word, lower case:
    ``decimal(38,18)`` is ``decimal``, ``DOUBLE PRECISION`` ``double``."""
    base = " ".join(declared.split("(")[0].lower().split())
    return _SPELLED_OUT.get(base, base)


def declared_family(declared: str) -> str | None:
    """The family (number, text, date, timestamp, boolean) of a declared or DuckDB type;
    None for the types no family compares."""
    return _TYPE_FAMILIES.get(_base_type(declared))


def _has_fractions(dtype: pl.DataType | None) -> bool:
    """A floating-point type, or a decimal with digits after the point."""
    return (dtype is not None and dtype.is_float()) or (
        isinstance(dtype, pl.Decimal) and bool(dtype.scale)
    )


def _sql_name(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision},{dtype.scale})"
    return "double" if dtype == pl.Float64 else str(dtype).lower()


def held_to_header(query: QueryFile, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame``, ``query``'s result, if it matches the ``Output:`` header
    (:func:`header_mismatch`), no two rows share its ``Key:`` and no number is infinite
    or NaN; else a :class:`QueryError` naming the file and why.

    A number the database gives as a decimal where the header declares a whole number
    (``sum(1)``) or a floating-point one comes as the declared kind, so that readers
    get what the header promises; the values are the same.
    """
    mismatch = header_mismatch(query, frame)
    if mismatch:
        raise QueryError(str(query.path), mismatch)
    gone = columns_gone(query, result_families(frame))
    if gone is not None:
        raise gone
    if query.key and frame.height:
        repeated = frame.filter(frame.select(query.key).is_duplicated())
        if repeated.height:
            raise repeated_key_error(query, repeated.height, repeated.row(0, named=True))
    # DuckDB divides by zero into infinity (or NaN): as a KPI it would show as "inf" on
    # one page and n/a on another, so it is the file's error here.
    not_finite = [
        column
        for column, dtype in frame.schema.items()
        if dtype.is_float() and not frame[column].drop_nulls().is_finite().all()
    ]
    if not_finite:
        raise QueryError(
            str(query.path),
            f"{', '.join(not_finite)} holds infinity or NaN (a division by zero?): "
            "write nullif(denominator, 0) to give n/a instead",
        )
    as_declared = {
        column: pl.Int64 if _base_type(declared) in _WHOLE_NUMBERS else pl.Float64
        for column, declared in query.outputs
        if isinstance(frame.schema[column], pl.Decimal)
        and _base_type(declared) in (*_WHOLE_NUMBERS, *_FRACTIONS)
    }
    return frame.cast(as_declared) if as_declared else frame


def repeated_key_error(query: QueryFile, n_rows: int, example: dict) -> QueryError:
    """The error of ``query`` whose result has ``n_rows`` rows sharing their ``Key:``
    with another, ``example`` being one of them."""
    first = ", ".join(f"{c}={v}" for c, v in example.items() if c in query.key)
    return QueryError(
        str(query.path),
        f"{n_rows:,} rows share their Key ({', '.join(query.key)}) with another, as "
        f"{first} does: readers add the rows up, so each would count more than once "
        "(a join that repeats rows?)",
    )


def columns_gone(query: QueryFile, families: Mapping[str, str | None]) -> QueryError | None:
    """The error of a query (or model) whose result (``families``: each column's family,
    see :func:`result_families`) no longer holds a column the tools read from it, or
    holds it as another family (:data:`kpi_core.read_columns.READ_COLUMNS`), named at
    its ``Output:`` line; None when all are there. A header edited along with the
    query would pass :func:`header_mismatch`, and the column's readers fail far from
    the file."""
    read = READ_COLUMNS.get(query.name, {})
    gone = [c for c in read if c not in families]
    changed = [
        f"{c} as {read[c]}, not {families[c]}"
        for c in read
        if c in families and families[c] is not None and families[c] != read[c]
    ]
    if not gone and not changed:
        return None
    lines = query.path.read_text(encoding="utf-8").splitlines()
    line = next((i for i, text in enumerate(lines, 1) if "Output:" in text), None)
    reasons = []
    if gone:
        reasons.append(
            f"the report and the dashboard read {', '.join(gone)} from this query, which no "
            "longer returns it: put it back (adding columns is fine)"
        )
    if changed:
        reasons.append(
            f"the report and the dashboard read {'; '.join(changed)}: give it its kind back "
            "(a cast in the select and its type in the header)"
        )
    return QueryError(str(query.path), "; ".join(reasons), line)


def result_families(frame: pl.DataFrame) -> dict[str, str | None]:
    """Each column of a query's result and its family (None: all NULL, or nested)."""
    return {column: _family(dtype) for column, dtype in frame.schema.items()}


def sql_families(described: list[tuple[str, str]]) -> dict[str, str | None]:
    """Each column of a relation and its family, from DuckDB's ``describe``: its rows of
    column name and type (strings: the bindings' type objects outlive the interpreter)."""
    return {column: declared_family(sql_type) for column, sql_type, *_ in described}


def header_mismatch(query: QueryFile, frame: pl.DataFrame) -> str | None:
    """How a result differs from the ``Output:`` header (its columns, in order, and the
    family of each declared type: number, text, date, timestamp, boolean); None when
    they match. A KPI page fed a text column where it expects hours would fail in
    polars, far from the file that changed."""
    if not query.outputs:
        return NO_OUTPUT_HEADER
    declared, actual = query.output_columns, frame.columns
    detail = []
    unknown_keys = [c for c in query.key if c not in declared]
    if unknown_keys:
        detail.append(f"the Key names columns the Output does not: {', '.join(unknown_keys)}")
    if declared != actual:
        missing = [c for c in declared if c not in actual]
        extra = [c for c in actual if c not in declared]
        if missing:
            detail.append(f"declared but not returned: {', '.join(missing)}")
        if extra:
            detail.append(f"returned but not declared: {', '.join(extra)}")
        if not detail:
            detail.append("columns are in another order than the header declares")
    for column, declared_type in query.outputs:
        wanted = declared_family(declared_type)
        dtype = frame.schema.get(column)
        got = _family(dtype) if dtype is not None else None
        if wanted is None and not _OTHER_TYPES.match(declared_type.strip()):
            detail.append(f"{column} is declared {declared_type}, which is not a DuckDB type")
        elif wanted and got and wanted != got:
            detail.append(f"{column} is declared {declared_type} but the result's is {got}")
        elif _base_type(declared_type) in _WHOLE_NUMBERS and _has_fractions(dtype):
            detail.append(
                f"{column} is declared {declared_type} but the result's numbers may have "
                f"fractions ({_sql_name(dtype)})"
            )
    if not detail:
        return None
    return f"Output header does not match the result ({'; '.join(detail)})"
