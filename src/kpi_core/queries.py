"""The SQL files in ``queries/``, found by name and run with bound parameters.

Each file holds one query in aiosql's format, opened by a header comment::

    -- name: slice_error_rates(as_of)
    -- Which slices accept wrong labels?
    -- Grain: one row per slice per ISO week.
    -- Parameters: as_of timestamp, the report's as-of time.
    -- Output: domain varchar, week varchar, n_accepted bigint

aiosql parses the files (it turns ``:as_of`` into DuckDB's ``$as_of``); this
module only adds what aiosql leaves out: one file per query so one broken file
cannot hide the others, the declared ``Output:`` columns, and errors that name
the file and the line. Files are re-read when they change, so an analyst's edit
shows on the next run.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiosql
import duckdb
import polars as pl

from kpi_core.ctes import unread_ctes
from kpi_core.outputs import NO_OUTPUT_HEADER, columns_gone, held_to_header, sql_families
from kpi_core.problems import DataError, Problem, QueryError

# aiosql warns that a statement "may not be a select" (on stderr, with no file name):
# parse_file refuses such a file itself, naming it.
logging.getLogger("aiosql").setLevel(logging.ERROR)

#: Where the project's queries live; ``KPI_QUERIES_DIR`` points elsewhere.
QUERIES_DIR = Path(
    os.environ.get("KPI_QUERIES_DIR", Path(__file__).resolve().parents[2] / "queries")
)


#: The parameters the dashboard, ``kpi report`` and ``kpi check`` bind, and what each is.
#: A query that declares another is refused: it would silently be NULL.
PARAMETERS = {
    "as_of": "the as-of time",
    "by_annotator": "true for the dashboard's grain",
    "window_start": "a calibration window's first day",
    "window_end": "the day after its last",
    "domain": "a calibration meeting's domain, NULL for all",
    "up_to_week": "a calibration meeting's ISO week (YYYY-Www), NULL for all",
    "item_ids": "the items calibration decisions name",
}


#: A quoted string, or a ``--`` comment to the end of the line.
_STRING_OR_COMMENT = re.compile(r"'(?:''|[^'])*'|--.*$")


def _code(line: str) -> str:
    """``line`` as SQL reads it: its ``--`` comment cut and its strings emptied, so that
    a name or a ';' there is not taken for code."""
    return _STRING_OR_COMMENT.sub(lambda m: "''" if m.group(0)[0] == "'" else "", line)


def _first_line(text: str, word: str) -> int | None:
    """The first line (from 1) of ``text`` whose code names ``word`` as a word."""
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(rf"\b{re.escape(word)}\b", _code(line)):
            return number
    return None


@dataclass(frozen=True)
class QueryFile:
    """One query file, parsed."""

    name: str
    path: Path
    sql: str
    doc: str
    parameters: tuple[str, ...]
    outputs: tuple[tuple[str, str], ...]  # (column, declared type)
    sql_lines: tuple[int, ...]  # the file line (from 1) of each line of ``sql``
    name_line: int = 1  # the file line of ``-- name:``

    @property
    def purpose(self) -> str:
        return self.doc.splitlines()[0] if self.doc else ""

    @property
    def materialize(self) -> bool:
        """False for a model whose header says ``Materialize: no``: one that each
        query reads once is cheaper inlined as a view than stored as a table."""
        return not re.search(r"^Materialize:\s*no\b", self.doc, flags=re.MULTILINE)

    @property
    def output_columns(self) -> list[str]:
        return [name for name, _ in self.outputs]

    @property
    def key(self) -> tuple[str, ...]:
        """The columns the header's ``Key:`` line says no two rows share (empty without
        one): what readers that add the rows up count on."""
        # the Key line and its indented continuation lines, as the Output line's
        match = re.search(r"^Key:\s*(.*(?:\n[ \t]+.*)*)", self.doc, flags=re.MULTILINE)
        return tuple(c.strip() for c in match.group(1).split(",") if c.strip()) if match else ()

    def file_line(self, sql_line: int) -> int:
        """The file line of line ``sql_line`` (from 1) of the SQL DuckDB ran."""
        if not self.sql_lines:
            return sql_line
        return self.sql_lines[min(sql_line, len(self.sql_lines)) - 1]


def _parse_outputs(doc: str) -> tuple[tuple[str, str], ...]:
    # The Output line and its indented continuation lines: a note after them is not a column.
    match = re.search(r"^Output:\s*(.*(?:\n[ \t]+.*)*)", doc, flags=re.MULTILINE)
    if not match:
        return ()
    columns = []
    # commas inside a type's parentheses, as in decimal(38,10), do not end a column
    for part in re.split(r",(?![^()]*\))", match.group(1).replace("\n", " ")):
        words = part.split()
        if words:
            columns.append((words[0], " ".join(words[1:])))
    return tuple(columns)


def _statements(sql: str) -> list[str]:
    """The kind of each statement ``sql`` holds (``SELECT``, ``DROP``, ...); one
    ``SELECT`` when DuckDB cannot parse it: running it says why."""
    try:
        return [statement.type.name for statement in duckdb.extract_statements(sql)]
    except duckdb.Error:
        return ["SELECT"]


def parse_file(path: Path) -> QueryFile:
    """Parse one query file; :class:`QueryError` names the file when it cannot."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # an editor's byte-order mark is no SQL
    except OSError as error:
        raise QueryError(str(path), f"cannot read query file: {error}") from None
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        reason = f"not UTF-8 text: byte 0x{error.object[error.start]:02x} cannot be read"
        raise QueryError(str(path), reason, line) from None
    lines = text.splitlines()
    # The name lines, from 1 (aiosql reads "--name:" without its space too).
    names_at = [i for i, t in enumerate(lines, 1) if re.match(r"--\s*name:", t.lstrip())]
    if len(names_at) > 1:
        raise QueryError(str(path), "one query per file: a second '-- name:' line", names_at[1])
    try:
        loaded = aiosql.from_str(text, "duckdb")
    except Exception as error:  # aiosql raises several types for bad headers
        reason, line = str(error).strip(), None
        if reason.startswith("empty sql"):
            reason = "no SQL after the header"
        elif undeclared := re.match(r"undeclared parameter name in query (\w+): (\w+)", reason):
            query_name, parameter = undeclared.groups()
            line = _first_line(text, parameter)
            reason = (
                f"parameter :{parameter} is not declared on the name line "
                f"('-- name: {query_name}(...)'); the tools bind "
                + ", ".join(f":{p} ({what})" for p, what in PARAMETERS.items())
            )
        elif reason.startswith("unused declared parameter"):
            line = names_at[0] if names_at else None
        raise QueryError(str(path), reason, line) from None
    names = [n for n in loaded.available_queries if not n.endswith("_cursor")]
    if len(names) != 1:
        raise QueryError(
            str(path),
            f"expected exactly one '-- name: ...' query per file, found {len(names)}",
        )
    name = names[0]
    query = getattr(loaded, name)
    kinds = _statements(query.sql)
    if len(kinds) > 1:
        ends = next((i for i, t in enumerate(lines, 1) if ";" in _code(t)), None)
        raise QueryError(str(path), "one query per file: a second statement after ';'", ends)
    if kinds != ["SELECT"]:
        # Run on the shared connection, a DROP or an INSERT would change what every other
        # query reads, and they would fail in its place.
        starts = next(
            (i for i, t in enumerate(lines, 1) if t.strip() and not t.lstrip().startswith("--")),
            None,
        )
        raise QueryError(
            str(path),
            f"a query file holds one SELECT (or WITH ... SELECT); this one is a "
            f"{kinds[0]} statement, which is not run",
            starts,
        )
    unknown = [p for p in query.parameters or () if p not in PARAMETERS]
    if unknown:
        # Bound as NULL, an unknown parameter would read as "no filter": a silent wrong number.
        raise QueryError(
            str(path),
            f"unknown parameter {', '.join(':' + p for p in unknown)}; the tools bind "
            + ", ".join(f":{p} ({what})" for p, what in PARAMETERS.items()),
            names_at[0] if names_at else None,  # the name line declares it
        )
    if name != path.stem:
        raise QueryError(str(path), f"query is named {name!r} but the file is {path.name!r}", 1)
    if not names_at:  # aiosql found one, written in another way
        raise QueryError(str(path), "write the name line as '-- name: <query>(...)'", 1)
    header = []
    body_at = names_at[0]  # the line after the name line, from 0
    while body_at < len(lines) and lines[body_at].lstrip().startswith("--"):
        header.append(lines[body_at].lstrip()[2:].removeprefix(" "))
        body_at += 1
    doc = "\n".join(header).strip()
    return QueryFile(
        name=name,
        path=path,
        sql=query.sql,
        doc=doc,
        parameters=tuple(query.parameters or ()),
        outputs=_parse_outputs(doc),
        sql_lines=_file_lines(lines, body_at, query.sql),
        name_line=names_at[0],
    )


#: A /* */ comment, or a quoted string or name that may hold "/*" (kept as it is).
_BLOCK_COMMENT = re.compile(r"'(?:''|[^'])*'|\"(?:\"\"|[^\"])*\"|/\*[\s\S]*?\*/")


def _file_lines(lines: list[str], body_at: int, sql: str) -> tuple[int, ...]:
    """The file line (from 1) of each line of ``sql``, the SQL aiosql made of the file's
    ``lines`` after the header (from ``body_at``, from 0), so that DuckDB's "LINE n"
    points at the analyst's own line. aiosql drops ``--`` comment lines, cuts out
    ``/* */`` comments (a comment over several lines leaves one line) and writes
    ``:name`` as ``$name``; each SQL line is matched with the next file line that
    reads the same once that is undone."""
    body = "\n".join(lines[body_at:])
    # Each comment becomes its own line breaks, so the file's lines keep their numbers.
    uncommented = _BLOCK_COMMENT.sub(
        lambda m: m.group(0) if m.group(0)[0] in "'\"" else "\n" * m.group(0).count("\n"), body
    )

    def same(text: str) -> str:
        return re.sub(r"[\s:$]", "", text)

    candidates = [
        (number, same(line))
        for number, line in enumerate(uncommented.split("\n"), start=body_at + 1)
        if not line.lstrip().startswith("--")
    ]
    if not candidates:
        return ()
    mapped, at = [], 0
    for sql_line in sql.splitlines():
        wanted = same(sql_line)
        found = next((i for i in range(at, len(candidates)) if candidates[i][1] == wanted), None)
        if found is None:  # not found as written: keep the order, at the next line
            found = min(at, len(candidates) - 1)
        mapped.append(candidates[found][0])
        at = found + 1
    return tuple(mapped)


_cache: dict[Path, tuple[float, QueryFile]] = {}


def query_paths(root: Path | None = None) -> list[Path]:
    """Every ``.sql`` file under ``root`` (sub-folders included), sorted."""
    return sorted(Path(root or QUERIES_DIR).rglob("*.sql"))


def load(name: str, root: Path | None = None) -> QueryFile:
    """The query called ``name`` (a file ``<name>.sql`` under ``root``), fresh from disk."""
    folder = Path(root or QUERIES_DIR)
    if not folder.is_dir():
        raise QueryError(str(folder), "no such folder of query files (is KPI_QUERIES_DIR right?)")
    matches = [p for p in query_paths(folder) if p.stem == name]
    if not matches:
        raise QueryError(str(folder / f"{name}.sql"), "no such query file")
    if len(matches) > 1:  # else the first found (a draft copy, say) would silently win
        others = ", ".join(str(m) for m in matches[1:])
        raise QueryError(str(matches[0]), f"another file has the same name: {others}")
    path = matches[0]
    mtime = path.stat().st_mtime_ns
    cached = _cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    parsed = parse_file(path)
    _cache[path] = (mtime, parsed)
    return parsed


def _error_line(query: QueryFile, message: str) -> int | None:
    match = re.search(r"LINE (\d+):", message)
    if match:
        return query.file_line(int(match.group(1)))
    # Binder and catalog errors carry no line; point at the first line naming the
    # culprit. It is quoted on the first line ("Did you mean ..." hints come after);
    # a missing table is named after "with name" and sought where it is read from.
    # A column "not found in FROM clause" is valid where it is still in scope, so its
    # last mention is the likelier culprit (a column dropped before the final select).
    first = message.splitlines()[0]
    # ('Values list "t" does not have a column named "c"': the column, not the table)
    quoted = re.search(r'column named "([^"]+)"', first) or re.search(r'"([^"]+)"', first)
    table = re.search(r"with name (\w+)", first)
    if quoted:
        needle = re.compile(rf"\b{re.escape(quoted.group(1))}\b")
    elif table:
        needle = re.compile(rf"\b(from|join)\s+{re.escape(table.group(1))}\b", re.IGNORECASE)
    else:
        return None
    lines = [n for n, line in enumerate(query.sql.splitlines(), start=1) if needle.search(line)]
    if not lines:
        return None
    return query.file_line(lines[-1] if "not found in FROM clause" in first else lines[0])


def _duckdb_error(query: QueryFile, error: duckdb.Error) -> QueryError:
    """DuckDB's error as the query file's: its first line, with a hint DuckDB gives on
    the next ("Candidate bindings", "Did you mean"), at the file line it points to."""
    lines = str(error).strip().splitlines()
    hint = next((h for h in lines[1:2] if h.startswith(("Candidate bindings", "Did you mean"))), "")
    reason = f"{lines[0]} ({hint})" if hint else lines[0]
    return QueryError(str(query.path), reason, _error_line(query, "\n".join(lines)))


def time_limit() -> float:
    """Seconds one query file may run before it is stopped, naming the file, so that an
    analyst's join without its condition does not hold every page for ever. Generous
    (10 minutes) for data far past ten million rows; ``KPI_QUERY_TIMEOUT_S`` sets it
    (:class:`DataError` naming it when it is not a number of seconds above 0)."""
    text = os.environ.get("KPI_QUERY_TIMEOUT_S") or "600"  # set but empty: unset
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        reason = f"not a number of seconds above 0: {text!r} (unset, it is 600)"
        raise DataError([Problem(file="KPI_QUERY_TIMEOUT_S", reason=reason)])
    return seconds


@contextmanager
def _stopped_after_time_limit(con: duckdb.DuckDBPyConnection, query: QueryFile) -> Iterator[None]:
    """Interrupt what ``con`` runs inside once :func:`time_limit` has passed, and say so
    as ``query``'s error."""
    limit = time_limit()
    expired = threading.Event()

    def stop() -> None:
        expired.set()
        con.interrupt()

    timer = threading.Timer(limit, stop)
    timer.daemon = True
    timer.start()
    try:
        yield
    except duckdb.InterruptException:
        if not expired.is_set():
            raise
        raise QueryError(
            str(query.path),
            f"stopped after {limit:g} s, the time a query may take (KPI_QUERY_TIMEOUT_S): "
            "is a join missing its condition?",
        ) from None
    finally:
        timer.cancel()
        # Waited for, so no thread holds the connection once the query is done: one
        # still alive at exit made the bindings report leaks, and at times abort.
        timer.join()


def run(
    con: duckdb.DuckDBPyConnection,
    name: str,
    root: Path | None = None,
    **params: object,
) -> pl.DataFrame:
    """Run query ``name`` with ``params`` bound (never formatted into the SQL).

    Parameters the file declares but the caller omits are bound as NULL, which
    the queries read as "no filter". The result arrives through Arrow, held to the
    file's header (:func:`~kpi_core.outputs.held_to_header`): a result its readers
    would fail on, far from the file, is the file's :class:`QueryError` instead.
    """
    query = load(name, root)
    unknown = set(params) - set(query.parameters)
    if unknown:
        raise QueryError(str(query.path), f"unexpected parameters {sorted(unknown)}")
    with guarded(con, query):
        frame = _bound(con, query, params).pl()
    return held_to_header(query, frame)


@contextmanager
def guarded(con: duckdb.DuckDBPyConnection, query: QueryFile) -> Iterator[None]:
    """What the block runs on ``con``, run as ``query``'s: stopped at the time limit,
    and a DuckDB error raised as the file's :class:`QueryError` (its line where known)."""
    try:
        with _stopped_after_time_limit(con, query):
            yield
    except duckdb.Error as error:
        raise _duckdb_error(query, error) from None


def output_columns(
    con: duckdb.DuckDBPyConnection, name: str, root: Path | None = None
) -> list[str]:
    """The columns query ``name`` returns, found by binding it without running it:
    its syntax and every name it reads are checked (a QueryError naming the file and
    line), at no cost over the data."""
    query = load(name, root)
    with guarded(con, query):
        return _bound(con, query, {}).columns


def _bound(
    con: duckdb.DuckDBPyConnection, query: QueryFile, params: dict[str, object]
) -> duckdb.DuckDBPyRelation:
    """``query`` parsed and bound, not yet run; a parameter not given is NULL."""
    return con.sql(query.sql, params={p: params.get(p) for p in query.parameters} or None)


#: The query files the tools run by name, or read as models, under ``queries/`` (the
#: checks in ``checks/`` are optional): ``kpi check`` says when one is missing. A test
#: holds this list to the names the code runs.
NEEDED = (
    "agreement_marginals.sql",
    "annotation_kpi_counts.sql",
    "calibration_decisions_log.sql",
    "calibration_item_annotations.sql",
    "calibration_item_reviews.sql",
    "cross_table_integrity.sql",
    "data_as_of.sql",
    "defect_durations.sql",
    "domain_coverage.sql",
    "domain_labels.sql",
    "item_domains.sql",
    "item_label_counts.sql",
    "item_slices.sql",
    "model_lift.sql",
    "models/annotation_facts.sql",
    "models/labelled_items.sql",
    "models/latest_labels.sql",
    "oldest_waiting_annotations.sql",
    "review_backlog.sql",
    "specialist_review_time_quantiles.sql",
    "spaced_values.sql",
    "specialist_review_times.sql",
    "turnaround_hours.sql",
    "turnaround_quantiles.sql",
)


#: Why a file of :data:`NEEDED` that is missing fails kpi check.
MISSING = "missing, and the report and the dashboard run it: restore it (git checkout)"


def missing_files(root: Path | None = None) -> list[Path]:
    """Where each file of :data:`NEEDED` that is not under ``root`` belongs."""
    root = Path(root or QUERIES_DIR)
    present = {path.stem for path in query_paths(root)}
    return [root / needed for needed in NEEDED if Path(needed).stem not in present]


def check(con: duckdb.DuckDBPyConnection, root: Path | None = None, **params: object) -> list[str]:
    """Run every query and compare its columns with its ``Output:`` header.

    Returns one message per failing file (empty when all pass).
    """
    if not Path(root or QUERIES_DIR).is_dir():
        return [f"{root or QUERIES_DIR}: no such folder of query files (is KPI_QUERIES_DIR right?)"]
    # Materialized as the report and the dashboard do: a slow model then fails itself,
    # once, instead of each query that reads it.
    failed = register_available_models(con, root, materialize=True)
    missing = [f"{path}: {MISSING}" for path in missing_files(root)]  # a model's in failed too
    failures = list(dict.fromkeys([*missing, *(str(error) for error in failed.values())]))
    skipped: list[str] = []
    for path in query_paths(root):
        try:
            query = parse_file(path)
            if query.name in failed and failed[query.name].file == str(path):
                continue  # a model that failed itself: its line is in already
            if failed_model_read(query, failed) is not None or query.name in failed:
                skipped.append(path.name)  # its model's error is the one line to read
                continue
            if not query.outputs:
                raise QueryError(str(path), NO_OUTPUT_HEADER)
            wanted = {p: v for p, v in params.items() if p in query.parameters}
            run(con, query.name, root, **wanted)
            if (unread := unread_cte_error(query)) is not None:
                raise unread
        except QueryError as error:
            if str(error) not in failures:  # two files of one name fail alike
                failures.append(str(error))
    if skipped:
        failures.append(f"not run, as they read a model that failed: {', '.join(skipped)}")
    return failures


def unread_cte_error(query: QueryFile) -> QueryError | None:
    """The error for a CTE of ``query`` that nothing reads, at its line, if any: DuckDB
    binds only what a query reads, so a mistake there passes, and what it computes
    shows nowhere."""
    unread = unread_ctes(query.sql)
    if not unread:
        return None
    return QueryError(
        str(query.path),
        f"CTE {unread[0]} is never read, so it shows nowhere and DuckDB does not check it: "
        "read it from the final select (or a CTE it reads), or delete it",
        _line_defining(query, unread[0]),
    )


def _line_defining(query: QueryFile, cte: str) -> int | None:
    """The file line where ``query`` defines the CTE ``cte`` (``name as (``)."""
    defining = re.compile(rf"\b{re.escape(cte)}\s+as\b", re.IGNORECASE)
    lines = query.sql.splitlines()
    at = next((n for n, line in enumerate(lines, start=1) if defining.search(line)), None)
    return query.file_line(at) if at else None


def model_paths(root: Path | None = None) -> list[Path]:
    """Queries under ``models/``: building blocks other queries read by name."""
    return sorted((Path(root or QUERIES_DIR) / "models").glob("*.sql"))


def reads(query: QueryFile, name: str) -> bool:
    """Whether ``query``'s SQL names ``name`` (a model it reads)."""
    return re.search(rf"\b{re.escape(name)}\b", query.sql) is not None


def _in_dependency_order(models: list[QueryFile]) -> list[QueryFile]:
    """Each model after the models it reads; otherwise stored tables first (a view
    marked ``Materialize: no`` may read them), then by name."""
    pending = sorted(models, key=lambda q: (not q.materialize, q.name))
    ordered: list[QueryFile] = []
    while pending:
        ready = next(
            (
                q
                for q in pending
                if not any(reads(q, other.name) for other in pending if other is not q)
            ),
            pending[0],  # a cycle: DuckDB will name the model it cannot find
        )
        ordered.append(ready)
        pending.remove(ready)
    return ordered


def register_available_models(
    con: duckdb.DuckDBPyConnection, root: Path | None = None, *, materialize: bool = False
) -> dict[str, QueryError]:
    """Create every model that can be created as a view (or, with ``materialize``, a
    temp table) of its name, each after the models it reads; return the others' errors
    by model name. A model that reads a failed one gets that one's error: it is the
    file to fix.

    Materializing pays when many queries read a model over large data: its
    joins then run once. A model whose header says ``Materialize: no`` stays a view.
    """
    # A model the tools read that is gone is the file to restore, not its readers'.
    failed: dict[str, QueryError] = {
        path.stem: QueryError(str(path), MISSING)
        for path in missing_files(root)
        if path.parent.name == "models"
    }
    models = []
    for path in model_paths(root):
        try:
            model = load(path.stem, root)
            if model.parameters:
                raise QueryError(
                    str(path),
                    "a model takes no parameters: it is built once and its readers read it "
                    f"by name; bind :{model.parameters[0]} in the queries that read it",
                    model.name_line,
                )
            models.append(model)
        except QueryError as error:
            failed[path.stem] = error
    for query in _in_dependency_order(models):
        broken = failed_model_read(query, failed)
        if broken is not None:
            failed[query.name] = broken
            continue
        kind = "temp table" if materialize and query.materialize else "temp view"
        try:
            with guarded(con, query):
                con.execute(f"create or replace {kind} {query.name} as {query.sql}")
                described = con.execute(f"describe {query.name}").fetchall()
            gone = columns_gone(query, sql_families(described))
            if gone is not None:
                failed[query.name] = gone
        except QueryError as error:
            failed[query.name] = error
    return failed


def register_models(
    con: duckdb.DuckDBPyConnection, root: Path | None = None, *, materialize: bool = False
) -> None:
    """:func:`register_available_models`, raising the first failure's error."""
    failed = register_available_models(con, root, materialize=materialize)
    if failed:
        raise next(iter(failed.values()))


def failed_model_read(query: QueryFile, failed: dict[str, QueryError]) -> QueryError | None:
    """The error of a failed model that ``query`` reads, if any (not the query's own)."""
    return next(
        (error for name, error in failed.items() if name != query.name and reads(query, name)),
        None,
    )
