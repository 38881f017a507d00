"""Provenance of results read from real-layout lm-eval files: versions, model args, n-shot, limit, samples,
date and duration, and the warnings a user sees when a result is partial or its settings differ."""

from __future__ import annotations

import shutil

import pytest

from lib.core.config import load_definition
from lib.index import build_index
from lib.views.provenance import (
    evaluation_scores,
    file_provenance,
    format_duration,
    model_evaluations,
    provenance_frame,
    provenance_of,
    read_file_provenance,
    reference_version,
    setting_warnings,
)
from tests.conftest import DATA
from tests.factories import result_file

CORPUS = DATA / "corpus"
MODEL = "acme-labs/falcon-mini-7b"


@pytest.fixture
def definition():
    return load_definition("demo")


@pytest.fixture
def corpus_index(tmp_path, definition):
    """The full and the partial real-layout 0.4 files of one model in one results store."""
    results = tmp_path / "results"
    for folder in ("lm_eval_04", "lm_eval_04_partial"):
        shutil.copytree(CORPUS / folder, results, dirs_exist_ok=True)
    return build_index(definition, str(results), str(tmp_path / "requests"))


def _by_file(index, fragment):
    rows = model_evaluations(index, MODEL)
    return rows[rows["eval_id"].str.contains(fragment)].iloc[0].to_dict()


def test_full_run_provenance_comes_from_the_file(corpus_index):
    prov = provenance_of(_by_file(corpus_index, "T10-00-00"))
    assert prov.lm_eval_version == "0.4.13"
    assert prov.git_hash == "a1b2c3d"
    assert "pretrained=acme-labs/falcon-mini-7b" in prov.model_args and "dtype=bfloat16" in prov.model_args
    assert prov.batch_size == "auto"
    assert prov.limit is None and not prov.partial
    assert prov.n_samples == 198 + 12032  # effective samples of the tasks that report them
    assert set(prov.shots) == {0, 4, 5}
    assert prov.duration_s == pytest.approx(3600.0)
    assert prov.date == pytest.approx(1767348000.5)
    assert not prov.chat_template


def test_partial_run_is_marked_and_warned(corpus_index, definition):
    row = _by_file(corpus_index, "T11-00-00")
    prov = provenance_of(row)
    assert prov.partial and prov.limit == 20
    assert prov.chat_template  # the file carries a chat template
    assert prov.n_samples == 20
    scores = evaluation_scores(corpus_index, [prov.eval_id])
    warnings = setting_warnings(prov, scores, definition, reference_version(corpus_index))
    assert any(w.startswith("Partial run") and "20" in w for w in warnings)


def test_provenance_table_shows_every_evaluation_in_plain_values(corpus_index):
    frame = provenance_frame(model_evaluations(corpus_index, MODEL))
    assert len(frame) == 2
    assert set(frame["Limit"]) == {"full run", "20 (partial)"}
    assert set(frame["Duration"]) == {"1 h 0 min", "unknown"}
    assert set(frame["lm-eval"]) == {"0.4.13", "unknown"}


def test_nshot_and_version_that_differ_from_the_leaderboard_are_warned(tmp_path, definition):
    results = tmp_path / "results"
    result_file(results, "org/odd", {"leaderboard_gpqa": {"acc_norm": 0.4}}, shots=5)
    index = build_index(definition, str(results), str(tmp_path / "requests"))
    row = model_evaluations(index, "org/odd").iloc[0].to_dict()
    prov = provenance_of(row)
    warnings = setting_warnings(prov, evaluation_scores(index, [prov.eval_id]), definition, reference="0.4.2")
    assert "GPQA was run 5-shot; the leaderboard uses 0-shot." in warnings
    assert any("lm-eval 0.4.13" in w and "0.4.2" in w for w in warnings)
    same = setting_warnings(
        prov, evaluation_scores(index, [prov.eval_id]).assign(n_shot=0), definition, "0.4.13"
    )
    assert same == []


def test_file_provenance_reads_what_the_index_does_not_keep(corpus_index):
    details = read_file_provenance(corpus_index.results, _by_file(corpus_index, "T10-00-00")["eval_id"])
    assert details["transformers_version"] == "4.46.0"
    assert details["config.device"] == "cuda:0"
    assert details["config.batch_sizes"] == "[16]"
    assert "chat_template" not in details  # null in this file
    partial = file_provenance({"chat_template": "{{ x }}", "chat_template_sha": "beef", "config": {}})
    assert partial["chat_template_sha"] == "beef" and "characters" in partial["chat_template"]


def test_unreadable_file_gives_no_details(tmp_path, corpus_index):
    assert read_file_provenance(corpus_index.results, "missing/results_x.json") == {}


@pytest.mark.parametrize(
    ("seconds", "text"), [(None, "unknown"), (42, "42 s"), (600, "10 min"), (4485.6, "1 h 15 min")]
)
def test_durations_read_as_a_person_would(seconds, text):
    assert format_duration(seconds) == text


def test_real_v03_files_have_model_args_and_nshot(real_data, tmp_path, definition):
    index = build_index(definition, str(real_data), str(tmp_path / "requests"))
    models = index.query("model_names")
    assert len(models) >= 1
    rows = model_evaluations(index, models["model"].iloc[0])
    prov = provenance_of(rows.iloc[0].to_dict())
    assert "pretrained=" in prov.model_args
    assert prov.shots  # v0.3 files record num_fewshot in their config
