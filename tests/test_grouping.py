"""kpi_core.grouping: ISO week labels, both ways."""

from __future__ import annotations

from datetime import date

import pytest

from kpi_core.grouping import iso_week_label, iso_week_start


@pytest.mark.parametrize(
    ("day", "label", "monday"),
    [
        (date(2026, 1, 14), "2026-W03", date(2026, 1, 12)),
        (date(2026, 1, 1), "2026-W01", date(2025, 12, 29)),  # ISO 2026 starts in 2025
        (date(2027, 1, 1), "2026-W53", date(2026, 12, 28)),  # 2026 has 53 ISO weeks
    ],
)
def test_a_week_label_and_its_monday(day, label, monday):
    assert iso_week_label(day) == label
    assert iso_week_start(label) == monday
