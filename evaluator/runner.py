"""Runs one job in a child process and reports how it ended; the worker never evaluates in its own process.

``SubprocessRunner`` starts ``python -m evaluator.harness`` (or a configured launcher such as
``accelerate launch``) in its own process group, calls the worker's heartbeat while it runs (which may
ask it to stop), kills the whole group on a timeout or a stop, and turns the child's files into a
``JobOutcome``. A crash, an out-of-memory kill or a hang ends the job, never the worker. This module
does not import lm_eval and does not touch stores.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from evaluator.jobs import JobSpec
from evaluator.lifeline import WORKER_PID_ENV, die_with_parent

log = logging.getLogger(__name__)

# Called with the child's latest progress (or None); returns False when the job must stop.
Heartbeat = Callable[[dict[str, Any] | None], bool]
LOG_TAIL_CHARS = 4000


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended. ``results`` is lm-eval's output when ``ok``; ``files`` holds samples beside it."""

    ok: bool
    reason: str = ""
    results: dict[str, Any] | None = None
    results_name: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    log: str = ""
    stopped: bool = False  # the heartbeat asked us to stop: the worker decides what the request becomes


class Runner(Protocol):
    """Anything that runs a JobSpec in ``workdir``, calling ``heartbeat`` while it runs."""

    def run(self, spec: JobSpec, workdir: Path, heartbeat: Heartbeat, timeout_s: float) -> JobOutcome: ...


class SubprocessRunner:
    """The real runner: a child process per job, killed as a whole process group when needed."""

    def __init__(
        self, launcher: tuple[str, ...] = (), poll_s: float = 0.5, env: dict[str, str] | None = None
    ):
        self.launcher = launcher
        self.poll_s = poll_s
        self.env = env

    def command(self, spec_file: Path, workdir: Path) -> list[str]:
        """The child's argv: ``<launcher or python> -m evaluator.harness SPEC WORKDIR``."""
        prefix = list(self.launcher) or [sys.executable]
        return [*prefix, "-m", "evaluator.harness", str(spec_file), str(workdir)]

    def run(self, spec: JobSpec, workdir: Path, heartbeat: Heartbeat, timeout_s: float) -> JobOutcome:
        workdir.mkdir(parents=True, exist_ok=True)
        spec_file = workdir / "spec.json"
        spec_file.write_text(spec.to_json(), encoding="utf-8")
        log_file = workdir / "job.log"
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_project_root(), env.get("PYTHONPATH", "")]))
        worker_pid = os.getpid()
        env[WORKER_PID_ENV] = str(worker_pid)  # the job's watchdog kills its group once we are gone
        with open(log_file, "wb") as log_handle:
            child = subprocess.Popen(
                self.command(spec_file, workdir),
                stdout=log_handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # its own process group: we can kill it and its children
                preexec_fn=lambda: die_with_parent(worker_pid),  # and it dies with us (evaluator.lifeline)
            )
            ended = self._watch(child, workdir, heartbeat, timeout_s)
        return self._outcome(child, ended, workdir, log_file, timeout_s)

    def _watch(
        self, child: subprocess.Popen[bytes], workdir: Path, heartbeat: Heartbeat, timeout_s: float
    ) -> str:
        started = time.monotonic()
        while True:
            try:
                child.wait(timeout=self.poll_s)
                return "exited"
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() - started > timeout_s:
                _kill_group(child)
                return "timeout"
            if not heartbeat(read_progress(workdir)):
                _kill_group(child)
                return "stopped"

    def _outcome(
        self, child: subprocess.Popen[bytes], ended: str, workdir: Path, log_file: Path, timeout_s: float
    ) -> JobOutcome:
        text = log_file.read_text(encoding="utf-8", errors="replace")
        if ended == "stopped":
            return JobOutcome(ok=False, reason="stopped", log=text, stopped=True)
        if ended == "timeout":
            return JobOutcome(ok=False, reason=f"timed out after {timeout_s:g} s (job killed)", log=text)
        code = child.returncode
        if code != 0:
            return JobOutcome(ok=False, reason=_failure_reason(workdir, code, text), log=text)
        return collect_results(workdir / "out", text)


def collect_results(out_dir: Path, log_text: str = "") -> JobOutcome:
    """The newest ``results_*.json`` lm-eval wrote below ``out_dir``, with the samples beside it."""
    found = (
        sorted(out_dir.glob("*/results_*.json"), key=lambda p: p.stat().st_mtime) if out_dir.is_dir() else []
    )
    if not found:
        return JobOutcome(ok=False, reason="the job ended without writing a results file", log=log_text)
    results_file = found[-1]
    try:
        results = json.loads(results_file.read_text(encoding="utf-8"))
    except ValueError as exc:
        return JobOutcome(ok=False, reason=f"the results file is not valid JSON: {exc}", log=log_text)
    files = {p.name: p.read_bytes() for p in results_file.parent.glob("samples_*.jsonl")}
    return JobOutcome(ok=True, results=results, results_name=results_file.name, files=files, log=log_text)


def read_progress(workdir: Path) -> dict[str, Any] | None:
    """The child's latest progress, or None before it wrote any."""
    try:
        data = json.loads((workdir / "progress.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def log_tail(text: str, chars: int = LOG_TAIL_CHARS) -> str:
    """The end of a log, cut at a line start."""
    if len(text) <= chars:
        return text
    tail = text[-chars:]
    return tail[tail.find("\n") + 1 :] if "\n" in tail else tail


def _failure_reason(workdir: Path, code: int, text: str) -> str:
    try:
        return str(json.loads((workdir / "failure.json").read_text(encoding="utf-8"))["reason"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"the job crashed: killed by signal {name}{hint}"
    lines = [line for line in text.strip().splitlines() if line.strip()]
    last = lines[-1].strip() if lines else "no output"
    return f"the job crashed (exit code {code}): {last[:300]}"


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    """SIGTERM the child's process group, then SIGKILL what is left after a few seconds."""
    for sig, wait_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            return
        try:
            child.wait(timeout=wait_s)
            _reap_group(child.pid)
            return
        except subprocess.TimeoutExpired:
            continue


def _reap_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)  # grandchildren that ignored SIGTERM
    except ProcessLookupError:
        pass


def _project_root() -> str:
    return str(Path(__file__).resolve().parent.parent)
