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
# The root URL shows the Overview as a hidden page of its own, so that /overview is a page
# too: were the Overview the default page, it would live at "/" alone, and a typed or
# bookmarked /overview would open under Streamlit's "Page not found" dialog.
overview, title, icon = PAGES["overview"]
root = st.Page(HERE / overview, title=title, url_path="home", default=True, visibility="hidden")
shell.run(st.navigation([root, *pages.values()]))
