"""Calibration decisions: what a meeting agreed, appended to the data directory.

A decision names an item, the meeting's ISO week and the agreed label. From its
``recorded_at`` on, the agreed label is the item's gold where ``items.gold_label``
is empty (``queries/models/annotation_facts.sql``), so a decision is checked before
it is written: the item must exist and the label must be one in use in the item's
domain (:func:`domain_labels`), or a typo would become gold. The table is appended
to, never rewritten: earlier decisions are never lost (:func:`record_decisions`).
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from kpi_core import queries
from kpi_core.calibration import parse_week
from kpi_core.files import csv_header, discover
from kpi_core.formatting import format_timestamp
from kpi_core.loading import open_dataset
from kpi_core.problems import DataError, Problem

DECISION_COLUMNS = ("decision_id", "week", "item_id", "agreed_label", "note", "recorded_at")
_LOCK_NAME = ".calibration_decisions.lock"


def _utc(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.strip())
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _decision_rows(
    rows: Iterable[Mapping[str, object]] | pl.DataFrame, now: datetime
) -> list[dict[str, object]]:
    """The rows to append, checked and completed (id, recorded_at as aware UTC)."""
    records = rows.to_dicts() if isinstance(rows, pl.DataFrame) else [dict(r) for r in rows]
    problems: list[Problem] = []
    out = []
    for number, row in enumerate(records, start=1):
        where = "calibration decision"
        for column in ("week", "item_id", "agreed_label"):
            if row.get(column) is None or not str(row[column]).strip():
                problems.append(
                    Problem(file=where, row=number, column=column, reason="required value is empty")
                )
        week = str(row.get("week") or "").strip()
        if week:
            try:
                parse_week(week, what=where)
            except DataError as error:
                problems += [replace(p, row=number, column="week") for p in error.problems]
        try:
            recorded = _utc(row.get("recorded_at") or now)
        except (TypeError, ValueError):
            problems.append(
                Problem(
                    file=where,
                    row=number,
                    column="recorded_at",
                    reason=f"not an ISO 8601 timestamp: {row['recorded_at']!r}",
                )
            )
            continue
        note = row.get("note")
        out.append(
            {
                "decision_id": str(
                    row.get("decision_id") or f"dec-{recorded:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
                ),
                "week": week,
                "item_id": str(row.get("item_id") or "").strip(),
                "agreed_label": str(row.get("agreed_label") or "").strip(),
                "note": None if note is None or not str(note).strip() else str(note),
                "recorded_at": recorded,
            }
        )
    if problems:
        raise DataError(problems)
    return out


def domain_labels(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The labels in use per domain (``queries/domain_labels.sql``): those of its
    annotations and of its ``fix`` reviews' corrections, most used first."""
    frame = queries.run(con, "domain_labels").sort(["n_uses", "label"], descending=[True, False])
    return dict(frame.group_by("domain", maintain_order=True).agg("label").rows())


#: Labels named in full when a decision's label is refused; more are counted.
_LABELS_LISTED = 12


def _check_rows(data_dir: Path, rows: list[dict[str, object]]) -> None:
    """Each decision's item must be in ``items`` and its agreed label one in use in
    the item's domain: a typo would otherwise become the item's gold label."""
    dataset = open_dataset(data_dir)
    try:
        wanted = sorted({str(r["item_id"]) for r in rows})
        domain_of = dict(queries.run(dataset.con, "item_domains", item_ids=wanted).rows())
        labels_of = domain_labels(dataset.con)
    finally:
        dataset.con.close()
    problems = []
    for n, row in enumerate(rows, start=1):
        item, label = row["item_id"], row["agreed_label"]
        if item not in domain_of:
            reason = f"item {item!r} is not in items"
            problems.append(Problem("calibration decision", n, "item_id", reason))
            continue
        domain = domain_of[item]
        labels = sorted(labels_of.get(domain, []))
        if label not in labels:
            listed = ", ".join(labels[:_LABELS_LISTED]) + (
                f" and {len(labels) - _LABELS_LISTED} more" if len(labels) > _LABELS_LISTED else ""
            )
            reason = f"{label!r} is not a label in use in {domain} ({listed or 'none yet'})"
            problems.append(Problem("calibration decision", n, "agreed_label", reason))
    if problems:
        raise DataError(problems)


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a hidden temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _append_text(path: Path, lines: str) -> None:
    existing = path.read_bytes()
    if existing.strip() and not existing.endswith((b"\n", b"\r")):
        existing += b"\n"
    _atomic_write(path, existing + lines.encode("utf-8"))


def _csv_lines(path: Path, rows: list[dict[str, object]]) -> str:
    header = csv_header(path)
    missing = [
        c
        for c in ("decision_id", "week", "item_id", "agreed_label", "recorded_at")
        if c not in header
    ]
    if missing:
        raise DataError(
            [
                Problem(
                    file=str(path),
                    column=", ".join(missing),
                    reason="required column missing from the header",
                )
            ]
        )
    newline = "\r\n" if b"\r\n" in path.read_bytes()[:65536] else "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    for row in rows:
        writer.writerow([_text(row.get(c)) for c in header])
    return buffer.getvalue()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_timestamp(value)
    return str(value)


def _jsonl_lines(rows: list[dict[str, object]]) -> str:
    return "".join(
        json.dumps(
            {k: (_text(v) if isinstance(v, datetime) else v) for k, v in row.items()},
            ensure_ascii=False,
        )
        + "\n"
        for row in rows
    )


def _parquet_frame(rows: list[dict[str, object]], schema: pl.Schema | None) -> pl.DataFrame:
    """The new rows, typed like the existing Parquet data when there is some."""
    frame = pl.DataFrame(
        [{**r, "recorded_at": r["recorded_at"]} for r in rows],
        schema={c: pl.String for c in DECISION_COLUMNS[:-1]}
        | {"recorded_at": pl.Datetime("us", "UTC")},
    )
    if schema is None:
        return frame
    casts = []
    for name, dtype in schema.items():
        if name not in frame.columns:
            casts.append(pl.lit(None, dtype).alias(name))
        elif name == "recorded_at" and dtype == pl.String:
            casts.append(pl.col(name).dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ"))
        elif name == "recorded_at" and isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
            casts.append(pl.col(name).dt.replace_time_zone(None).cast(dtype))
        else:
            casts.append(pl.col(name).cast(dtype))
    return frame.select(casts)


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    _atomic_write(path, buffer.getvalue())


def _part_name(now: datetime) -> str:
    return f"part-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.parquet"


def record_decisions(
    data_dir: Path | str,
    rows: Iterable[Mapping[str, object]] | pl.DataFrame,
    *,
    now: datetime | None = None,
    check: bool = True,
) -> pl.DataFrame:
    """Append calibration decisions to ``data_dir``'s ``calibration_decisions`` table.

    Each row needs ``week`` (``YYYY-Www``), ``item_id`` and ``agreed_label``; ``note`` is
    optional, ``recorded_at`` defaults to ``now`` (the current time, to the second) and
    ``decision_id`` to a fresh unique id. Earlier rows are never rewritten or lost:

    - a CSV or JSONL file gets the new lines appended to its bytes, written to a
      hidden temporary file and renamed over the old one (atomic: a reader sees the
      old or the new file, never half of one);
    - a Parquet file is replaced, the same way, by the union of its rows and the new ones;
    - a Parquet folder gets one new part file (earlier parts are not touched);
    - with no table yet, one is created in the format of ``items``: a ``.csv`` or
      ``.jsonl`` file, or, for Parquet, a ``calibration_decisions/`` folder of parts.

    Writers of one directory are serialised by a lock file (``.calibration_decisions.lock``).
    Raises :class:`DataError` (one line per problem) for an empty required value, a
    malformed week, an item that is not in ``items`` or an agreed label not in use in
    the item's domain (:func:`domain_labels`); nothing is written then. ``check=False``
    skips the last two, which read the data.

    Returns the rows written, with ``decision_id`` and ``recorded_at`` (UTC).
    """
    data_dir = Path(data_dir)
    now = _utc(now or datetime.now(UTC).replace(microsecond=0))
    new = _decision_rows(rows, now)
    if not new:
        return _parquet_frame([], None)
    if check:
        _check_rows(data_dir, new)
    with (data_dir / _LOCK_NAME).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        sources = discover(data_dir)
        source = sources.get("calibration_decisions")
        if source is None:
            fmt = sources["items"].format
            if fmt == "csv":
                path = data_dir / "calibration_decisions.csv"
                _atomic_write(path, (",".join(DECISION_COLUMNS) + "\n").encode())
                _append_text(path, _csv_lines(path, new))
            elif fmt == "jsonl":
                _atomic_write(data_dir / "calibration_decisions.jsonl", _jsonl_lines(new).encode())
            else:
                folder = data_dir / "calibration_decisions"
                folder.mkdir(exist_ok=True)
                _write_parquet(_parquet_frame(new, None), folder / _part_name(now))
        elif source.format == "csv":
            _append_text(source.path, _csv_lines(source.path, new))
        elif source.format == "jsonl":
            _append_text(source.path, _jsonl_lines(new))
        elif source.format == "parquet":
            old = pl.read_parquet(source.path)
            _write_parquet(
                pl.concat([old, _parquet_frame(new, old.schema)], how="vertical"), source.path
            )
        else:  # a Parquet folder: one new part (per hive partition), earlier parts untouched
            parts = sorted(source.path.rglob("*.parquet"))
            schema = pl.read_parquet_schema(parts[0]) if parts else None
            keys = [
                p.split("=", 1)[0]
                for p in (parts[0].relative_to(source.path).parent.parts if parts else ())
                if "=" in p
            ]
            groups: dict[Path, list[dict[str, object]]] = {}
            for row in new:
                folder = source.path.joinpath(*(f"{k}={_text(row.get(k))}" for k in keys))
                groups.setdefault(folder, []).append(row)
            for folder, part in groups.items():
                folder.mkdir(parents=True, exist_ok=True)
                _write_parquet(_parquet_frame(part, schema), folder / _part_name(now))
    return _parquet_frame(new, None)
