"""Problems with the input, reported one line each, never as a traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One broken rule: where it is and why it is wrong.

    ``row`` counts data rows from 1 (header not counted); it is None for
    problems with a whole file or column.
    """

    file: str
    row: int | None = None
    column: str | None = None
    reason: str = ""
    table: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f": row {self.row}"
        if self.column:
            where += (
                f", column {self.column}" if self.row is not None else f": column {self.column}"
            )
        return f"{where}: {self.reason}"


class DataError(Exception):
    """The input breaks the contract; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class QueryError(Exception):
    """A file in ``queries/`` failed: its file, the line where known, and why."""

    def __init__(self, file: str, reason: str, line: int | None = None):
        self.file, self.reason, self.line = file, reason, line
        super().__init__(f"{self.located}: {reason}")

    def __reduce__(self):  # pickled whole (the dashboard's cache), not as its message
        return (type(self), (self.file, self.reason, self.line))

    @property
    def located(self) -> str:
        """``file:line``, or the file alone when the line is not known."""
        return f"{self.file}:{self.line}" if self.line is not None else self.file
