"""The Slurm executor: claim requests as the local worker does, run each as one Slurm job, reconcile with Slurm.

Each pass (``step``) lists this leaderboard's live Slurm jobs, reads the requests, and then:

1. marks malformed request files FAILED and requeues stale RUNNING requests that never got a Slurm job
   (the local worker's own code: a claim whose submitter died before ``sbatch``);
2. reconciles every RUNNING request that has a ``slurm_job_id`` with Slurm's view: a queued job keeps
   the request's heartbeat fresh; a job that ended without settling its request sets it FAILED with
   Slurm's reason (CANCELLED, TIMEOUT, OUT_OF_MEMORY, FAILED, COMPLETED without results) or back to
   PENDING for PREEMPTED, NODE_FAIL, BOOT_FAIL and jobs Slurm forgot (counted in ``attempts``);
3. cancels (``scancel``) live jobs whose claim is gone: an admin re-queued or cancelled the request, or
   a lease expired; such a job would find the request no longer its own and run nothing anyway;
4. claims and submits requests while fewer than ``max_jobs`` of this leaderboard's jobs are live.

The request file stays the truth; every change is the store's compare-and-swap, guarded by the claim's
``job_id`` and the ``slurm_job_id``, so nothing is run twice and nothing is settled twice. This module
runs no model and never imports lm_eval or Streamlit.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluator.runner import log_tail
from evaluator.slurm.client import LIVE_STATES, RETRY_STATES, UNKNOWN, JobInfo, SlurmClient, SlurmError
from evaluator.slurm.settings import SlurmSettings
from evaluator.worker import CLAIMABLE, Worker, log_path_for
from lib.core.records import Status
from lib.core.request import Request, iso_time, parse_time
from lib.queue.requests import (
    RequestConflict,
    read_request,
    read_requests,
    transition,
    update_job,
    update_request,
)
from lib.stores.base import StoreError

log = logging.getLogger(__name__)

TERMINAL = (Status.FINISHED, Status.FAILED)
LOG_TAIL_BYTES = 4000
# argv of the job's command for (request path, claim token, log path pattern).
JobCommand = Callable[[str, str, str], Sequence[str]]


@dataclass
class PassReport:
    """What one pass saw and did (for the burst loop and the log)."""

    requests: list[Request]
    submitted: int = 0
    settled: int = 0
    cancelled: int = 0


class SlurmExecutor:
    """Dispatches claimed requests as Slurm jobs and keeps their status true to Slurm's records."""

    def __init__(
        self,
        worker: Worker,
        settings: SlurmSettings,
        client: SlurmClient,
        job_command: JobCommand,
        project_root: str,
    ) -> None:
        self.worker = worker  # claims, malformed files and stale leases use the local worker's code
        self.settings = settings
        self.client = client
        self.job_command = job_command
        self.project_root = project_root
        self.dispatched: dict[str, str] = {}  # request path -> claim token, for --burst
        # Jobs carry "<queue key>:<claim>" as their Slurm comment: executors of other leaderboards on the
        # same cluster (same user, same job name) never count or cancel each other's jobs.
        self.queue_key = hashlib.sha256(str(worker.requests.location).encode("utf-8")).hexdigest()[:12]
        self._stopping = False

    @property
    def requests(self):
        return self.worker.requests

    def stop(self) -> None:
        """No new claim or submission; jobs already submitted keep running in Slurm."""
        self._stopping = True
        self.worker.stop()

    # ------------------------------------------------------------------ loops
    def run_burst(self) -> int:
        """Dispatch until nothing is left to claim and every request dispatched here is settled."""
        submitted = 0
        while not self._stopping:
            report = self.step()
            submitted += report.submitted
            if report.submitted == 0 and self._burst_done(report.requests):
                break
            self._sleep(self.settings.poll_s)
        self._wait_for_final_states()
        return submitted

    def _wait_for_final_states(self, seconds: float = 30.0) -> None:
        """After a burst: record Slurm's final state of the jobs that settled their request while still live."""
        end = self.worker.clock.now() + seconds
        while not self._stopping and self.worker.clock.now() < end:
            requests, _ = read_requests(self.requests)
            ours = [r for r in requests if r.path in self.dispatched and r.status in TERMINAL]
            if not any(r.raw.get("slurm_state") in LIVE_STATES for r in ours):
                return
            self.record_final_states(ours)
            self._sleep(1.0)

    def run_forever(self) -> None:
        """Dispatch and reconcile until stopped; a Slurm or store problem is logged and retried."""
        wait = self.settings.poll_s
        while not self._stopping:
            try:
                self.step()
                wait = self.settings.poll_s
            except (SlurmError, StoreError, OSError) as exc:
                log.warning("pass failed, retrying later: %s", exc)
                wait = min(wait * 2, 300.0)
            self._sleep(wait)

    def _sleep(self, seconds: float) -> None:
        clock = self.worker.clock
        end = clock.now() + seconds
        while not self._stopping and clock.now() < end:
            clock.sleep(min(0.5, max(0.0, end - clock.now())))

    def _burst_done(self, requests: list[Request]) -> bool:
        by_path = {r.path: r for r in requests}
        if any(r.status in CLAIMABLE for r in requests):
            return False
        for path, token in self.dispatched.items():
            request = by_path.get(path)
            if request is None or request.status in TERMINAL:
                continue
            if request.status == Status.RUNNING and request.job_id != token:
                continue  # re-claimed by another executor: its business now
            return False
        return True

    # ------------------------------------------------------------------ one pass
    def step(self) -> PassReport:
        """One pass: housekeeping, reconcile, cancel orphans, submit (see the module docstring)."""
        live = self.our_live_jobs()  # before reading requests: see cancel_orphans
        requests, problems = read_requests(self.requests)
        report = PassReport(requests)
        self.worker.fail_malformed(problems)
        running = [r for r in requests if r.status == Status.RUNNING]
        self.worker.recover_stale([r for r in running if not slurm_job_of(r)])
        report.settled = self.reconcile(running)
        self.record_final_states(requests)
        report.cancelled = self.cancel_orphans(live, requests)
        report.submitted = self.dispatch(len(live) - report.cancelled)
        return report

    def our_live_jobs(self) -> list[JobInfo]:
        """Live jobs of this queue (by job name and comment prefix)."""
        prefix = f"{self.queue_key}:"
        return [j for j in self.client.live_jobs(self.settings.job_name) if j.comment.startswith(prefix)]

    # ------------------------------------------------------------------ reconcile
    def reconcile(self, running: list[Request]) -> int:
        """Bring RUNNING requests that have a Slurm job in line with Slurm; returns how many were settled."""
        with_jobs = {slurm_job_of(r): r for r in running if slurm_job_of(r)}
        if not with_jobs:
            return 0
        infos = self.client.states(with_jobs)
        settled = 0
        for slurm_id, request in with_jobs.items():
            info = infos.get(slurm_id) or JobInfo(slurm_id, UNKNOWN)
            if info.live:
                self._note_live(request, info)
            elif self._settle_ended(request, info):
                settled += 1
        return settled

    def record_final_states(self, requests: list[Request]) -> None:
        """Write Slurm's final state (COMPLETED, ...) into settled requests whose job was still live when they settled."""
        settled = {
            slurm_job_of(r): r
            for r in requests
            if r.status in TERMINAL and slurm_job_of(r) and r.raw.get("slurm_state") in LIVE_STATES
        }
        if not settled:
            return
        for slurm_id, info in self.client.states(settled).items():
            if info.live or info.state == UNKNOWN:
                continue
            try:
                update_request(
                    self.requests,
                    settled[slurm_id].path,
                    require={"slurm_job_id": slurm_id},
                    slurm_state=info.state,
                )
            except (RequestConflict, FileNotFoundError, ValueError):
                pass

    def _note_live(self, request: Request, info: JobInfo) -> None:
        """Keep a live job's request current: its Slurm state, and while queued its heartbeat and lease."""
        fields: dict[str, Any] = {}
        if request.raw.get("slurm_state") != info.state:
            fields["slurm_state"] = info.state
        now = self.worker.clock.now()
        lease_s = None
        if info.state == "PENDING":  # waiting in Slurm's queue: the lease must not run out meanwhile
            beat = request.job_heartbeat and parse_time(request.job_heartbeat)
            every = max(self.worker.settings.heartbeat_s, self.worker.settings.lease_s / 4)
            if not beat or now - beat >= every:  # not every pass: each write is a commit on a Hub store
                lease_s = self.worker.settings.lease_s
            progress = {"task": "", "done": 0, "total": 0, "phase": f"queued in Slurm ({info.reason})"}
            current = request.progress.model_dump() if request.progress is not None else None
            if current != progress:
                fields["progress"] = progress
        if not fields and lease_s is None:
            return
        try:
            update_job(self.requests, request.path, str(request.job_id), now, lease_s=lease_s, **fields)
        except (RequestConflict, FileNotFoundError, ValueError):
            pass  # the job itself wrote meanwhile; the next pass looks again

    def _settle_ended(self, request: Request, info: JobInfo) -> bool:
        slurm_id = info.job_id
        now = self.worker.clock.now()
        text = self._slurm_log(request)
        history = [*_list(request.raw.get("slurm_jobs")), _job_entry(info, iso_time(now))]
        if info.state in RETRY_STATES or info.state == UNKNOWN:
            attempts = request.attempts + 1
            give_up = attempts >= self.worker.settings.max_attempts
            what = "Slurm no longer knows it" if info.state == UNKNOWN else f"it ended {info.describe}"
            note = f"Slurm job {slurm_id}: {what} (attempt {attempts} of {self.worker.settings.max_attempts})"
            edge = "fail" if give_up else "release"  # release clears the run's job and Slurm fields
            fields: dict[str, Any] = {"attempts": attempts, "requeue_reason": note, "slurm_jobs": history}
            if give_up:
                fields.update(
                    error=f"{note}; giving up", log_tail=log_tail(text) or None, slurm_state=info.state
                )
            else:
                fields["slurm_state"] = None
        else:
            edge = "fail"
            if info.state == "COMPLETED":
                error = f"Slurm job {slurm_id} COMPLETED but never settled its request (see its log)"
            else:
                error = f"Slurm job {slurm_id} ended {info.describe}"
            fields = {"error": error, "slurm_state": info.state, "slurm_jobs": history,
                      "log_tail": log_tail(text) or None}  # fmt: skip
        if edge == "fail":
            fields["job_end_time"] = iso_time(now)
            fields["log_file"] = self._store_log(request.path, text)
        try:
            transition(self.requests, request.path, edge, now, require=_claim_of(request), **fields)
        except (RequestConflict, FileNotFoundError, ValueError):
            return False  # settled by its job or changed by an admin meanwhile
        log.warning("%s: Slurm job %s ended %s -> %s", request.path, slurm_id, info.describe, edge)
        return True

    def _slurm_log(self, request: Request) -> str:
        path = request.raw.get("slurm_log")
        if not isinstance(path, str) or not path:
            return ""
        try:
            with open(path, "rb") as handle:
                handle.seek(0, 2)
                size = handle.tell()
                handle.seek(max(0, size - 1_000_000))
                return handle.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def _store_log(self, request_path: str, text: str) -> str | None:
        if not text:
            return None
        path = log_path_for(request_path)
        try:
            self.requests.write_bytes(path, text.encode("utf-8"), message=f"Slurm log of {request_path}")
        except (StoreError, OSError, ValueError) as exc:
            log.warning("%s: log not stored: %s", request_path, exc)
            return None
        return path

    # ------------------------------------------------------------------ orphans
    def cancel_orphans(self, live: list[JobInfo], requests: list[Request]) -> int:
        """scancel live jobs whose claim no request holds any more (re-queued or cancelled by an admin).

        ``live`` was listed before ``requests`` were read, so a job submitted by another executor in
        between has its claim in ``requests`` already (claims are written before ``sbatch``).
        """
        by_token = {str(r.job_id): r for r in requests if r.job_id}
        orphans = []
        for job in live:
            owner = by_token.get(job.comment.partition(":")[2])
            if owner is None:
                orphans.append((job, "its request no longer holds its claim"))
            elif owner.status == Status.RUNNING and slurm_job_of(owner) not in ("", job.job_id):
                orphans.append((job, f"the request runs as Slurm job {slurm_job_of(owner)}"))
        for job, why in orphans:
            log.warning("cancelling Slurm job %s: %s", job.job_id, why)
        self.client.cancel(job.job_id for job, _ in orphans)
        return len(orphans)

    # ------------------------------------------------------------------ submit
    def dispatch(self, live_count: int) -> int:
        """Claim and submit while fewer than ``max_jobs`` jobs are live; returns how many were submitted."""
        submitted = 0
        while not self._stopping and live_count + submitted < self.settings.max_jobs:
            request = self.worker.claim_next()
            if request is None:
                break
            self.submit(request)
            submitted += 1
        return submitted

    def submit(self, request: Request) -> str:
        """sbatch one claimed request; records the Slurm job in it. SlurmError puts the claim back."""
        token = str(request.job_id)
        log_dir = Path(self.settings.log_dir)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", token)
        log_pattern = str(log_dir / f"{self.settings.job_name}-%j.out")
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            script = log_dir / f"{self.settings.job_name}-{safe}.sh"
            script.write_text(self.script(request, token, log_pattern), encoding="utf-8")
            options = [
                f"--job-name={self.settings.job_name}",
                f"--output={log_pattern}",
                f"--comment={self.queue_key}:{token}",
                *self.settings.job_options(request, self.worker.config.timeout_s),
            ]
            slurm_id = self.client.submit(str(script), options)
        except (SlurmError, OSError) as exc:
            self._unclaim(request, token, f"sbatch failed: {exc}")
            raise SlurmError(f"{request.path}: {exc}") from exc
        self.dispatched[request.path] = token
        self._record(request.path, token, slurm_id, log_pattern.replace("%j", slurm_id))
        log.info("%s: submitted as Slurm job %s", request.path, slurm_id)
        return slurm_id

    def script(self, request: Request, token: str, log_pattern: str) -> str:
        """The batch script: setup lines, then the job command in the project folder."""
        command = shlex.join(self.job_command(request.path, token, log_pattern))
        root = shlex.quote(self.project_root)
        lines = [
            "#!/bin/bash",
            f"# Written by the leaderboard's Slurm executor for {request.path!r} (claim {token}).",
            "set -eo pipefail",
            *self.settings.setup,
            f"cd {root}",
            f'export PYTHONPATH={root}"${{PYTHONPATH:+:$PYTHONPATH}}"',
            f"exec {command}",
        ]
        return "\n".join(lines) + "\n"

    def _record(self, path: str, token: str, slurm_id: str, log_path: str) -> None:
        """Write slurm_job_id and the log path into the request, unless the job already did."""
        for _ in range(10):
            try:
                current, _version = read_request(self.requests, path)
            except (FileNotFoundError, ValueError):
                return
            if current.status != Status.RUNNING or current.job_id != token:
                return  # the job ran and settled already (its own record holds the id)
            if current.slurm_job_id:
                return  # the job started and recorded itself first (a claim clears an older run's id)
            try:
                update_job(
                    self.requests,
                    path,
                    token,
                    self.worker.clock.now(),
                    slurm_job_id=slurm_id,
                    slurm_claim=token,
                    slurm_log=log_path,
                    slurm_state="PENDING",
                    progress={"task": "", "done": 0, "total": 0, "phase": "submitted to Slurm"},
                )
                return
            except RequestConflict:
                continue
        log.error("%s: could not record Slurm job %s (the job records it when it starts)", path, slurm_id)

    def _unclaim(self, request: Request, token: str, reason: str) -> None:
        try:
            transition(
                self.requests, request.path, "release", require={"job_id": token}, requeue_reason=reason[:500]
            )
        except (RequestConflict, FileNotFoundError, ValueError) as exc:
            log.warning("%s: claim not put back (%s); its lease will expire", request.path, exc)


def slurm_job_of(request: Request) -> str:
    """The Slurm job id of the request's current claim ('' when the claim has no Slurm job).

    ``slurm_claim`` ties the id to the claim that submitted it, so an id left over from an earlier claim
    (an admin re-queue that kept it, an older executor) is never mistaken for the current job.
    """
    slurm_id = request.slurm_job_id
    claim = request.raw.get("slurm_claim")
    if not slurm_id or not claim or claim != request.job_id:
        return ""
    return str(slurm_id)


def _claim_of(request: Request) -> dict[str, Any]:
    return {"job_id": request.job_id, "slurm_job_id": request.raw.get("slurm_job_id")}


def _job_entry(info: JobInfo, now: str) -> dict[str, Any]:
    entry = {"id": info.job_id, "state": info.state, "time": now}
    for key in ("reason", "node", "exit_code"):
        value = getattr(info, key)
        if value and value not in ("None", "(null)"):
            entry[key] = value
    return entry


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []
