"""The evaluator under faults: a killed worker takes its job's processes with it and its job folder is
removed; a full results disk ends the request FAILED saying so, with the log."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from evaluator.runner import SubprocessRunner
from evaluator.worker import Worker, WorkerSettings, sweep_workdirs
from lib.core.records import Status
from lib.stores import open_store
from lib.stores.base import StoreWriteError
from lib.stores.local import LocalFileStore
from tests.lmeval_fixtures import (
    PID_FILE_ENV,
    QuickRunner,
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

FAMILY = """
import os, subprocess, sys, time
from evaluator.lifeline import guard_job
guard_job(poll_s=0.2)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(sys.argv[1] + ".tmp", "w") as handle:
    handle.write(f"{os.getpid()} {grandchild.pid}")
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
"""


class FamilyRunner(SubprocessRunner):
    """A real job that guards itself as the harness does and starts a grandchild (as lm-eval's workers)."""

    def __init__(self) -> None:
        super().__init__(poll_s=0.1)

    def command(self, spec_file: Path, workdir: Path) -> list[str]:
        return [sys.executable, "-c", FAMILY, os.environ[PID_FILE_ENV]]


@pytest.fixture
def stores(tmp_path: Path) -> dict[str, Path]:
    paths = {name: tmp_path / name for name in ("requests", "results", "models", "work")}
    for path in paths.values():
        path.mkdir()
    return paths


def test_a_sigkilled_worker_takes_its_job_and_the_jobs_children_with_it(stores, tmp_path):
    add_request(stores["requests"], fake_model_folder(stores["models"]))
    definition = write_definition(tmp_path, [stores["models"]])
    pid_file = tmp_path / "family.pids"
    env = {PID_FILE_ENV: str(pid_file), "TMPDIR": str(stores["work"])}
    worker = start_worker(
        definition, "--once", "--runner", "tests.test_evaluator_faults:FamilyRunner", env=env
    )
    pids: list[int] = []
    try:
        wait_for(pid_file.exists, seconds=60, what="the job and its grandchild to start")
        pids = [int(p) for p in pid_file.read_text().split()]
        assert all(pid_alive(p) for p in pids)
        assert [p.name for p in stores["work"].iterdir() if p.name.startswith("evaljob-")]
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        wait_for(lambda: not any(_running(p) for p in pids), seconds=15, what="the job's processes to die")
    finally:
        kill_quietly(worker)
        for pid in pids:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
    left = [p for p in stores["work"].iterdir() if p.name.startswith(f"evaljob-{worker.pid}-")]
    assert left, "a SIGKILLed worker cannot clean up: its job folder stays until the next worker starts"
    other = stores["work"] / f"evaljob-{os.getpid()}-alive"  # a live worker's folder is never touched
    other.mkdir()
    assert sweep_workdirs(str(stores["work"])) == [str(left[0])]
    assert not left[0].exists() and other.exists()


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for its (dead) parent's reaper."""
    if not pid_alive(pid):
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


class FullDiskStore(LocalFileStore):
    """A results store on a disk with no space left: every write fails as the kernel reports it."""

    def write_bytes(self, path: str, data: bytes, message: str = "") -> None:
        try:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        except OSError as exc:
            raise StoreWriteError(f"cannot write {path} in {self.root}: {exc}") from exc


def _worker(stores: dict[str, Path], results) -> Worker:
    return Worker(
        open_store(str(stores["requests"])),
        results,
        offline_config([stores["models"]]),
        QuickRunner(),
        WorkerSettings(worker_id="w", heartbeat_s=0.0, work_root=str(stores["work"])),
    )


def _assert_full_disk_failure(stores: dict[str, Path], path: str) -> None:
    data = read_json(stores["requests"] / path)
    assert data["status"] == "FAILED"
    assert data["error"].startswith("no space left on the results store")
    assert "lease" not in data["error"] and "results_file" not in data
    log_text = (stores["requests"] / data["log_file"]).read_text()
    assert "quick run" in log_text and "no space left on the results store" in log_text
    assert "no space left" in data["log_tail"]
    assert not list(stores["work"].iterdir())  # the job folder is gone too


def test_a_full_results_disk_fails_the_request_saying_so_with_its_log(stores):
    path = add_request(stores["requests"], fake_model_folder(stores["models"]))
    ended = _worker(stores, FullDiskStore(stores["results"])).run_once()
    assert ended.status == Status.FAILED
    _assert_full_disk_failure(stores, path)


@pytest.fixture
def tiny_tmpfs():
    """A 64 KiB tmpfs already nearly full; skipped where mounting is not allowed."""
    folder = Path(tempfile.mkdtemp(prefix="fulldisk-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip("cannot mount a tmpfs here (not root, or no permission)")
    try:
        with open(folder / "filler", "wb") as handle:
            try:
                handle.write(b"x" * 65536)
            except OSError:
                pass
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)
        folder.rmdir()


def test_a_really_full_tmpfs_as_the_results_store_fails_the_request_saying_so(stores, tiny_tmpfs):
    path = add_request(stores["requests"], fake_model_folder(stores["models"]))
    ended = _worker(stores, LocalFileStore(tiny_tmpfs)).run_once()
    assert ended.status == Status.FAILED
    _assert_full_disk_failure(stores, path)


class RefusingStore(LocalFileStore):
    """A requests store that can be read but refuses every change (a read-only mount, a revoked token)."""

    def replace_if_unchanged(self, path: str, data: bytes, version: str, message: str = "") -> bool:
        raise StoreWriteError(f"cannot write {path}: read-only file system")


def test_a_requests_store_that_refuses_writes_ends_the_burst_without_a_crash(stores, caplog):
    path = add_request(stores["requests"], fake_model_folder(stores["models"]))
    (stores["requests"] / "org").mkdir()
    (stores["requests"] / "org" / "m_eval_request_False_float16_Original.json").write_text("{")
    worker = _worker(stores, open_store(str(stores["results"])))
    worker.requests = RefusingStore(stores["requests"])
    assert worker.run_burst() == 0
    assert read_json(stores["requests"] / path)["status"] == "PENDING"
    assert "cannot be claimed" in caplog.text and "m_eval_request_False_float16_Original.json" in caplog.text
