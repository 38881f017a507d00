"""Chart builders as pure functions: the Pareto frontier's points, traces, axes and escaped hover text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.analysis.ranking import Z95
from lib.core.config import load_definition
from lib.views.charts import (
    benchmark_bars_figure,
    best_over_time,
    best_over_time_figure,
    heatmap_figure,
    pareto_frontier,
    radar_figure,
    score_vs_params_figure,
)


@pytest.fixture
def benchmarks():
    definition = load_definition("demo")
    return [definition.benchmark("gpqa"), definition.benchmark("mmlu_pro")]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["small", "mid-weak", "mid", "big", "huge-weak", "no-size", "<b>evil</b>"],
            "precision": ["bfloat16"] * 7,
            "params": [1.0, 7.0, 7.0, 70.0, 400.0, np.nan, 3.0],
            "average": [20.0, 15.0, 30.0, 45.0, 40.0, 99.0, 10.0],
            "gpqa_norm": [10.0, 5.0, 20.0, 30.0, 25.0, 50.0, 1.0],
            "gpqa_se": [1.0, 1.0, 2.0, 2.0, 2.0, 2.0, np.nan],
            "gpqa_raw": [0.3, 0.3, 0.4, 0.5, 0.45, 0.6, 0.26],
            "mmlu_pro_norm": [12.0, 8.0, 25.0, 40.0, 35.0, 60.0, 2.0],
            "mmlu_pro_se": [1.0] * 7,
            "mmlu_pro_raw": [0.2, 0.17, 0.3, 0.46, 0.4, 0.6, 0.12],
            "submitted_time": ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", "", "2026-04-01T00:00:00Z",
                               "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z", "2025-12-01T00:00:00Z"],
            "date": [0.0, 0.0, 1_772_323_200.0, 0.0, 0.0, 0.0, 0.0],  # 'mid' has only its evaluation date
        }
    )  # fmt: skip


def test_pareto_frontier_keeps_models_no_smaller_model_beats():
    front = pareto_frontier(_frame(), "params", "average")
    assert front["model"].tolist() == ["small", "mid", "big"]  # huge-weak is beaten by big; no-size left out


def test_pareto_frontier_for_lower_is_better_and_ties():
    frame = pd.DataFrame({"model": list("abcd"), "params": [1, 1, 2, 3], "ppl": [10.0, 8.0, 9.0, 5.0]})
    assert pareto_frontier(frame, "params", "ppl", higher_is_better=False)["model"].tolist() == ["b", "d"]


def test_score_vs_params_has_log_x_and_the_frontier_trace():
    fig = score_vs_params_figure(_frame(), "average", "Average")
    points, front = fig.data
    assert fig.layout.xaxis.type == "log"
    assert len(points.x) == 6  # the row without a parameter count is not drawn
    assert list(front.x) == [1.0, 7.0, 70.0] and list(front.y) == [20.0, 30.0, 45.0]
    assert front.name == "Pareto frontier"


def test_hover_text_escapes_model_names():
    fig = score_vs_params_figure(_frame(), "average", "Average")
    assert "&lt;b&gt;evil&lt;/b&gt; · bfloat16" in fig.data[0].text
    assert not any("<b>evil" in t for t in fig.data[0].text)


def test_best_score_over_submission_date_is_a_running_maximum():
    record = best_over_time(_frame(), "average")
    assert record["best"].tolist() == [10.0, 20.0, 20.0, 30.0, 45.0, 45.0, 99.0]
    # 'mid' has no submission time: it is placed at its evaluation date (2026-03-01)
    assert record["model"].tolist()[3] == "mid"
    assert str(record["when"].iloc[3].date()) == "2026-03-01"
    fig = best_over_time_figure(_frame(), "average", "Average")
    assert fig.data[1].line.shape == "hv" and len(fig.data[0].x) == 7


def test_heatmap_is_benchmarks_by_models_of_the_view(benchmarks):
    fig = heatmap_figure(_frame(), benchmarks, max_models=3)
    heat = fig.data[0]
    assert list(heat.x) == ["GPQA", "MMLU-PRO"]
    assert len(heat.y) == 3 and heat.y[0].startswith("small")
    assert np.asarray(heat.z).shape == (3, 2) and heat.z[2][1] == 25.0
    raw = heatmap_figure(_frame(), benchmarks, raw=True, max_models=1)
    assert raw.data[0].z[0][0] == pytest.approx(30.0)  # raw shown in %


def test_bars_carry_95_percent_error_bars(benchmarks):
    rows = _frame().head(2)
    fig = benchmark_bars_figure(rows, benchmarks, ["small", "mid-weak"])
    assert len(fig.data) == 2 and fig.layout.barmode == "group"
    assert list(fig.data[0].y) == [10.0, 12.0]
    assert fig.data[0].error_y.array[0] == pytest.approx(Z95 * 1.0)


def test_radar_closes_each_polygon(benchmarks):
    fig = radar_figure(_frame().head(2), benchmarks, ["a", "b"])
    assert len(fig.data) == 2
    assert list(fig.data[0].theta) == ["GPQA", "MMLU-PRO", "GPQA"]
    assert fig.data[0].r[0] == fig.data[0].r[-1]
