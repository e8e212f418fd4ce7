"""The dashboard's entry point: the page list. kpi_app draws the frame around each page."""

from pathlib import Path

import streamlit as st

from kpi_app import shell
from kpi_app.links import PAGES

HERE = Path(__file__).parent

shell.configure()
pages = [
    st.Page(HERE / path, title=title, icon=icon, url_path=name, default=name == "overview")
    for name, (path, title, icon) in PAGES.items()
    if (HERE / path).exists()  # calibration.py comes from another change
]
shell.run(st.navigation(pages))
