"""Fixtures and fake runners for the evaluator tests (and the evaluator bench).

Import the fixtures into a test module (``from tests.lmeval_fixtures import tiny_model  # noqa: F401``).
The tiny model is built once per test process (a module-level cache), however many modules import it.
The fake runners are importable by ``python -m evaluator --runner tests.lmeval_fixtures:QuickRunner``
so worker processes in tests can run jobs without lm-eval.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from evaluator.jobs import EvaluationConfig, JobSpec, TaskSpec
from evaluator.runner import Heartbeat, JobOutcome, SubprocessRunner
from evaluator.suite import BUNDLED_TASKS_DIR
from lib.queue.requests import create_request
from lib.stores import open_store

ROOT = Path(__file__).resolve().parents[1]
RUN_LOG_ENV = "EVALUATOR_TEST_RUN_LOG"
PID_FILE_ENV = "EVALUATOR_TEST_PID_FILE"
_TINY_CACHE: dict[str, Path] = {}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama model folder, built once per test process (below a models root)."""
    if "path" not in _TINY_CACHE:
        from evaluator.tiny_model import build_tiny_model

        root = tmp_path_factory.mktemp("models")
        _TINY_CACHE["path"] = build_tiny_model(root / "tiny-llama")
    return _TINY_CACHE["path"]


@pytest.fixture
def hf_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No network for lm-eval, datasets or the Hub client, and a private HF cache (children inherit it)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")


def offline_config(model_roots: list[Path], **changes: Any) -> EvaluationConfig:
    """The bundled offline suite's evaluation settings, with test model roots."""
    values: dict[str, Any] = {
        "tasks": (TaskSpec("tiny_mc", 0), TaskSpec("tiny_gen", 2)),
        "include_paths": (str(BUNDLED_TASKS_DIR),),
        "allow_local_models": True,
        "local_model_roots": tuple(str(r) for r in model_roots),
        "batch_size": "8",
        "device": "cpu",
        "timeout_s": 600.0,
    }
    values.update(changes)
    return EvaluationConfig(**values)


def add_request(requests_dir: Path, model_path: Path | str, name: str = "tiny", **fields: Any) -> str:
    """Write a PENDING local-model request as the submission form would; returns its path in the store."""
    data: dict[str, Any] = {
        "model": f"local/{name}",
        "model_path": str(model_path),
        "revision": fields.pop("revision", "0123456789abcdef"),
        "precision": fields.pop("precision", "float32"),
        "weight_type": fields.pop("weight_type", "Original"),
        "status": "PENDING",
        "sender": "tester",
    }
    data.update(fields)
    created, path = create_request(open_store(str(requests_dir)), data)
    assert created
    return path


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


class QuickRunner:
    """Runs nothing: records the job in a run log, beats once, returns a minimal lm-eval-like result."""

    def run(self, spec: JobSpec, workdir: Path, heartbeat: Heartbeat, timeout_s: float) -> JobOutcome:
        log_file = os.environ.get(RUN_LOG_ENV)
        if log_file:
            line = f"{spec.request_path}\t{os.getpid()}\n".encode()
            fd = os.open(log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        if not heartbeat({"task": "tiny_mc", "done": 1, "total": 1, "phase": "loglikelihood"}):
            return JobOutcome(ok=False, reason="stopped", stopped=True)
        results = {
            "results": {"tiny_mc": {"alias": "tiny_mc", "acc,none": 0.25, "acc_stderr,none": 0.1}},
            "versions": {"tiny_mc": 1.0},
            "n-shot": {"tiny_mc": 0},
            "higher_is_better": {"tiny_mc": {"acc": True}},
            "config": {"model": "hf", "model_args": spec.model_args, "limit": None},
            "date": time.time(),
        }
        stamp = f"{time.strftime('%Y-%m-%dT%H-%M-%S')}.{time.time_ns() % 1_000_000:06d}"
        return JobOutcome(ok=True, results=results, results_name=f"results_{stamp}.json", log="quick run\n")


class HangingRunner(SubprocessRunner):
    """A real child process that records its pid and sleeps: for timeouts, SIGTERM and lost leases."""

    def __init__(self) -> None:
        super().__init__(poll_s=0.1)

    def command(self, spec_file: Path, workdir: Path) -> list[str]:
        pid_file = os.environ.get(PID_FILE_ENV) or str(workdir / "child.pid")
        code = "import os,sys,time; open(sys.argv[1],'w').write(str(os.getpid())); time.sleep(600)"
        return [sys.executable, "-c", code, pid_file]


class SelfKillingRunner(SubprocessRunner):
    """A child that dies by SIGKILL, as the kernel's out-of-memory killer would do it."""

    def command(self, spec_file: Path, workdir: Path) -> list[str]:
        return [sys.executable, "-c", "import os,signal; os.kill(os.getpid(), signal.SIGKILL)"]


def write_definition(folder: Path, model_roots: list[Path]) -> Path:
    """A copy of the bundled offline definition whose stores and model roots are test folders."""
    import yaml

    data = yaml.safe_load((ROOT / "lib" / "definitions" / "offline.yaml").read_text(encoding="utf-8"))
    data["stores"] = {"requests": str(folder / "requests"), "results": str(folder / "results")}
    data["evaluation"]["local_model_roots"] = [str(r) for r in model_roots]
    data["evaluation"]["tasks_include_path"] = str(BUNDLED_TASKS_DIR)
    path = folder / "definition.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def fake_model_folder(root: Path, name: str = "fake", **config: Any) -> Path:
    """A model folder with only a config.json: enough for the checks made before a job starts."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", **config}), encoding="utf-8")
    return folder


def start_worker(definition: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``python -m evaluator`` as a separate process on a definition file (its stores)."""
    command = [sys.executable, "-m", "evaluator", "--config", str(definition), *extra]
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def wait_for(predicate: Any, seconds: float = 60.0, what: str = "condition") -> None:
    """Poll ``predicate`` until true; fails the test (not a timing assertion) if it never becomes true."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {seconds} s")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_quietly(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


def temp_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="evaltest-"))
