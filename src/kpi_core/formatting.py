"""Numbers for people: percent with one decimal, currency, hours; null as n/a."""

from __future__ import annotations

from kpi_core.catalog import KPIS, Unit

NOT_AVAILABLE = "n/a"

_FORMATS: dict[Unit, str] = {
    "rate": "{:.1%}",
    "count": "{:,.0f}",
    "currency": "{:,.2f}",
    "seconds": "{:,.0f} s",
    "hours": "{:,.1f} h",
    "coefficient": "{:.3f}",
}


def format_as(unit: Unit | None, value: float | None) -> str:
    """``value`` in ``unit`` as people read it; ``n/a`` when it is not available."""
    if value is None or value != value:
        return NOT_AVAILABLE
    return _FORMATS[unit].format(value) if unit else str(value)


def format_value(kpi: str, value: float | None) -> str:
    """``value`` of ``kpi`` as people read it; ``n/a`` when it is not available."""
    unit = KPIS[kpi].unit if kpi in KPIS else ("rate" if kpi.endswith("_rate") else "coefficient")
    return format_as(unit, value)


STATUS_WORDS = {"ok": "✅ ok", "warn": "⚠️ warn", "breach": "⛔ breach", None: "— no target"}
