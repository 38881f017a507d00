"""Checkpoint curves by a benchmark of the definition file or by the leaderboard average.

The leaderboard's ranking (``lib.ranking.leaderboard_frame``) already scores every evaluated revision:
per benchmark a raw and a normalized value with standard errors, and the average. This module turns
the rows that belong to a training into the long frame ``lib.checkpoints.best_checkpoints`` and the
chart builders take, so the best checkpoint "by BBH" or "by the average" is picked by the same rule
(direction, ties to the earliest step, smoothing) as the best by a task and metric.

It must not re-implement normalization or averaging (that is ``lib.analysis.ranking``'s job), draw, or read
widgets. Raw values of higher-is-better benchmarks are shown x 100, as the leaderboard shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lib.analysis.checkpoints import FRAME_COLUMNS
from lib.analysis.ranking import leaderboard_frame
from lib.core.config import Benchmark, Definition
from lib.index import Index

AVERAGE = "average"


class UnknownBenchmarkError(ValueError):
    """The name is neither 'average' nor a benchmark id or name of the definition."""


@dataclass(frozen=True)
class ScoreChoice:
    """What a curve shows when it is a benchmark or the average.

    ``by`` is 'average' or a benchmark id; ``label`` the name a legend, table or rule shows;
    ``baseline`` the random-guessing level on the shown scale (None when there is no single one).
    """

    by: str
    label: str
    raw: bool
    higher_is_better: bool
    baseline: float | None


def benchmark_options(definition: Definition) -> list[str]:
    """'average' then every benchmark id of the definition, in its order."""
    return [AVERAGE, *(b.id for b in definition.benchmarks)]


def score_choice(definition: Definition, by: str, raw: bool = False) -> ScoreChoice:
    """The choice for ``by`` ('average', a benchmark id or its display name).

    Raises UnknownBenchmarkError naming the valid choices.
    """
    if by == AVERAGE:
        return _average_choice(definition.benchmarks, raw)
    for bench in definition.benchmarks:
        if by in (bench.id, bench.name):
            return _benchmark_choice(bench, raw)
    known = ", ".join(benchmark_options(definition))
    raise UnknownBenchmarkError(f"unknown benchmark {by!r}: use one of {known}")


def _mean_baseline(bench: Benchmark) -> float:
    """Expected raw score of random guessing: the mean of the subtasks' baselines (raw is their mean)."""
    return float(np.mean([c.baseline for c in bench.components]))


def _benchmark_choice(bench: Benchmark, raw: bool) -> ScoreChoice:
    scale = "raw" if raw else "normalized"
    label = f"{bench.name} ({scale})"
    if not bench.higher_is_better:
        return ScoreChoice(bench.id, label, raw, False, None)
    baseline = _mean_baseline(bench) * 100.0 if raw else 0.0
    return ScoreChoice(bench.id, label, raw, True, baseline)


def _average_choice(benchmarks: Sequence[Benchmark], raw: bool) -> ScoreChoice:
    averaged = [b for b in benchmarks if b.higher_is_better]
    baseline = 0.0
    if raw:
        baseline = float(np.mean([_mean_baseline(b) for b in averaged])) * 100.0 if averaged else np.nan
    label = f"Average ({'raw' if raw else 'normalized'})"
    return ScoreChoice(AVERAGE, label, raw, True, None if np.isnan(baseline) else baseline)


def _columns(choice: ScoreChoice) -> tuple[str, str | None, float]:
    """(value column, stderr column or None, scale) of the leaderboard frame for the choice."""
    if choice.by == AVERAGE:
        return ("average_raw", "average_raw_se", 1.0) if choice.raw else ("average", "average_se", 1.0)
    if not choice.raw:
        return f"{choice.by}_norm", f"{choice.by}_se", 1.0
    return f"{choice.by}_raw", f"{choice.by}_raw_se", 100.0 if choice.higher_is_better else 1.0


def benchmark_frame(
    leaderboard: pd.DataFrame, choice: ScoreChoice, trainings: Sequence[str] | None = None
) -> pd.DataFrame:
    """The long checkpoint frame of a benchmark or the average, from ``leaderboard_frame``'s rows.

    Keeps rows with a training and a step (and, when given, only ``trainings``). A checkpoint scored
    more than once at the same chat template and limit (two precisions, a re-run) keeps its newest
    row, as the task-and-metric series does. ``n_shot`` is the benchmark's (None for the average,
    which mixes settings). Rows without a score (a subtask missing, another n-shot) are left out.
    """
    value_col, se_col, scale = _columns(choice)
    rows = leaderboard[leaderboard["training"].fillna("").astype(str).ne("") & leaderboard["step"].notna()]
    if trainings:
        rows = rows[rows["training"].isin(list(trainings))]
    rows = rows.sort_values("date", ascending=False, na_position="last", kind="stable")
    rows = rows.drop_duplicates(["training", "step", "chat_template", "limit_n"], keep="first")
    shots = f"{choice.by}_shots"
    frame = pd.DataFrame(
        {
            "training": rows["training"].astype(str),
            "revision": rows["revision"].astype(str),
            "step": rows["step"].astype("int64"),
            "tokens": pd.to_numeric(rows["tokens"], errors="coerce"),
            "value": pd.to_numeric(rows[value_col], errors="coerce") * scale,
            "stderr": pd.to_numeric(rows[se_col], errors="coerce") * scale if se_col else np.nan,
            "higher_is_better": choice.higher_is_better,
            "n_shot": rows[shots] if shots in rows.columns else np.nan,
            "chat_template": rows["chat_template"].fillna(False).astype(bool),
            "limit": rows["limit_n"],
        }
    )
    frame = frame[frame["value"].notna()]
    frame = frame.sort_values(["training", "step"], kind="stable").reset_index(drop=True)
    frame["metric"] = choice.label
    return frame[[*FRAME_COLUMNS, "metric"]]


def load_benchmark_series(
    index: Index,
    definition: Definition,
    by: str,
    raw: bool = False,
    trainings: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, ScoreChoice]:
    """The long frame of a benchmark or the average over every training's checkpoints, and its choice.

    Scores come from ``lib.ranking.leaderboard_frame`` over all of the definition's benchmarks (the
    average is the leaderboard's default, unweighted one). Raises UnknownBenchmarkError.
    """
    choice = score_choice(definition, by, raw)
    leaderboard = leaderboard_frame(index, definition.benchmarks)
    return benchmark_frame(leaderboard, choice, trainings), choice
