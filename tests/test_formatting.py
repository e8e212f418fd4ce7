"""Numbers and tables for people (kpi_core.formatting)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from kpi_core.formatting import as_csv, count_of


def test_a_csv_writes_timestamps_with_their_utc_zone_and_nulls_empty():
    frame = pl.DataFrame(
        {
            "item_id": ["i1", "i2"],
            "recorded_at": [datetime(2026, 2, 12, 16, 0), None],
            "week_start": [date(2026, 2, 9), date(2026, 2, 16)],
            "share": [0.5, None],
        }
    )
    assert as_csv(frame).splitlines() == [
        "item_id,recorded_at,week_start,share",
        "i1,2026-02-12T16:00:00Z,2026-02-09,0.5",
        "i2,,2026-02-16,",
    ]


def test_long_hours_also_read_in_days():
    from kpi_core.formatting import format_as

    assert format_as("hours", 71.9) == "71.9 h"
    assert format_as("hours", 2679.6) == "2,679.6 h (112 d)"
    assert format_as("hours", None) == "n/a"


def test_a_count_of_one_is_singular():
    assert [count_of(n, "item") for n in (0, 1, 2, 1204)] == [
        "0 items",
        "1 item",
        "2 items",
        "1,204 items",
    ]
