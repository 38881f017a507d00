"""Normalization, intervals, averages, ranks and the separation of evaluation settings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lib.analysis.leaderboard import LeaderboardView, build_table
from lib.analysis.ranking import (
    Z95,
    RankingError,
    leaderboard_frame,
    mean_stderr,
    normalize,
    normalize_subtasks,
    rank_frame,
    rank_key,
    rank_positions,
    resolve_benchmarks,
    stat_ranks,
)
from lib.core.config import load_definition
from lib.index import build_index
from tests.factories import result_file

DEMO = load_definition("demo")
MUSR = {
    "leaderboard_musr_murder_mysteries": {"acc_norm": 0.7},
    "leaderboard_musr_object_placements": {"acc_norm": 0.4},
    "leaderboard_musr_team_allocation": {"acc_norm": 0.6},
}


def test_worked_examples_from_the_open_llm_leaderboard():
    assert normalize(0.6, 0.25) == pytest.approx(46.6667, abs=1e-4)
    assert normalize_subtasks([0.7, 0.4, 0.6], [1 / 2, 1 / 5, 1 / 3]) == pytest.approx(35.0)
    assert normalize(0.1, 0.25) == 0.0  # below random guessing clips to 0


def test_worked_examples_through_the_index(tmp_path):
    result_file(tmp_path, "org/a", {"leaderboard_gpqa": {"acc_norm": 0.6}, **MUSR}, stderr=0.03)
    index = build_index(DEMO, str(tmp_path), "")
    frame = leaderboard_frame(index, resolve_benchmarks(DEMO, ["gpqa", "musr"]))
    row = frame.iloc[0]
    assert row["gpqa_norm"] == pytest.approx(46.6667, abs=1e-4)
    assert row["musr_norm"] == pytest.approx(35.0)
    assert row["musr_raw"] == pytest.approx((0.7 + 0.4 + 0.6) / 3)
    assert row["average"] == pytest.approx((46.6667 + 35.0) / 2, abs=1e-4)
    # stderr propagates: gpqa se = 0.03 / 0.75 * 100; musr = sqrt(sum((0.03/(1-b)*100)^2)) / 3
    assert row["gpqa_se"] == pytest.approx(4.0)
    musr_se = math.sqrt(sum((0.03 / (1 - b) * 100) ** 2 for b in (1 / 2, 1 / 5, 1 / 3))) / 3
    assert row["musr_se"] == pytest.approx(musr_se)
    assert row["average_se"] == pytest.approx(mean_stderr([4.0, musr_se]))


def test_a_benchmark_missing_a_subtask_has_no_score(tmp_path):
    partial_musr = dict(list(MUSR.items())[:2])
    result_file(tmp_path, "org/a", {"leaderboard_gpqa": {"acc_norm": 0.6}, **partial_musr})
    index = build_index(DEMO, str(tmp_path), "")
    row = leaderboard_frame(index, resolve_benchmarks(DEMO, ["gpqa", "musr"])).iloc[0]
    assert not row["musr_complete"] and math.isnan(row["average"])


def test_different_n_shot_settings_are_never_mixed(tmp_path):
    result_file(
        tmp_path, "org/a", {"leaderboard_mmlu_pro": {"acc": 0.5}}, shots=5, stamp="2026-01-01T00-00-00.1"
    )
    result_file(
        tmp_path, "org/a", {"leaderboard_mmlu_pro": {"acc": 0.9}}, shots=0, stamp="2026-01-02T00-00-00.1"
    )
    index = build_index(DEMO, str(tmp_path), "")
    # the definition fixes mmlu_pro at 5-shot: the 0-shot run is not used for it
    frame = leaderboard_frame(index, resolve_benchmarks(DEMO, ["mmlu_pro"]))
    assert frame["mmlu_pro_raw"].tolist() == [0.5]
    # an ad-hoc task:metric has no fixed n-shot: two settings give two rows, each with its own shots
    frame = leaderboard_frame(index, resolve_benchmarks(DEMO, ["leaderboard_mmlu_pro:acc"]))
    got = sorted(
        zip(frame["leaderboard_mmlu_pro__acc_shots"], frame["leaderboard_mmlu_pro__acc_raw"], strict=True)
    )
    assert got == [(0, 0.9), (5, 0.5)]


def test_duplicate_results_use_the_newest_file(tmp_path):
    result_file(
        tmp_path, "org/a", {"leaderboard_gpqa": {"acc_norm": 0.4}}, date=1.0, stamp="2026-01-01T00-00-00.1"
    )
    result_file(
        tmp_path, "org/a", {"leaderboard_gpqa": {"acc_norm": 0.5}}, date=2.0, stamp="2026-01-02T00-00-00.1"
    )
    index = build_index(DEMO, str(tmp_path), "")
    frame = leaderboard_frame(index, resolve_benchmarks(DEMO, ["gpqa"]))
    assert frame["gpqa_raw"].tolist() == [0.5]


def test_partial_runs_are_excluded_unless_asked(tmp_path):
    result_file(tmp_path, "org/a", {"leaderboard_gpqa": {"acc_norm": 0.5}})
    result_file(tmp_path, "org/b", {"leaderboard_gpqa": {"acc_norm": 0.9}}, limit=10)
    index = build_index(DEMO, str(tmp_path), "")
    bench = resolve_benchmarks(DEMO, ["gpqa"])
    assert leaderboard_frame(index, bench)["model"].tolist() == ["org/a"]
    assert sorted(leaderboard_frame(index, bench, include_partial=True)["model"]) == ["org/a", "org/b"]


def test_weights_change_the_average(tmp_path):
    result_file(tmp_path, "org/a", {"leaderboard_gpqa": {"acc_norm": 1.0}, "leaderboard_math_hard": {"exact_match": 0.0}},
                shots={"leaderboard_math_hard": 4})  # fmt: skip
    index = build_index(DEMO, str(tmp_path), "")
    bench = resolve_benchmarks(DEMO, ["gpqa", "math"])
    assert leaderboard_frame(index, bench)["average"].item() == pytest.approx(50.0)
    assert leaderboard_frame(index, bench, {"gpqa": 3, "math": 1})["average"].item() == pytest.approx(75.0)
    with pytest.raises(RankingError, match="every weight is zero"):
        leaderboard_frame(index, bench, {"gpqa": 0, "math": 0})


def test_lower_is_better_ranks_ascending(tmp_path):
    for model, ppl in (("org/a", 30.0), ("org/b", 10.0), ("org/c", 20.0)):
        result_file(tmp_path, model, {"wikitext": {"word_perplexity": ppl}}, stderr=None)
    index = build_index(DEMO, str(tmp_path), "")
    bench = resolve_benchmarks(DEMO, ["wikitext:word_perplexity"])
    ranked = rank_frame(leaderboard_frame(index, bench), rank_key(bench, "wikitext:word_perplexity"))
    assert ranked["model"].tolist() == ["org/b", "org/c", "org/a"]
    assert ranked["rank"].tolist() == [1, 2, 3]


def test_statistical_rank_shares_places_when_intervals_overlap():
    scores = np.array([80.0, 79.0, 60.0, np.nan])
    ses = np.array([1.0, 1.0, 1.0, 1.0])
    assert stat_ranks(scores, ses).tolist()[:3] == [1, 1, 3]
    assert math.isnan(stat_ranks(scores, ses)[3])
    # lower is better: the mirror image
    assert stat_ranks(
        np.array([10.0, 11.0, 30.0]), np.array([1.0, 1.0, 1.0]), higher_is_better=False
    ).tolist() == [1, 1, 3]
    # no stderr: intervals are points, so distinct scores get distinct ranks
    assert stat_ranks(np.array([3.0, 2.0, 1.0]), np.array([np.nan] * 3)).tolist() == [1, 2, 3]


def _reference_ranks(values: np.ndarray, ses: np.ndarray, higher_is_better: bool) -> tuple[np.ndarray, list]:
    """The ranking's definition written plainly: competition ranks (ties share the better place), rows in
    rank order with ties in their own order and unscored rows last, and each row's count of intervals
    wholly better than its own, one comparison at a time."""
    ranks = pd.Series(values).rank(method="min", ascending=not higher_is_better).to_numpy()
    order = np.argsort(np.where(np.isnan(ranks), np.inf, ranks), kind="stable")
    width = Z95 * np.nan_to_num(ses, nan=0.0)
    lo, hi = values - width, values + width
    stat = []
    for i in order:
        if np.isnan(values[i]):
            stat.append(None)
            continue
        scored = ~np.isnan(values)
        better = lo[scored] > hi[i] if higher_is_better else hi[scored] < lo[i]
        stat.append(1 + int(better.sum()))
    return order, [None if np.isnan(r) else int(r) for r in ranks[order]], stat


@pytest.mark.parametrize("seed", range(4))
def test_ranks_follow_their_definition_on_generated_scores(seed):
    """Ties (-0.0 and 0.0 too), missing scores and standard errors, infinities and huge values: the fast
    ranking gives the same order, ranks and statistical ranks as the definition."""
    rng = np.random.default_rng(seed)
    pool = np.array([0.0, -0.0, 1.0, 2.5, 3.0, np.nan, np.inf, -np.inf, 1e308, -1e308, 1e-300])
    for trial in range(300):
        n = int(rng.integers(0, 40))
        values = rng.choice(pool, n) if trial % 2 else np.round(rng.normal(size=n), 1)
        ses = rng.choice(np.array([np.nan, 0.0, 0.05, 0.3, 2.0]), n)
        for higher_is_better in (True, False):
            order, ranked = rank_positions(pd.Series(values), ses, higher_is_better)
            want_order, want_ranks, want_stat = _reference_ranks(values, ses, higher_is_better)
            assert order.tolist() == want_order.tolist(), values
            assert [None if r is pd.NA else int(r) for r in ranked["rank"]] == want_ranks, values
            assert [None if r is pd.NA else int(r) for r in ranked["stat_rank"]] == want_stat, values


def test_unknown_benchmark_is_refused_with_the_known_ids():
    with pytest.raises(RankingError, match="use one of ifeval, bbh"):
        resolve_benchmarks(DEMO, ["nope"])


def test_build_table_filters_and_best_checkpoint(tmp_path):
    for step, acc in ((1000, 0.30), (2000, 0.45), (3000, 0.40)):
        result_file(tmp_path, "org/run", {"leaderboard_gpqa": {"acc_norm": acc}}, revision=f"step{step}",
                    stamp=f"2026-01-0{step // 1000}T00-00-00.1")  # fmt: skip
    result_file(tmp_path, "org/other", {"leaderboard_gpqa": {"acc_norm": 0.5}})
    index = build_index(DEMO, str(tmp_path), "")
    view = LeaderboardView(benchmarks=("gpqa",), by="gpqa")
    assert len(build_table(index, DEMO, view).frame) == 4
    best = build_table(
        index, DEMO, LeaderboardView(benchmarks=("gpqa",), by="gpqa", best_checkpoint_only=True)
    )
    assert best.frame[["model", "revision"]].values.tolist() == [
        ["org/other", "main"],
        ["org/run", "step2000"],
    ]
    searched = build_table(index, DEMO, LeaderboardView(benchmarks=("gpqa",), search="other"))
    assert searched.frame["model"].tolist() == ["org/other"]


def test_best_checkpoint_mode_keeps_a_training_without_scores(tmp_path):
    result_file(
        tmp_path,
        "org/run",
        {"leaderboard_gpqa": {"acc_norm": 0.3}},
        revision="step1000",
        stamp="2026-01-01T0-0-0.1",
    )
    result_file(
        tmp_path,
        "org/run",
        {"leaderboard_gpqa": {"acc_norm": 0.4}},
        revision="step2000",
        stamp="2026-01-02T0-0-0.1",
    )
    result_file(
        tmp_path,
        "org/other-run",
        {"lambada_openai": {"acc": 0.4}},
        revision="step5",
        stamp="2026-01-03T0-0-0.1",
    )
    index = build_index(DEMO, str(tmp_path), "")
    view = LeaderboardView(benchmarks=("gpqa", "lambada_openai:acc"), by="gpqa", best_checkpoint_only=True)
    rows = build_table(index, DEMO, view).frame[["model", "revision"]].values.tolist()
    assert rows == [["org/run", "step2000"], ["org/other-run", "step5"]]


@pytest.mark.parametrize("selection", [["gpqa"], ["musr"], ["gpqa", "musr"]])
def test_each_row_keeps_its_own_scores_whether_or_not_every_row_is_scored(tmp_path, selection):
    """Rows without a score for the selection are left out, all rows kept otherwise (the usual case,
    where the score matrix is used as it is): either way each row holds its own model's numbers."""
    scores = {}
    for i in range(12):
        tasks = {}
        if i % 3 != 1:  # every third model has no GPQA
            tasks["leaderboard_gpqa"] = {"acc_norm": 0.3 + 0.05 * i}
        if i % 3 != 2:  # every third other model has no MuSR (each model has one of the two)
            tasks.update({name: {"acc_norm": 0.2 + 0.04 * i} for name in MUSR})
        result_file(tmp_path, f"org/m{i}", tasks)
        scores[f"org/m{i}"] = tasks
    index = build_index(DEMO, str(tmp_path), "")
    frame = leaderboard_frame(index, resolve_benchmarks(DEMO, selection))
    expected = [m for m, tasks in scores.items() if ("gpqa" in selection and "leaderboard_gpqa" in tasks)
                or ("musr" in selection and MUSR.keys() <= tasks.keys())]  # fmt: skip
    assert sorted(frame["model"]) == sorted(expected)
    assert (len(expected) == len(scores)) == (len(selection) == 2)  # both paths taken
    for _, row in frame.iterrows():
        tasks = scores[row["model"]]
        if "gpqa" in selection:
            gpqa = tasks.get("leaderboard_gpqa", {}).get("acc_norm")
            assert math.isnan(row["gpqa_raw"]) if gpqa is None else row["gpqa_raw"] == pytest.approx(gpqa)
        if "musr" in selection:
            musr = tasks.get("leaderboard_musr_murder_mysteries", {}).get("acc_norm")
            assert math.isnan(row["musr_raw"]) if musr is None else row["musr_raw"] == pytest.approx(musr)


@pytest.mark.parametrize("selection", [["gpqa"], ["gpqa", "musr"]])
def test_a_caller_writing_into_the_frame_never_changes_the_next_one(tmp_path, selection):
    """The frame's score columns are the remembered score matrix itself (no copy per page run): a caller
    that writes into the frame it got (a filter filling gaps, a test) must not change what the next
    caller gets, whether every row is scored (the matrix used as it is) or some are left out."""
    for i in range(6):
        tasks = {"leaderboard_gpqa": {"acc_norm": 0.3 + 0.05 * i}}
        if i % 2:
            tasks.update({name: {"acc_norm": 0.2 + 0.04 * i} for name in MUSR})
        result_file(tmp_path, f"org/m{i}", tasks)
    index = build_index(DEMO, str(tmp_path), "")
    benchmarks = resolve_benchmarks(DEMO, selection)
    first = leaderboard_frame(index, benchmarks)
    kept = first.copy()
    first.loc[:, "gpqa_raw"] = -1.0
    first.iloc[0, first.columns.get_loc("gpqa_norm")] = -1.0
    pd.testing.assert_frame_equal(leaderboard_frame(index, benchmarks), kept)
