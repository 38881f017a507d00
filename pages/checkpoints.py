"""Checkpoints: one curve per training over steps or tokens, the best checkpoint starred, best vs final."""

import streamlit as st

from lib.analysis.checkpoints import AmbiguousMetricError, best_checkpoints, find_gaps, value_at_step
from lib.ui import checkpoints as ui
from lib.ui import state
from lib.ui.data import app_definition, app_index, data_status
from lib.ui.text import plain
from lib.views.checkpoint_charts import checkpoints_figure, curve_frame, robust_y_range, suggest_log_y

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
try:
    source = ui.load_curves(index, definition, view)
except AmbiguousMetricError as exc:
    st.error(plain(exc))
    st.stop()
frame = source.frame
if frame.empty:
    st.warning(f"None of the selected trainings has a {plain(source.label)} score on a checkpoint.")
    state.publish(url)
    st.stop()

x = view.x if view.x == "step" or frame["tokens"].notna().any() else "step"
if x != view.x:
    st.info("No checkpoint of this selection records its tokens: the x axis shows steps.")
untimed = sorted(set(frame.loc[frame["tokens"].isna(), "training"])) if x == "tokens" else []
if untimed:  # trainings aligned on tokens: checkpoints without a token count cannot be placed
    frame = frame[frame["tokens"].notna()]
table = best_checkpoints(frame, smooth=view.smooth)
curves = curve_frame(frame, view.smooth, source.normalize_baseline)
auto_log = suggest_log_y(curves["shown"], bool(table["higher_is_better"].iloc[0]))
log_y = view.log_y == "on" or (view.log_y == "auto" and auto_log)
y_range, outside, extreme = (
    robust_y_range(curves["shown"], log_y) if view.y_range == "robust" else (None, 0, 0)
)
figure = checkpoints_figure(curves, table, x, view.log_x, source.baseline_line, source.label, log_y, y_range)
st.plotly_chart(figure, key="checkpoint_curves", config={"toImageButtonOptions": {"format": "png"}})
st.caption(f"★ Best = {'; '.join(sorted(set(table['rule'])))}; a tie goes to the earliest checkpoint.")
for note in source.notes:
    st.caption(plain(note))
if outside:
    st.caption(
        f"Y axis: {outside} outlying point(s) left off (the farthest: {extreme:,.4g}); choose Y range "
        "“full” to see every point."
    )
if untimed:
    st.caption(f"Not on the tokens axis (no token count recorded): {plain(', '.join(untimed))}.")
ui.best_table(table)
st.download_button("Download the curves (CSV)", curves.to_csv(index=False), "checkpoints.csv", "text/csv")

gaps = {name: find_gaps(list(points["step"])) for name, points in curves.groupby("series")}
for name, found in gaps.items():
    if found:
        stretch = ", ".join(f"{a:,}–{b:,}" for a, b in found)
        st.caption(
            f"⚠️ {plain(name)}: no checkpoints between steps {stretch} (dotted on the chart, not interpolated)."
        )
if view.at_step is not None:
    st.subheader(f"Value at step {view.at_step:,}")
    ui.at_step_table(value_at_step(frame, view.at_step))
data_status(index)
state.publish(url)
