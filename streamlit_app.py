"""Entry point: page config, the sidebar submission form, navigation. Nothing else."""

import streamlit as st

from lib.ui.data import app_definition
from lib.ui.pages import navigation_pages
from lib.ui.submit import sidebar_form

st.set_page_config(page_title=app_definition().short_title, page_icon="🏆", layout="wide")
page = st.navigation(navigation_pages())
sidebar_form(app_definition())
page.run()
