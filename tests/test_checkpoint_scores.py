"""Best checkpoint by a benchmark of the definition or by the average, from the leaderboard's ranking."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lib.analysis.checkpoint_scores import UnknownBenchmarkError, benchmark_frame, score_choice
from lib.analysis.checkpoints import best_checkpoints
from lib.cli import main
from lib.core.config import load_definition


@pytest.fixture(scope="module")
def demo():
    return load_definition(None)


def _board(rows: list[dict]) -> pd.DataFrame:
    """A leaderboard_frame-shaped frame with only the columns benchmark_frame reads."""
    base = {"training": None, "revision": "main", "step": np.nan, "tokens": np.nan, "chat_template": False,
            "limit_n": None, "date": "2025-01-01", "gpqa_raw": np.nan, "gpqa_norm": np.nan,
            "gpqa_se": np.nan, "gpqa_raw_se": np.nan, "gpqa_shots": 0, "average": np.nan,
            "average_se": np.nan, "average_raw": np.nan}  # fmt: skip
    return pd.DataFrame([{**base, **r} for r in rows])


def test_normalized_gpqa_curve_and_its_best(demo):
    board = _board(
        [
            {
                "training": "t",
                "revision": f"step{s}",
                "step": s,
                "gpqa_raw": raw,
                "gpqa_norm": (raw - 0.25) / 0.75 * 100,
                "gpqa_se": 1.0,
            }  # fmt: skip
            for s, raw in ((1, 0.30), (2, 0.40), (3, 0.40), (4, 0.35))
        ]
        + [{"training": None, "revision": "main", "gpqa_norm": 99.0}]  # not a checkpoint
    )
    choice = score_choice(demo, "gpqa")
    frame = benchmark_frame(board, choice)
    assert list(frame["step"]) == [1, 2, 3, 4]
    assert frame["value"].iloc[1] == pytest.approx(20.0)
    best = best_checkpoints(frame).iloc[0]
    assert best.best_step == 2 and best.final_step == 4  # tie at 0.40: the earliest wins
    assert best.rule == "highest GPQA (normalized) at a single checkpoint"
    assert choice.baseline == 0.0


def test_raw_scores_are_percent_with_the_random_baseline(demo):
    board = _board([{"training": "t", "step": 1, "gpqa_raw": 0.3, "gpqa_raw_se": 0.01}])
    choice = score_choice(demo, "GPQA", raw=True)  # the display name works too
    frame = benchmark_frame(board, choice)
    assert frame["value"].iloc[0] == pytest.approx(30.0) and frame["stderr"].iloc[0] == pytest.approx(1.0)
    assert choice.baseline == pytest.approx(25.0)


def test_rescored_checkpoint_keeps_the_newest_row_and_unscored_rows_are_dropped(demo):
    board = _board(
        [
            {"training": "t", "step": 1, "average": 10.0, "date": "2025-01-01"},
            {"training": "t", "step": 1, "average": 12.0, "date": "2025-02-01"},
            {"training": "t", "step": 2, "average": np.nan},
        ]
    )
    frame = benchmark_frame(board, score_choice(demo, "average"))
    assert list(frame["value"]) == [12.0]


def test_unknown_benchmark_names_the_choices(demo):
    with pytest.raises(UnknownBenchmarkError, match="average, ifeval"):
        score_choice(demo, "nope")


def test_cli_best_by_the_average_on_the_demo_store(capsys):
    assert main(["checkpoints", "--benchmark", "average", "--format", "json"]) == 0
    rows = {r["training"]: r for r in json.loads(capsys.readouterr().out)}
    assert len(rows) == 4
    pellet = rows["pellet-collective/Pellet-410M"]
    assert pellet["best_step"] < pellet["final_step"] and pellet["delta"] < 0
    assert all(r["higher_is_better"] and r["rule"].startswith("highest Average") for r in rows.values())


def test_cli_refuses_benchmark_together_with_task(capsys):
    assert main(["checkpoints", "--benchmark", "bbh", "--task", "x", "--metric", "acc"]) == 2
    assert "either --task and --metric, or --benchmark" in capsys.readouterr().err
