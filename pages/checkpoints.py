"""Checkpoints: one curve per training over steps or tokens, the best checkpoint starred, best vs final."""

import streamlit as st

from lib.checkpoint_charts import checkpoints_figure, curve_frame
from lib.checkpoints import AmbiguousMetricError, best_checkpoints, find_gaps, load_series, value_at_step
from lib.ui import checkpoints as ui
from lib.ui import state
from lib.ui.data import app_definition, app_index, data_status

definition = app_definition()
st.title("📈 Checkpoints")
st.caption("Curves across training runs: the best checkpoint of each training is starred (★).")
index = app_index(definition)
metrics, trainings = index.query("checkpoint_metrics"), index.query("checkpoint_trainings")
if metrics.empty:
    st.info("No evaluation of a checkpoint yet: no revision names a training step and no request gives one.")
    data_status(index)
    st.stop()

url = ui.settings(metrics, trainings)
state.bind(url, "checkpoints")
view = ui.controls(metrics, trainings, url)
try:
    frame = load_series(index, view.task, view.metric, view.trainings)
except AmbiguousMetricError as exc:
    st.error(str(exc))
    st.stop()
if frame.empty:
    st.warning(f"None of the selected trainings was evaluated on {view.task} {view.metric}.")
    st.stop()

table = best_checkpoints(frame, smooth=view.smooth)
lower = not bool(table["higher_is_better"].iloc[0])
baseline = ui.baseline_for(definition, view.task, view.metric)
normalized = view.normalized and baseline is not None and not lower
if view.normalized and not normalized:
    st.info("Normalized values need a random baseline from the definition and a higher-is-better metric.")
x = view.x if view.x == "step" or frame["tokens"].notna().any() else "step"
if x != view.x:
    st.info("No checkpoint of this selection records its tokens: the x axis shows steps.")
curves = curve_frame(frame, view.smooth, baseline if normalized else None)
figure = checkpoints_figure(
    curves,
    table,
    x,
    view.log_x,
    (0.0 if normalized else baseline),
    f"{view.metric} ({'normalized' if normalized else 'raw'})",
)
st.plotly_chart(figure, key="checkpoint_curves", config={"toImageButtonOptions": {"format": "png"}})
st.caption(f"Best = {'; '.join(sorted(set(table['rule'])))}; a tie goes to the earliest checkpoint.")
ui.best_table(table)
st.download_button("Download the curves (CSV)", curves.to_csv(index=False), "checkpoints.csv", "text/csv")

gaps = {name: find_gaps(list(points["step"])) for name, points in curves.groupby("series")}
for name, found in gaps.items():
    if found:
        stretch = ", ".join(f"{a:,}–{b:,}" for a, b in found)
        st.caption(f"⚠️ {name}: no checkpoints between steps {stretch} (the line breaks there).")
if view.at_step is not None:
    st.subheader(f"Value at step {view.at_step:,}")
    st.dataframe(value_at_step(frame, view.at_step), hide_index=True, width="stretch", key="value_at_step")
data_status(index)
state.publish(url)
