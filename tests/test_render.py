"""Markdown and HTML reports: the same parts in both, targets beside values, n/a where
a value is missing, and TINY's hand-checked backlog, defects and model lift."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from datasets import TINY, write_dataset
from kpi_core.cli import main


def rendered(data: Path, fmt: str, *args: str) -> str:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert main(["report", str(data), "--format", fmt, "--quiet", *args]) == 0
    return buffer.getvalue()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return write_dataset(tmp_path_factory.mktemp("tiny"), TINY)


@pytest.fixture(scope="module")
def markdown(tiny_dir):
    return rendered(tiny_dir, "markdown")


@pytest.fixture(scope="module")
def page(tiny_dir):
    return rendered(tiny_dir, "html")


def rows_of(markdown: str) -> dict[str, str]:
    return {line.split(" | ")[0].lstrip("| "): line for line in markdown.splitlines()}


def test_markdown_and_html_have_the_same_parts(markdown, page):
    titles = re.findall(r"^## (.+)$", markdown, flags=re.M)
    assert titles[1:] == re.findall(r"<h2>(.+?)</h2>", page.replace("<h2>Trends</h2>", ""))
    assert {"Review backlog", "Data-defect turnaround", "Model lift", "By ISO week"} <= set(titles)


def test_headline_values_carry_their_target(markdown, page):
    # TINY's accepted-label error rate is 66.7% against the project's 5%
    assert "| Accepted-label error rate | 66.7% |" in markdown
    assert "| ≤ 5.0% | ⛔ breach |" in rows_of(markdown)["Accepted-label error rate"]
    assert "target ≥ 0.667" in page  # alpha's tile


def test_a_missing_value_is_not_available_not_untargeted(tmp_path):
    data = write_dataset(tmp_path / "no_reviews", TINY, drop=("reviews",))
    row = rows_of(rendered(data, "markdown"))["Accepted-label error rate"]
    assert row.startswith("| Accepted-label error rate | n/a |  | ≤ 5.0% | n/a |"), row


def test_backlog_defects_and_model_lift_by_hand(markdown):
    # as of 2026-01-14T11:00Z; d1 took 6 h and d2 10 h (sev1 median 8 h, within 72 h);
    # d3 (sev2) has been open since 2026-01-10T11:00Z: 96 h
    assert "| sev1 | 8.0 h | ✅ ok | 2 | 0 | n/a |" in markdown
    assert "| sev2 | n/a | n/a | 0 | 1 | 96.0 h (4 d) |" in markdown
    assert "| stem | mmlu | v1 → v2 | 0.650 | +0.050 |" in markdown
    assert "## Review backlog" in markdown and "| over 7 days |" in markdown
    # a4 has waited since 2026-01-06T10:00Z: 193 h, in days once only
    assert (
        "annotations wait for review at the as-of time; the oldest has waited 193.0 h (8 d).\n"
        in markdown
    )


def test_promoted_slices_show_their_weekly_evidence_in_both(markdown, page):
    assert "Each week: its rate, of how many." in markdown
    assert "Each week: its rate, of how many." in page


def test_a_pipe_in_a_value_stays_in_its_cell(tmp_path):
    tables = {**TINY, "items": TINY["items"].replace("stem", "st|em")}
    tables["targets"] = TINY["targets"].replace("stem", "st|em")
    markdown = rendered(write_dataset(tmp_path / "pipe", tables), "markdown")
    assert "| st\\|em |" in markdown
    assert "st|em" not in markdown.replace("st\\|em", "")
    # every row of every table has as many cells as its header
    tables_text = re.findall(r"(?:^\|.*\n)+", markdown, flags=re.M)
    for table in tables_text:
        cells = {len(re.split(r"(?<!\\)\|", line)) for line in table.splitlines()}
        assert len(cells) == 1, table


def test_a_value_that_looks_like_html_is_shown_as_written_in_markdown(tmp_path):
    # A domain "<b>stem</b>" rendered bold in a markdown viewer; it is text, escaped.
    tables = {**TINY, "items": TINY["items"].replace("stem", "<b>stem</b>")}
    tables["targets"] = TINY["targets"].replace("stem", "<b>stem</b>")
    markdown = rendered(write_dataset(tmp_path / "html", tables), "markdown")
    assert "| \\<b>stem\\</b> |" in markdown
    assert "| <b>" not in markdown
