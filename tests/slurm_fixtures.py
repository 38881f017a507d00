"""A real Slurm for the Slurm executor's tests, and runners that jobs on it can load.

``slurm_cluster`` uses the cluster ``SLURM_CONF`` points at when it answers (``.ci/run`` starts one with
``scripts/slurm.sh``); otherwise it starts a private one in a temporary folder with the same script and
stops it at the end. It skips only when the script says Slurm cannot be installed or started here
(exit status 3), with the script's reason. The runners are loaded inside Slurm jobs through
``--runner tests.slurm_fixtures:GateRunner`` and write what they did to files named by environment
variables (Slurm passes the submitter's environment to its jobs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evaluator.jobs import JobSpec
from evaluator.runner import Heartbeat, JobOutcome, SubprocessRunner
from tests.lmeval_fixtures import QuickRunner

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "slurm.sh"
STARTS_ENV = "SLURM_TEST_STARTS"  # a folder: one line per job start, "<slurm id>\t<request>\t<pid>"
GATE_ENV = "SLURM_TEST_GATE"  # a file: GateRunner jobs wait for it, then finish


def _answers(env: dict[str, str]) -> bool:
    try:
        done = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[str]:
    """SLURM_CONF of a running single-node cluster (set in os.environ for the session)."""
    if os.environ.get("SLURM_CONF") and _answers(dict(os.environ)):
        yield os.environ["SLURM_CONF"]
        return
    folder = tempfile.mkdtemp(prefix="oel-slurm-")
    env = {**os.environ, "OEL_SLURM_DIR": folder, "OEL_SLURM_KEEP_MUNGE": "1"}  # other sessions may share it
    done = subprocess.run(
        ["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=900
    )
    if done.returncode == 3:
        pytest.skip(f"no Slurm for these tests: {done.stderr.strip()}")
    assert done.returncode == 0, f"scripts/slurm.sh start failed:\n{done.stderr}"
    conf = str(Path(folder) / "slurm.conf")
    previous = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = conf
    try:
        yield conf
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=120)
        if previous is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = previous


def node_name() -> str:
    out = subprocess.run(["sinfo", "-h", "-N", "-o", "%N"], capture_output=True, text=True, check=True)
    return out.stdout.split()[0]


def scontrol(*args: str) -> str:
    done = subprocess.run(["scontrol", *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def record_start(spec: JobSpec, pid: int) -> None:
    folder = os.environ.get(STARTS_ENV)
    if not folder:
        return
    line = f"{os.environ.get('SLURM_JOB_ID', '')}\t{spec.request_path}\t{pid}\n"
    with open(Path(folder) / f"{os.environ.get('SLURM_JOB_ID', 'none')}.start", "a", encoding="utf-8") as f:
        f.write(line)


def starts(folder: Path) -> list[tuple[str, str, int]]:
    """Every job start recorded in ``folder``: (slurm id, request path, pid of the evaluation child)."""
    rows = []
    for file in sorted(folder.glob("*.start")):
        for line in file.read_text(encoding="utf-8").splitlines():
            slurm_id, request, pid = line.split("\t")
            rows.append((slurm_id, request, int(pid)))
    return rows


class HangingChildRunner(SubprocessRunner):
    """A real child process that sleeps (its own session, as lm-eval's is); records its start."""

    def __init__(self) -> None:
        super().__init__(poll_s=0.2)

    def command(self, spec_file: Path, workdir: Path) -> list[str]:
        code = "import time; time.sleep(3600)"
        return [sys.executable, "-c", code]

    def run(self, spec: JobSpec, workdir: Path, heartbeat: Heartbeat, timeout_s: float) -> JobOutcome:
        original = heartbeat
        recorded = False

        def beat(progress: dict[str, Any] | None) -> bool:
            nonlocal recorded
            if not recorded:
                pid = _child_pid(workdir)
                if pid:
                    record_start(spec, pid)
                    recorded = True
            return original({"task": "hang", "done": 0, "total": 1, "phase": "sleeping"})

        return super().run(spec, workdir, beat, timeout_s)


class GateRunner(HangingChildRunner):
    """Sleeps in a child until the gate file exists, then finishes like QuickRunner (one results file)."""

    def run(self, spec: JobSpec, workdir: Path, heartbeat: Heartbeat, timeout_s: float) -> JobOutcome:
        gate = Path(os.environ[GATE_ENV])

        def beat(progress: dict[str, Any] | None) -> bool:
            return not gate.exists() and heartbeat(progress)

        outcome = super().run(spec, workdir, beat, timeout_s)
        if outcome.stopped and gate.exists():
            return QuickRunner().run(spec, workdir, heartbeat, timeout_s)
        return outcome


def _child_pid(workdir: Path) -> int | None:
    """The pid of the child started in ``workdir`` (found by its cwd-independent command line)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and b"time.sleep(3600)" in b" ".join(cmdline):
            return int(proc.name)
    return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def read_request(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def wait_until(predicate: Any, seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen within {seconds:.0f} s")
