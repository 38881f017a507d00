"""Real lm-eval runs of the tiny model on the bundled offline suite, through the evaluator's child process.

Marked ``lmeval``: each job starts a child that imports torch and lm-eval (seconds on a CPU).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evaluator.jobs import TaskSpec
from evaluator.runner import SubprocessRunner
from evaluator.worker import Worker, WorkerSettings
from lib.core.config import load_definition
from lib.stores import open_store
from tests import lmeval_fixtures
from tests.lmeval_fixtures import add_request, offline_config, read_json, write_definition

# The shared fixtures (the tiny model is built once per test process, see tests/lmeval_fixtures.py).
tiny_model = lmeval_fixtures.tiny_model
hf_offline = lmeval_fixtures.hf_offline

pytestmark = pytest.mark.lmeval


class ProgressRecordingRunner(SubprocessRunner):
    """The real runner, remembering every progress report the child made."""

    def __init__(self) -> None:
        super().__init__(poll_s=0.2)
        self.progress: list[dict] = []

    def run(self, spec, workdir, heartbeat, timeout_s):
        def recording(progress):
            if progress:
                self.progress.append(dict(progress))
            return heartbeat(progress)

        return super().run(spec, workdir, recording, timeout_s)


def _worker(tmp_path: Path, roots: list[Path], runner, **config_changes) -> Worker:
    for name in ("requests", "results"):
        (tmp_path / name).mkdir(exist_ok=True)
    return Worker(
        open_store(str(tmp_path / "requests")),
        open_store(str(tmp_path / "results")),
        offline_config(roots, **config_changes),
        runner,
        WorkerSettings(worker_id="lmeval-test", heartbeat_s=0.0),
    )


def test_tiny_model_run_writes_lm_eval_results_with_the_request_block_and_ranks(
    tmp_path, tiny_model, hf_offline
):
    runner = ProgressRecordingRunner()
    worker = _worker(tmp_path, [tiny_model.parent], runner)
    path = add_request(tmp_path / "requests", tiny_model, name="tiny", revision="feedbeef")
    finished = worker.run_once()

    data = read_json(tmp_path / "requests" / path)
    assert finished is not None and data["status"] == "FINISHED", data.get("error")
    results_file = tmp_path / "results" / data["results_file"]
    assert results_file.parent.name == "local__tiny" and results_file.name.startswith("results_")
    result = read_json(results_file)
    assert set(result["results"]) == {"tiny_mc", "tiny_gen"}
    assert "acc,none" in result["results"]["tiny_mc"]
    assert "exact_match,first_number" in result["results"]["tiny_gen"]
    assert result["n-shot"] == {"tiny_mc": 0, "tiny_gen": 2}
    assert result["n-samples"]["tiny_mc"]["effective"] == 20
    assert result["config"]["model"] == "hf"
    assert result["config"]["model_args"]["pretrained"] == str(tiny_model)
    assert result["config"]["model_args"]["dtype"] == "float32"
    assert result["config"]["limit"] is None
    assert result["model_name"] == "local/tiny"
    assert result["request"] == {
        **result["request"],
        "path": path,
        "model": "local/tiny",
        "revision": "feedbeef",
        "precision": "float32",
        "weight_type": "Original",
        "use_chat_template": False,
    }
    assert "lm_eval_version" in result and "total_evaluation_time_seconds" in result
    job_log = (tmp_path / "requests" / data["log_file"]).read_text()
    # Progress named the tasks as they ran (the job log keeps every phase change; the heartbeats that
    # sample the progress file may miss a short phase on a busy machine).
    progress_lines = [
        json.loads(line.split("progress: ", 1)[1]) for line in job_log.splitlines() if "progress: " in line
    ]
    assert any("tiny_mc" in p["task"] and p["total"] > 0 for p in progress_lines), progress_lines
    assert runner.progress, "the worker never read the job's progress"

    (tmp_path / "def").mkdir()
    definition = load_definition(write_definition(tmp_path / "def", [tiny_model.parent]))
    from lib.analysis.ranking import leaderboard_frame
    from lib.index import build_index

    index = build_index(definition, results=str(tmp_path / "results"), requests=str(tmp_path / "requests"))
    frame = leaderboard_frame(index, definition.benchmarks)
    row = frame[frame["model"] == "local/tiny"]
    assert len(row) == 1
    assert row["tiny_mc_raw"].iloc[0] == pytest.approx(result["results"]["tiny_mc"]["acc,none"])


def test_model_that_crashes_while_loading_fails_with_the_reason(tmp_path, tiny_model, hf_offline):
    broken = tmp_path / "models" / "broken"
    shutil.copytree(tiny_model, broken)
    (broken / "model.safetensors").write_bytes(b"this is not a safetensors file")
    worker = _worker(tmp_path, [tmp_path / "models"], SubprocessRunner(poll_s=0.2))
    path = add_request(tmp_path / "requests", broken, name="broken")
    worker.run_once()
    data = read_json(tmp_path / "requests" / path)
    assert data["status"] == "FAILED"
    assert data["error"].startswith("model failed to load")
    assert "model failed to load" in data["log_tail"]


def test_task_that_fails_ends_failed_with_the_reason(tmp_path, tiny_model, hf_offline):
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    (tasks / "tiny_mc.yaml").write_text(
        "task: tiny_mc\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: '@TASKS_DIR@/missing.jsonl'\n"
        "test_split: test\noutput_type: multiple_choice\ndoc_to_text: '{{question}}'\n"
        "doc_to_choice: '{{choices}}'\ndoc_to_target: answer\n"
    )
    worker = _worker(
        tmp_path,
        [tiny_model.parent],
        SubprocessRunner(poll_s=0.2),
        include_paths=(str(tasks),),
        tasks=(TaskSpec("tiny_mc", 0),),
    )
    path = add_request(tmp_path / "requests", tiny_model, name="tiny")
    worker.run_once()
    data = read_json(tmp_path / "requests" / path)
    assert data["status"] == "FAILED"
    assert data["error"].startswith("task failed to load"), data["error"]
