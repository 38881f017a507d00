"""The ranked view without copying it: ``build_table`` filters and ranks by positions and copies only the
rows asked for (the grid's first rows on a rerun). What a user sees and downloads must be exactly what
filtering and ranking a copy of the whole frame gave (``apply_filters`` then ``rank_frame``), for both
score kinds, on a generated store with ties, missing subtasks, missing standard errors, trainings with
checkpoints and a lower-is-better benchmark."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from lib.analysis.leaderboard import (
    LeaderboardView,
    apply_filters,
    best_checkpoint_rows,
    build_table,
    display_frame,
    order_options,
    unfiltered_frame,
)
from lib.analysis.ranking import RankingError, rank_frame, rank_key, resolve_benchmarks
from lib.core.config import load_definition
from lib.index import build_index
from lib.ui import leaderboard as ui
from lib.ui import memo
from tests.factories import request_file, result_file

DEMO = load_definition("demo")
BENCHMARKS = ("gpqa", "musr", "math", "mmlu_pro", "wikitext:word_perplexity")
MUSR = (
    "leaderboard_musr_murder_mysteries",
    "leaderboard_musr_object_placements",
    "leaderboard_musr_team_allocation",
)
GRID = (0.1, 0.25, 0.3, 0.45, 0.6, 0.6, 0.9)  # few values: many ties, some below the random baseline
TYPES = ("🟢 : pretrained", "💬 : chat", "🔶 : fine-tuned")


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """142 generated evaluations: 102 models (some with a request) and 8 trainings of 5 checkpoints."""
    root = tmp_path_factory.mktemp("view")
    results, requests = root / "results", root / "requests"
    rng = np.random.default_rng(14)
    runs = [(f"org{i % 7}/model-{i:03d}", "main") for i in range(100)]
    runs += [(f"lab{t}/run-{t}", f"step{1000 * (k + 1)}") for t in range(8) for k in range(5)]
    runs += [("ORG1/Zeta-Upper", "main"), ("Org2/alpha-Mixed", "main")]  # text orders without regard to case
    for n, (model, revision) in enumerate(runs):
        scores: dict[str, dict[str, float]] = {}
        for task, metric in (("leaderboard_gpqa", "acc_norm"), ("leaderboard_math_hard", "exact_match"),
                             ("leaderboard_mmlu_pro", "acc"), ("wikitext", "word_perplexity")):  # fmt: skip
            if rng.random() < 0.9:
                value = float(rng.choice(GRID))
                scores[task] = {metric: value * 40 if metric == "word_perplexity" else value}
        for task in MUSR:
            if rng.random() < 0.93:  # a missing subtask: MuSR has no score
                scores[task] = {"acc_norm": float(rng.choice(GRID))}
        stderr = None if rng.random() < 0.2 else float(rng.choice((0.01, 0.02, 0.05)))
        dtype = str(rng.choice(("bfloat16", "float16", "float32")))
        result_file(results, model, scores, revision=revision, dtype=dtype, stderr=stderr,
                    stamp=f"2026-01-01T00-00-{n:02d}.{n:06d}")  # fmt: skip
        if revision == "main" and rng.random() < 0.5:
            request_file(requests, model, precision=dtype, model_type=str(rng.choice(TYPES)),
                         params=float(rng.choice((0.5, 3.0, 7.0, 70.0, 140.0))))  # fmt: skip
    return build_index(DEMO, str(results), str(requests))


VIEWS = (
    LeaderboardView(benchmarks=BENCHMARKS),
    LeaderboardView(benchmarks=BENCHMARKS, by="gpqa"),
    LeaderboardView(benchmarks=BENCHMARKS, by="musr", hide=()),
    LeaderboardView(benchmarks=BENCHMARKS, by="wikitext:word_perplexity"),  # lower is better
    LeaderboardView(benchmarks=BENCHMARKS, search="org3"),
    LeaderboardView(benchmarks=BENCHMARKS, search="nothing matches this"),
    LeaderboardView(benchmarks=BENCHMARKS, precisions=("float16",), by="math"),
    LeaderboardView(benchmarks=BENCHMARKS, categories=("chat", "pretrained"), sizes=("Edge", "Mid-range")),
    LeaderboardView(benchmarks=BENCHMARKS, best_checkpoint_only=True),
    LeaderboardView(benchmarks=BENCHMARKS, best_checkpoint_only=True, by="wikitext:word_perplexity"),
    LeaderboardView(benchmarks=BENCHMARKS, weights={"gpqa": 3.0, "musr": 0.0, "math": 1.0, "mmlu_pro": 0.5}),
    LeaderboardView(benchmarks=("gpqa", "math"), params_range=(1.0, 100.0)),
)


def _copied_whole(index, view: LeaderboardView) -> pd.DataFrame:
    """The view as it was ranked before: a filtered copy of the whole frame, then ranked."""
    benchmarks = resolve_benchmarks(DEMO, list(view.benchmarks))
    filtered, _ = apply_filters(unfiltered_frame(index, DEMO, view), view)
    key = rank_key(benchmarks, view.by, raw=view.raw)
    if view.best_checkpoint_only:
        filtered = best_checkpoint_rows(filtered, key.column, key.higher_is_better)
    return rank_frame(filtered, key)


@pytest.mark.parametrize("raw", [False, True], ids=["normalized", "raw"])
@pytest.mark.parametrize("view", VIEWS, ids=range(len(VIEWS)))
def test_the_view_shows_and_downloads_what_ranking_a_copy_of_every_row_gave(index, view, raw):
    view = replace(view, raw=raw)
    expected = _copied_whole(index, view)
    table = build_table(index, DEMO, view)
    assert table.rows == len(expected)
    for n in (0, 1, 7, 40, len(expected) + 5):  # the grid's first rows, as PAGE_ROWS and "Show more" send
        pd.testing.assert_frame_equal(table.head(n), expected.head(n))
        whole = display_frame(replace(table), raw)  # a fresh table: nothing copied yet
        # no row: a text column is inferred as object, as shaping an empty copy always gave
        pd.testing.assert_frame_equal(display_frame(table, raw, rows=n), whole.head(n), check_dtype=n > 0)
    pd.testing.assert_frame_equal(table.frame, expected)  # the downloads and charts: every row
    picked = [p for p in (3, 0, 11) if p < len(expected)]
    pd.testing.assert_frame_equal(table.take(picked), expected.iloc[picked].reset_index(drop=True))
    pd.testing.assert_series_equal(table.column("model"), expected["model"], check_names=False)


@pytest.mark.parametrize("raw", [False, True], ids=["normalized", "raw"])
def test_a_rerun_shapes_only_the_rows_sent_and_the_downloads_cover_every_row(index, raw, monkeypatch):
    memo.clear()
    monkeypatch.setattr(ui, "PAGE_ROWS", 9)
    view = LeaderboardView(benchmarks=BENCHMARKS, raw=raw)
    table = build_table(index, DEMO, view)
    head, _, arrow = ui._shaped_head(table, raw, 9)
    assert "frame" not in vars(table)  # no copy of every row for the grid's first nine
    assert memo._cells(table) == table.rows * (table.source.shape[1] + 4)  # counted, but not copied
    assert "frame" not in vars(table)
    full = display_frame(replace(table), raw)
    assert list(head["Rank"]) == list(full["Rank"].head(9))
    assert [ui.model_from_link(m) for m in head["Model"]] == list(full["Model"].head(9))
    pd.testing.assert_series_equal(head["Average"], full["Average"].head(9))
    assert arrow is not None and arrow.num_rows == 9
    downloaded = display_frame(table, raw)  # what the CSV and Parquet buttons write
    assert len(downloaded) == table.rows == len(_copied_whole(index, view)) > 9
    pd.testing.assert_frame_equal(downloaded, full)


def test_the_generated_store_has_what_the_comparison_needs(index):
    """Ties, rows without a score (listed last), intervals of zero width and several trainings."""
    frame = build_table(index, DEMO, LeaderboardView(benchmarks=BENCHMARKS, by="gpqa", hide=())).frame
    assert len(frame) > 100
    assert frame["rank"].dropna().duplicated().any()  # ties
    assert frame["gpqa_norm"].isna().any() and frame["gpqa_norm"].tail(1).isna().all()
    assert frame["musr_complete"].eq(False).any()
    assert (frame["training"].fillna("") != "").sum() == 40


ORDERS = ("model", "params", "submitted", "type", "precision", "training", "step", "likes", "average", "gpqa",
          "musr", "wikitext__word_perplexity")  # fmt: skip


def _missing(value) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and np.isnan(value))
        or value == ""
    )


@pytest.mark.parametrize("raw", [False, True], ids=["normalized", "raw"])
@pytest.mark.parametrize("descending", [True, False], ids=["descending", "ascending"])
@pytest.mark.parametrize("key", ORDERS)
def test_ordering_the_whole_view_sorts_every_row_by_what_the_column_shows(index, key, descending, raw):
    """'Order all rows by' sorts every row of the view by the value its column shows (text without
    regard to case, missing values last), ties kept in rank order; each row keeps its rank."""
    chosen = ("gpqa", "musr", "wikitext:word_perplexity")  # the average is over the first two
    ranked = LeaderboardView(benchmarks=chosen, raw=raw, hide=(), search="org1;org2;lab")
    by_rank = build_table(index, DEMO, ranked)
    shown = display_frame(by_rank, raw)[order_options(by_rank.benchmarks)[key]].tolist()
    if key == "submitted":  # ordered as times (text from request files), what does not read as one last
        shown = [None if _missing(v) else pd.Timestamp(v) for v in shown]
    present = [i for i, v in enumerate(shown) if not _missing(v)]
    text = isinstance(shown[present[0]], str)
    present.sort(key=lambda i: shown[i].casefold() if text else shown[i], reverse=descending)  # stable
    expected = by_rank.take(present + [i for i, v in enumerate(shown) if _missing(v)])
    table = build_table(index, DEMO, replace(ranked, order_by=key, descending=descending))
    assert table.rows == by_rank.rows > 30 and len(present) > 5
    pd.testing.assert_frame_equal(table.frame, expected)
    pd.testing.assert_frame_equal(table.head(9), expected.head(9))  # what the grid is sent
    assert table.order_label.endswith("descending" if descending else "ascending")


def test_ordering_by_an_unknown_key_is_refused_with_the_known_ones(index):
    with pytest.raises(RankingError, match="cannot order the view by 'bogus'.*params"):
        build_table(index, DEMO, LeaderboardView(benchmarks=BENCHMARKS, order_by="bogus"))
