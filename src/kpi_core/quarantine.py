"""Going on without the bad rows: the input contract's quarantine.

By default bad input stops everything with one line per broken rule. When the
user asks to go on (``--quarantine FILE``), every row that breaks a rule is set
aside instead: left out of every view (``loading.open_dataset(set_aside=...)``),
written to the quarantine file with its reasons, and counted where the KPIs are
shown. Nothing is dropped silently and nothing is "fixed".

Setting a row aside can break another: a review of an annotation that was set
aside no longer finds its annotation. So validation runs again on what is kept,
and those rows are set aside too (their reason ends "among the rows kept"),
until what is kept is clean. A problem with a whole file (unreadable, a missing
required column) cannot be set aside and still stops with an error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import polars as pl

from kpi_core.contract import TABLES
from kpi_core.loading import Dataset
from kpi_core.problems import DataError, Problem
from kpi_core.validation import validate

_KEPT = " among the rows kept"


def set_aside_bad_rows(
    root: Path | str,
    *,
    on_step: Callable[[str], None] | None = None,
    found: list[Problem] | None = None,
    on_valid: Callable[[Dataset], None] | None = None,
) -> list[Problem]:
    """Every broken rule of ``root``'s rows, after which what is kept is valid.

    Empty for valid data. Raises :class:`DataError` with the problems that name
    a whole file, which no setting aside can get round. ``found``, when given,
    is what ``validate(root)`` already returned: the first round is not run again.
    ``on_valid`` is given the data as kept, open, by the round that finds it valid
    (see :func:`~kpi_core.validation.validate`; not when that is the ``found`` round).
    """
    aside: list[Problem] = []
    # Each round can only break rows that reference the last round's: the chain of
    # references between tables is shorter than the number of tables.
    for round_ in range(len(TABLES) + 1):
        if round_ == 0 and found is not None:
            problems = found
        else:
            # A check file that fails has failed in the first round already (raised,
            # or named by the dashboard, which passes that round as ``found``).
            problems = validate(
                root,
                set_aside=aside,
                on_step=None if round_ else on_step,
                broken_checks=[] if round_ else None,
                on_valid=on_valid,
            )
        if not problems:
            return aside
        whole_file = [p for p in problems if p.row is None]
        if whole_file:
            raise DataError(whole_file)
        if aside:
            problems = [replace(p, reason=p.reason + _KEPT) for p in problems]
        aside += problems
    raise DataError(problems)


def rows_to_leave_out(
    root: Path | str,
    quarantine: Path | None,
    *,
    on_step: Callable[[str], None] | None = None,
    found: list[Problem] | None = None,
    on_valid: Callable[[Dataset], None] | None = None,
) -> list[Problem]:
    """What the KPIs of ``root`` must leave out: nothing when it is valid; with
    ``quarantine``, its invalid rows (written there); without, DataError.
    ``on_step`` follows the (first) validation, as :func:`validation.validate`'s;
    ``found`` is that validation's result when the caller has it already;
    ``on_valid`` is given the data as kept, open (as in :func:`set_aside_bad_rows`)."""
    if quarantine is not None and quarantine.resolve().is_relative_to(Path(root).resolve()):
        # It could overwrite a table, and the next run would read it as one.
        raise DataError(
            [
                Problem(
                    file=str(quarantine),
                    reason="the quarantine file must be written outside the data "
                    "directory, where it would replace or be read as a table",
                )
            ]
        )
    problems = validate(root, on_step=on_step, on_valid=on_valid) if found is None else found
    if quarantine is None:
        if problems:
            raise DataError(problems)
        return []
    aside = set_aside_bad_rows(root, found=problems, on_valid=on_valid)
    write_quarantine(aside, quarantine)
    return aside


def rows_by_table(aside: list[Problem]) -> dict[str, int]:
    """How many rows of each table are set aside (a row with two problems counts once)."""
    rows = {(p.table, p.file, p.row) for p in aside}
    return dict(sorted(Counter(table for table, _, _ in rows).items()))


def as_frame(aside: list[Problem]) -> pl.DataFrame:
    """The quarantine file's rows: table, file, row, column, reason."""
    return pl.DataFrame(
        [(p.table, p.file, p.row, p.column, p.reason) for p in sorted(aside)],
        schema={
            "table": pl.String,
            "file": pl.String,
            "row": pl.Int64,
            "column": pl.String,
            "reason": pl.String,
        },
        orient="row",
    )


def write_quarantine(aside: list[Problem], path: Path) -> None:
    """Write the quarantine file (CSV; the header alone when nothing was set aside)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    as_frame(aside).write_csv(path)


def counted(aside: list[Problem]) -> tuple[int, str]:
    """The rows set aside, and how many of each table (``1 annotations, 2 reviews``)."""
    counts = rows_by_table(aside)
    return sum(counts.values()), ", ".join(f"{n} {table}" for table, n in counts.items())


def summary(aside: list[Problem], path: Path) -> str:
    """One line saying what was set aside, and where the reasons are."""
    if not aside:
        return "nothing set aside: every row is valid"
    total, tables = counted(aside)
    return f"set aside {total} invalid row(s) ({tables}); reasons in {path}"
