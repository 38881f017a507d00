"""What ``python -m evaluator --burst`` prints: one line per request it handled, then a total; its exit status
says whether anything failed. Run as a real separate process on a tiny requests store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.lmeval_fixtures import ROOT, add_request, fake_model_folder, write_definition


def _burst(definition: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "evaluator", "--config", str(definition), "--burst", *extra]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_a_burst_prints_each_request_and_a_total_and_exits_1_when_one_failed(tmp_path):
    requests, models = tmp_path / "requests", tmp_path / "models"
    model = fake_model_folder(models)
    good = add_request(requests, model, name="tiny-llama-good", revision="abc123", precision="float32")
    # a Delta without a base model: refused when claimed, so the request ends FAILED with a reason
    bad = add_request(requests, model, name="tiny-llama-delta", precision="bfloat16", weight_type="Delta")
    (requests / "local" / "broken_eval_request_False_float16_Original.json").write_text("{not json")
    definition = write_definition(tmp_path, [models])

    proc = _burst(definition, "--runner", "tests.lmeval_fixtures:QuickRunner")

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 4, proc.stdout  # the malformed file, the two requests, the total
    by_model = {line.split()[1].split("@")[0]: line for line in lines[:-1]}

    finished = by_model["local/tiny-llama-good"]
    good_data = json.loads((requests / good).read_text())
    assert finished.startswith("FINISHED ") and "@abc123" in finished and " float32 " in finished
    assert f"results: {tmp_path / 'results'}/{good_data['results_file']}" in finished
    assert (tmp_path / "results" / good_data["results_file"]).is_file()
    assert " s " in finished  # its elapsed time

    failed = by_model["local/tiny-llama-delta"]
    bad_data = json.loads((requests / bad).read_text())
    assert bad_data["status"] == "FAILED"
    assert failed.startswith("FAILED ") and " bfloat16 " in failed
    assert bad_data["error"].splitlines()[0][:60] in failed  # the reason, in short
    assert f"log: {requests}/{bad_data['log_file']}" in failed

    malformed = by_model["local/broken"]
    assert malformed.startswith("FAILED ") and "malformed request file" in malformed

    assert lines[-1].startswith("total: 1 finished, 2 failed in "), lines[-1]


def test_a_burst_where_everything_finished_exits_0_and_an_empty_queue_prints_a_zero_total(tmp_path):
    requests, models = tmp_path / "requests", tmp_path / "models"
    model = fake_model_folder(models)
    for name in ("one", "two"):
        add_request(requests, model, name=name)
    definition = write_definition(tmp_path, [models])

    proc = _burst(definition, "--runner", "tests.lmeval_fixtures:QuickRunner")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["FINISHED", "FINISHED"], lines
    assert lines[-1].startswith("total: 2 finished, 0 failed in "), lines

    again = _burst(definition, "--runner", "tests.lmeval_fixtures:QuickRunner")
    assert again.returncode == 0 and again.stdout.startswith("total: 0 finished, 0 failed in "), again.stdout
