"""Slurm's command-line tools, wrapped: submit a job, cancel jobs, and read each job's state and reason.

``SlurmClient`` runs ``sbatch``, ``scancel``, ``sacct``, ``squeue`` and ``scontrol`` (never a shell) and
parses their machine-readable output into ``JobInfo``. States come from ``sacct`` when the cluster keeps
accounting, else from ``squeue --states=all`` (which also lists jobs finished less than ``MinJobAge``
ago) and ``scontrol show job`` for the rest. A job that none of them knows is ``UNKNOWN``. This module
knows nothing about requests or stores.
"""

from __future__ import annotations

import getpass
import logging
import os
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Slurm's job states (base names: sacct writes "CANCELLED by 0", squeue "CANCELLED").
LIVE_STATES = frozenset({"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED",
                         "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED",
                         "SPECIAL_EXIT", "RESV_DEL_HOLD"})  # fmt: skip
RETRY_STATES = frozenset({"PREEMPTED", "NODE_FAIL", "BOOT_FAIL"})  # not the request's fault: run it again
UNKNOWN = "UNKNOWN"


class SlurmError(RuntimeError):
    """A Slurm command failed; the message holds the command and what it printed."""


@dataclass(frozen=True)
class JobInfo:
    """One job as Slurm reports it."""

    job_id: str
    state: str  # base state name, e.g. RUNNING, COMPLETED, TIMEOUT; UNKNOWN when Slurm forgot the job
    reason: str = ""
    exit_code: str = ""
    node: str = ""
    comment: str = ""
    time_limit: str = ""
    source: str = ""  # sacct, squeue or scontrol

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def describe(self) -> str:
        """``TIMEOUT (time limit 00:01:00) on node1, exit code 0:15``: what a request's reason shows."""
        parts = [self.state]
        if self.state == "TIMEOUT" and self.time_limit:
            parts.append(f"(time limit {self.time_limit})")
        elif self.reason and self.reason not in ("None", "(null)"):
            parts.append(f"({self.reason})")
        if self.node and self.node not in ("None", "(null)", "None assigned"):
            parts.append(f"on {self.node}")
        if self.exit_code and self.exit_code != "0:0":
            parts.append(f"exit code {self.exit_code}")
        return " ".join(parts)


def base_state(text: str) -> str:
    """``CANCELLED by 0`` -> ``CANCELLED``; ``OUT_OF_ME+`` (sacct's cut) -> ``OUT_OF_MEMORY``."""
    word = (text or "").strip().split(" ")[0].upper().rstrip("+")
    if word.startswith("OUT_OF_ME"):
        return "OUT_OF_MEMORY"
    return word or UNKNOWN


class SlurmClient:
    """Runs Slurm's commands with a timeout; ``env`` adds variables such as ``SLURM_CONF``."""

    def __init__(self, env: dict[str, str] | None = None, timeout_s: float = 60.0) -> None:
        self.env = {**os.environ, **(env or {})}
        self.timeout_s = timeout_s
        self._accounting: bool | None = None

    def _run(self, argv: Sequence[str], input_text: str | None = None, check: bool = True) -> str:
        try:
            done = subprocess.run(
                list(argv),
                input=input_text,
                capture_output=True,
                text=True,
                env=self.env,
                timeout=self.timeout_s,
                check=False,
            )
        except FileNotFoundError as exc:
            raise SlurmError(f"{argv[0]} is not installed on this machine") from exc
        except subprocess.TimeoutExpired as exc:
            raise SlurmError(f"{' '.join(argv[:2])} did not answer within {self.timeout_s:.0f}s") from exc
        if check and done.returncode != 0:
            message = (done.stderr or done.stdout).strip()[-2000:]
            raise SlurmError(f"{argv[0]} failed (exit {done.returncode}): {message}")
        return done.stdout

    # ------------------------------------------------------------------ actions
    def submit(self, script_file: str, options: Sequence[str]) -> str:
        """``sbatch --parsable OPTIONS SCRIPT`` -> the new job's id."""
        out = self._run(["sbatch", "--parsable", *options, script_file]).strip()
        job_id = out.split(";")[0].strip()  # "<id>[;<cluster>]"
        if not job_id.isdigit():
            raise SlurmError(f"sbatch printed {out!r} instead of a job id")
        return job_id

    def cancel(self, job_ids: Iterable[str]) -> None:
        """``scancel`` the jobs (a job that already ended is no error)."""
        ids = [str(j) for j in job_ids if str(j).isdigit()]
        if ids:
            self._run(["scancel", *ids], check=False)

    def ping(self) -> None:
        """Raise SlurmError unless the controller answers."""
        self._run(["squeue", "-h", "-j", "0"], check=False)
        self._run(["sinfo", "-h", "-o", "%P"])

    # ------------------------------------------------------------------ states
    @property
    def accounting(self) -> bool:
        """Whether ``sacct`` works here (the cluster runs slurmdbd); asked once."""
        if self._accounting is None:
            try:
                self._run(["sacct", "-n", "-X", "-P", "-j", "1", "-o", "JobIDRaw"])
                self._accounting = True
            except SlurmError as exc:
                log.info("no Slurm accounting (%s); job states come from squeue and scontrol", exc)
                self._accounting = False
        return self._accounting

    def states(self, job_ids: Iterable[str]) -> dict[str, JobInfo]:
        """Each job's state; a job Slurm no longer knows gets state UNKNOWN."""
        wanted = {str(j) for j in job_ids if str(j).isdigit()}
        if not wanted:
            return {}
        found: dict[str, JobInfo] = {}
        if self.accounting:
            found.update(self._sacct(wanted))
        missing = wanted - set(found)
        if missing:
            found.update({k: v for k, v in self._squeue(states="all").items() if k in missing})
        for job_id in sorted(wanted - set(found)):
            found[job_id] = self._scontrol(job_id)
        return found

    def live_jobs(self, name: str) -> list[JobInfo]:
        """This user's jobs called ``name`` that have not ended (pending, running, completing, ...)."""
        jobs = self._squeue(states=None, name=name)
        return [job for job in jobs.values() if job.live]

    def _sacct(self, ids: set[str]) -> dict[str, JobInfo]:
        fields = "JobIDRaw,State,Reason,ExitCode,NodeList,Timelimit"
        out = self._run(["sacct", "-n", "-X", "-P", "-o", fields, "-j", ",".join(sorted(ids))])
        found: dict[str, JobInfo] = {}
        for line in out.splitlines():
            cols = line.split("|")
            if len(cols) < 6 or cols[0] not in ids:
                continue
            found[cols[0]] = JobInfo(
                cols[0], base_state(cols[1]), cols[2], cols[3], cols[4], time_limit=cols[5], source="sacct"
            )
        return found

    def _squeue(self, states: str | None, name: str | None = None) -> dict[str, JobInfo]:
        argv = ["squeue", "-h", "-u", _user(), "-o", "%i|%T|%r|%N|%l|%k"]
        if states:
            argv += ["-t", states]
        if name:
            argv += ["-n", name]
        found: dict[str, JobInfo] = {}
        for line in self._run(argv).splitlines():
            cols = line.split("|", 5)
            if len(cols) == 6 and cols[0].isdigit():
                found[cols[0]] = JobInfo(
                    cols[0], base_state(cols[1]), cols[2], node=cols[3], time_limit=cols[4],
                    comment=cols[5], source="squeue",
                )  # fmt: skip
        return found

    def _scontrol(self, job_id: str) -> JobInfo:
        try:
            out = self._run(["scontrol", "-o", "show", "job", job_id])
        except SlurmError as exc:
            if "Invalid job id" in str(exc):
                return JobInfo(job_id, UNKNOWN, "Slurm no longer knows this job", source="scontrol")
            raise
        fields = parse_scontrol(out)
        return JobInfo(
            job_id,
            base_state(fields.get("JobState", UNKNOWN)),
            fields.get("Reason", ""),
            fields.get("ExitCode", ""),
            fields.get("NodeList", ""),
            fields.get("Comment", ""),
            fields.get("TimeLimit", ""),
            source="scontrol",
        )


def parse_scontrol(text: str) -> dict[str, str]:
    """``Key=Value Key=Value ...`` (one line, ``scontrol -o``) -> dict; the first occurrence of a key wins."""
    fields: dict[str, str] = {}
    for token in text.split():
        key, sep, value = token.partition("=")
        if sep and key not in fields:
            fields[key] = value
    return fields


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())
