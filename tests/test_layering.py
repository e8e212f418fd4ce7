"""The layering the project promises: kpi_core never imports Streamlit, and the
pages in app/ hold no SQL and import no database."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_kpi_core_imports_without_streamlit():
    modules = sorted(
        p.stem for p in (ROOT / "src" / "kpi_core").glob("*.py") if p.stem != "__main__"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module('kpi_core.' + m)\n"
        "assert 'streamlit' not in sys.modules, 'kpi_core imported streamlit'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pages_hold_no_sql_and_no_database():
    sql = re.compile(r"\b(select|insert|create)\b.+\b(from|into|table|view)\b", re.IGNORECASE)
    for page in sorted((ROOT / "app").rglob("*.py")):
        text = page.read_text(encoding="utf-8")
        assert "import duckdb" not in text, page
        for line in text.splitlines():
            assert not sql.search(line) or line.lstrip().startswith("#"), (page, line)
