"""The evaluator's worker loop: atomic claims, leases, SIGTERM, and every failure ending FAILED with its reason.

These tests run no lm-eval: jobs go to fake runners (tests/lmeval_fixtures.py); the child-process
runner is exercised with small Python children that hang or die.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from evaluator.jobs import EvaluationConfig
from evaluator.runner import Heartbeat, JobOutcome
from evaluator.worker import Worker, WorkerSettings, iso_time, log_path_for, parse_time
from lib.core.records import Status
from lib.queue.requests import claim, release
from lib.stores import open_store
from tests.lmeval_fixtures import (
    PID_FILE_ENV,
    RUN_LOG_ENV,
    HangingRunner,
    QuickRunner,
    SelfKillingRunner,
    add_request,
    fake_model_folder,
    kill_quietly,
    offline_config,
    pid_alive,
    read_json,
    start_worker,
    wait_for,
    write_definition,
)


class FakeClock:
    """A clock that moves only when told to (sleep advances it too)."""

    def __init__(self, start: float | None = None) -> None:
        self.t = time.time() if start is None else start

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def stores(tmp_path: Path) -> dict[str, Path]:
    paths = {name: tmp_path / name for name in ("requests", "results", "models")}
    for path in paths.values():
        path.mkdir()
    return paths


def make_worker(
    stores: dict[str, Path], runner, config: EvaluationConfig | None = None, clock=None, **settings
):
    config = config or offline_config([stores["models"]])
    options = {"worker_id": "test-worker", "lease_s": 300.0, "heartbeat_s": 0.0, **settings}
    return Worker(
        open_store(str(stores["requests"])),
        open_store(str(stores["results"])),
        config,
        runner,
        WorkerSettings(**options),
        clock=clock or FakeClock(),
    )


def request_data(stores: dict[str, Path], path: str) -> dict:
    return read_json(stores["requests"] / path)


# ---------------------------------------------------------------------------------------------- races
def test_four_worker_processes_run_each_of_forty_requests_exactly_once(stores, tmp_path):
    model = fake_model_folder(stores["models"])
    paths = [add_request(stores["requests"], model, name=f"m{i:02d}") for i in range(40)]
    definition = write_definition(tmp_path, [stores["models"]])
    run_log = tmp_path / "runs.log"
    workers = [
        start_worker(definition, "--burst", "--runner", "tests.lmeval_fixtures:QuickRunner", "--worker-id", f"w{i}",
                     env={RUN_LOG_ENV: str(run_log)})
        for i in range(4)
    ]  # fmt: skip
    try:
        for proc in workers:
            out, _ = proc.communicate(timeout=300)
            assert proc.returncode == 0, out.decode()
    finally:
        for proc in workers:
            kill_quietly(proc)
    runs = Counter(line.split("\t")[0] for line in run_log.read_text().splitlines())
    assert runs == Counter({p: 1 for p in paths})
    for path in paths:
        data = request_data(stores, path)
        assert data["status"] == "FINISHED"
        result = read_json(stores["results"] / data["results_file"])
        assert result["request"]["path"] == path
        assert result["request"]["model"] == data["model"]


def test_claim_takes_priority_then_private_then_oldest(stores):
    model = fake_model_folder(stores["models"])
    old = add_request(stores["requests"], model, name="old", submitted_time="2024-01-01T00:00:00Z")
    add_request(stores["requests"], model, name="new", submitted_time="2024-06-01T00:00:00Z")
    urgent = add_request(
        stores["requests"], model, name="urgent", submitted_time="2024-09-01T00:00:00Z", priority=5
    )
    worker = make_worker(stores, QuickRunner())
    assert worker.claim_next().path == urgent
    assert worker.claim_next().path == old


def test_a_request_claimed_by_one_worker_cannot_be_claimed_by_another(stores):
    path = add_request(stores["requests"], fake_model_folder(stores["models"]))
    first = make_worker(stores, QuickRunner(), worker_id="first")
    second = make_worker(stores, QuickRunner(), worker_id="second")
    assert first.claim_next().path == path
    assert second.claim_next() is None
    assert request_data(stores, path)["worker"] == "first"


# ---------------------------------------------------------------------------------------------- leases
def test_sigkilled_worker_job_is_found_stale_and_run_again_by_another(stores, tmp_path):
    path = add_request(stores["requests"], fake_model_folder(stores["models"]))
    definition = write_definition(tmp_path, [stores["models"]])
    pid_file = tmp_path / "child.pid"
    victim = start_worker(definition, "--once", "--runner", "tests.lmeval_fixtures:HangingRunner",
                          "--worker-id", "victim", "--heartbeat", "0.2", env={PID_FILE_ENV: str(pid_file)})  # fmt: skip
    try:
        wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the victim's job to start")
        assert request_data(stores, path)["status"] == "RUNNING"
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
    finally:
        kill_quietly(victim)
        if pid_file.exists() and pid_file.read_text():
            os.kill(
                int(pid_file.read_text()), signal.SIGKILL
            )  # the orphaned job the worker would have killed

    rescuer = make_worker(stores, QuickRunner(), worker_id="rescuer")
    assert rescuer.run_once() is None, "a job within its lease must not be run a second time"
    assert request_data(stores, path)["status"] == "RUNNING"

    rescuer.clock.t += 301  # past the lease
    finished = rescuer.run_once()
    assert finished is not None and finished.status == Status.FINISHED
    data = request_data(stores, path)
    assert [h["status"] for h in data["status_history"]] == [
        "PENDING",
        "RUNNING",
        "PENDING",
        "RUNNING",
        "FINISHED",
    ]
    assert data["attempts"] == 1
    assert "victim" in data["requeue_reason"]
    assert (stores["results"] / data["results_file"]).is_file()


def test_a_request_that_keeps_losing_its_lease_fails_after_max_attempts(stores):
    path = add_request(stores["requests"], fake_model_folder(stores["models"]), attempts=2)
    clock = FakeClock()
    make_worker(stores, QuickRunner(), clock=clock).claim_next()
    clock.t += 1000
    rescuer = make_worker(stores, QuickRunner(), clock=clock, max_attempts=3)
    assert rescuer.recover_stale() == [path]
    data = request_data(stores, path)
    assert data["status"] == "FAILED"
    assert "lease expired" in data["error"] and "giving up" in data["error"]


class LeaseStealingRunner:
    """While the job runs, another worker requeues and claims the request; our heartbeat must notice."""

    def __init__(self, requests_dir: Path) -> None:
        self.store = open_store(str(requests_dir))
        self.heartbeat_answer: bool | None = None

    def run(self, spec, workdir: Path, heartbeat: Heartbeat, timeout_s: float) -> JobOutcome:
        job_id = read_json(Path(self.store.location) / spec.request_path)["job_id"]
        release(self.store, spec.request_path, job_id, time.time(), "stolen by a test")
        claim(self.store, spec.request_path, "thief", "thief-1", 300.0, time.time())
        self.heartbeat_answer = heartbeat(None)
        return JobOutcome(ok=False, reason="stopped", stopped=True)


def test_a_heartbeat_that_loses_its_lease_abandons_the_job_without_touching_the_request(stores):
    path = add_request(stores["requests"], fake_model_folder(stores["models"]))
    runner = LeaseStealingRunner(stores["requests"])
    assert make_worker(stores, runner).run_once() is None
    assert runner.heartbeat_answer is False
    data = request_data(stores, path)
    assert data["status"] == "RUNNING" and data["job_id"] == "thief-1"


def test_heartbeat_writes_progress_while_running(stores):
    path = add_request(stores["requests"], fake_model_folder(stores["models"]))
    seen = {}

    class Recording(QuickRunner):
        def run(self, spec, workdir, heartbeat, timeout_s):
            heartbeat({"task": "tiny_mc", "done": 3, "total": 80, "phase": "loglikelihood"})
            seen.update(read_json(stores["requests"] / spec.request_path))
            return super().run(spec, workdir, heartbeat, timeout_s)

    make_worker(stores, Recording()).run_once()
    assert seen["progress"] == {"task": "tiny_mc", "done": 3, "total": 80, "phase": "loglikelihood"}
    assert "progress" not in request_data(stores, path)


# ---------------------------------------------------------------------------------------------- SIGTERM
def test_sigterm_puts_the_running_job_back_and_exits_cleanly(stores, tmp_path):
    path = add_request(stores["requests"], fake_model_folder(stores["models"]))
    definition = write_definition(tmp_path, [stores["models"]])
    pid_file = tmp_path / "child.pid"
    worker = start_worker(definition, "--runner", "tests.lmeval_fixtures:HangingRunner", "--poll", "0.2",
                          env={PID_FILE_ENV: str(pid_file)})  # fmt: skip
    try:
        wait_for(lambda: pid_file.exists() and pid_file.read_text(), what="the job to start")
        child = int(pid_file.read_text())
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=60)
    finally:
        kill_quietly(worker)
    assert worker.returncode == 0, out.decode()
    data = request_data(stores, path)
    assert data["status"] == "PENDING"
    assert data.get("attempts", 0) == 0 and "job_id" not in data
    assert "SIGTERM" in data["requeue_reason"]
    wait_for(lambda: not pid_alive(child), seconds=15, what="the job's child process to end")
    assert (stores["requests"] / log_path_for(path)).is_file()


# ---------------------------------------------------------------------------------------------- failures
def test_malformed_request_file_ends_failed_with_reason_and_original_text(stores):
    path = "org/broken_eval_request_False_float16_Original.json"
    (stores["requests"] / "org").mkdir()
    (stores["requests"] / path).write_text('{"model": "org/broken", "status": "PENDING",')
    worker = make_worker(stores, QuickRunner())
    assert worker.run_once() is None
    data = request_data(stores, path)
    assert data["status"] == "FAILED"
    assert data["error"].startswith("malformed request file")
    assert data["model"] == "org/broken" and data["precision"] == "float16"
    assert data["malformed_content"] == '{"model": "org/broken", "status": "PENDING",'


def test_a_json_file_that_is_not_named_like_a_request_is_left_alone(stores):
    (stores["requests"] / "notes.json").write_text("[1, 2")
    make_worker(stores, QuickRunner()).run_once()
    assert (stores["requests"] / "notes.json").read_text() == "[1, 2"


def _run_and_read(stores, runner, path, **settings) -> dict:
    make_worker(stores, runner, **settings).run_once()
    return request_data(stores, path)


def test_missing_model_folder_fails_with_reason(stores):
    path = add_request(stores["requests"], stores["models"] / "nowhere")
    data = _run_and_read(stores, QuickRunner(), path)
    assert data["status"] == "FAILED" and "does not exist" in data["error"]


def test_model_needing_remote_code_fails_with_reason(stores):
    model = fake_model_folder(stores["models"], auto_map={"AutoModelForCausalLM": "modeling_x.XForCausalLM"})
    path = add_request(stores["requests"], model)
    data = _run_and_read(stores, QuickRunner(), path)
    assert data["status"] == "FAILED" and "remote code" in data["error"]
    assert (stores["requests"] / data["log_file"]).is_file()


def test_model_path_escaping_the_roots_through_a_symlink_is_refused(stores, tmp_path):
    outside = fake_model_folder(tmp_path / "elsewhere")
    link = stores["models"] / "innocent"
    link.symlink_to(outside, target_is_directory=True)
    path = add_request(stores["requests"], link)
    data = _run_and_read(stores, QuickRunner(), path)
    assert data["status"] == "FAILED" and "outside the allowed local model roots" in data["error"]


@pytest.mark.skipif(
    __import__("importlib").util.find_spec("bitsandbytes") is not None, reason="bitsandbytes present"
)
def test_4bit_without_bitsandbytes_fails_with_reason(stores):
    path = add_request(stores["requests"], fake_model_folder(stores["models"]), precision="4bit")
    data = _run_and_read(stores, QuickRunner(), path)
    assert data["status"] == "FAILED" and "bitsandbytes" in data["error"]


def test_job_killed_like_an_out_of_memory_crash_fails_and_the_worker_survives(stores):
    path = add_request(stores["requests"], fake_model_folder(stores["models"]))
    data = _run_and_read(stores, SelfKillingRunner(poll_s=0.1), path)
    assert data["status"] == "FAILED" and "killed by signal SIGKILL" in data["error"]


def test_job_over_its_time_limit_is_killed_and_fails(stores, tmp_path, monkeypatch):
    pid_file = tmp_path / "child.pid"
    monkeypatch.setenv(PID_FILE_ENV, str(pid_file))
    path = add_request(stores["requests"], fake_model_folder(stores["models"]))
    config = offline_config([stores["models"]], timeout_s=0.5)
    data = _run_and_read(stores, HangingRunner(), path, config=config)
    assert data["status"] == "FAILED" and "timed out after 0.5 s" in data["error"]
    if pid_file.exists() and pid_file.read_text():
        assert not pid_alive(int(pid_file.read_text()))


def test_results_store_refusing_the_write_fails_the_request_with_the_store_named(stores, tmp_path):
    path = add_request(stores["requests"], fake_model_folder(stores["models"]))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    worker = make_worker(stores, QuickRunner())
    worker.results = open_store(str(blocker / "results"))
    assert worker.run_once().status == Status.FAILED
    data = request_data(stores, path)
    assert data["status"] == "FAILED" and "results_file" not in data
    assert data["error"].startswith("the results could not be written to the results store")
    assert "lease" not in data["error"] and (stores["requests"] / data["log_file"]).is_file()


def test_heartbeat_times_are_written_as_the_template_writes_times_and_read_back():
    assert iso_time(1_700_000_000) == "2023-11-14T22:13:20Z"
    assert parse_time("2023-11-14T22:13:20Z") == 1_700_000_000
    assert parse_time("not a time") is None


def test_once_on_an_empty_queue_exits_zero(tmp_path):
    definition = write_definition(tmp_path, [tmp_path])
    proc = start_worker(definition, "--once")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out.decode()
