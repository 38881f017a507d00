"""AppTest of the model and compare pages: deep links by model, revision and precision, the sections a
user relies on, the samples browser over a store with samples files, and the leaderboard's charts."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import ROOT, entry_script
from tests.factories import request_file, result_file
from tests.samples_fixtures import samples_file

APP = entry_script()
CIRRUS = "meridian-ai/Cirrus-7B"


def _open(page: str, **params: str) -> AppTest:
    """The app opened on ``page`` with ``params`` in the URL, as a shared link does."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(str(ROOT / page)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _frame(at: AppTest, key: str):
    return next(d.value for d in at.dataframe if d.proto.id and key in d.proto.id or False)


def _table(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_model_page_deep_link_picks_the_revision_and_precision():
    at = _open("pages/model.py", model=CIRRUS, revision="stage1-step18000-tokens75B", precision="bfloat16")
    assert at.selectbox[0].value == CIRRUS
    assert at.selectbox[1].value.startswith(f"{CIRRUS}|stage1-step18000")
    assert at.query_params["revision"] == "stage1-step18000-tokens75B"
    scores = _table(at, "Stat. rank")
    assert scores["Benchmark"].tolist()[:2] == ["IFEval", "BBH"]
    assert (scores["Normalized 95% low"] <= scores["Normalized"]).all()
    assert scores["Rank"].notna().all()
    provenance = _table(at, "lm-eval")
    assert len(provenance) == 20 and provenance["Revision"].iloc[0] == "stage1-step18000-tokens75B"
    history = _table(at, "Status")
    assert {"PENDING", "RUNNING", "FINISHED"} <= set(history["Status"])


def test_model_page_shows_hub_metadata_and_unknowns():
    at = _open("pages/model.py", model=CIRRUS)
    meta = _table(at, "License").iloc[0]
    assert meta["License"] == "apache-2.0" and meta["Parameters"] == "7.3 B"
    assert meta["Base model"] == "unknown"
    assert any("Compare" in str(link.proto.label) for link in at.get("page_link"))


def test_model_page_with_an_unknown_model_says_so():
    at = _open("pages/model.py", model="nobody/nothing")
    assert any("No evaluation of this model" in e.value for e in at.error)


@pytest.fixture
def samples_store(tmp_path, monkeypatch):
    """A results store where one model has samples files and a partial run, pointed at by the app."""
    results, requests = tmp_path / "results", tmp_path / "requests"
    scores = {"leaderboard_gpqa": {"acc_norm": 0.5}, "leaderboard_mmlu_pro": {"acc": 0.4}}
    path = result_file(results, "org/sampled", scores, shots={"leaderboard_mmlu_pro": 5})
    samples_file(path, "leaderboard_gpqa", [i % 4 == 0 for i in range(40)], metric="acc_norm")
    samples_file(path, "leaderboard_mmlu_pro", [i % 2 == 0 for i in range(30)])
    result_file(results, "org/sampled", scores, limit=10, stamp="2026-01-02T00-00-00.000000", date=1.8e9)
    result_file(results, "org/other", {"leaderboard_gpqa": {"acc_norm": 0.3}})
    request_file(
        requests, "org/sampled", license="<script>x</script>", flagged="bad *merge* [link](http://x)"
    )
    monkeypatch.setenv("LEADERBOARD_RESULTS", str(results))
    monkeypatch.setenv("LEADERBOARD_REQUESTS", str(requests))
    return results


def test_samples_browser_filters_by_task_and_correctness(samples_store):
    at = _open("pages/model.py", model="org/sampled", precision="bfloat16")
    assert len(_table(at, "response")) == 30  # every task, first metric: acc (MMLU-PRO)
    at.multiselect(key="samples_tasks").set_value(["leaderboard_gpqa"]).run()
    assert len(_table(at, "response")) == 40  # GPQA acc_norm
    at.segmented_control(key="samples_correct").set_value("wrong").run()
    wrong = _table(at, "response")
    assert len(wrong) == 30 and (wrong["correct"] == 0).all()
    at.multiselect(key="samples_tasks").set_value(["leaderboard_mmlu_pro"]).run()
    assert len(_table(at, "response")) == 15
    assert any("15 of 30 samples" in c.value for c in at.caption)


def test_hostile_text_is_plain_and_partial_runs_are_warned(samples_store):
    at = _open("pages/model.py", model="org/sampled")
    meta = _table(at, "License").iloc[0]
    assert meta["License"] == "<script>x</script>"  # a cell of a table, not HTML
    flag = next(w.value for w in at.warning if "Flagged" in w.value)
    assert "\\*merge\\*" in flag and "\\[link\\]" in flag  # Markdown escaped
    assert not any(w.value.startswith("Partial run") for w in at.warning)  # the full run opens first
    at.selectbox[1].set_value("org/sampled|main|bfloat16|false|10.0").run()  # the partial run (limit 10)
    assert any(w.value.startswith("Partial run") for w in at.warning)


def test_compare_page_from_a_link_shows_deltas_and_settings():
    a = f"{CIRRUS}|stage1-step54000-tokens226B|bfloat16"
    at = _open("pages/compare.py", m=f"{a},bluefin-research/Bluefin-0.5B")
    assert len(at.multiselect[0].value) == 2
    deltas = _table(at, "Significant")
    assert len(deltas) == 6 and set(deltas["Significant"]) <= {"significant", "not significant", "unknown"}
    assert (deltas["Versus"] == CIRRUS).all()
    check = _table(at, "Setting")
    assert "Precision" in check["Setting"].tolist()
    assert len(at.get("plotly_chart")) == 2
    assert at.query_params["m"].startswith(a + ",bluefin-research/Bluefin-0.5B|")


def test_compare_page_with_one_model_asks_for_more():
    at = _open("pages/compare.py", m="bluefin-research/Bluefin-0.5B")
    assert any("Pick 2 to 4" in i.value for i in at.info)
    assert not at.get("plotly_chart")


@pytest.mark.parametrize("chart", ["size", "time", "heatmap"])
def test_leaderboard_charts_follow_the_url(chart):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["chart"] = chart
    at.query_params["q"] = "Bluefin"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    assert at.query_params["chart"] == chart


def test_normalized_interval_stays_within_what_a_normalized_score_can_take():
    """A score just above the random baseline has a wide interval: its low end is 0, never -2.74."""
    import numpy as np
    import pandas as pd

    from lib.core.config import load_definition
    from lib.views.model import benchmark_table

    benchmarks = load_definition().benchmarks
    row = {"row_key": "m"}
    for i, bench in enumerate(benchmarks):
        near_zero, near_top = 0.56, 99.5
        row |= {f"{bench.id}_raw": 0.3, f"{bench.id}_raw_se": 0.02,
                f"{bench.id}_norm": near_zero if i % 2 == 0 else near_top, f"{bench.id}_se": 1.68}  # fmt: skip
    ranks = pd.DataFrame(
        {f"{b.id}_{k}": [1] for b in benchmarks for k in ("rank", "stat_rank", "of")}, index=["m"]
    )
    table = benchmark_table(pd.Series(row), ranks, benchmarks)
    bounded = [b.higher_is_better for b in benchmarks]
    low, high = table["Normalized 95% low"][bounded], table["Normalized 95% high"][bounded]
    assert (low >= 0).all() and (high <= 100).all()
    assert (low <= table["Normalized"][bounded]).all() and (table["Normalized"][bounded] <= high).all()
    assert np.isclose(table["Normalized 95% low"].iloc[0], 0.0)
    assert np.isclose(table["Normalized 95% high"].iloc[0], 0.56 + 1.959964 * 1.68, atol=1e-4)
