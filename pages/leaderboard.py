"""Leaderboard: ranked models with raw or normalized scores, filters, search and downloads."""

import streamlit as st

from lib.analysis.ranking import RankingError
from lib.ui import charts as charts_ui
from lib.ui import leaderboard as ui
from lib.ui import state
from lib.ui.data import app_definition, app_index, data_status, full_run, mark_full_run, progress_done
from lib.ui.identity import current_identity
from lib.ui.queue import flag_form
from lib.ui.text import plain

definition = app_definition()
st.title(f"🏆 {definition.title}")
if definition.introduction:
    st.caption(definition.introduction)

url = ui.settings(definition)
columns, chart = url[-1], charts_ui.setting()
url.append(chart)
mark_full_run()


@st.fragment
def leaderboard() -> None:
    """Controls, table, charts and downloads: a control, a row selection or "Show more" reruns this part
    alone (the title, the sidebar form and the data status are not drawn again)."""
    state.bind(url, "leaderboard")
    view = ui.controls(definition, url)
    ui.column_picker(columns)
    index = app_index(definition, hold_progress=True, check=full_run())  # a control's click lists nothing
    try:
        weights = tuple(sorted(view.weights.items())) if view.weights else None
        base = ui.cached_frame(
            index, index.generation, str(definition.path), view.benchmarks, weights, view.include_partial
        )
        table = ui.ranked_view(index, definition, view, base)
    except RankingError as exc:
        progress_done()
        st.error(f"{plain(exc)}. Change the selection above.")
        state.publish(url)  # the URL matches the screen, also after an error
        return
    if not table.rows and table.total_rows:
        ui.empty_state(view, base, url)
    for notice in table.notices:
        st.info(plain(notice), icon="ℹ️")
    ordered = f" · ordered by {plain(table.order_label)}" if table.order_label else ""
    st.caption(
        f"{table.rows:,} of {table.total_rows:,} rows · ranked by {plain(table.rank_label)} "
        f"({'raw' if view.raw else 'normalized'} scores){ordered} · intervals are 95% from lm-eval's "
        "standard errors"
    )
    every_row = ui.table(table, view.raw, url, ui.view_key(index, view))
    progress_done()  # the loading bar stays until the table is drawn
    charts_ui.section(table, view, chart)
    ui.downloads(every_row)
    identity = current_identity(definition)
    if identity.is_admin:  # in the fragment: a row selection reruns it, and the form follows the row
        with st.expander("Admin: flag or unflag a model"):  # starts on the selected row's model
            flag_form(definition, index, index.requests_list, identity, ui.selected_model(table))
    state.publish(url)


leaderboard()
index = app_index(definition, check=False)  # the table's fragment checks the stores
data_status(index)
