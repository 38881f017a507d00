"""Entry point: page config, the sidebar submission form, navigation. Nothing else."""

import streamlit as st

from lib.ui.data import app_definition
from lib.ui.pages import run_app
from lib.ui.submit import sidebar_form

run_app(
    page_config=lambda: st.set_page_config(
        page_title=app_definition().short_title, page_icon="🏆", layout="wide"
    ),
    sidebar=lambda: sidebar_form(app_definition()),
)
