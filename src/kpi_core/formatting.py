"""Numbers for people: percent with one decimal, currency, hours; null as n/a; an
interval as a chart's error bars; tables as CSV with timestamps in UTC."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from kpi_core.catalog import KPIS, OTHER_UNITS, Unit

NOT_AVAILABLE = "n/a"

_FORMATS: dict[Unit, str] = {
    "rate": "{:.1%}",
    "count": "{:,.0f}",
    "currency": "{:,.2f}",
    "seconds": "{:,.0f} s",
    "hours": "{:,.1f} h",
    "coefficient": "{:.3f}",
}


def format_as(unit: Unit | None, value: float | None, *, days: bool = True) -> str:
    """``value`` in ``unit`` as people read it; ``n/a`` when it is not available.
    Long hours also read in days, unless ``days`` is False (a tile's few characters)."""
    if value is None or value != value:
        return NOT_AVAILABLE
    if unit == "hours" and days and abs(value) >= _DAYS_FROM_HOURS:
        # "2,679.6 h" is read faster as the 112 days it is
        return f"{_FORMATS['hours'].format(value)} ({value / 24:,.0f} d)"
    return _FORMATS[unit].format(value) if unit else str(value)


#: From how many hours an age or a duration also shows in days.
_DAYS_FROM_HOURS = 72


def count_of(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural but for one: "1 item", "1,204 items"."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def format_value(kpi: str, value: float | None) -> str:
    """``value`` of ``kpi`` as people read it; ``n/a`` when it is not available."""
    if kpi in KPIS:
        unit = KPIS[kpi].unit
    else:
        unit = OTHER_UNITS.get(kpi, "rate" if kpi.endswith("_rate") else "coefficient")
    return format_as(unit, value)


def as_csv(frame: pl.DataFrame) -> str:
    """``frame`` as CSV, raw numbers and nulls empty, timestamps written in ISO 8601
    with their zone (``2026-02-12T16:00:00Z``: every timestamp here is UTC), so a
    spreadsheet in another zone does not read them as its own time."""
    return frame.with_columns(
        pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
    ).write_csv()


def format_timestamp(moment: datetime | None) -> str | None:
    """A naive UTC moment as ISO 8601 with ``Z``: seconds, and the fraction only when
    there is one, so a printed as-of time read back (``--as-of``) is the same moment."""
    if moment is None:
        return None
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


STATUS_WORDS = {"ok": "✅ ok", "warn": "⚠️ warn", "breach": "⛔ breach", None: "— no target"}


def interval_error_bars(
    frame: pl.DataFrame, value: str, low: str | None = None, high: str | None = None
) -> dict:
    """Plotly ``error_y`` drawing each row's interval ``[low, high]`` (by default the
    ``<value>_ci_low`` and ``<value>_ci_high`` columns) around ``value``."""
    low, high = low or f"{value}_ci_low", high or f"{value}_ci_high"
    return dict(
        type="data",
        symmetric=False,
        array=(frame[high] - frame[value]).to_list(),
        arrayminus=(frame[value] - frame[low]).to_list(),
    )
