"""Queue: evaluation requests by status, with ages, senders, progress, failures and admin actions."""

import streamlit as st

from lib.ui import queue as ui
from lib.ui import state
from lib.ui.data import app_definition, app_index, data_status, live
from lib.ui.identity import current_identity
from lib.ui.submit import open_button
from lib.ui.text import plain
from lib.views.queue import filter_requests

definition = app_definition()
st.title("📋 Evaluation queue")
st.caption(
    "Every submitted model, from waiting to evaluated. Failed requests show the reason and the end of the log."
)
open_button("queue_submit")

state.bind([ui.MODEL_FILTER], "queue")
model = ui.model_filter()
index = app_index(definition)
requests = filter_requests(index.requests_list, model)
if model and not requests:
    st.info(f"No request matches “{plain(model)}”.")


def live_groups() -> bool:
    """The counts, the groups and the running jobs' progress, from the stores as they are now."""
    current = filter_requests(app_index(definition).requests_list, model)
    ui.summary(current)
    ui.groups(current)
    return ui.any_running(current)


live(live_groups, ui.any_running(requests))
ui.malformed(index.request_problems)
ui.admin_actions(definition, index, requests, current_identity(definition), model)
data_status(index)
state.publish([ui.MODEL_FILTER])
