"""Checkpoints: revision parsing, training identity, best checkpoint, smoothing, gaps, value at step."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.analysis.checkpoints import (
    CheckpointId,
    best_checkpoints,
    break_at_gaps,
    checkpoint_frame,
    checkpoint_from_fields,
    find_gaps,
    parse_checkpoint,
    parse_tokens,
    resolve_checkpoint,
    smoothed_values,
    value_at_step,
)
from lib.core.records import Evaluation, Score

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


# --- revision parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("revision", "step", "tokens", "stage"),
    [
        ("step143000", 143000, None, None),
        ("step0", 0, None, None),
        ("step1000-tokens4B", 1000, 4e9, None),
        ("step1000-tokens4201B", 1000, 4.201e12, None),
        ("stage1-step1000-tokens5B", 1000, 5e9, "stage1"),
        ("stage2-ingredient1-step11931-tokens50B", 11931, 5e10, "stage2-ingredient1"),
        ("stage1-step928646", 928646, None, "stage1"),
        ("step-001000-2BT", 1000, 2e9, None),
        ("step-000500-500MT", 500, 5e8, None),
        ("global_step500", 500, None, None),
        ("checkpoint-500", 500, None, None),
    ],
)
def test_every_builtin_scheme_parses(revision, step, tokens, stage):
    point = parse_checkpoint("org/model", revision)
    assert point is not None
    assert (point.step, point.tokens, point.stage) == (step, tokens, stage)


@pytest.mark.parametrize(
    "revision",
    [
        "",
        "main",
        "v1.0",
        "0123456789abcdef0123456789abcdef01234567",
        "stepfather",
        "step",
        "steps100",
        "step-5",
        "step 100",
        "Step100x",
        "step1000-tokens",
        "step1000-tokens4X",
        "step1000-tokens-4B",
        "step-001000",
        "step-001000-2B",
        "checkpoint-",
        "checkpoint--500",
        "checkpoint-500x",
        "checkpoint-5.5",
        "global_step",
        "global_step-1",
        "my-step100",
        "step100/extra",
        "step1234567890123",
    ],
)
def test_names_that_are_not_checkpoints_do_not_parse(revision):
    assert parse_checkpoint("org/model", revision) is None


def test_training_is_the_model_id_and_label_reads_well():
    point = parse_checkpoint("allenai/OLMo-7B", "step1000-tokens4B")
    assert point == CheckpointId("allenai/OLMo-7B", 1000, 4e9, None, "step 1000 · 4B tokens")


def test_later_olmo2_stage_is_its_own_training_but_stage1_is_not():
    """Stage 2 restarts its steps, so mixing it into the stage 1 curve would draw nonsense."""
    stage1 = parse_checkpoint("allenai/OLMo-2-1124-7B", "stage1-step1000-tokens5B")
    plain = parse_checkpoint("allenai/OLMo-2-1124-7B", "step2000-tokens10B")
    stage2 = parse_checkpoint("allenai/OLMo-2-1124-7B", "stage2-ingredient1-step1000-tokens5B")
    assert stage1.training == plain.training == "allenai/OLMo-2-1124-7B"
    assert stage2.training == "allenai/OLMo-2-1124-7B@stage2-ingredient1"


@pytest.mark.parametrize(
    ("model", "training", "step"),
    [
        ("/runs/exp1/checkpoint-500", "/runs/exp1", 500),
        ("/runs/exp1/checkpoint-500/", "/runs/exp1", 500),
        ("runs/exp1/global_step200", "runs/exp1", 200),
        ("./out/step300", "./out", 300),
    ],
)
def test_checkpoint_folder_in_a_local_model_path(model, training, step):
    point = parse_checkpoint(model, "main")
    assert point is not None and (point.training, point.step) == (training, step)


@pytest.mark.parametrize(
    "model", ["org/checkpoint-500", "org/run-step1000", "checkpoint-500", "/runs/exp1/final"]
)
def test_hub_ids_and_plain_folders_are_not_read_as_checkpoints(model):
    assert parse_checkpoint(model, "main") is None


def test_the_revision_wins_over_the_model_path():
    point = parse_checkpoint("/runs/exp1/checkpoint-500", "step9")
    assert (point.training, point.step) == ("/runs/exp1/checkpoint-500", 9)


@pytest.mark.parametrize(
    ("text", "count"),
    [("4B", 4e9), ("2.5T", 2.5e12), ("300M", 3e8), ("12K", 12e3), ("7", 7.0), ("4b", 4e9), (5e9, 5e9)],
)
def test_token_units(text, count):
    assert parse_tokens(text) == pytest.approx(count)


@pytest.mark.parametrize("text", ["", "B", "4X", "-4B", "4BB", None, True, float("nan"), -1])
def test_bad_token_counts(text):
    assert parse_tokens(text) is None


def test_custom_pattern_from_the_definition_is_tried_first():
    patterns = (r"iter_(?P<step>\d+)_(?P<tokens>\d+)(?P<unit>[MBT])tok", r"ckpt(?P<step>\d+)")
    point = parse_checkpoint("lab/run", "iter_0042_17Btok", patterns)
    assert (point.step, point.tokens) == (42, 17e9)
    assert parse_checkpoint("lab/run", "ckpt7", patterns).step == 7
    assert parse_checkpoint("lab/run", "ckpt7") is None
    # A custom pattern that shadows a built-in name wins.
    shadow = parse_checkpoint("lab/run", "step100", (r"step(?P<step>\d+)0",))
    assert shadow.step == 10


def test_explicit_fields_win_over_the_revision():
    assert checkpoint_from_fields("lab/run-a", 1500, "6B") == CheckpointId(
        "lab/run-a", 1500, 6e9, None, "step 1500 · 6B tokens"
    )
    assert checkpoint_from_fields("lab/run-a", None) is None
    assert checkpoint_from_fields("", 10) is None
    assert checkpoint_from_fields("lab/run-a", -1) is None
    assert checkpoint_from_fields("lab/run-a", 2.5) is None
    assert checkpoint_from_fields("lab/run-a", "300").step == 300
    point = resolve_checkpoint("org/model", "step100", training="lab/run-a", step=7)
    assert (point.training, point.step) == ("lab/run-a", 7)
    # A training given without a step takes the step from the revision.
    mixed = resolve_checkpoint("org/model", "step100-tokens1B", training="lab/run-a")
    assert (mixed.training, mixed.step, mixed.tokens) == ("lab/run-a", 100, 1e9)
    # A step given without a training takes the model id.
    assert resolve_checkpoint("org/model", "main", step=5).training == "org/model"


# --- best checkpoint ----------------------------------------------------------------------------------


def _frame(rows: list[dict], **defaults) -> pd.DataFrame:
    base = {
        "training": "org/a",
        "stderr": 0.01,
        "higher_is_better": None,
        "n_shot": 0,
        "chat_template": False,
        "limit": None,
        "tokens": None,
    }
    base.update(defaults)
    full = [{**base, "revision": f"step{r['step']}", **r} for r in rows]
    return pd.DataFrame(full)


def _curve(values: list[float], steps: list[int] | None = None, **defaults) -> pd.DataFrame:
    steps = steps if steps is not None else [1000 * (i + 1) for i in range(len(values))]
    return _frame([{"step": s, "value": v} for s, v in zip(steps, values, strict=True)], **defaults)


def test_direction_is_inferred_from_the_metric_name_when_unknown():
    frame = _curve([30.0, 20.0, 25.0])
    low = best_checkpoints(frame, metric="ppl").iloc[0]
    assert (bool(low.higher_is_better), low.best_step, low.rule) == (
        False,
        2000,
        "lowest ppl at a single checkpoint",
    )
    high = best_checkpoints(frame, metric="acc").iloc[0]
    assert (bool(high.higher_is_better), high.best_step, high.rule) == (
        True,
        1000,
        "highest acc at a single checkpoint",
    )


def test_explicit_direction_beats_the_name():
    frame = _curve([30.0, 20.0, 25.0], higher_is_better=True)
    assert best_checkpoints(frame, metric="ppl").iloc[0].best_step == 1000


def test_tie_goes_to_the_earliest_checkpoint_whatever_the_row_order():
    frame = _curve([0.5, 0.7, 0.7, 0.6], steps=[0, 1, 2, 3]).iloc[::-1]
    best = best_checkpoints(frame, metric="acc").iloc[0]
    assert (best.best_step, best.best_revision) == (1, "step1")
    low = best_checkpoints(_curve([5.0, 3.0, 3.0], steps=[0, 1, 2]), metric="ppl").iloc[0]
    assert low.best_step == 1


def test_best_versus_final_and_delta():
    best = best_checkpoints(_curve([0.2, 0.6, 0.5], steps=[10, 20, 30]), metric="acc").iloc[0]
    assert (best.best_step, best.final_step, best.final_revision, best.n_checkpoints) == (20, 30, "step30", 3)
    assert best.delta == pytest.approx(-0.1)


def test_smoothing_can_choose_a_different_best_than_raw():
    # A lone spike at step 2000 beats the raw curve; the plateau around 5000 wins on the mean of 3.
    values = [0.10, 0.90, 0.10, 0.60, 0.70, 0.60, 0.20]
    frame = _curve(values)
    raw = best_checkpoints(frame, metric="acc").iloc[0]
    smooth = best_checkpoints(frame, smooth=3, metric="acc").iloc[0]
    assert raw.best_step == 2000
    assert smooth.best_step == 5000
    assert smooth.best_value == pytest.approx(0.70)  # the raw value at the chosen checkpoint
    assert smooth.best_smoothed == pytest.approx((0.6 + 0.7 + 0.6) / 3)
    assert smooth.rule == "highest acc, mean of 3 neighbouring checkpoints (k=3)"


def test_smoothing_matches_a_centered_rolling_mean_per_training():
    rng = np.random.default_rng(1)
    frame = pd.concat(
        [_curve(list(rng.random(9)), training=name) for name in ("org/a", "org/b", "org/c")],
        ignore_index=True,
    ).sample(frac=1, random_state=3)
    for k in (2, 3, 4):
        expected = (
            frame.sort_values(["training", "step"])
            .groupby("training")["value"]
            .transform(lambda s, k=k: s.rolling(k, center=True, min_periods=1).mean())
        )
        assert np.allclose(smoothed_values(frame, k).sort_index(), expected.sort_index())


def test_negative_smoothing_is_refused():
    with pytest.raises(ValueError):
        best_checkpoints(_curve([0.1]), smooth=-1)


def test_n_shot_chat_template_and_limit_settings_are_separate_series():
    zero = _curve([0.3, 0.5, 0.4], n_shot=0)
    five = _curve([0.6, 0.4, 0.7], n_shot=5)
    chat = _curve([0.1, 0.2, 0.9], n_shot=0, chat_template=True)
    partial = _curve([0.9, 0.1, 0.1], n_shot=0, limit=100.0)
    table = best_checkpoints(pd.concat([zero, five, chat, partial], ignore_index=True), metric="acc")
    assert len(table) == 4
    assert set(table.n_checkpoints) == {3}
    by_setting = {
        (r.num_fewshot, bool(r.chat_template), None if pd.isna(r.limit) else r.limit): r.best_step
        for r in table.itertuples()
    }
    assert by_setting == {
        (0, False, None): 2000,
        (5, False, None): 3000,
        (0, True, None): 3000,
        (0, False, 100.0): 1000,
    }


def test_rows_without_a_value_are_ignored_and_an_empty_frame_gives_an_empty_table():
    frame = _curve([0.3, float("nan"), 0.2])
    assert best_checkpoints(frame, metric="acc").iloc[0].n_checkpoints == 2
    empty = best_checkpoints(frame.iloc[0:0], metric="acc")
    assert empty.empty and "best_step" in empty.columns


def test_metric_column_names_the_rule():
    frame = _curve([2.0, 1.0]).assign(metric="word_perplexity")
    assert best_checkpoints(frame).iloc[0].rule == "lowest word_perplexity at a single checkpoint"


# --- gaps and value at step ---------------------------------------------------------------------------


def test_pythia_log_spaced_then_regular_schedule_has_no_gap():
    steps = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 3000, 13000, 23000, 33000, 43000]
    assert find_gaps(steps) == []


def test_a_missing_stretch_in_a_regular_schedule_is_a_gap():
    steps = [0, 10, 20, 30, 40, 90, 100, 110]
    assert find_gaps(steps) == [(40, 90)]
    assert find_gaps(list(reversed(steps)) + [40]) == [(40, 90)]  # order and duplicates do not matter


def test_gap_at_the_edges_and_short_series():
    assert find_gaps([0, 1000, 1100, 1200, 1300]) == [(0, 1000)]
    assert find_gaps([0, 100, 200, 300, 1000]) == [(300, 1000)]
    assert find_gaps([0, 100, 5000]) == []


def test_curves_break_across_gaps():
    xs, ys = break_at_gaps([0, 10, 20, 60, 70], [1, 2, 3, 4, 5], [(20, 60)])
    assert xs == [0, 10, 20, None, 60, 70]
    assert ys == [1, 2, 3, None, 4, 5]


def test_value_at_step_exact_and_nearest_with_a_note():
    frame = pd.concat(
        [
            _curve([0.1, 0.2, 0.3], steps=[1000, 2000, 3000], training="org/a"),
            _curve([0.5, 0.6], steps=[1000, 3000], training="org/b"),
        ],
        ignore_index=True,
    )
    table = value_at_step(frame, 2000).set_index("training")
    assert bool(table.loc["org/a", "exact"]) and table.loc["org/a", "value"] == pytest.approx(0.2)
    assert table.loc["org/a", "note"] == ""
    # Equally near on both sides: the earlier checkpoint, and the note says so.
    assert not table.loc["org/b", "exact"] and table.loc["org/b", "step"] == 1000
    assert "nearest is step 1000" in table.loc["org/b", "note"]


# --- records to frame ---------------------------------------------------------------------------------


def _evaluation(model: str, revision: str, value: float, **fields) -> Evaluation:
    score = Score("lambada_openai", "acc", "none", value, 0.01, 0, True)
    other = Score("lambada_openai", "ppl", "none", 1 / value, 0.1, 0, False)
    return Evaluation(model=model, revision=revision, precision="float16", scores=(score, other), **fields)


def test_checkpoint_frame_from_records_skips_non_checkpoints_and_honours_fields():
    evaluations = [
        _evaluation("org/a", "step100", 0.2),
        _evaluation("org/a", "step200", 0.4),
        _evaluation("org/a", "main", 0.9),
        _evaluation("org/b", "main", 0.5, training="lab/run-b", step=50, tokens=1e9),
    ]
    frame = checkpoint_frame(evaluations, "lambada_openai", "acc,none")
    assert sorted(zip(frame.training, frame.step, strict=True)) == [
        ("lab/run-b", 50),
        ("org/a", 100),
        ("org/a", 200),
    ]
    table = best_checkpoints(frame).set_index("training")
    assert table.loc["org/a", "best_step"] == 200 and table.loc["lab/run-b", "best_tokens"] == 1e9
    assert checkpoint_frame(evaluations, "lambada_openai", "acc,strict").empty


# --- real data ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pythia_evaluations() -> list[Evaluation]:
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} not present")
    from lib.ingest import parse_result_file

    evaluations: list[Evaluation] = []
    for path in sorted(REAL.rglob("*.json")):
        evaluations.extend(parse_result_file(str(path), json.loads(path.read_text(encoding="utf-8"))))
    assert evaluations
    return evaluations


def _best_by_training(evaluations: list[Evaluation], metric: str, smooth: int = 0) -> pd.DataFrame:
    frame = checkpoint_frame(evaluations, "lambada_openai", metric)
    table = best_checkpoints(frame, smooth=smooth)
    table["short"] = table["training"].str.rsplit("/", n=1).str[-1]
    return table.set_index("short")


def test_real_pythia_lambada_ppl_best_checkpoints(pythia_evaluations):
    table = _best_by_training(pythia_evaluations, "ppl")
    assert {"pythia-v1.1-160m", "pythia-v1.1-160m-deduped"} <= set(table.index)
    plain, dedup = table.loc["pythia-v1.1-160m"], table.loc["pythia-v1.1-160m-deduped"]
    assert not plain.higher_is_better and not dedup.higher_is_better
    assert (plain.best_step, plain.best_revision, plain.final_step) == (63000, "step63000", 143000)
    assert plain.best_value == pytest.approx(24.84, abs=0.01)
    assert plain.final_value == pytest.approx(38.06, abs=0.01)
    assert (dedup.best_step, dedup.final_step) == (93000, 143000)
    assert dedup.best_value == pytest.approx(24.14, abs=0.01)
    assert dedup.final_value == pytest.approx(32.22, abs=0.01)
    assert plain.n_checkpoints == dedup.n_checkpoints == 27


def test_real_pythia_lambada_acc_peaks_before_the_end(pythia_evaluations):
    plain = _best_by_training(pythia_evaluations, "acc").loc["pythia-v1.1-160m"]
    assert plain.higher_is_better and plain.best_step == 63000
    assert plain.best_value == pytest.approx(0.399, abs=0.001)
    assert plain.final_value == pytest.approx(0.328, abs=0.001)


def test_real_pythia_step0_and_step1_tie_and_the_earliest_wins(pythia_evaluations):
    frame = checkpoint_frame(pythia_evaluations, "lambada_openai", "ppl")
    early = frame[frame.step.isin([0, 1])]
    assert early.groupby("training")["value"].nunique().eq(1).all()
    table = best_checkpoints(early)
    assert list(table.best_step) == [0, 0]


def test_real_pythia_schedule_has_no_false_gap(pythia_evaluations):
    frame = checkpoint_frame(pythia_evaluations, "lambada_openai", "acc")
    for _, steps in frame.groupby("training")["step"]:
        assert find_gaps(list(steps)) == []


# --- the index path (checkpoint_table) against the reference (best_checkpoints) -----------------------


def _lm_eval_file(folder: Path, name: str, training: str, step: int, scores: dict, **extra) -> None:
    """One lm-eval 0.4 results file of checkpoint ``step<step>`` of ``training`` on task 'toy'."""
    n_shot = extra.pop("n_shot", 0)
    config = {"model_args": {"pretrained": training, "revision": f"step{step}"}, **extra.pop("config", {})}
    data = {
        "results": {"toy": {"alias": "toy", **scores}},
        "n-shot": {"toy": n_shot},
        "higher_is_better": {"toy": {"acc": True}},
        "config": config,
        **extra,
    }
    path = folder / training.replace("/", "__") / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def _acc(value: float | None, ppl: float | None = None) -> dict:
    scores = {"acc,none": value, "acc_stderr,none": 0.01} if value is not None else {}
    if ppl is not None:
        scores |= {"ppl,none": ppl, "ppl_stderr,none": 0.1}
    return scores


@pytest.fixture(scope="module")
def tricky_index(tmp_path_factory: pytest.TempPathFactory):
    """Ties, a checkpoint evaluated twice (the newer one wins, even without a value), missing values,
    several n-shot settings, a limited run, a chat-template run, and a metric under two filters."""
    from lib.core.config import load_definition
    from lib.index import build_index

    folder = tmp_path_factory.mktemp("tricky")
    day = 1_700_000_000.0
    # lab/ties: equal acc at 2000 and 4000 (earliest wins); ppl ties too (lower is better, by name).
    for step, acc, ppl in [(1000, 0.3, 9.0), (2000, 0.5, 7.0), (3000, 0.4, 8.0), (4000, 0.5, 7.0)]:
        _lm_eval_file(folder, f"s{step}", "lab/ties", step, _acc(acc, ppl), date=day)
    # lab/twice: step 2000 evaluated again later (lower); step 3000's newer run reports no acc.
    for step, acc in [(1000, 0.2), (2000, 0.99), (3000, 0.95), (4000, 0.6)]:
        _lm_eval_file(folder, f"s{step}", "lab/twice", step, _acc(acc), date=day)
    _lm_eval_file(folder, "s2000-rerun", "lab/twice", 2000, _acc(0.1), date=day + 60)
    _lm_eval_file(folder, "s3000-rerun", "lab/twice", 3000, _acc(float("nan"), ppl=5.0), date=day + 60)
    # Same date twice: the later file path wins.
    _lm_eval_file(folder, "s4000-a", "lab/twice", 4000, _acc(0.7), date=day + 120)
    _lm_eval_file(folder, "s4000-b", "lab/twice", 4000, _acc(0.65), date=day + 120)
    # lab/shots: 0-shot and 5-shot series, a limited run and a chat-template run of the same checkpoints.
    for step in (1000, 2000, 3000):
        _lm_eval_file(folder, f"z{step}", "lab/shots", step, _acc(0.1 * step / 1000), date=day)
        _lm_eval_file(folder, f"f{step}", "lab/shots", step, _acc(0.7 - step / 10_000), n_shot=5, date=day)
        _lm_eval_file(folder, f"l{step}", "lab/shots", step, _acc(0.5), config={"limit": 10.0}, date=day)
        _lm_eval_file(
            folder, f"c{step}", "lab/shots", step, _acc(0.2 + step / 10_000), chat_template="x", date=day
        )
    # lab/only-missing: every checkpoint lacks acc (a series with no point: no row).
    for step in (1000, 2000):
        _lm_eval_file(folder, f"s{step}", "lab/only-missing", step, _acc(None, ppl=3.0), date=day)
    # lab/filters: exact_match under two filters and no 'none' (ambiguous without a filter).
    for step, strict, flexible in [(1000, 0.1, 0.2), (2000, 0.3, 0.25)]:
        scores = {"exact_match,strict-match": strict, "exact_match,flexible-extract": flexible}
        _lm_eval_file(folder, f"s{step}", "lab/filters", step, scores, date=day)
    definition = load_definition(ROOT / "lib" / "definitions" / "demo.yaml")
    return build_index(definition, str(folder), "")


ROOT = Path(__file__).resolve().parents[1]


def _assert_same_tables(index, task: str, metric: str, smooth: int = 0, trainings=None) -> pd.DataFrame:
    from lib.analysis.checkpoints import checkpoint_table, load_series

    reference = best_checkpoints(load_series(index, task, metric, trainings), smooth=smooth)
    table = checkpoint_table(index, task, metric, trainings, smooth=smooth)
    pd.testing.assert_frame_equal(table, reference)
    return table


@pytest.mark.parametrize("smooth", [0, 1, 3])
@pytest.mark.parametrize("metric", ["acc", "acc,none", "ppl", "exact_match,strict-match"])
def test_index_table_equals_the_reference_on_tricky_data(tricky_index, metric, smooth):
    table = _assert_same_tables(tricky_index, "toy", metric, smooth)
    assert not table.empty


def test_index_table_keeps_the_rules_on_tricky_data(tricky_index):
    table = _assert_same_tables(tricky_index, "toy", "acc")
    rows = {(r.training, r.num_fewshot, r.chat_template, r.limit): r for r in table.itertuples()}
    ties = next(r for k, r in rows.items() if k[0] == "lab/ties")
    assert (ties.best_step, ties.final_step) == (2000, 4000)  # a tie goes to the earliest step
    twice = next(r for k, r in rows.items() if k[0] == "lab/twice")
    # 2000's newer run (0.1) replaces its 0.99; 3000 keeps the only acc it has; at 4000 both runs share
    # a date and the later file path wins (0.65).
    assert (twice.best_step, twice.best_value, twice.n_checkpoints) == (3000, 0.95, 4)
    assert (twice.final_step, twice.final_value) == (4000, 0.65)
    shots = [k for k in rows if k[0] == "lab/shots"]
    assert len(shots) == 4  # 0-shot, 5-shot, limited, chat template: separate series
    assert "lab/only-missing" not in {k[0] for k in rows}
    ppl = _assert_same_tables(tricky_index, "toy", "ppl").set_index("training")
    assert not ppl.loc["lab/ties", "higher_is_better"] and ppl.loc["lab/ties", "best_step"] == 2000


def test_index_table_refuses_an_ambiguous_filter_and_follows_a_training_filter(tricky_index):
    from lib.analysis.checkpoints import AmbiguousMetricError, checkpoint_table

    with pytest.raises(AmbiguousMetricError, match="strict-match"):
        checkpoint_table(tricky_index, "toy", "exact_match")
    table = _assert_same_tables(tricky_index, "toy", "acc", trainings=["lab/twice"])
    assert list(table["training"]) == ["lab/twice"]
    assert checkpoint_table(tricky_index, "toy", "acc", ["nobody"]).empty


def test_index_table_equals_the_reference_on_the_demo_store():
    from lib.core.config import load_definition
    from lib.index import build_index

    index = build_index(load_definition(ROOT / "lib" / "definitions" / "demo.yaml"))
    metrics = index.query("checkpoint_metrics")
    assert not metrics.empty
    for task, metric, filt in zip(metrics["task"], metrics["metric"], metrics["filter"], strict=True):
        for smooth in (0, 5):
            _assert_same_tables(index, task, f"{metric},{filt}", smooth)


def test_index_table_equals_the_reference_on_real_data():
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} not present")
    from lib.core.config import load_definition
    from lib.index import build_index

    index = build_index(load_definition(ROOT / "lib" / "definitions" / "demo.yaml"), str(REAL), "")
    metrics = index.query("checkpoint_metrics")
    for task, metric, filt in zip(metrics["task"], metrics["metric"], metrics["filter"], strict=True):
        _assert_same_tables(index, task, f"{metric},{filt}")
    table = _assert_same_tables(index, "lambada_openai", "ppl").set_index("training")
    best = {name.rsplit("/", 1)[-1]: step for name, step in table["best_step"].items()}
    assert best == {"pythia-v1.1-160m": 63000, "pythia-v1.1-160m-deduped": 93000}
