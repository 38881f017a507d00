"""Comparisons: deltas marked significant or not from the intervals, paired over samples when both sides
have samples files, the settings check, deep-link keys, and reading samples files."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lib.analysis.compare import (
    CompareError,
    check_count,
    compare_settings,
    delta_table,
    paired_errors,
    paired_se,
    select_rows,
    settings_check,
    significance,
    triple_key,
)
from lib.analysis.ranking import leaderboard_frame
from lib.analysis.samples import filter_samples, find_samples, parse_sample_lines, read_samples
from lib.core.config import load_definition
from lib.index import build_index
from lib.stores import open_store
from tests.factories import result_file
from tests.samples_fixtures import sample_line, samples_file

GPQA = "leaderboard_gpqa"
MMLU = "leaderboard_mmlu_pro"


@pytest.fixture
def definition():
    return load_definition("demo")


def _rows(**benchmarks) -> pd.DataFrame:
    """Two constructed rows; each keyword is bench id -> ((norm_a, se_a), (norm_b, se_b))."""
    data = {"model": ["org/a", "org/b"], "precision": ["bfloat16"] * 2, "revision": ["main"] * 2}
    for bench_id, ((na, sa), (nb, sb)) in benchmarks.items():
        data[f"{bench_id}_norm"] = [na, nb]
        data[f"{bench_id}_se"] = [sa, sb]
    return pd.DataFrame(data)


def test_significance_from_the_interval_of_the_difference():
    assert significance(5.0, 2.0) == "significant"  # 5 > 1.96 * 2
    assert significance(3.0, 2.0) == "not significant"
    assert significance(-5.0, 2.0) == "significant"
    assert significance(5.0, math.nan) == "unknown"


def test_delta_table_marks_constructed_cases(definition):
    gpqa, mmlu = definition.benchmark("gpqa"), definition.benchmark("mmlu_pro")
    # gpqa: 10 points apart with se 2 each -> se_diff 2.83, significant; mmlu: 3 apart -> not significant
    rows = _rows(gpqa=((40.0, 2.0), (50.0, 2.0)), mmlu_pro=((30.0, 2.0), (33.0, 2.0)))
    table = delta_table(rows, [gpqa, mmlu]).set_index("Benchmark")
    assert table.loc["GPQA", "Delta"] == pytest.approx(10.0)
    assert table.loc["GPQA", "Significant"] == "significant"
    assert table.loc["GPQA", "95% low"] == pytest.approx(10 - 1.959964 * math.hypot(2, 2), abs=1e-4)
    assert table.loc["MMLU-PRO", "Significant"] == "not significant"
    assert (table["Method"] == "independent").all()
    assert (table["Model"] == "org/b").all() and (table["Versus"] == "org/a").all()


def test_missing_stderr_is_unknown_not_significant(definition):
    rows = _rows(gpqa=((40.0, np.nan), (60.0, 2.0)))
    table = delta_table(rows, [definition.benchmark("gpqa")])
    assert table["Significant"].iloc[0] == "unknown"


def test_paired_errors_replace_the_independent_ones(definition):
    rows = _rows(gpqa=((40.0, 3.0), (43.0, 3.0)))
    from lib.analysis.compare import Paired

    table = delta_table(rows, [definition.benchmark("gpqa")], {(1, "gpqa"): Paired(1.0, 400)})
    assert table["Significant"].iloc[0] == "significant"  # 3 > 1.96 with the paired se, not with 4.24
    assert table["Method"].iloc[0] == "paired over 400 samples"


def _frame(task: str, values: list[float]) -> pd.DataFrame:
    rows = [
        {"task": task, "doc_id": i, "filter": "none", "metric": "acc_norm", "value": v}
        for i, v in enumerate(values)
    ]
    return pd.DataFrame(rows)


def test_paired_se_is_the_se_of_per_sample_differences(definition):
    gpqa = definition.benchmark("gpqa")
    rng = np.random.default_rng(0)
    a = (rng.random(400) < 0.5).astype(float)
    b = a.copy()
    flip = rng.choice(400, 20, replace=False)
    b[flip] = 1 - b[flip]  # the two models agree on 380 of 400 questions
    hit = paired_se(_frame(GPQA, list(b)), _frame(GPQA, list(a)), gpqa)
    expected = np.std(b - a, ddof=1) / math.sqrt(400) * 100 / 0.75
    assert hit.n_docs == 400 and hit.se == pytest.approx(expected)
    independent = math.hypot(*(np.std(x, ddof=1) / math.sqrt(400) * 100 / 0.75 for x in (a, b)))
    assert hit.se < independent / 2  # pairing removes the shared question difficulty


def test_paired_se_needs_samples_for_every_component(definition):
    musr = definition.benchmark("musr")
    only_one = _frame("leaderboard_musr_murder_mysteries", [1, 0, 1])
    assert paired_se(only_one, only_one, musr) is None


def test_select_rows_by_row_key_or_triple_in_url_order():
    frame = pd.DataFrame(
        {
            "row_key": ["a|s1|bf16|False|full", "b|s2|fp16|False|full", "b|s2|fp16|False|20.0"],
            "model": ["a", "b", "b"], "revision": ["main", "main", "main"], "sha": ["s1", "s2", "s2"],
            "precision": ["bf16", "fp16", "fp16"], "limit_n": [np.nan, np.nan, 20.0],
        }
    )  # fmt: skip
    rows, missing = select_rows(frame, ["b|main|fp16", "a|s1|bf16|False|full", "zzz|main|x"])
    assert list(rows["row_key"]) == ["b|s2|fp16|False|full", "a|s1|bf16|False|full"]  # full run first
    assert missing == ["zzz|main|x"]
    assert triple_key(frame.iloc[0]) == "a|s1|bf16"
    with pytest.raises(CompareError):
        check_count(rows.head(1))


@pytest.fixture
def paired_store(tmp_path, definition):
    """Two models on GPQA with samples files; a third without, run with a chat template and MMLU-PRO 3-shot."""
    results = tmp_path / "results"
    mmlu = {"leaderboard_mmlu_pro": {"acc": 0.3}}
    a = result_file(results, "org/alpha", {GPQA: {"acc_norm": 0.50}, **mmlu}, stderr=0.025, shots={MMLU: 5})
    b = result_file(results, "org/beta", {GPQA: {"acc_norm": 0.53}}, stderr=0.025)
    result_file(
        results,
        "org/gamma",
        {GPQA: {"acc_norm": 0.40}, **mmlu},
        shots={MMLU: 3},
        extra={"chat_template": "{{x}}"},
    )
    outcomes = [i % 2 == 0 for i in range(400)]
    samples_file(a, GPQA, outcomes, metric="acc_norm")
    better = [ok or i % 10 == 1 for i, ok in enumerate(outcomes)]  # beta also gets 40 more right
    samples_file(b, GPQA, better, metric="acc_norm")
    index = build_index(definition, str(results), str(tmp_path / "requests"))
    frame = leaderboard_frame(index, definition.benchmarks, include_partial=True)
    return index, frame


def test_paired_errors_from_samples_files_beside_the_results(paired_store, definition):
    index, frame = paired_store
    rows, _ = select_rows(frame, ["org/alpha", "org/beta", "org/gamma"])
    gpqa = [definition.benchmark("gpqa")]
    paired = paired_errors(index.results, rows, gpqa)
    assert set(paired) == {(1, "gpqa")}  # gamma has no samples: stays independent
    assert paired[(1, "gpqa")].n_docs == 400
    table = delta_table(rows, gpqa, paired)
    assert table["Method"].tolist() == ["paired over 400 samples", "independent"]


def test_settings_check_flags_nshot_and_chat_template(paired_store, definition):
    index, frame = paired_store
    rows, _ = select_rows(frame, ["org/alpha", "org/gamma"])
    check = settings_check(rows, compare_settings(index, rows, definition.benchmarks), definition.benchmarks)
    check = check.set_index("Setting")
    assert (
        check.loc["n-shot: MMLU-PRO", "org/alpha"] == "5"
        and check.loc["n-shot: MMLU-PRO", "org/gamma"] == "3"
    )
    assert "differs" in check.loc["n-shot: MMLU-PRO", "Same"]
    assert "same" in check.loc["n-shot: GPQA", "Same"]
    assert "differs" in check.loc["Chat template", "Same"]
    assert "same" in check.loc["lm-eval version", "Same"]
    assert "same" in check.loc["Precision", "Same"] and "same" in check.loc["Limit", "Same"]
    assert check.loc["n-shot: BBH", "Same"] == "❔ unknown"  # neither ran BBH


def test_samples_are_found_read_and_filtered(paired_store):
    index, _ = paired_store
    eval_id = index.query("model_evaluations", {"model": "org/alpha"})["eval_id"].iloc[0]
    files = find_samples(index.results, eval_id)
    assert [f.task for f in files] == [GPQA]
    frame = read_samples(index.results, files)
    assert len(frame) == 400 and set(frame["metric"]) == {"acc_norm"}
    wrong = filter_samples(frame, [GPQA], "acc_norm", "wrong")
    assert len(wrong) == 200 and (wrong["correct"] == 0).all()
    assert len(filter_samples(frame, correctness="correct", text="question 10?")) == 1
    assert frame["prompt"].iloc[0].startswith("Question 0?")


def test_samples_through_a_store_without_local_paths(paired_store, monkeypatch):
    index, _ = paired_store
    store = open_store(index.results.location)
    monkeypatch.setattr(store, "local_path", lambda path: None)
    eval_id = index.query("model_evaluations", {"model": "org/beta"})["eval_id"].iloc[0]
    assert [f.task for f in find_samples(store, eval_id)] == [GPQA]


def test_sample_lines_survive_junk_and_list_metrics():
    good = sample_line(0, True)
    ifeval = {
        **sample_line(1, False, "inst_level_strict_acc"),
        "inst_level_strict_acc": [True, False, True, True],
    }
    data = (
        b"not json\n"
        + (str.encode(__import__("json").dumps(good)) + b"\n")
        + __import__("json").dumps(ifeval).encode()
    )
    rows = parse_sample_lines("t", data)
    assert [r["value"] for r in rows] == [1.0, 0.75]
    assert rows[0]["correct"] == 1.0 and rows[1]["correct"] == 0.0
