"""Widgets of the Checkpoints page: URL-backed controls, the curves, the best-versus-final table.

Logic lives in ``lib.checkpoints`` (best checkpoint, smoothing, gaps, value at step) and figures in
``lib.checkpoint_charts``; this module only reads widgets and draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from lib.config import Definition
from lib.ui.state import Setting

MAX_SMOOTH = 25
DEFAULT_TRAININGS = 8


@dataclass(frozen=True)
class CheckpointView:
    """What the controls ask for."""

    task: str
    metric: str
    trainings: tuple[str, ...]
    x: str
    log_x: bool
    smooth: int
    normalized: bool
    at_step: int | None


def settings(metrics: pd.DataFrame, trainings: pd.DataFrame) -> list[Setting]:
    """Every control with its URL key and default (the first task and metric, the first trainings)."""
    tasks = tuple(sorted(metrics["task"].unique()))
    default_task = "lambada_openai" if "lambada_openai" in tasks else tasks[0]
    return [
        Setting("task", "str", default_task, tasks),
        Setting("metric", "str", ""),
        Setting("train", "list", [], tuple(trainings["training"])),
        Setting("x", "str", "step", ("step", "tokens")),
        Setting("logx", "bool", False),
        Setting("smooth", "int", 0),
        Setting("view", "str", "raw", ("raw", "normalized")),
        Setting("at", "int", -1),
    ]


def metric_options(metrics: pd.DataFrame, task: str) -> list[str]:
    """'metric,filter' choices of a task, the 'none' filter written as the bare metric name."""
    rows = metrics[metrics["task"] == task]
    return [
        m if f in ("none", "", None) else f"{m},{f}"
        for m, f in zip(rows["metric"], rows["filter"], strict=True)
    ]


def controls(metrics: pd.DataFrame, trainings: pd.DataFrame, url: list[Setting]) -> CheckpointView:
    """Draw the controls and return the view they describe."""
    by_key = {s.key: s for s in url}
    left, middle, right = st.columns([2, 2, 3])
    task = left.selectbox("Task", by_key["task"].choices, key=by_key["task"].widget_key)
    options = metric_options(metrics, task)
    metric_key = by_key["metric"].widget_key
    if st.session_state.get(metric_key) not in options:
        st.session_state[metric_key] = options[0]
    metric = middle.selectbox("Metric", options, key=metric_key)
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
        help="Pick the best on the centered mean of k neighbouring checkpoints (0: raw values).",
    )
    view = d.radio("Values", ("raw", "normalized"), key=by_key["view"].widget_key, horizontal=True)
    at = e.number_input("Value at step", min_value=-1, step=1000, key=by_key["at"].widget_key, help="-1: off")
    shown = tuple(chosen) or tuple(names[:DEFAULT_TRAININGS])
    return CheckpointView(
        task, metric, shown, x, log_x, smooth, view == "normalized", None if at < 0 else int(at)
    )


def baseline_for(definition: Definition, task: str, metric: str) -> float | None:
    """The random baseline the definition gives this task and metric, if any benchmark names it."""
    name = metric.split(",", 1)[0]
    for bench in definition.benchmarks:
        for comp in bench.components:
            if comp.task == task and comp.metric == name:
                return comp.baseline
    return None


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
    )
    columns = [
        "Training", "n-shot", "Checkpoints", "Best revision", "Best step", "Best value", "Final revision",
        "Final step", "Final value", "Final − best",
    ]  # fmt: skip
    st.dataframe(shown[columns], hide_index=True, width="stretch", key="best_table")
