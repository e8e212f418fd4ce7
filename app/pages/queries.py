"""Queries: every SQL file in queries/ with its header, its SQL and its result on the
current data. An edited file is picked up on the next rerun; a broken one shows its
file, line and DuckDB's message."""

from pathlib import Path

import streamlit as st

from kpi_app import data, shell, widgets
from kpi_core import queries

ctx = shell.context()
ctx.header(
    "Queries",
    "The SQL behind every number, run on the current data",
    view="Showing all data (the sidebar's filters do not apply)",
)
root = Path(queries.QUERIES_DIR)
paths = queries.query_paths()
results = {path: data.query_result(ctx.source, str(path), data.file_stamp(path)) for path in paths}
failures = [failure for _, _, failure in results.values() if failure is not None]
not_run = [f for f in failures if f.not_run]
# Failing files first, each opened.
results = dict(sorted(results.items(), key=lambda item: item[1][2] is None))
missing = queries.missing_files()
badges = [f":red-badge[:material/error: {len(missing)} missing]"] if missing else []
if len(failures) > len(not_run):
    badges.append(f":red-badge[:material/error: {len(failures) - len(not_run)} failing]")
if not_run:
    badges.append(f":orange-badge[:material/block: {len(not_run)} not run]")
st.markdown(
    f"**{len(paths)} query files** in `{widgets.relative(str(root))}` · "
    + (" ".join(badges) or ":green-badge[:material/check_circle: all run]")
)
for path in missing:
    st.error(f"**`{widgets.relative(str(path))}`** is {queries.MISSING}", icon=":material/error:")
st.caption(
    "Results use the data's as-of time for `as_of` and NULL (no filter) for any other "
    "parameter; the sidebar filters do not apply here. Up to 500 rows are shown; the CSV "
    "holds the same rows."
)

for path, (frame, n_rows, failure) in results.items():
    name = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
    skipped = failure is not None and failure.not_run
    icon = (
        ":material/block:"
        if skipped
        else ":material/error:"
        if failure
        else ":material/check_circle:"
    )
    outcome = (
        "not run"
        if skipped
        else "failed"
        if failure
        else f"{n_rows:,} row{'s' if n_rows != 1 else ''}"
    )
    with st.expander(f"{name} — {outcome}", expanded=failure is not None, icon=icon):
        if skipped:
            st.warning(failure.reason, icon=":material/block:")
        elif failure is not None:
            where = widgets.relative(failure.file) + (
                f":{failure.line}" if failure.line is not None else ""
            )
            st.error(f"**`{where}`** failed: {failure.reason}", icon=":material/error:")
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            parsed = queries.parse_file(path)
        except queries.QueryError:
            parsed = None
        if parsed is not None:
            st.markdown(f"**{parsed.purpose or parsed.name}**")
            facts = []
            if parsed.parameters:
                facts.append("Parameters: " + ", ".join(f"`{p}`" for p in parsed.parameters))
            if parsed.outputs:
                facts.append("Output: " + ", ".join(f"`{c}` {t}" for c, t in parsed.outputs))
            if facts:
                st.caption("  \n".join(facts))
        st.code(text, language="sql", line_numbers=True)
        if frame is not None:
            shown = (
                f"first {frame.height:,} of {n_rows:,}" if n_rows > frame.height else f"{n_rows:,}"
            )
            st.caption(f"Result: {shown} rows")
            st.dataframe(frame, hide_index=True, height=260, width="stretch")
            widgets.download(frame, f"query {name}")
