"""Widgets of the Checkpoints page: URL-backed controls, the curves, the best-versus-final table.

Logic lives in ``lib.analysis.checkpoints`` (best checkpoint, smoothing, gaps, value at step) and figures in
``lib.views.checkpoint_charts``; this module only reads widgets and draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from lib.analysis.checkpoint_scores import AVERAGE, benchmark_frame, score_choice
from lib.analysis.checkpoints import format_tokens, load_series
from lib.analysis.ranking import leaderboard_frame
from lib.core.config import Definition
from lib.core.records import default_higher_is_better
from lib.index import Index
from lib.ui.state import Setting
from lib.ui.tables import show_table
from lib.views.checkpoint_charts import best_vs_final

MAX_SMOOTH = 25
MAX_STEP = 10**15  # below 2**53: the browser's number input holds it exactly
DEFAULT_TRAININGS = 8
BY_TASK = "task"  # the 'Score' choice that shows one task and metric instead of a benchmark
DEFAULT_TASK = "lambada_openai"


@dataclass(frozen=True)
class CheckpointView:
    """What the controls ask for: ``by`` is 'task', 'average' or a benchmark id."""

    by: str
    task: str
    metric: str
    trainings: tuple[str, ...]
    x: str
    log_x: bool
    smooth: int
    normalized: bool
    at_step: int | None
    log_y: str = "auto"  # 'auto' (log when values span two orders of magnitude), 'on' or 'off'
    y_range: str = "robust"  # 'robust' (outliers outside the axis, said under the chart) or 'full'


@dataclass(frozen=True)
class Curves:
    """The long frame to plot and how to label it.

    ``normalize_baseline``: the raw baseline ``curve_frame`` normalizes with (None: draw values as they
    are); ``baseline_line``: where the dashed random-baseline line goes on the shown scale.
    """

    frame: pd.DataFrame
    label: str
    normalize_baseline: float | None
    baseline_line: float | None
    notes: tuple[str, ...]


def settings(metrics: pd.DataFrame, trainings: pd.DataFrame, definition: Definition) -> list[Setting]:
    """Every control with its URL key and default.

    Opens on lambada_openai (a curve every pretraining run reports) when checkpoints were evaluated on
    it, else on the leaderboard average, else on the first task; the metric defaults to the task's first.
    """
    tasks = tuple(sorted(metrics["task"].unique()))
    bench_tasks = {c.task for b in definition.benchmarks for c in b.components}
    default_by = AVERAGE if DEFAULT_TASK not in tasks and bench_tasks & set(tasks) else BY_TASK
    default_task = DEFAULT_TASK if DEFAULT_TASK in tasks else tasks[0]
    return [
        Setting("by", "str", default_by, (BY_TASK, AVERAGE, *(b.id for b in definition.benchmarks))),
        Setting("task", "str", default_task, tasks),
        Setting("metric", "str", ""),
        Setting("train", "list", [], tuple(trainings["training"])),
        Setting("x", "str", "step", ("step", "tokens")),
        Setting("logx", "bool", False),
        Setting("smooth", "int", 0, minimum=0, maximum=MAX_SMOOTH),
        Setting("view", "str", "raw", ("raw", "normalized")),
        Setting("at", "int", -1, minimum=-1, maximum=MAX_STEP),
        Setting("logy", "str", "auto", ("auto", "on", "off")),
        Setting("yr", "str", "robust", ("robust", "full")),
    ]


def metric_options(metrics: pd.DataFrame, task: str) -> list[str]:
    """'metric,filter' choices of a task, the 'none' filter written as the bare metric name."""
    rows = metrics[metrics["task"] == task]
    return [
        m if f in ("none", "", None) else f"{m},{f}"
        for m, f in zip(rows["metric"], rows["filter"], strict=True)
    ]


def _by_label(definition: Definition) -> dict[str, str]:
    labels = {BY_TASK: "Task and metric", AVERAGE: "Leaderboard average"}
    labels.update({b.id: f"Benchmark: {b.name}" for b in definition.benchmarks})
    return labels


def controls(
    metrics: pd.DataFrame, trainings: pd.DataFrame, url: list[Setting], definition: Definition
) -> CheckpointView:
    """Draw the controls and return the view they describe."""
    by_key = {s.key: s for s in url}
    labels = _by_label(definition)
    left, task_col, metric_col, right = st.columns([2, 2, 2, 3])
    by = left.selectbox(
        "Score", by_key["by"].choices or (BY_TASK,), key=by_key["by"].widget_key, format_func=lambda k: str(labels.get(k, k)),
        help="A task and metric as lm-eval reports it, or a benchmark of the leaderboard (or their "
        "average) scored exactly as the leaderboard ranks it.",
    ) or BY_TASK  # fmt: skip
    task, metric = by_key["task"].default, ""
    if by == BY_TASK:
        task = task_col.selectbox("Task", by_key["task"].choices or (), key=by_key["task"].widget_key) or ""
        options = metric_options(metrics, task)
        metric_key = by_key["metric"].widget_key
        if st.session_state.get(metric_key) not in options:
            st.session_state[metric_key] = options[0]
        metric = metric_col.selectbox("Metric", options, key=metric_key)
    names = list(trainings["training"])
    chosen = right.multiselect(
        "Trainings",
        names,
        key=by_key["train"].widget_key,
        placeholder=f"all (first {DEFAULT_TRAININGS} shown); type to search",
    )
    a, b, c, d, e = st.columns([1, 1, 2, 1, 1])
    x = a.radio("X axis", ("step", "tokens"), key=by_key["x"].widget_key, horizontal=True)
    log_x = b.toggle("Log x", key=by_key["logx"].widget_key)
    smooth = c.slider(
        "Smoothing (k checkpoints)",
        0,
        MAX_SMOOTH,
        key=by_key["smooth"].widget_key,
        help="Pick the best on the centered mean of k neighbouring checkpoints (0 or 1: each checkpoint "
        "on its own). The line shows the mean, the dots each checkpoint's own value.",
    )
    view = d.radio("Values", ("raw", "normalized"), key=by_key["view"].widget_key, horizontal=True)
    at = e.number_input(
        "Value at step",
        min_value=-1,
        max_value=MAX_STEP,
        step=1000,
        key=by_key["at"].widget_key,
        help="-1: off",
    )
    f, g, _ = st.columns([2, 2, 4])
    log_y = f.segmented_control(
        "Log y", ("auto", "on", "off"), key=by_key["logy"].widget_key,
        help="auto: a log axis when the values span two orders of magnitude (perplexities).",
    ) or "auto"  # fmt: skip
    y_range = g.segmented_control(
        "Y range", ("robust", "full"), key=by_key["yr"].widget_key,
        help="robust: points far outside the rest (a step-0 perplexity) are left off the axis, and said "
        "so under the chart; full: every point.",
    ) or "robust"  # fmt: skip
    shown = tuple(chosen) or tuple(names[:DEFAULT_TRAININGS])
    return CheckpointView(
        by, task, metric, shown, x, log_x, smooth, view == "normalized", None if at < 0 else int(at),
        log_y, y_range,
    )  # fmt: skip


@st.cache_data(max_entries=4, show_spinner=False)
def _leaderboard(_index: Index, generation: int, definition_path: str) -> pd.DataFrame:
    """Every revision scored by the leaderboard's ranking, recomputed only when the data changed."""
    return leaderboard_frame(_index, _index.definition.benchmarks)


def load_curves(index: Index, definition: Definition, view: CheckpointView) -> Curves:
    """The frame and labels of the view: a task and metric, a benchmark, or the average.

    Raises AmbiguousMetricError (a metric under several filters) for the page to show.
    """
    if view.by != BY_TASK:
        choice = score_choice(definition, view.by, raw=not view.normalized)
        board = _leaderboard(index, index.generation, str(definition.path))
        frame = benchmark_frame(board, choice, view.trainings)
        note = (
            "Scores as the leaderboard ranks them: normalized = max(0, raw − baseline) / (1 − baseline) × "
            "100, a benchmark with subtasks is their mean, raw scores are × 100. Only checkpoints with a "
            "complete score (every subtask, at the definition's n-shot) are drawn."
        )
        return Curves(frame, choice.label, None, choice.baseline, (note,))
    frame = load_series(index, view.task, view.metric, view.trainings)
    baseline = baseline_for(definition, view.task, view.metric)
    known = frame["higher_is_better"].dropna()
    lower = not bool(known.iloc[0]) if len(known) else not default_higher_is_better(view.metric)
    normalized = view.normalized and baseline is not None and not lower
    notes: tuple[str, ...] = ()
    if view.normalized and not normalized:
        notes = (
            "Normalized values need a random baseline from the definition and a higher-is-better metric.",
        )
    label = f"{view.task} {view.metric} ({'normalized' if normalized else 'raw'})"
    if normalized:
        return Curves(frame, label, baseline, 0.0, notes)
    return Curves(frame, label, None, baseline, notes)


def baseline_for(definition: Definition, task: str, metric: str) -> float | None:
    """The random baseline the definition gives this task and metric, if any benchmark names it."""
    name = metric.split(",", 1)[0]
    for bench in definition.benchmarks:
        for comp in bench.components:
            if comp.task == task and comp.metric == name:
                return comp.baseline
    return None


def at_step_table(table: pd.DataFrame) -> None:
    """The value-at-step table in the page's words; a missing number is blank, never 'None'."""
    shown = pd.DataFrame(
        {
            "Training": table["training"],
            "n-shot": [_text(v, "{:g}") for v in table["num_fewshot"]],
            "Chat template": table["chat_template"].astype(bool),
            "Step": table["step"],
            "Revision": table["revision"],
            "Tokens": [format_tokens(None if pd.isna(t) else float(t)) or "" for t in table["tokens"]],
            "Value": [_text(v, "{:.4g}") for v in table["value"]],
            "± 95%": [
                _text(None if pd.isna(s) else 1.959963984540054 * float(s), "{:.3g}") for s in table["stderr"]
            ],
            "Note": table["note"],
        }
    )
    show_table(shown, hide_index=True, width="stretch", key="value_at_step")


def _text(value: object, pattern: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return pattern.format(float(value))  # type: ignore[arg-type]


def best_table(table: pd.DataFrame) -> None:
    """The best-versus-final table, one row per training and setting."""
    shown = table.rename(
        columns={
            "training": "Training",
            "num_fewshot": "n-shot",
            "n_checkpoints": "Checkpoints",
            "best_revision": "Best revision",
            "best_step": "Best step",
            "best_value": "Best value",
            "final_revision": "Final revision",
            "final_step": "Final step",
            "final_value": "Final value",
            "delta": "Final − best",
        }
    ).assign(**{"Best vs final": best_vs_final(table)})
    columns = [
        "Training", "n-shot", "Checkpoints", "Best revision", "Best step", "Best value", "Final revision",
        "Final step", "Final value", "Final − best", "Best vs final",
    ]  # fmt: skip
    show_table(shown[columns], hide_index=True, width="stretch", key="best_table")
