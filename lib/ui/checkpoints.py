"""Widgets of the Checkpoints page: URL-backed controls, the curves, the best-versus-final table.

Logic lives in ``lib.analysis.checkpoints`` (best checkpoint, smoothing, gaps, value at step) and figures in
``lib.views.checkpoint_charts``; this module only reads widgets and draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from lib.analysis.checkpoint_groups import BANDS, GROUP_FIELDS, NO_GROUP
from lib.analysis.checkpoint_scores import AVERAGE, benchmark_frame, score_choice
from lib.analysis.checkpoints import format_tokens, load_series
from lib.analysis.ranking import leaderboard_frame
from lib.core.config import Definition
from lib.core.records import default_higher_is_better
from lib.index import Index
from lib.ui import state
from lib.ui.state import Setting
from lib.ui.tables import show_table
from lib.ui.text import plain
from lib.views.checkpoint_charts import best_vs_final
from lib.views.checkpoint_panels import PanelData

MAX_SMOOTH = 25
MAX_STEP = 10**15  # below 2**53: the browser's number input holds it exactly
DEFAULT_TRAININGS = 8
BY_TASK = "task"  # the 'Score' choice that shows one task and metric instead of a benchmark
DEFAULT_TASK = "lambada_openai"
MAX_PANELS = 6  # the main score and at most five more, one panel each
BENCH_PREFIX = "bench:"  # a score key: 'task:metric' ('|' for the filter's comma), 'bench:<id>' or 'average'


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
    more: tuple[str, ...] = ()  # score keys of the further panels (see score_key)
    group: str = NO_GROUP  # a field of lib.analysis.checkpoint_groups.GROUP_FIELDS
    band: str = "minmax"  # 'minmax' or 'std'
    hidden: tuple[str, ...] = ()  # chosen trainings the user hid from the chart


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
        Setting("more", "list", [], tuple(score_options(metrics, definition))),
        Setting("group", "str", NO_GROUP, tuple(GROUP_FIELDS)),
        Setting("band", "str", "minmax", tuple(BANDS)),
        Setting("hide", "list", [], tuple(trainings["training"])),
    ]


def score_key(by: str, task: str = "", metric: str = "") -> str:
    """The URL key of a score: 'lambada_openai:acc', 'gsm8k:exact_match|strict-match', 'bench:bbh',
    'average' (the list separator of the URL is a comma, so a filter's comma becomes '|')."""
    if by == BY_TASK:
        return f"{task}:{metric.replace(',', '|')}"
    return AVERAGE if by == AVERAGE else f"{BENCH_PREFIX}{by}"


def parse_score(key: str) -> tuple[str, str, str]:
    """(by, task, metric) of a score key (the inverse of ``score_key``)."""
    if key == AVERAGE:
        return AVERAGE, "", ""
    if key.startswith(BENCH_PREFIX):
        return key[len(BENCH_PREFIX) :], "", ""
    task, _, metric = key.partition(":")
    return BY_TASK, task, metric.replace("|", ",")


def score_options(metrics: pd.DataFrame, definition: Definition) -> dict[str, str]:
    """Every score a panel can show, key -> label: the average, the benchmarks, each task and metric."""
    labels = _by_label(definition)
    options = {score_key(by): str(labels[by]) for by in (AVERAGE, *(b.id for b in definition.benchmarks))}
    for task in sorted(metrics["task"].unique()):
        for metric in metric_options(metrics, str(task)):
            options[score_key(BY_TASK, str(task), metric)] = f"{task} {metric}"
    return options


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
    left, task_col, metric_col = st.columns(3)
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
    # a row of its own, chips wrapped: in a column the chips shrink and cut names ("local/tiny-l…")
    chosen = st.multiselect(
        "Trainings",
        names,
        key=by_key["train"].widget_key,
        placeholder=f"all (first {DEFAULT_TRAININGS} shown); type to search",
        wrap=True,
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
        "Value at tokens" if x == "tokens" else "Value at step",
        min_value=-1,
        max_value=MAX_STEP,
        step=1000,
        key=by_key["at"].widget_key,
        help="-1: off. On a tokens axis, a token count.",
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
    scores = score_options(metrics, definition)
    more_key = by_key["more"].widget_key
    if len(st.session_state.get(more_key) or []) > MAX_PANELS - 1:  # a link may name more
        st.session_state[more_key] = list(st.session_state[more_key])[: MAX_PANELS - 1]
        st.warning(f"At most {MAX_PANELS} panels: the first {MAX_PANELS - 1} further scores are shown.")
    h, i, j = st.columns([4, 2, 2])
    more = h.multiselect(
        "More panels (small multiples)", list(scores), key=by_key["more"].widget_key,
        format_func=lambda k: scores.get(k, k), max_selections=MAX_PANELS - 1,
        placeholder="add scores: one panel each, on the same x axis",
        help="Each chosen score gets its own panel under the first, sharing the x axis: zoom and the "
        "hover move together, and a click on a training in the legend hides it in every panel.",
    )  # fmt: skip
    group = i.selectbox(
        "Group runs by", tuple(GROUP_FIELDS), key=by_key["group"].widget_key,
        format_func=lambda k: GROUP_FIELDS.get(k, k),
        help="Draw each group (e.g. the seeds of one recipe) as its mean with a band instead of one line "
        "per training. The mean is drawn only where every member has a checkpoint.",
    ) or NO_GROUP  # fmt: skip
    band = j.segmented_control(
        "Band", tuple(BANDS), key=by_key["band"].widget_key, format_func=lambda k: BANDS.get(k, k),
        disabled=group == NO_GROUP, help="The shaded band around a group's mean: its members' min to max, "
        "or ± one sample standard deviation.",
    ) or "minmax"  # fmt: skip
    shown = tuple(chosen) or tuple(names[:DEFAULT_TRAININGS])
    hidden = visibility(shown, by_key["hide"])
    return CheckpointView(
        by, task, metric, shown, x, log_x, smooth, view == "normalized", None if at < 0 else int(at),
        log_y, y_range, tuple(more), group, band, hidden,
    )  # fmt: skip


def visibility(shown: tuple[str, ...], setting: Setting) -> tuple[str, ...]:
    """A checkbox per chosen training under "Show or hide trainings"; returns the hidden ones.

    The hidden list is the ``hide`` setting (in the URL, kept across page changes); the checkboxes are
    drawn afresh from it on each arrival on the page (their keys carry ``state.arrivals()``).
    """
    before = [t for t in state.value(setting) or [] if t in shown]
    label = f"Show or hide trainings ({len(before)} hidden)" if before else "Show or hide trainings"
    with st.expander(label, expanded=bool(before)):
        st.caption("A hidden training leaves the chart, its legend, the group means and the tables.")
        columns = st.columns(3)
        hidden = [
            name
            for n, name in enumerate(shown)
            if not columns[n % 3].checkbox(
                plain(name), value=name not in before, key=f"visible:{state.arrivals()}:{name}"
            )
        ]
    st.session_state[setting.widget_key] = hidden
    return tuple(hidden)


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


def figure_notes(panels: list[PanelData], sources: list[Curves], view: CheckpointView, x: str) -> None:
    """Under the chart, in the user's words: the best rule, what each panel left out and why."""
    rules = sorted({rule for p in panels for rule in p.table["rule"]})
    st.caption(f"★ Best = {'; '.join(rules)}; a tie goes to the earliest checkpoint.")
    for note in dict.fromkeys(n for s in sources for n in s.notes):
        st.caption(plain(note))
    if view.group != NO_GROUP:
        st.caption(
            f"Runs grouped by {GROUP_FIELDS[view.group]}: each line is its group's mean (the legend gives "
            f"how many runs), the band its members' {BANDS[view.band]}; ★ marks the best mean."
        )
    several = len(panels) > 1
    for panel in panels:
        where = f"{plain(panel.panel.title)}: " if several else ""
        if panel.outside:
            st.caption(
                f"{where}Y axis: {panel.outside} outlying point(s) left off (the farthest: {panel.extreme:,.4g}); "
                "choose Y range “full” to see every point."
            )
        for note in panel.notes:
            st.caption(f"{where}{plain(note)}")
    if x == "tokens":
        untimed = sorted({t for p in panels for t in p.untimed})
        if untimed:
            st.caption(f"Not on the tokens axis (no token count recorded): {plain(', '.join(untimed))}.")
        estimated = {t: n for p in panels for t, n in p.estimated.items()}
        if estimated:
            text = ", ".join(f"{t} ({n})" for t, n in sorted(estimated.items()))
            st.caption(
                "Token counts estimated from the training's own tokens per step (its named counts fit one "
                f"rate; hover says “estimated”): {plain(text)}."
            )
        dropped = {t: n for p in panels for t, n in p.dropped.items()}
        if dropped:
            text = ", ".join(f"{t} ({n})" for t, n in sorted(dropped.items()))
            st.caption(
                f"Checkpoints without a token count and no steady tokens per step, left off: {plain(text)}."
            )
    if view.hidden:
        st.caption(f"Hidden (still chosen): {plain(', '.join(view.hidden))}.")


def best_tables(panels: list[PanelData], labels: list[str]) -> None:
    """The best-versus-final table of each panel (a tab per score when there are several)."""
    if len(panels) == 1:
        best_table(panels[0].table)
        return
    for n, (tab, panel) in enumerate(zip(st.tabs([plain(label) for label in labels]), panels, strict=True)):
        with tab:
            best_table(panel.table, key=f"best_table_{n}")


def best_table(table: pd.DataFrame, key: str = "best_table") -> None:
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
    show_table(shown[columns], hide_index=True, width="stretch", key=key)
