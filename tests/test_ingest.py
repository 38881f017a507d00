"""Parsers over the corpus of real-layout files in tests/data/corpus and the real Pythia files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib.ingest import IngestError, parse_result_bytes, parse_result_file
from lib.ingest.common import date_from_path, normalize_precision, parse_model_args

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"


def _parse(relpath: str):
    path = CORPUS / relpath
    return parse_result_bytes(relpath, path.read_bytes())[0]


V04 = "lm_eval_04/acme-labs__falcon-mini-7b/results_2026-01-02T10-00-00.500000.json"


def test_lm_eval_04_identity_and_provenance():
    ev = _parse(V04)
    assert ev.source_format == "lm-eval 0.4"
    assert (ev.model, ev.revision, ev.precision) == ("acme-labs/falcon-mini-7b", "main", "bfloat16")
    assert ev.sha == "0123456789abcdef0123456789abcdef01234567"
    assert ev.lm_eval_version == "0.4.13" and ev.git_hash == "a1b2c3d"
    assert ev.date == pytest.approx(1767348000.5)
    assert ev.duration_s == pytest.approx(3600.0)  # written as a string by lm-eval
    assert ev.limit is None and ev.chat_template is False
    assert "pretrained=acme-labs/falcon-mini-7b" in ev.model_args


def test_lm_eval_04_metric_filter_stderr_shots_and_direction():
    ev = _parse(V04)
    by_key = {(s.task, s.metric, s.filter): s for s in ev.scores}
    gsm = by_key[("gsm8k", "exact_match", "strict-match")]
    assert gsm.value == 0.3 and gsm.stderr == 0.012 and gsm.n_shot == 5
    assert by_key[("gsm8k", "exact_match", "flexible-extract")].value == 0.35
    assert by_key[("leaderboard_ifeval", "inst_level_strict_acc", "none")].stderr is None  # "N/A"
    assert by_key[("wikitext", "word_perplexity", "none")].higher_is_better is False
    assert by_key[("leaderboard_mmlu_pro", "acc", "none")].n_samples == 12032
    # a group appears in both results and groups: read once
    assert sum(1 for s in ev.scores if s.task == "leaderboard_gpqa" and s.metric == "acc_norm") == 1
    assert not any(s.metric.endswith("_stderr") or s.metric == "alias" for s in ev.scores)


def test_lm_eval_04_string_model_args_partial_and_chat_template():
    ev = _parse("lm_eval_04_partial/acme-labs__falcon-mini-7b/results_2026-01-02T11-00-00.000000.json")
    assert ev.model == "acme-labs/falcon-mini-7b" and ev.precision == "float16"
    assert ev.limit == 20.0
    assert ev.chat_template is True
    assert ev.scores[0].n_samples == 20


def test_lm_eval_03_file():
    ev = _parse("lm_eval_03/tiny-run_step2000.json")
    assert ev.source_format == "lm-eval 0.3"
    assert (ev.model, ev.revision) == ("acme-labs/tiny-run", "step2000")
    ppl = next(s for s in ev.scores if s.metric == "ppl")
    assert ppl.higher_is_better is False and ppl.stderr == 1.1 and ppl.n_shot == 0
    assert {s.metric for s in ev.scores if s.task == "piqa"} == {"acc", "acc_norm"}


def test_template_file():
    ev = _parse("template/acme-labs/old-model/results_2024-01-22T08-48-36.json")
    assert ev.source_format == "template"
    assert (ev.model, ev.sha, ev.precision) == ("acme-labs/old-model", "ac3299b0", "float16")
    assert {(s.task, s.metric) for s in ev.scores} == {("anli_r1", "acc"), ("logiqa", "acc_norm")}
    assert ev.date == pytest.approx(date_from_path("results_2024-01-22T08-48-36.json"))


@pytest.mark.parametrize(
    ("relpath", "reason"),
    [
        ("bad/malformed.json", "malformed JSON at line 1"),
        ("bad/a_list.json", "expected a JSON object"),
        ("bad/unknown_layout.json", "unknown layout"),
        ("bad/empty_results.json", "no numeric metric"),
        ("bad/nan_metric.json", "not a number"),
        ("bad/empty_file.json", "file is empty"),
        ("bad/not_utf8.json", "not UTF-8"),
        ("bad/no_model.json", "no model name"),
    ],
)
def test_bad_files_raise_a_reason(relpath, reason):
    with pytest.raises(IngestError, match=reason):
        _parse(relpath)


def test_string_metric_is_skipped_with_a_warning():
    ev = _parse("bad/na_metric.json")
    assert [s.task for s in ev.scores] == ["leaderboard_mmlu_pro"]
    assert any("'N/A'" in w for w in ev.warnings)


def test_huge_file_is_refused_without_parsing(monkeypatch):
    import lib.ingest as ingest

    monkeypatch.setattr(ingest, "MAX_FILE_BYTES", 1000)
    with pytest.raises(IngestError, match="over the"):
        parse_result_bytes("big.json", b" " * 2000 + b"{}")


def test_local_folder_model_keeps_its_whole_path():
    data = {
        "results": {"t": {"acc,none": 0.5}},
        "n-shot": {"t": 0},
        "config": {"model_args": "pretrained=/srv/models/run7"},
    }
    assert parse_result_file("x.json", data)[0].model == "/srv/models/run7"


def test_helpers():
    assert parse_model_args("pretrained=a/b,revision=step1, dtype=float16") == {
        "pretrained": "a/b",
        "revision": "step1",
        "dtype": "float16",
    }
    assert normalize_precision("torch.bfloat16") == "bfloat16"
    assert normalize_precision("", "auto", "fp16") == "float16"
    assert normalize_precision("auto") == ""


def test_real_pythia_files_parse(real_data):
    files = sorted(real_data.rglob("*.json"))
    assert len(files) == 54
    for path in files:
        ev = parse_result_file(str(path), json.loads(path.read_text()))[0]
        assert ev.model.startswith("EleutherAI/pythia-v1.1-160m")
        assert ev.revision.startswith("step")
        assert any(
            s.task == "lambada_openai" and s.metric == "ppl" and not s.higher_is_better for s in ev.scores
        )


def test_metric_keys_split_once_keep_each_style_apart():
    """Metric keys are split once per style and remembered: the same key in a 0.3-style block (no filter)
    and in a 0.4-style one still means what each style says, whichever is read first, every time."""
    from lib.ingest.common import task_scores

    block = {"acc,strict": 0.5, "acc_stderr,strict": 0.01, "acc_stderr": 0.02, "alias": "x"}
    for _ in range(2):  # the second round reads every key from the memo
        old = task_scores("t", block, 0, None, None, False, [])
        new = task_scores("t", block, 0, None, None, True, [])
        assert [(s.metric, s.filter, s.stderr) for s in old] == [("acc", "none", 0.02)]
        assert [(s.metric, s.filter, s.stderr) for s in new] == [("acc", "strict", 0.01)]


def test_an_ingest_worker_parses_without_pandas_or_numpy(tmp_path):
    """A worker process (``python -m lib.ingest.parallel_worker``) keeps pandas and numpy out, a third of
    its start-up, and still answers with the tables this process builds for the same file."""
    import pickle
    import subprocess
    import sys

    from lib.ingest.parallel import _read_below
    from lib.ingest.tables import parse_batch

    root = str(CORPUS / "lm_eval_04")
    paths = ["acme-labs__falcon-mini-7b/results_2026-01-02T10-00-00.500000.json"]
    report = "import atexit, sys; atexit.register(lambda: print(sorted({'numpy', 'pandas'} & set(sys.modules)), file=sys.stderr))"
    done = subprocess.run(
        [sys.executable, "-c", f"{report}; from lib.ingest.parallel_worker import run; run()"],
        input=json.dumps({"root": root, "paths": paths, "patterns": []}).encode(),
        capture_output=True,
        cwd=Path(__file__).resolve().parents[1],
        check=True,
        timeout=120,
    )
    assert done.stderr.decode().splitlines()[-1] == "[]"
    batch = pickle.loads(done.stdout)  # noqa: S301 - our own child process
    here = parse_batch(_read_below(root), paths)
    assert batch.scores.num_rows > 0 and batch.problems == here.problems
    assert batch.evaluations.equals(here.evaluations) and batch.scores.equals(here.scores)
