"""Model: every evaluation of one model, scores with intervals and ranks, provenance, requests, samples."""

import streamlit as st

from lib.analysis.compare import triple_key
from lib.ui import model as ui
from lib.ui import state
from lib.ui.data import app_definition, app_index, data_status, live
from lib.ui.identity import current_identity
from lib.ui.pages import page
from lib.ui.queue import flag_form

definition = app_definition()
st.title("🔎 Model")
index = app_index(definition)
frame = ui.full_frame(index, definition)
url = ui.settings()
arriving = st.session_state.get("_url_page") != "model"
state.bind(url, "model")
row = ui.pick(frame, url, arriving)
if row is None:
    st.info("Choose a model above." if len(frame) else "No model is in the index yet.")
    data_status(index)
    st.stop()

st.page_link(page("compare"), label="Compare with other models", icon="⚖️",
             query_params={"m": triple_key(row)})  # fmt: skip
ui.overview(row)
ui.scores(row, frame, definition, index)
ui.provenance(row, index, definition)
live(lambda: ui.history(app_index(definition), str(row["model"])), ui.has_running(index, str(row["model"])))
ui.samples_browser(index, row)
identity = current_identity(definition)
if identity.is_admin:
    with st.expander("Admin: flag or unflag this model"):  # starts on this page's model
        flag_form(definition, index, index.requests_list, identity, str(row["model"]))
data_status(index)
state.publish(url)
