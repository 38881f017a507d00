"""The Checkpoints page (AppTest) and ``python -m lib checkpoints`` over a small results store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lib.cli import main

ROOT = Path(__file__).resolve().parents[1]
REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
# Two trainings: 'lab/rise' peaks before its end; 'lab/holey' misses steps 4000-8000.
CURVES = {
    "lab/rise": {1000: 0.30, 2000: 0.40, 3000: 0.55, 4000: 0.50, 5000: 0.52},
    "lab/holey": {1000: 0.20, 2000: 0.25, 3000: 0.30, 4000: 0.35, 9000: 0.45, 10000: 0.47},
}


def _write_store(folder: Path) -> Path:
    """v0.3-style result files, one per checkpoint, with the checkpoint in the revision."""
    for training, points in CURVES.items():
        for step, acc in points.items():
            data = {
                "results": {"toy_task": {"acc": acc, "acc_stderr": 0.01, "ppl": 10 / acc, "ppl_stderr": 0.1}},
                "versions": {"toy_task": 0},
                "config": {"model_args": f"pretrained={training},revision=step{step}", "num_fewshot": 0},
            }
            path = folder / training.replace("/", "__") / f"step{step}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data), encoding="utf-8")
    return folder


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = _write_store(tmp_path / "results")
    monkeypatch.setenv("LEADERBOARD_RESULTS", str(folder))
    monkeypatch.setenv("LEADERBOARD_REQUESTS", str(tmp_path / "requests"))
    (tmp_path / "requests").mkdir()
    st.cache_data.clear()
    st.cache_resource.clear()
    return folder


def _page(query: dict[str, str] | None = None) -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / "checkpoints.py"), default_timeout=60)
    for key, value in (query or {}).items():
        app.query_params[key] = value
    return app.run()


def _figure(app: AppTest) -> dict:
    charts = app.get("plotly_chart")
    assert charts, "no plotly chart drawn"
    return json.loads(charts[0].proto.spec)


def test_page_draws_one_curve_per_training_with_the_best_starred(store):
    app = _page()
    assert not app.exception
    figure = _figure(app)
    stars = {t["name"]: t["x"] for t in figure["data"] if t["name"].startswith("best: ")}
    assert stars == {"best: lab/holey": [10000], "best: lab/rise": [3000]}
    table = app.dataframe[0].value.set_index("Training")
    assert table.loc["lab/rise", "Best step"] == 3000 and table.loc["lab/rise", "Final step"] == 5000


def test_page_breaks_the_line_across_a_gap_and_says_so(store):
    app = _page()
    lines = {t["name"]: t for t in _figure(app)["data"] if t.get("mode") == "lines"}
    assert None in lines["lab/holey"]["x"]
    assert None not in lines["lab/rise"]["x"]
    assert any("4,000–9,000" in c.value for c in app.caption)


def test_shared_url_restores_metric_direction_and_value_at_step(store):
    app = _page({"task": "toy_task", "metric": "ppl", "train": "lab/rise", "at": "2500"})
    assert not app.exception
    figure = _figure(app)
    stars = {t["name"]: t["x"] for t in figure["data"] if t["name"].startswith("best: ")}
    assert stars == {"best: lab/rise": [3000]}  # lowest ppl = highest acc
    assert any("lowest ppl" in c.value for c in app.caption)
    at_step = app.dataframe[1].value
    assert list(at_step["Step"]) == [2000] and "nearest is step 2000" in at_step["Note"].iloc[0]


def test_smoothing_changes_the_rule_and_goes_into_the_url(store):
    app = _page()
    app.slider[0].set_value(3).run()
    assert any("mean of 3 neighbouring checkpoints" in c.value for c in app.caption)
    assert app.query_params.get("smooth") in ("3", ["3"])


def test_cli_json_over_the_store(store, capsys):
    code = main(
        ["checkpoints", "--results", str(store), "--task", "toy_task", "--metric", "acc", "--format", "json"]
    )
    assert code == 0
    rows = {r["training"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["lab/rise"]["best_step"] == 3000 and rows["lab/rise"]["final_step"] == 5000
    assert rows["lab/rise"]["higher_is_better"] is True and rows["lab/rise"]["n_checkpoints"] == 5
    assert rows["lab/holey"]["best_revision"] == "step10000" and rows["lab/holey"]["num_fewshot"] == 0


def test_cli_unknown_metric_names_the_known_ones(store, capsys):
    code = main(["checkpoints", "--results", str(store), "--task", "toy_task", "--metric", "f1"])
    assert code == 1
    assert "acc,none" in capsys.readouterr().err


def test_cli_on_the_real_pythia_files(capsys):
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} not present")
    args = [
        "checkpoints",
        "--results",
        str(REAL),
        "--task",
        "lambada_openai",
        "--metric",
        "ppl",
        "--format",
        "json",
    ]
    assert main(args) == 0
    rows = {r["training"].rsplit("/", 1)[-1]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["pythia-v1.1-160m"]["best_step"] == 63000
    assert rows["pythia-v1.1-160m-deduped"]["best_step"] == 93000
    assert rows["pythia-v1.1-160m"]["higher_is_better"] is False


@pytest.fixture
def demo_store(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LEADERBOARD_RESULTS", "LEADERBOARD_REQUESTS", "LEADERBOARD_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()


def test_demo_store_opens_on_lambada_accuracy_with_four_trainings(demo_store):
    app = _page()
    assert not app.exception
    stars = {t["name"] for t in _figure(app)["data"] if t["name"].startswith("best: ")}
    assert len(stars) == 4
    assert any("highest acc" in c.value for c in app.caption)


def test_best_by_a_benchmark_says_its_rule_and_draws_the_baseline(demo_store):
    app = _page({"by": "bbh", "view": "normalized"})
    assert not app.exception
    figure = _figure(app)
    assert len([t for t in figure["data"] if t["name"].startswith("best: ")]) == 4
    assert figure["layout"]["shapes"][0]["y0"] == 0.0  # the random baseline on the normalized scale
    assert any("highest BBH (normalized)" in c.value for c in app.caption)
    assert app.query_params.get("by") in ("bbh", ["bbh"])


def test_hostile_comparison_links_are_clamped_or_explained_never_raise(store):
    """More panels than allowed, unknown scores, fields, bands and trainings in the link."""
    scores = [
        "toy_task:ppl",
        "toy_task:acc",
        "average",
        "bench:bbh",
        "bench:gpqa",
        "bench:mmlu_pro",
        "bench:ifeval",
    ]
    app = _page(
        {
            "task": "toy_task",
            "metric": "acc",
            "more": ",".join([*scores, "nope:x", "<b>x</b>"]),
            "group": "'; DROP TABLE evaluations; --",
            "band": "quartiles",
            "hide": "lab/rise,unknown/run",
        }
    )
    assert not app.exception
    warnings = " ".join(w.value for w in app.warning)
    assert "not known here" in warnings and "At most 6 panels" in warnings
    figure = _figure(app)
    # lab/rise hidden; toy_task acc (chosen twice) and ppl have a panel; the demo benchmarks none here
    assert {t.get("legendgroup") for t in figure["data"]} - {None} == {"lab/holey"}
    assert sorted(k for k in figure["layout"] if k.startswith("yaxis")) == ["yaxis", "yaxis2"]
    assert any("Hidden (still chosen): lab/rise" in c.value for c in app.caption)
    assert app.query_params.get("group") in (None, [])  # replaced by the default, so not in the link


def test_every_training_hidden_says_how_to_bring_one_back(store):
    app = _page({"task": "toy_task", "metric": "acc", "hide": "lab/rise,lab/holey"})
    assert not app.exception
    assert any("Every chosen training is hidden" in i.value for i in app.info)
    assert not app.get("plotly_chart")
