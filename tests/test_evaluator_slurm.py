"""The Slurm executor against a real single-node Slurm (slurm-wlm + munge, started by scripts/slurm.sh).

Every test runs ``python -m evaluator --executor slurm`` as a separate process, as an operator would; the
jobs are real Slurm jobs running ``python -m evaluator run-request``. What Slurm did is read back from
Slurm itself (``squeue``/``scontrol``; ``sacct`` where the cluster keeps accounting).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from evaluator.slurm.client import SlurmClient
from lib.core.config import load_definition
from lib.queue.admin import cancel as admin_cancel
from lib.stores import open_store
from tests import lmeval_fixtures, slurm_fixtures
from tests.lmeval_fixtures import add_request, fake_model_folder, write_definition
from tests.slurm_fixtures import GATE_ENV, STARTS_ENV, pid_alive, read_request, starts, wait_until

slurm_cluster = slurm_fixtures.slurm_cluster
tiny_model = lmeval_fixtures.tiny_model
hf_offline = lmeval_fixtures.hf_offline
ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slurm


def slurm_definition(tmp_path: Path, model_roots: list[Path], **slurm: Any) -> Path:
    """The offline definition with test stores and an ``evaluation.slurm`` section."""
    path = write_definition(tmp_path, model_roots)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["evaluation"]["executor"] = "slurm"
    data["evaluation"]["slurm"] = {"log_dir": str(tmp_path / "slurm-logs"), "cpus_per_task": 1, "mem": "1000M",
                                   **slurm}  # fmt: skip
    data["admins"] = ["leaderboard-admin"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp_path / "requests").mkdir(exist_ok=True)
    (tmp_path / "results").mkdir(exist_ok=True)
    return path


def start_executor(definition: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "evaluator", "--config", str(definition), "--poll", "1", "-v", *extra]
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def finish(proc: subprocess.Popen, seconds: float) -> str:
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(
            f"the executor did not return within {seconds:.0f} s:\n{out.decode(errors='replace')[-4000:]}"
        )
    return out.decode("utf-8", errors="replace")


def request_file(tmp_path: Path, path: str) -> Path:
    return tmp_path / "requests" / path


@pytest.mark.lmeval
def test_four_requests_run_as_four_slurm_jobs_end_to_end(tmp_path, slurm_cluster, tiny_model, hf_offline):
    definition = slurm_definition(tmp_path, [tiny_model.parent], max_jobs=4)
    paths = [add_request(tmp_path / "requests", tiny_model, name=f"tiny-{i}") for i in range(4)]

    proc = start_executor(definition, "--burst", "--device", "cpu", "--batch-size", "8")
    log = finish(proc, 600)
    assert proc.returncode == 0, log

    requests = [read_request(request_file(tmp_path, p)) for p in paths]
    assert [r["status"] for r in requests] == ["FINISHED"] * 4, [r.get("error") for r in requests]
    slurm_ids = [r["slurm_job_id"] for r in requests]
    assert len(set(slurm_ids)) == 4
    states = SlurmClient().states(slurm_ids)
    assert {s.state for s in states.values()} == {"COMPLETED"}, states
    assert [r["slurm_state"] for r in requests] == ["COMPLETED"] * 4
    for request in requests:
        assert Path(request["slurm_log"]).is_file()
        assert f"running as Slurm job {request['slurm_job_id']}" in Path(request["slurm_log"]).read_text()
        results = tmp_path / "results" / request["results_file"]
        document = json.loads(results.read_text(encoding="utf-8"))
        assert document["request"]["path"] in paths
        assert {"tiny_mc", "tiny_gen"} <= set(document["results"])

    from lib.analysis.ranking import leaderboard_frame
    from lib.index import build_index

    loaded = load_definition(definition)
    frame = leaderboard_frame(build_index(loaded), loaded.benchmarks)
    assert set(frame["model"]) >= {f"local/tiny-{i}" for i in range(4)}


def test_scancel_time_limit_and_admin_cancel_end_their_requests_with_slurms_reason(tmp_path, slurm_cluster):
    models = tmp_path / "models"
    model = fake_model_folder(models, "fake")
    definition = slurm_definition(tmp_path, [models], max_jobs=2, time="1")
    killed = add_request(tmp_path / "requests", model, name="scancelled", priority=3)
    late = add_request(tmp_path / "requests", model, name="too-slow", priority=2)
    cancelled = add_request(tmp_path / "requests", model, name="admin-cancelled", priority=1)
    starts_dir = tmp_path / "starts"
    starts_dir.mkdir()
    env = {STARTS_ENV: str(starts_dir)}
    proc = start_executor(definition, "--runner", "tests.slurm_fixtures:HangingChildRunner", env=env)
    try:

        def started(path: str) -> bool:
            return any(request == path for _, request, _ in starts(starts_dir))

        wait_until(lambda: started(killed) and started(late), 60, "two jobs starting")
        first = read_request(request_file(tmp_path, killed))
        assert read_request(request_file(tmp_path, cancelled))["status"] == "PENDING"  # max_jobs=2
        subprocess.run(["scancel", first["slurm_job_id"]], check=True)
        wait_until(
            lambda: read_request(request_file(tmp_path, killed))["status"] == "FAILED", 60, "scancel seen"
        )
        ended = read_request(request_file(tmp_path, killed))
        assert ended["error"] == f"Slurm job {first['slurm_job_id']} ended CANCELLED on {first['slurm_node']}"
        assert ended["slurm_jobs"][-1]["state"] == "CANCELLED"

        # The freed slot goes to the third request; an admin cancels it while it runs.
        wait_until(lambda: started(cancelled), 60, "the third job starting")
        third = read_request(request_file(tmp_path, cancelled))
        admin_cancel(
            open_store(str(tmp_path / "requests")),
            load_definition(definition),
            cancelled,
            "leaderboard-admin",
        )
        wait_until(
            lambda: SlurmClient().states([third["slurm_job_id"]])[third["slurm_job_id"]].state == "CANCELLED",
            60,
            "the admin's cancel reaching Slurm",
        )
        after = read_request(request_file(tmp_path, cancelled))
        assert after["status"] == "FAILED" and after["error"] == "cancelled by leaderboard-admin"

        wait_until(
            lambda: read_request(request_file(tmp_path, late))["status"] == "FAILED", 150, "time limit"
        )
        slow = read_request(request_file(tmp_path, late))
        assert slow["error"].startswith(f"Slurm job {slow['slurm_job_id']} ended TIMEOUT (time limit ")
        assert "1:00)" in slow["error"]  # squeue writes 1:00, sacct 00:01:00
        assert "CANCELLED" in slow["log_tail"] and "DUE TO TIME LIMIT" in slow["log_tail"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out = finish(proc, 60)
    assert proc.returncode == 0, out
    for _, _, pid in starts(starts_dir):
        wait_until(lambda pid=pid: not pid_alive(pid), 30, f"evaluation child {pid} ending with its job")
    assert len(starts(starts_dir)) == 3  # nothing was started twice


def test_a_node_going_down_requeues_the_request_which_then_finishes_once(tmp_path, slurm_cluster):
    models = tmp_path / "models"
    model = fake_model_folder(models, "fake")
    definition = slurm_definition(tmp_path, [models], max_jobs=1)
    path = add_request(tmp_path / "requests", model, name="survivor")
    starts_dir, gate = tmp_path / "starts", tmp_path / "gate"
    starts_dir.mkdir()
    env = {STARTS_ENV: str(starts_dir), GATE_ENV: str(gate)}
    proc = start_executor(definition, "--burst", "--runner", "tests.slurm_fixtures:GateRunner", env=env)
    node = slurm_fixtures.node_name()
    try:
        wait_until(lambda: len(starts(starts_dir)) == 1, 60, "the first job starting")
        first_id, _, first_pid = starts(starts_dir)[0]
        slurm_fixtures.scontrol("update", f"nodename={node}", "state=down", "reason=oel-test")
        wait_until(lambda: len(starts(starts_dir)) == 2, 90, "the request running again as a new job")
    finally:
        subprocess.run(["scontrol", "update", f"nodename={node}", "state=resume"], capture_output=True)
    second_id, _, _ = starts(starts_dir)[1]
    assert second_id != first_id
    assert not pid_alive(first_pid)
    gate.write_text("go", encoding="utf-8")
    out = finish(proc, 120)
    assert proc.returncode == 0, out

    request = read_request(request_file(tmp_path, path))
    assert request["status"] == "FINISHED", request.get("error")
    assert request["attempts"] == 1
    assert request["slurm_job_id"] == second_id
    assert [(j["id"], j["state"]) for j in request["slurm_jobs"]] == [(first_id, "NODE_FAIL")]
    assert "NODE_FAIL" in request["requeue_reason"]
    assert [h["status"] for h in request["status_history"]].count("FINISHED") == 1
    assert len(list((tmp_path / "results").rglob("results_*.json"))) == 1
    assert SlurmClient().states([first_id])[first_id].state == "NODE_FAIL"
    assert SlurmClient().states([second_id])[second_id].state == "COMPLETED"
