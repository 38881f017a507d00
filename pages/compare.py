"""Compare: two to four models side by side, with deltas marked significant or not and a settings check."""

import streamlit as st

from lib.analysis.compare import MAX_MODELS
from lib.ui import compare as ui
from lib.ui.data import app_definition, app_index, data_status
from lib.ui.model import full_frame

definition = app_definition()
st.title("⚖️ Compare")
st.caption("Bars show normalized scores with 95% intervals; the first model is the reference for deltas.")
index = app_index(definition)
frame = full_frame(index, definition)
rows = ui.pick(frame)
if not 2 <= len(rows) <= MAX_MODELS:
    st.info(f"Pick 2 to {MAX_MODELS} models above, or select rows on the leaderboard and press Compare.")
    data_status(index)
    st.stop()

ui.charts(rows, definition)
ui.deltas(rows, definition, index)
ui.apples(rows, definition, index)
data_status(index)
