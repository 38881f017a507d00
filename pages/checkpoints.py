"""Checkpoints: curves across trainings over steps or tokens, one panel per score, the best starred."""

from dataclasses import replace

import streamlit as st

from lib.analysis.checkpoint_groups import NO_GROUP, group_labels
from lib.analysis.checkpoints import AmbiguousMetricError, find_gaps, value_at_step
from lib.ui import checkpoints as ui
from lib.ui import state
from lib.ui.data import app_definition, app_index, data_status
from lib.ui.text import plain
from lib.views.checkpoint_panels import build_panel, panels_figure

definition = app_definition()
st.title("📈 Checkpoints")
st.caption("Curves across training runs: the best checkpoint of each training is starred (★).")
index = app_index(definition)
metrics, trainings = index.query("checkpoint_metrics"), index.query("checkpoint_trainings")
if metrics.empty:
    st.info("No evaluation of a checkpoint yet: no revision names a training step and no request gives one.")
    data_status(index)
    st.stop()

url = ui.settings(metrics, trainings, definition)
state.bind(url, "checkpoints")
view = ui.controls(metrics, trainings, url, definition)
visible = tuple(t for t in view.trainings if t not in view.hidden)
if not visible:
    st.info("Every chosen training is hidden: tick one under “Show or hide trainings”.")
    state.publish(url)
    st.stop()
scores = [(view.by, view.task, view.metric), *(ui.parse_score(k) for k in view.more)]
sources = []
for by, task, metric in dict.fromkeys(scores):  # a score chosen twice: one panel
    try:
        sources.append(
            ui.load_curves(
                index, definition, replace(view, by=by, task=task, metric=metric, trainings=visible)
            )
        )
    except AmbiguousMetricError as exc:
        st.error(plain(exc))
        if not sources:
            state.publish(url)
            st.stop()
sources = [s for s in sources if not s.frame.empty] or sources[:1]
if sources[0].frame.empty:
    st.warning(f"None of the shown trainings has a {plain(sources[0].label)} score on a checkpoint.")
    state.publish(url)
    st.stop()

x = view.x if view.x == "step" or any(s.frame["tokens"].notna().any() for s in sources) else "step"
if x != view.x:
    st.info("No checkpoint of this selection records its tokens: the x axis shows steps.")
groups = group_labels(trainings, view.group) if view.group != NO_GROUP else None
panels = [
    build_panel(s.frame, s.label, x, view.smooth, s.normalize_baseline, s.baseline_line, view.log_y, view.y_range, groups, view.band)
    for s in sources
]  # fmt: skip
figure = panels_figure([p.panel for p in panels], x, view.log_x)
st.plotly_chart(figure, key="checkpoint_curves", config={"toImageButtonOptions": {"format": "png"}})
ui.figure_notes(panels, sources, view, x)
ui.best_tables(panels, [s.label for s in sources])
main = panels[0]
st.download_button(
    "Download the curves (CSV)", main.panel.curves.to_csv(index=False), "checkpoints.csv", "text/csv"
)
for name, points in main.panel.curves.groupby("series"):
    found = find_gaps(list(points["step"]))
    if found:
        stretch = ", ".join(f"{a:,}–{b:,}" for a, b in found)
        st.caption(
            f"⚠️ {plain(name)}: no checkpoints between steps {stretch} (dotted on the chart, not interpolated)."
        )
if view.at_step is not None:
    unit = "tokens" if x == "tokens" else "step"
    st.subheader(f"Value at {unit} {view.at_step:,}")
    ui.at_step_table(value_at_step(main.frame, view.at_step, axis=x))
data_status(index)
state.publish(url)
