"""Runs grouped as mean with a band, and trainings aligned on tokens (lib.analysis.checkpoint_groups)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lib.analysis.checkpoint_groups import (
    align_on_tokens,
    group_band,
    group_best,
    group_labels,
    recipe_name,
)
from lib.analysis.checkpoints import value_at_step


def _curves(
    points: dict[str, dict[int, float]], tokens_per_step: dict[str, float] | None = None
) -> pd.DataFrame:
    """curve_frame-shaped rows: training, series, step, tokens, shown (one setting)."""
    rows = []
    for training, values in points.items():
        rate = (tokens_per_step or {}).get(training)
        for step, value in values.items():
            rows.append(
                {
                    "training": training,
                    "series": training,
                    "revision": f"step{step}",
                    "step": step,
                    "tokens": step * rate if rate else np.nan,
                    "shown": value,
                    "value": value,
                    "stderr": 0.01,
                    "higher_is_better": True,
                    "n_shot": 0,
                    "chat_template": False,
                    "limit": np.nan,
                }
            )
    return pd.DataFrame(rows)


# --- group labels ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, recipe",
    [
        ("org/m-seed1", "org/m"),
        ("org/m_seed_12", "org/m"),
        ("org/m.s3", "org/m"),
        ("org/m-run2", "org/m"),
        ("org/m-SEED=4", "org/m"),
        ("org/m-rep1", "org/m"),
        ("org/pythia-160m", "org/pythia-160m"),  # a size is no seed
        ("org/m-seed", "org/m-seed"),  # no number
        ("org/models2", "org/models2"),  # no separator
        ("-seed1", "-seed1"),  # nothing would be left
    ],
)
def test_recipe_is_the_name_without_a_seed_or_run_number(name, recipe):
    assert recipe_name(name) == recipe


def test_group_labels_by_recipe_organization_and_metadata_with_unknowns():
    trainings = pd.DataFrame(
        {
            "training": ["a/m-seed1", "a/m-seed2", "b/x", "local-run"],
            "precision": ["bfloat16", "bfloat16", None, float("nan")],
        }
    )
    assert group_labels(trainings, "recipe") == {
        "a/m-seed1": "a/m",
        "a/m-seed2": "a/m",
        "b/x": "b/x",
        "local-run": "local-run",
    }
    assert group_labels(trainings, "organization")["local-run"] == "organization unknown"
    by_precision = group_labels(trainings, "precision")
    assert by_precision["a/m-seed1"] == by_precision["a/m-seed2"] == "bfloat16"
    assert by_precision["b/x"] == by_precision["local-run"] == "precision unknown"
    # no grouping, or a field the store lacks: every training on its own
    assert group_labels(trainings, "none") == {t: t for t in trainings["training"]}
    assert group_labels(trainings, "architecture") == {t: t for t in trainings["training"]}


# --- mean and band ---------------------------------------------------------------------------------------


def test_mean_with_min_max_and_std_bands_and_the_group_size_in_the_name():
    curves = _curves({"r-seed1": {1: 0.1, 2: 0.4}, "r-seed2": {1: 0.3, 2: 0.6}, "r-seed3": {1: 0.2, 2: 0.8}})
    groups = {t: "r" for t in curves["training"]}
    minmax = group_band(curves, groups, band="minmax").frame.set_index("x")
    assert list(minmax.index) == [1.0, 2.0]
    assert minmax.loc[1.0, "mean"] == pytest.approx(0.2)
    assert (minmax.loc[1.0, "low"], minmax.loc[1.0, "high"]) == pytest.approx((0.1, 0.3))
    assert minmax.loc[2.0, "n"] == 3 and minmax.loc[2.0, "series"] == "r (mean of 3, min–max)"
    std = group_band(curves, groups, band="std").frame.set_index("x")
    spread = float(np.std([0.4, 0.6, 0.8], ddof=1))
    assert (std.loc[2.0, "low"], std.loc[2.0, "high"]) == pytest.approx((0.6 - spread, 0.6 + spread))
    assert std.loc[2.0, "series"] == "r (mean of 3, ± 1 std)"
    with pytest.raises(ValueError):
        group_band(curves, groups, band="quartiles")


def test_steps_not_every_member_has_are_left_out_of_the_mean_and_said():
    curves = _curves({"r-seed1": {1: 0.1, 2: 0.2, 3: 0.3}, "r-seed2": {1: 0.3, 3: 0.5, 4: 0.9}})
    result = group_band(curves, {t: "r" for t in curves["training"]})
    assert list(result.frame["x"]) == [1.0, 3.0]  # 2 and 4: only one member each
    assert result.notes == (
        "r: mean drawn at 2 of 4 step values, where all 2 members have a finite value; 2 where only some "
        "do are left out, not interpolated.",
    )


def test_a_group_of_one_is_its_line_with_no_band():
    curves = _curves({"solo": {1: 0.5, 2: 0.7}})
    frame = group_band(curves, {"solo": "solo"}, band="std").frame
    assert list(frame["mean"]) == list(frame["low"]) == list(frame["high"]) == [0.5, 0.7]
    assert frame["series"].iloc[0] == "solo (mean of 1, no band)"


def test_settings_are_never_averaged_together():
    curves = pd.concat(
        [
            _curves({"r-seed1": {1: 0.1}}).assign(series="r-seed1 (0-shot)"),
            _curves({"r-seed1": {1: 0.9}}).assign(series="r-seed1 (5-shot)", n_shot=5),
            _curves({"r-seed2": {1: 0.3}}).assign(series="r-seed2 (0-shot)"),
        ],
        ignore_index=True,
    )
    frame = group_band(curves, {"r-seed1": "r", "r-seed2": "r"}).frame.set_index("series")
    assert frame.loc["r (0-shot) (mean of 2, min–max)", "mean"] == pytest.approx(0.2)
    assert frame.loc["r (5-shot) (mean of 1, no band)", "mean"] == pytest.approx(0.9)


def test_hostile_values_never_overflow_or_leak_nan():
    """Generated groups with NaN, infinities, values at the float limit, repeated x and groups of one."""
    rng = np.random.default_rng(13)
    hostile = [np.nan, np.inf, -np.inf, 1e308, -1e308, 1.7976931348623157e308, 5e-324, 0.0, -0.0]
    for _ in range(60):
        members = int(rng.integers(1, 5))
        points = {}
        for m in range(members):
            steps = rng.choice(np.arange(0, 12), size=int(rng.integers(1, 10)), replace=False)
            values = rng.normal(0, 1, size=len(steps)) * 10.0 ** rng.integers(-5, 300)
            mask = rng.random(len(steps)) < 0.3
            values[mask] = rng.choice(hostile, size=int(mask.sum()))
            points[f"g-seed{m}"] = dict(zip(steps.tolist(), values.tolist(), strict=True))
        curves = _curves(points)
        for band in ("minmax", "std"):
            frame = group_band(curves, {t: "g" for t in points}, band=band).frame
            if frame.empty:
                continue
            assert np.isfinite(frame[["mean", "low", "high"]].to_numpy(dtype=float)).all(), frame
            assert (frame["n"] == members).all()
            if band == "minmax":
                tol = 1e-12 * np.maximum(frame["low"].abs(), frame["high"].abs())
                assert (frame["low"] - tol <= frame["mean"]).all() and (
                    frame["mean"] <= frame["high"] + tol
                ).all()
                assert (frame["low"] <= frame["high"]).all()
            for x, mean in zip(frame["x"], frame["mean"], strict=True):
                present = [points[t][int(x)] for t in points]
                assert all(math.isfinite(v) for v in present)
                assert mean == pytest.approx(sum(v / members for v in present), rel=1e-9, abs=1e-300)


def test_the_best_of_a_group_is_its_best_mean_earliest_on_a_tie():
    curves = _curves(
        {"r-seed1": {1: 0.1, 2: 0.5, 3: 0.5, 4: 0.2}, "r-seed2": {1: 0.1, 2: 0.5, 3: 0.5, 4: 0.3}}
    )
    frame = group_band(curves, {t: "r" for t in curves["training"]}).frame
    assert group_best(frame, higher_is_better=True)["x"].tolist() == [2.0]
    assert group_best(frame, higher_is_better=False)["x"].tolist() == [1.0]


# --- token alignment --------------------------------------------------------------------------------------


def test_trainings_with_different_tokens_per_step_meet_on_one_token_axis():
    # 'fast' sees 4M tokens per step, 'slow' 2M: step 1000 of fast sits beside step 2000 of slow.
    curves = _curves(
        {"fast": {1000: 0.3, 2000: 0.5}, "slow": {1000: 0.2, 2000: 0.3, 4000: 0.5}},
        {"fast": 4e6, "slow": 2e6},
    )
    aligned = align_on_tokens(curves)
    at = aligned.frame.set_index(["training", "step"])["tokens"]
    assert at[("fast", 1000)] == at[("slow", 2000)] == 4e9
    assert aligned.untimed == () and aligned.estimated == {} and aligned.dropped == {}
    table = value_at_step(aligned.frame, 8_000_000_000, axis="tokens").set_index("training")
    assert table.loc["fast", "step"] == 2000 and table.loc["slow", "step"] == 4000
    assert bool(table.loc["fast", "exact"]) and bool(table.loc["slow", "exact"])
    near = value_at_step(aligned.frame, 5_000_000_000, axis="tokens").set_index("training")
    assert near.loc["slow", "step"] == 2000 and "nearest is 4B (step 2000)" in near.loc["slow", "note"]


def test_missing_and_invalid_token_counts():
    curves = _curves(
        {
            "rated": {0: 0.1, 1000: 0.2, 2000: 0.3, 3000: 0.4},
            "odd": {1000: 0.1, 2000: 0.2, 3000: 0.3},
            "none": {1: 0.5},
        }
    )
    curves.loc[curves["training"] == "rated", "tokens"] = [np.nan, 4e9, np.nan, 12.5e9]  # rounded names
    curves.loc[curves["training"] == "odd", "tokens"] = [1e9, np.nan, 9e9]  # no constant rate
    curves.loc[curves["training"] == "none", "tokens"] = [-5.0]  # not a count
    aligned = align_on_tokens(curves)
    assert aligned.untimed == ("none",)
    assert aligned.estimated == {"rated": 2}
    assert aligned.dropped == {"odd": 1}
    rated = aligned.frame[aligned.frame["training"] == "rated"].set_index("step")
    assert rated.loc[0, "tokens"] == 0 and bool(rated.loc[0, "tokens_estimated"])
    assert rated.loc[2000, "tokens"] == pytest.approx(2000 * 12.5e9 / 3000)
    assert not bool(rated.loc[1000, "tokens_estimated"])
    assert set(aligned.frame.loc[aligned.frame["training"] == "odd", "step"]) == {1000, 3000}


def test_absurd_token_counts_are_no_counts():
    curves = _curves({"t": {1: 0.1, 2: 0.2, 3: 0.3, 4: 0.4}})
    curves["tokens"] = [np.inf, np.nan, "lots", 1e300]
    aligned = align_on_tokens(curves)
    # 1e300 is a finite count: it stays; its rate (1e300 / 4 per step) estimates the others, all finite
    assert np.isfinite(aligned.frame["tokens"]).all()
    assert aligned.estimated == {"t": 3}
