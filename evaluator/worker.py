"""The worker loop: requeue stale jobs, claim the next request atomically, run it, publish, settle its status.

Every change to a request file is a compare-and-swap (``lib.queue.requests``), so several workers on several
machines can share one requests store: a claim has exactly one winner, a heartbeat that loses its CAS
to a requeue stops the job, and a job is only marked FINISHED after its results file is written. The
clock is injected so tests can age leases without waiting. This module runs no model itself (see
``evaluator.runner``) and never imports lm_eval or Streamlit.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from evaluator.jobs import EvaluationConfig, JobRefused, prepare_job, result_folder, results_document
from evaluator.runner import JobOutcome, Runner, log_tail
from lib.core.records import IngestProblem, Status
from lib.core.request import Request, RequestInvalid, iso_time, parse_request, parse_time
from lib.queue.requests import (
    RequestConflict,
    claim,
    decode_request,
    encode_request,
    expire,
    fail,
    finish,
    read_request,
    read_requests,
    release,
    update_job,
)
from lib.queue.status import CLAIMABLE
from lib.stores.base import FileStore, StoreError

log = logging.getLogger(__name__)
WORKDIR_PREFIX = "evaljob-"  # job folders: evaljob-<worker pid>-<random>, removed when the job ends
MALFORMED_KEPT_BYTES = 20_000  # the original text kept in a malformed request rewritten as FAILED

__all__ = ["JobEnd", "Worker", "WorkerSettings", "iso_time", "log_path_for", "parse_time"]
_REQUEST_FILE_RE = re.compile(
    r"^(?:(?P<org>[^/]+)/)?(?P<name>[^/]+)_eval_request_(?P<private>True|False)_(?P<precision>[^_/]+)_(?P<weight>[^_/]+)(?:_[0-9a-f]+)?\.json$"
)


class Clock(Protocol):
    """Wall-clock seconds since the epoch, and a way to wait (tests pass a fake)."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class WorkerSettings:
    """Lease, heartbeat, retry and polling settings of one worker."""

    worker_id: str
    lease_s: float = 300.0
    heartbeat_s: float = 15.0
    max_attempts: int = 3
    poll_min_s: float = 5.0
    poll_max_s: float = 120.0
    work_root: str | None = None
    keep_workdirs: bool = False
    # A stopped job goes back to PENDING (local worker); a Slurm job settles nothing once it is told to stop
    # and leaves the request to the executor, which knows from Slurm whether the stop was a cancel, a time
    # limit, a preemption or a node failure.
    requeue_on_stop: bool = True


@dataclass
class _JobState:
    job_id: str
    last_beat: float
    lost: bool = False
    progress: dict[str, Any] = field(default_factory=dict)


def log_path_for(request_path: str) -> str:
    """Where a job's log is kept in the requests store: ``logs/<request path>.log``."""
    return "logs/" + request_path.removesuffix(".json") + ".log"


@dataclass(frozen=True)
class JobEnd:
    """How one request this worker handled ended: for the command line's summary (``--once``/``--burst``).

    ``status`` is the request's status as this worker left it (FINISHED, FAILED, PENDING when a stop put
    it back), or ``None`` when the worker could not settle it (its lease was lost to another worker, or
    the requests store refused the write: the log says which). ``results_file`` is a path in the results
    store; ``log_file`` a path in the requests store.
    """

    path: str
    model: str
    revision: str
    precision: str
    status: Status | None
    reason: str = ""
    elapsed_s: float = 0.0
    results_file: str | None = None
    log_file: str | None = None


class Worker:
    """One evaluator process's loop over a requests store."""

    def __init__(
        self,
        requests: FileStore,
        results: FileStore,
        config: EvaluationConfig,
        runner: Runner,
        settings: WorkerSettings,
        clock: Clock | None = None,
        publisher: Any = None,
    ) -> None:
        self.requests = requests
        self.publisher = publisher  # evaluator.publish.EvalResultsPublisher, or None
        self.results = results
        self.config = config
        self.runner = runner
        self.settings = settings
        self.clock = clock or SystemClock()
        self._stopping = False
        self._warned: set[str] = set()  # malformed files already warned about (once per worker)
        self._swept = False  # job folders of dead workers removed (once, before the first claim)
        self.on_job_end: Callable[[JobEnd], None] | None = None  # told of each request this worker settles

    # ------------------------------------------------------------------ loop modes
    def stop(self) -> None:
        """Ask the loop to stop: no new claim; a running job is stopped and put back to PENDING."""
        self._stopping = True

    @property
    def stopping(self) -> bool:
        return self._stopping

    def run_once(self) -> Request | None:
        """Housekeeping, then claim and run at most one request; returns it as it ended, or None."""
        if self._stopping:
            return None
        if not self._swept:
            self._swept = True
            sweep_workdirs(self.settings.work_root)
        requests, problems = read_requests(self.requests)
        self.fail_malformed(problems)
        self.recover_stale(requests)
        request = self.claim_next()
        if request is None:
            return None
        started = self.clock.now()
        ended = self.execute(request)
        self._report(request, ended, self.clock.now() - started)
        return ended

    def _report(self, claimed: Request, ended: Request | None, elapsed_s: float) -> None:
        if self.on_job_end is None:
            return
        self.on_job_end(
            JobEnd(
                path=claimed.path,
                model=claimed.model,
                revision=claimed.revision,
                precision=claimed.precision,
                status=ended.status if ended is not None else None,
                reason=(ended.error or ended.requeue_reason) if ended is not None else "",
                elapsed_s=elapsed_s,
                results_file=ended.results_file if ended is not None else None,
                log_file=ended.log_file if ended is not None else None,
            )
        )

    def run_burst(self) -> int:
        """Run requests until none is left to claim (or a stop); returns how many were taken."""
        taken = 0
        while not self._stopping and self.run_once() is not None:
            taken += 1
        return taken

    def run_forever(self) -> None:
        """Run until stopped, polling with a backoff that doubles while the queue is empty."""
        wait = self.settings.poll_min_s
        while not self._stopping:
            try:
                worked = self.run_once() is not None
            except (StoreError, OSError) as exc:
                log.warning("store problem, retrying later: %s", exc)
                worked = False
            wait = self.settings.poll_min_s if worked else min(wait * 2, self.settings.poll_max_s)
            if not worked:
                self._sleep(wait)

    def _sleep(self, seconds: float) -> None:
        end = self.clock.now() + seconds
        while not self._stopping and self.clock.now() < end:
            self.clock.sleep(min(1.0, max(0.0, end - self.clock.now())))

    # ------------------------------------------------------------------ housekeeping
    def recover_stale(self, requests: list[Request] | None = None) -> list[str]:
        """Requeue RUNNING requests whose lease ran out (FAILED after max attempts).

        The lease end is the one its holder wrote (``lease_expires_at``), so workers started with different
        ``--lease`` values never expire each other's healthy jobs; only a request written before leases
        were recorded falls back to its last heartbeat plus this worker's lease.
        """
        if requests is None:
            requests, _ = read_requests(self.requests)
        now = self.clock.now()
        changed = []
        for request in requests:
            if request.status != Status.RUNNING or not _lease_over(request, now, self.settings.lease_s):
                continue
            try:
                expire(self.requests, request, now, self.settings.max_attempts)
            except (RequestConflict, FileNotFoundError, ValueError):
                continue  # it heartbeat meanwhile, or another worker expired it first
            except (StoreError, OSError) as exc:
                log.warning("%s: lease expired but the request cannot be written now (%s)", request.path, exc)
                continue
            log.warning("%s: lease of %s expired", request.path, request.worker or "an unknown worker")
            changed.append(request.path)
        return changed

    def fail_malformed(self, problems: list[IngestProblem]) -> list[str]:
        """Mark request files that do not validate FAILED with the reason, keeping their original text.

        A file that cannot be rewritten (not named like a request, or the store refuses the write) is
        skipped with a warning; a FINISHED or FAILED request whose file went bad is left as it is (the
        pages list it as malformed). Never raises: the next request is always reached.
        """
        failed = []
        for problem in problems:
            match = _REQUEST_FILE_RE.match(problem.path)
            if match is None:
                if problem.path not in self._warned:
                    log.warning("%s: skipped, not a request file name (%s)", problem.path, problem.reason)
                    self._warned.add(problem.path)
                continue
            try:
                outcome = self._fail_malformed_file(problem.path, match, problem.reason)
            except Exception as exc:  # noqa: BLE001 - one bad file never stops the worker
                outcome = f"cannot be marked FAILED ({type(exc).__name__}: {str(exc)[:200]})"
            if outcome == "failed":
                failed.append(problem.path)
                self._report_malformed(problem.path, match, problem.reason)
            elif outcome and problem.path not in self._warned:
                log.warning("%s: malformed, %s: skipped (%s)", problem.path, outcome, problem.reason[:300])
                self._warned.add(problem.path)
        return failed

    def _report_malformed(self, path: str, match: re.Match[str], reason: str) -> None:
        if self.on_job_end is None:
            return
        org, name = match.group("org"), match.group("name")
        self.on_job_end(
            JobEnd(
                path=path,
                model=f"{org}/{name}" if org else name,
                revision="",
                precision=match.group("precision"),
                status=Status.FAILED,
                reason=f"malformed request file: {reason.removeprefix('request file: ')}",
            )
        )

    def _fail_malformed_file(self, path: str, match: re.Match[str], reason: str) -> str:
        """'failed' when rewritten FAILED, '' when fixed meanwhile, else why it was left as it is."""
        version = self.requests.version(path)
        if version is None:
            return "not a file that can be rewritten"
        content = self.requests.read_bytes(path)
        state = _malformed_state(path, content)
        if state != "active":
            return "" if state == "fixed" else f"left as it is since it says {state}"
        text = content[:MALFORMED_KEPT_BYTES].decode("utf-8", errors="replace")
        org, name = match.group("org"), match.group("name")
        now = iso_time(self.clock.now())
        error = f"malformed request file: {reason.removeprefix('request file: ')}"
        data = {
            "model": f"{org}/{name}" if org else name,
            "revision": "",
            "precision": match.group("precision"),
            "weight_type": match.group("weight"),
            "private": match.group("private") == "True",
            "status": Status.FAILED.value,
            "error": error,
            "status_history": [{"status": Status.FAILED.value, "time": now, "error": error[:500]}],
            "malformed_content": text,
        }
        parse_request(path, data)  # what we write must read back (RequestInvalid otherwise: skipped)
        if not self.requests.replace_if_unchanged(
            path, encode_request(data), version, message=f"FAILED: {path}"
        ):
            return ""  # changed meanwhile: looked at again on the next pass
        log.warning("%s: %s", path, error)
        return "failed"

    # ------------------------------------------------------------------ claim
    def claim_next(self) -> Request | None:
        """Claim the first pending request (priority, private first, oldest); None when none is left."""
        if self._stopping:
            return None
        requests, _ = read_requests(self.requests)
        for candidate in sorted((r for r in requests if r.status in CLAIMABLE), key=_claim_order):
            job_id = f"{self.settings.worker_id}-{uuid.uuid4().hex[:8]}"
            try:
                return claim(
                    self.requests,
                    candidate.path,
                    self.settings.worker_id,
                    job_id,
                    self.settings.lease_s,
                    self.clock.now(),
                )
            except (RequestConflict, FileNotFoundError, ValueError):
                continue  # another worker won this one, or it went bad meanwhile
            except (StoreError, OSError) as exc:
                log.warning("%s: cannot be claimed, the store refused the write (%s)", candidate.path, exc)
                continue
        return None

    # ------------------------------------------------------------------ one job
    def execute(self, request: Request) -> Request | None:
        """Run a claimed request to its end; returns the request as it ended (None if it is not ours)."""
        job_id = str(request.job_id)
        state = _JobState(job_id=job_id, last_beat=self.clock.now())
        workdir = Path(
            tempfile.mkdtemp(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-", dir=self.settings.work_root)
        )
        header = f"[{iso_time(self.clock.now())}] {self.settings.worker_id} runs {request.path} as {job_id}\n"
        try:
            try:
                spec = prepare_job(request, self.config)
            except JobRefused as exc:
                return self._settle(request, "fail", header + f"refused: {exc}\n", error=str(exc))
            outcome = self.runner.run(spec, workdir, self._heartbeat(request, state), self.config.timeout_s)
            return self._conclude(request, state, outcome, header)
        finally:
            if not self.settings.keep_workdirs:
                shutil.rmtree(workdir, ignore_errors=True)

    def _conclude(
        self, request: Request, state: _JobState, outcome: JobOutcome, header: str
    ) -> Request | None:
        text = header + outcome.log
        if outcome.stopped and state.lost:
            log.warning("%s: lease lost to another worker; job abandoned", request.path)
            return None
        if not self.settings.requeue_on_stop:
            if not outcome.ok:  # Slurm signals the job and its child at once: let our own SIGTERM land
                self.clock.sleep(1.0)
            if outcome.stopped or self._stopping:
                log.warning("%s: stopped; its status is left to the executor", request.path)
                return None
        if outcome.stopped:
            return self._settle(
                request, "release", text + "\nstopped: worker shutting down\n",
                reason=f"{self.settings.worker_id} stopped (SIGTERM)",
            )  # fmt: skip
        if not outcome.ok:
            return self._settle(request, "fail", text, error=outcome.reason)
        try:
            results_file = self.publish(request, outcome)
        except (StoreError, OSError, JobRefused) as exc:
            reason = results_write_failure(exc)
            log.error("%s: %s", request.path, reason)
            return self._settle(request, "fail", text + f"\n{reason}\n", error=reason)
        extra = self._publish_back(request, results_file, outcome)
        return self._settle(request, "finish", text, results_file=results_file, **extra)

    def _publish_back(self, request: Request, results_file: str, outcome: JobOutcome) -> dict[str, Any]:
        """Offer the scores to the model repo; a failure is recorded on the request, never raised."""
        if self.publisher is None:
            return {}
        try:
            url = self.publisher(request, results_file, results_document(outcome.results or {}, request))
        except Exception as exc:  # noqa: BLE001 - publishing back must not fail the request
            log.warning("%s: publishing eval results failed: %s", request.path, exc)
            return {"publish_error": str(exc)[:500]}
        return {"eval_results_pr": url} if url else {}

    def _heartbeat(self, request: Request, state: _JobState):
        def beat(progress: dict[str, Any] | None) -> bool:
            if self._stopping:
                return False
            if progress:
                state.progress = {k: progress[k] for k in ("task", "done", "total", "phase") if k in progress}
            now = self.clock.now()
            if now - state.last_beat < self.settings.heartbeat_s:
                return True
            try:
                update_job(
                    self.requests,
                    request.path,
                    state.job_id,
                    now,
                    lease_s=self.settings.lease_s,
                    progress=state.progress or None,
                )
                state.last_beat = now
            except RequestConflict:
                state.lost = not self._still_ours(request.path, state.job_id)
                return not state.lost
            except FileNotFoundError:
                state.lost = True
                return False
            except (StoreError, OSError, ValueError) as exc:
                log.warning("%s: heartbeat not written (%s); will retry", request.path, exc)
            return True

        return beat

    def _still_ours(self, path: str, job_id: str) -> bool:
        try:
            current, _ = read_request(self.requests, path)
        except (FileNotFoundError, ValueError):
            return False
        return current.status == Status.RUNNING and current.job_id == job_id

    # ------------------------------------------------------------------ results and final status
    def publish(self, request: Request, outcome: JobOutcome) -> str:
        """Write the results file (and samples) to the results store; returns its path there."""
        folder = result_folder(request.model)
        name = outcome.results_name or f"results_{datetime.now(UTC).strftime('%Y-%m-%dT%H-%M-%S.%f')}.json"
        path = f"{folder}/{name}"
        document = results_document(outcome.results or {}, request)
        for file_name, data in sorted(outcome.files.items()):
            self.results.write_bytes(f"{folder}/{file_name}", data, message=f"Samples for {request.model}")
        body = json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n"
        self.results.write_bytes(path, body.encode("utf-8"), message=f"Results for {request.model}")
        return path

    def _settle(self, request: Request, edge: str, log_text: str, **fields: Any) -> Request | None:
        """Store the log, then follow ``edge`` (finish, fail, release) for our job (retrying a CAS lost
        to a concurrent writer while the request is still ours)."""
        job_id = str(request.job_id)
        log_file = self._store_log(request.path, log_text)
        for attempt in range(5):
            now = self.clock.now()
            try:
                if edge == "finish":
                    settled = finish(self.requests, request.path, job_id, now, log_file=log_file, **fields)
                elif edge == "fail":
                    settled = fail(
                        self.requests, request.path, job_id, now, fields["error"],
                        log_file=log_file, log_tail=log_tail(log_text),
                    )  # fmt: skip
                else:
                    settled = release(self.requests, request.path, job_id, now, fields["reason"])
                log.info(
                    "%s: %s%s",
                    request.path,
                    settled.status.value,
                    f" ({settled.error})" if settled.error else "",
                )
                return settled
            except RequestConflict:
                if not self._still_ours(request.path, job_id):
                    log.warning("%s: no longer ours, leaving its status alone", request.path)
                    return None
                self.clock.sleep(0.05 * (attempt + 1))
            except (StoreError, OSError) as exc:
                log.error(
                    "%s: cannot write the request's status (%s); its lease will expire", request.path, exc
                )
                return None
        log.error("%s: could not %s after retries; the lease will expire", request.path, edge)
        return None

    def _store_log(self, request_path: str, text: str) -> str | None:
        path = log_path_for(request_path)
        try:
            self.requests.write_bytes(
                path, text[-1_000_000:].encode("utf-8"), message=f"Log of {request_path}"
            )
        except (StoreError, OSError, ValueError) as exc:
            log.warning("%s: log not stored: %s", request_path, exc)
            return None
        return path


def sweep_workdirs(root: str | None) -> list[str]:
    """Remove the job folders that workers killed on this machine left behind (their pid is gone)."""
    base = Path(root or tempfile.gettempdir())
    removed: list[str] = []
    try:
        entries = list(base.glob(f"{WORKDIR_PREFIX}*-*"))
    except OSError:
        return removed
    for folder in entries:
        pid_text = folder.name[len(WORKDIR_PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _pid_alive(int(pid_text)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            log.info("removed %s, left by a worker that died", folder)
            removed.append(str(folder))
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _lease_over(request: Request, now: float, own_lease_s: float) -> bool:
    """Whether a RUNNING request's lease ran out: its holder's ``lease_expires_at``, else heartbeat + ours."""
    deadline = request.lease_deadline
    if deadline is not None:
        return now > deadline
    beat = request.last_beat
    return beat is None or now - beat > own_lease_s


def _claim_order(request: Request) -> tuple[Any, ...]:
    return (-request.priority, not request.private, request.submitted_time or "~", request.path)


def _malformed_state(path: str, content: bytes) -> str:
    """'fixed' when it validates now, 'active' when not in a final status, else that final status."""
    try:
        decode_request(path, content)
        return "fixed"
    except RequestInvalid:
        pass
    try:
        data = json.loads(content)
        status = Status.parse(data.get("status", "PENDING")) if isinstance(data, dict) else None
    except (ValueError, RecursionError, AttributeError):
        return "active"
    return status.value if status in (Status.FINISHED, Status.FAILED) else "active"


def results_write_failure(exc: BaseException) -> str:
    """The reason a job fails when its results cannot be written: a full disk is named as such."""
    if is_no_space(exc):
        return f"no space left on the results store; the results were not saved ({_first_line(exc)})"
    return f"the results could not be written to the results store: {_first_line(exc)}"


def is_no_space(exc: BaseException | None) -> bool:
    """Whether an error (or one it was raised from) is a full disk or an exceeded quota."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
