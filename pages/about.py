"""About: the definition's texts, how scores are normalized and how both ranks are computed."""

import streamlit as st

from lib.ui.data import app_definition
from lib.ui.tables import show_table
from lib.views.about import baselines_frame, ranking_explanation

definition = app_definition()
st.title(f"About {definition.short_title}")
if definition.introduction:
    st.markdown(definition.introduction)
st.header("How benchmarks are run")
st.markdown(definition.how_benchmarks_run or "The definition file does not say.")
st.header("Normalization and baselines")
st.markdown(
    "Each raw score is rescaled so that random guessing scores 0 and a perfect score 100: "
    "`normalized = max(0, raw - baseline) / (1 - baseline) x 100`. A benchmark made of subtasks is the mean "
    "of its normalized subtasks; the average is the mean of the normalized benchmarks."
)
show_table(baselines_frame(definition), hide_index=True, width="stretch")
st.header("Ranks and intervals")
st.markdown(ranking_explanation())
if definition.citation:
    st.header("Citation")
    st.code(definition.citation, language="bibtex")
