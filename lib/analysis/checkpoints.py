"""Trainings and checkpoints: revision parsing, best checkpoint per training, smoothing, gaps.

A *training* is the model a family of checkpoints belongs to; a *checkpoint* is one revision of it,
placed on the training's axis by its ``step`` (and, when the name says so, its ``tokens``).

This module is pure: it takes strings, records and pandas frames and returns values and frames. It must
not read files, open DuckDB, touch the network or import Streamlit; the index, the command line and the
Checkpoints page feed it (``load_series`` and ``checkpoint_table`` only run named queries of an index
they are given).

Conventions kept here, because users compare them with their training libraries:

- direction comes from the data (lm-eval's ``higher_is_better``), else from the metric's name
  (``lib.records.default_higher_is_better``: ``ppl`` and friends are lower-is-better);
- the best checkpoint is chosen by a strict comparison in step order, so a tie keeps the earliest step;
- evaluations with a different n-shot, chat template or ``limit`` are separate series, never merged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from lib.core.records import Evaluation, default_higher_is_better
from lib.core.revisions import (  # noqa: F401 - re-exported: callers import them from here
    _BUILTIN_PATTERNS,
    _MAX_STEP,
    _NUMBER,
    _TOKEN_UNITS,
    _UNIT,
    CheckpointId,
    _as_step,
    _from_match,
    _parse_model_path,
    checkpoint_from_fields,
    checkpoint_label,
    format_tokens,
    parse_checkpoint,
    parse_revision,
    parse_tokens,
    resolve_checkpoint,
)

# The columns that split one training into separate series (the evaluation setting).
SETTING_COLUMNS = ("n_shot", "chat_template", "limit")
SERIES_KEYS = ("training", *SETTING_COLUMNS)
FRAME_COLUMNS = (
    "training",
    "revision",
    "step",
    "tokens",
    "value",
    "stderr",
    "higher_is_better",
    "n_shot",
    "chat_template",
    "limit",
)
# An interval this many times larger than both its neighbours is a missing stretch (see find_gaps).
GAP_FACTOR = 2.5


def checkpoint_frame(
    evaluations: Iterable[Evaluation],
    task: str,
    metric: str,
    metric_filter: str | None = None,
    patterns: tuple[str, ...] = (),
) -> pd.DataFrame:
    """The long frame ``best_checkpoints`` takes, from evaluation records, for one task and metric.

    Evaluations whose revision names no checkpoint (and that carry no explicit step) are left out.
    ``metric`` may carry the filter ('acc,none'); without one any filter matches.
    """
    name, _, filt = metric.partition(",")
    wanted_filter = metric_filter or filt or None
    rows = []
    for ev in evaluations:
        point = resolve_checkpoint(ev.model, ev.revision, ev.training, ev.step, ev.tokens, patterns)
        if point is None:
            continue
        for score in ev.scores:
            if score.task != task or score.metric != name:
                continue
            if wanted_filter is not None and score.filter != wanted_filter:
                continue
            rows.append(
                (point.training, ev.revision, point.step, point.tokens, score.value, score.stderr,
                 score.higher_is_better, score.n_shot, ev.chat_template, ev.limit)
            )  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    frame["metric"] = name
    return frame


class _Queryable(Protocol):
    def query(self, name: str, params: dict[str, Any] | list[Any] | None = None) -> pd.DataFrame: ...


class AmbiguousMetricError(ValueError):
    """The metric is reported under several lm-eval filters and none was chosen."""


def _series_params(task: str, metric: str, trainings: Sequence[str] | None) -> dict[str, Any]:
    name, _, filt = metric.partition(",")
    return {
        "task": task,
        "metric": name.strip(),
        "filter": filt.strip() or None,
        "trainings": list(trainings) if trainings else None,
    }


def _one_filter(frame: pd.DataFrame, task: str, name: str) -> pd.DataFrame:
    """The rows of one lm-eval filter: the only one, else 'none'; AmbiguousMetricError otherwise."""
    filters = sorted(frame["filter"].dropna().unique()) if "filter" in frame.columns else []
    if len(filters) > 1:
        if "none" not in filters:
            choices = ", ".join(f"{name},{f}" for f in filters)
            raise AmbiguousMetricError(
                f"{task} {name} is reported under several filters: give one of {choices}"
            )
        frame = frame[frame["filter"] == "none"].reset_index(drop=True)
    return frame


def load_series(
    index: _Queryable, task: str, metric: str, trainings: Sequence[str] | None = None
) -> pd.DataFrame:
    """The long frame of one task and metric over every training's checkpoints, from the index.

    ``metric`` may name its filter ('exact_match,strict-match'). Without one, the 'none' filter is taken
    when present; a metric reported under several other filters raises AmbiguousMetricError naming them.
    Runs ``lib/index/sql/checkpoint_series.sql`` with bound parameters.
    """
    params = _series_params(task, metric, trainings)
    return _one_filter(index.query("checkpoint_series", params), task, params["metric"])


def checkpoint_table(
    index: _Queryable,
    task: str,
    metric: str,
    trainings: Sequence[str] | None = None,
    smooth: int = 0,
) -> pd.DataFrame:
    """The best-versus-final table of one task and metric, computed in the index.

    The same table as ``best_checkpoints(load_series(index, task, metric, trainings), smooth)``, which
    stays the reference (the tests compare the two), without moving every point to pandas: for
    ``smooth`` 0 or 1, ``lib/index/sql/checkpoint_best.sql`` returns one row per series, and
    the same query with ``$dedup`` redoes the trainings where a checkpoint was evaluated twice (newest
    evaluation wins). A smoothed best (k > 1) takes the pandas path. Raises ValueError for a negative
    ``smooth`` and AmbiguousMetricError as ``load_series`` does.
    """
    if smooth < 0:
        raise ValueError(f"smooth must be 0 or a positive number of checkpoints, got {smooth}")
    if smooth > 1:
        return best_checkpoints(load_series(index, task, metric, trainings), smooth=smooth)
    params = _series_params(task, metric, trainings)
    name = params["metric"]
    params["higher"] = default_higher_is_better(name)
    rows = index.query("checkpoint_best", {**params, "dedup": False})
    if rows["duplicated"].any():
        rows = _with_newest_evaluations(index, rows, params)
    rows = _one_filter(rows, task, name)
    rows = rows[rows["n_checkpoints"] > 0].reset_index(drop=True)
    if rows.empty:
        return pd.DataFrame(columns=_BEST_COLUMNS)
    return _table_from_rows(rows, name, smooth)


_ROW_ORDER = ["training", "n_shot", "chat_template", "limit", "filter"]  # checkpoint_best.sql's ORDER BY


def _with_newest_evaluations(index: _Queryable, rows: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """``rows`` with the trainings that have a twice-evaluated checkpoint redone with ``$dedup``."""
    redo = sorted(set(rows.loc[rows["duplicated"].astype(bool), "training"]))
    fixed = index.query("checkpoint_best", {**params, "trainings": redo, "dedup": True})
    kept = rows[~rows["training"].isin(redo)]
    both = pd.concat([kept, fixed], ignore_index=True) if len(kept) else fixed
    return both.sort_values(_ROW_ORDER, kind="stable", na_position="last").reset_index(drop=True)


def _table_from_rows(rows: pd.DataFrame, metric: str, smooth: int) -> pd.DataFrame:
    """The best-checkpoint table from checkpoint_best.sql's rows (one per series, in series order)."""
    setting = {"training": rows["training"], "n_shot": rows["n_shot"]}
    setting |= {"chat_template": rows["chat_template"], "limit": rows["limit"]}
    points = {
        end: pd.DataFrame(
            setting | {c: rows[f"{end}_{c}"] for c in ("revision", "step", "tokens", "value", "stderr")}
        )
        for end in ("best", "final")
    }
    return _best_table(
        points["best"],
        points["final"],
        rows["n_checkpoints"].to_numpy(dtype="int64"),
        rows["best_value"].to_numpy(dtype=float),
        rows["higher_is_better"].to_numpy(dtype=bool),
        metric,
        smooth,
    )


# --- best checkpoint --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Series:
    """The rows of a long frame that have a value and a step, in series then step order.

    ``positions`` index the frame's rows (no column is copied until a caller takes the few rows it
    reports); ``codes`` number the series (training x setting); the sort is stable, so rows of one series
    at the same step keep their input order.
    """

    frame: pd.DataFrame
    positions: np.ndarray
    codes: np.ndarray
    steps: np.ndarray
    values: np.ndarray

    def rows(self, index: np.ndarray) -> pd.DataFrame:
        return self.frame.iloc[self.positions[index]].reset_index(drop=True)


def _sorted_series(frame: pd.DataFrame) -> _Series:
    missing = {c: None for c in FRAME_COLUMNS if c not in frame.columns}
    if missing:
        frame = frame.assign(**missing)
    values = pd.to_numeric(frame["value"], errors="coerce").to_numpy(dtype=float)
    steps = pd.to_numeric(frame["step"], errors="coerce").to_numpy(dtype=float)
    codes = frame.groupby(list(SERIES_KEYS), dropna=False, sort=False).ngroup().to_numpy()
    keep = np.flatnonzero(~np.isnan(values) & ~np.isnan(steps))
    order = keep[np.lexsort((steps[keep], codes[keep]))]
    return _Series(frame, order, codes[order], steps[order], values[order])


def rolling_centered_mean(values: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Centered mean over ``k`` neighbouring rows within each run of equal ``codes`` (min_periods=1).

    Same windows as pandas ``rolling(k, center=True, min_periods=1)`` per group: rows i-k//2 to
    i+(k-1)//2, clipped to the group. Rows must be sorted by code then step. One vector pass per offset
    (no per-group loop, and no running prefix sum whose rounding would leak across groups).
    """
    n = len(values)
    values = values.astype(float)
    if k <= 1 or n == 0:
        return values
    idx = np.arange(n)
    starts, ends = _group_bounds(codes)
    sizes = ends - starts + 1
    lo = np.maximum(idx - k // 2, np.repeat(starts, sizes))
    hi = np.minimum(idx + (k - 1) // 2, np.repeat(ends, sizes))
    total = np.zeros(n)
    for offset in range(-(k // 2), (k - 1) // 2 + 1):
        neighbour = idx + offset
        inside = (neighbour >= lo) & (neighbour <= hi)
        total += np.where(inside, values[np.clip(neighbour, 0, n - 1)], 0.0)
    return total / (hi - lo + 1)


def smoothed_values(frame: pd.DataFrame, k: int) -> pd.Series:
    """The frame's values smoothed over k neighbouring checkpoints of the same series, in step order.

    Returns a Series aligned with ``frame``'s index (NaN where the row has no value or step).
    """
    series = _sorted_series(frame)
    out = np.full(len(frame), np.nan)
    out[series.positions] = rolling_centered_mean(series.values, series.codes, k)
    return pd.Series(out, index=frame.index, name="smoothed")


def _directions(series: _Series, metric: str | None) -> np.ndarray:
    """Per row, its series' direction: the first known ``higher_is_better``, else the metric name's."""
    default = default_higher_is_better(metric) if metric else True
    column = series.frame["higher_is_better"].to_numpy()[series.positions]
    known = pd.Series(column, dtype="boolean")
    per_code = known.groupby(series.codes).first()
    return per_code.reindex(series.codes).fillna(default).to_numpy(dtype=bool)


def _group_bounds(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last row of every run of equal codes (rows sorted by code)."""
    change = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    starts = np.r_[0, change]
    ends = np.r_[change - 1, len(codes) - 1]
    return starts, ends


def _first_max(scores: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per group, the row of its first maximum: a strict comparison in step order, ties to the earliest."""
    best = np.maximum.reduceat(scores, starts)
    sizes = np.diff(np.r_[starts, len(scores)])
    at_max = scores == np.repeat(best, sizes)
    candidates = np.where(at_max, np.arange(len(scores)), len(scores))
    return np.minimum.reduceat(candidates, starts)


def describe_rule(metric: str | None, higher_is_better: bool, smooth: int) -> str:
    """'highest acc at a single checkpoint' or 'lowest ppl, mean of 5 neighbouring checkpoints (k=5)'."""
    word = "highest" if higher_is_better else "lowest"
    name = metric.split(",", 1)[0] if metric else "value"
    if smooth <= 1:
        return f"{word} {name} at a single checkpoint"
    return f"{word} {name}, mean of {smooth} neighbouring checkpoints (k={smooth})"


def best_checkpoints(frame: pd.DataFrame, smooth: int = 0, metric: str | None = None) -> pd.DataFrame:
    """Best and final checkpoint of every series (training x n-shot x chat template x limit).

    ``frame`` is long, one task and metric: columns ``training, revision, step, tokens, value, stderr,
    higher_is_better, n_shot, chat_template, limit`` (a ``metric`` column names the metric when
    ``metric`` is not given). The best is the highest (or lowest) value in step order, a tie keeping the
    earliest step; with ``smooth`` k > 1 it is picked on the centered mean of k neighbouring checkpoints
    and ``best_value`` stays the raw value there (``best_smoothed`` holds the mean). ``delta`` is
    final minus best. Raises ValueError for a negative ``smooth``.
    """
    if smooth < 0:
        raise ValueError(f"smooth must be 0 or a positive number of checkpoints, got {smooth}")
    if metric is None and "metric" in frame.columns and len(frame):
        metric = str(frame["metric"].iloc[0])
    series = _sorted_series(frame)
    if not len(series.positions):
        return pd.DataFrame(columns=_BEST_COLUMNS)
    smoothed = rolling_centered_mean(series.values, series.codes, smooth)
    higher = _directions(series, metric)
    starts, ends = _group_bounds(series.codes)
    best_rows = _first_max(np.where(higher, smoothed, -smoothed), starts)
    counts = ends - starts + 1
    best, final = series.rows(best_rows), series.rows(ends)
    return _best_table(best, final, counts, smoothed[best_rows], higher[best_rows], metric, smooth)


_BEST_COLUMNS = [
    "training", "num_fewshot", "chat_template", "limit", "higher_is_better", "n_checkpoints",
    "best_revision", "best_step", "best_tokens", "best_value", "best_stderr", "best_smoothed",
    "final_revision", "final_step", "final_tokens", "final_value", "final_stderr", "delta", "rule",
]  # fmt: skip


def _best_table(
    best: pd.DataFrame,
    final: pd.DataFrame,
    counts: np.ndarray,
    best_smoothed: np.ndarray,
    directions: np.ndarray,
    metric: str | None,
    smooth: int,
) -> pd.DataFrame:
    """The table from the best and final point of every series (long-frame columns, series order).

    Shared by ``best_checkpoints`` and ``checkpoint_table`` so that both give the same types and order.
    """
    rules = {hib: describe_rule(metric, hib, smooth) for hib in (True, False)}
    table = pd.DataFrame(
        {
            "training": best["training"],
            "num_fewshot": best["n_shot"],
            "chat_template": best["chat_template"],
            "limit": best["limit"],
            "higher_is_better": directions,
            "n_checkpoints": counts,
            "best_revision": best["revision"],
            "best_step": best["step"].astype("int64"),
            "best_tokens": best["tokens"],
            "best_value": best["value"].astype(float),
            "best_stderr": best["stderr"],
            "best_smoothed": best_smoothed,
            "final_revision": final["revision"],
            "final_step": final["step"].astype("int64"),
            "final_tokens": final["tokens"],
            "final_value": final["value"].astype(float),
            "final_stderr": final["stderr"],
        }
    )
    table["delta"] = table["final_value"] - table["best_value"]
    table["rule"] = [rules[bool(h)] for h in directions]
    order = np.lexsort(
        (table["num_fewshot"].astype(str).to_numpy(), table["training"].astype(str).to_numpy())
    )
    return table.iloc[order].reset_index(drop=True)


# --- gaps and curves --------------------------------------------------------------------------------


def find_gaps(steps: Sequence[int], factor: float = GAP_FACTOR) -> list[tuple[int, int]]:
    """Stretches (start, end) where checkpoints are missing, by comparing each interval to its neighbours.

    Rule: after sorting and removing duplicates, the interval between two consecutive checkpoints is a
    gap when it is more than ``factor`` times the interval before it *and* the interval after it (an
    edge interval is compared with its one neighbour). So spacing that grows steadily (Pythia's
    0, 1, 2, 4, ..., 512) or changes for good (every 1,000 steps, then every 10,000) is not a gap, while
    a hole in a regular schedule (10k, 20k, 30k, 70k, 80k) is. Fewer than four checkpoints: no gaps.
    A hole in a geometric schedule is not detected (its neighbours grow too); the rule prefers missing
    a gap to drawing one that is not there.
    """
    ordered = np.unique(np.asarray(list(steps), dtype=float))
    if len(ordered) < 4:
        return []
    intervals = np.diff(ordered)
    before = np.r_[np.nan, intervals[:-1]]
    after = np.r_[intervals[1:], np.nan]
    wide_before = np.isnan(before) | (intervals > factor * before)
    wide_after = np.isnan(after) | (intervals > factor * after)
    is_gap = wide_before & wide_after
    return [(int(ordered[i]), int(ordered[i + 1])) for i in np.flatnonzero(is_gap)]


def break_at_gaps(
    xs: Sequence[float], ys: Sequence[float | None], gaps: Sequence[tuple[int, int]]
) -> tuple[list[float | None], list[float | None]]:
    """The points of a curve with a None inserted inside every gap, so a plotted line breaks there.

    ``xs`` must be the steps (sorted); ``gaps`` comes from ``find_gaps`` over the same steps.
    """
    starts = {start for start, _ in gaps}
    out_x: list[float | None] = []
    out_y: list[float | None] = []
    for x, y in zip(xs, ys, strict=True):
        out_x.append(x)
        out_y.append(y)
        if x in starts:
            out_x.append(None)
            out_y.append(None)
    if out_x and out_x[-1] is None:
        out_x.pop()
        out_y.pop()
    return out_x, out_y


def value_at_step(frame: pd.DataFrame, step: int, axis: str = "step") -> pd.DataFrame:
    """Per series, the checkpoint at ``step``, or the nearest one (the earlier on a tie) with a note.

    ``axis`` 'tokens' reads ``step`` as a token count and finds the checkpoint nearest to it by its
    ``tokens`` (series without any token count are left out), so the table follows a tokens x axis.
    Columns: ``training, num_fewshot, chat_template, limit, requested_step, step, revision, tokens,
    value, stderr, exact, note``.
    """
    series = _sorted_series(frame)
    if not len(series.positions):
        return pd.DataFrame(columns=_AT_STEP_COLUMNS)
    if axis == "tokens":
        return _value_at_tokens(series, step)
    starts, _ = _group_bounds(series.codes)
    nearest = _first_max(-np.abs(series.steps - step), starts)  # first minimum distance: the earlier step
    found = series.rows(nearest)
    exact = found["step"].to_numpy() == step
    return _at_table(
        found, step, exact, [f"no checkpoint at step {step}; nearest is step {int(s)}" for s in found["step"]]
    )


def _value_at_tokens(series: _Series, tokens: int) -> pd.DataFrame:
    counts = pd.to_numeric(series.frame["tokens"], errors="coerce").to_numpy(dtype=float)[series.positions]
    distance = np.where(np.isfinite(counts), -np.abs(counts - tokens), -np.inf)
    starts, _ = _group_bounds(series.codes)
    nearest = _first_max(distance, starts)
    nearest = nearest[np.isfinite(distance[nearest])]  # a series with no token count has no answer
    if not len(nearest):
        return pd.DataFrame(columns=_AT_STEP_COLUMNS)
    found = series.rows(nearest)
    exact = counts[nearest] == tokens
    notes = [
        f"no checkpoint at {format_tokens(float(tokens))} tokens; nearest is {format_tokens(float(t))} (step {int(s)})"
        for t, s in zip(counts[nearest], found["step"], strict=True)
    ]
    return _at_table(found, tokens, exact, notes)


def _at_table(found: pd.DataFrame, requested: int, exact: np.ndarray, misses: list[str]) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "training": found["training"],
            "num_fewshot": found["n_shot"],
            "chat_template": found["chat_template"],
            "limit": found["limit"],
            "requested_step": requested,
            "step": found["step"].astype("int64"),
            "revision": found["revision"],
            "tokens": found["tokens"],
            "value": found["value"].astype(float),
            "stderr": found["stderr"],
            "exact": exact,
        }
    )
    table["note"] = ["" if ok else miss for ok, miss in zip(exact, misses, strict=True)]
    return table.sort_values(["training"], kind="stable").reset_index(drop=True)


_AT_STEP_COLUMNS = [
    "training", "num_fewshot", "chat_template", "limit", "requested_step", "step", "revision", "tokens",
    "value", "stderr", "exact", "note",
]  # fmt: skip
