"""The dashboard's entry point: the page list. kpi_app draws the frame around each page."""

from pathlib import Path

import streamlit as st

from kpi_app import shell
from kpi_app.links import PAGES

HERE = Path(__file__).parent

shell.configure()
pages = {
    name: st.Page(HERE / path, title=title, icon=icon, url_path=name)
    for name, (path, title, icon) in PAGES.items()
    if (HERE / path).exists()  # calibration.py comes from another change
}
# The root URL only forwards to /overview, with its query. Were the Overview the default
# page, it would live at "/" alone, and a typed or bookmarked /overview would open under
# Streamlit's "Page not found" dialog.
root = st.Page(shell.forward, title="Overview", url_path="home", default=True, visibility="hidden")
page = st.navigation([root, *pages.values()])
if page is root:
    st.switch_page(pages["overview"], query_params=shell.url_query())
shell.run(page)
