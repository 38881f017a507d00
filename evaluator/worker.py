"""The worker loop: requeue stale jobs, claim the next request atomically, run it, publish, settle its status.

Every change to a request file is a compare-and-swap (``lib.queue.requests``), so several workers on several
machines can share one requests store: a claim has exactly one winner, a heartbeat that loses its CAS
to a requeue stops the job, and a job is only marked FINISHED after its results file is written. The
clock is injected so tests can age leases without waiting. This module runs no model itself (see
``evaluator.runner``) and never imports lm_eval or Streamlit.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from evaluator.jobs import EvaluationConfig, JobRefused, prepare_job, result_folder, results_document
from evaluator.runner import JobOutcome, Runner, log_tail
from lib.core.records import IngestProblem, Request, Status
from lib.queue.requests import (
    RequestConflict,
    encode_request,
    parse_request,
    read_request,
    read_requests,
    transition,
    update_request,
)
from lib.stores.base import FileStore, StoreError

log = logging.getLogger(__name__)

CLAIMABLE = (Status.PENDING, Status.RERUN)
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


@dataclass
class _JobState:
    job_id: str
    last_beat: float
    lost: bool = False
    progress: dict[str, Any] = field(default_factory=dict)


def iso_time(ts: float) -> str:
    """Seconds since the epoch as the template writes times: ``2024-01-22T08:48:36Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: Any) -> float | None:
    """Seconds since the epoch from an ISO time (``Z`` or offset); None when absent or unreadable."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def log_path_for(request_path: str) -> str:
    """Where a job's log is kept in the requests store: ``logs/<request path>.log``."""
    return "logs/" + request_path.removesuffix(".json") + ".log"


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
        requests, problems = read_requests(self.requests)
        self.fail_malformed(problems)
        self.recover_stale(requests)
        request = self.claim_next()
        if request is None:
            return None
        return self.execute(request)

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
        """Requeue RUNNING requests whose heartbeat is older than the lease (FAILED after max attempts)."""
        if requests is None:
            requests, _ = read_requests(self.requests)
        now = self.clock.now()
        changed = []
        for request in requests:
            if request.status != Status.RUNNING:
                continue
            beat = _last_beat(request)
            if beat is not None and now - beat <= self.settings.lease_s:
                continue
            if self._requeue_stale(request, now):
                changed.append(request.path)
        return changed

    def _requeue_stale(self, request: Request, now: float) -> bool:
        attempts = _int(request.raw.get("attempts")) + 1
        owner = request.raw.get("worker", "an unknown worker")
        note = f"lease expired: {owner} stopped heartbeating (attempt {attempts} of {self.settings.max_attempts})"
        require = {"job_id": request.raw.get("job_id"), "job_heartbeat": request.raw.get("job_heartbeat")}
        give_up = attempts >= self.settings.max_attempts
        try:
            transition(
                self.requests,
                request.path,
                Status.FAILED if give_up else Status.PENDING,
                expected=(Status.RUNNING,),
                now=iso_time(now),
                require=require,
                attempts=attempts,
                progress=None,
                error=f"{note}; giving up" if give_up else None,
                requeue_reason=note,
            )
        except (RequestConflict, FileNotFoundError, ValueError):
            return False  # it heartbeat meanwhile, or another worker requeued it first
        log.warning("%s: %s", request.path, note)
        return True

    def fail_malformed(self, problems: list[IngestProblem]) -> list[str]:
        """Mark unreadable request files FAILED with the reason, keeping their original text."""
        failed = []
        for problem in problems:
            match = _REQUEST_FILE_RE.match(problem.path)
            if match is None:
                continue  # not a request file name: not ours to touch
            if self._fail_malformed_file(problem.path, match, problem.reason):
                failed.append(problem.path)
        return failed

    def _fail_malformed_file(self, path: str, match: re.Match[str], reason: str) -> bool:
        version = self.requests.version(path)
        if version is None:
            return False
        text = self.requests.read_bytes(path).decode("utf-8", errors="replace")
        if not _still_malformed_and_pending(path, text):
            return False
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
            "status_history": [{"status": Status.FAILED.value, "time": now, "error": error}],
            "malformed_content": text[:20000],
        }
        if not self.requests.replace_if_unchanged(
            path, encode_request(data), version, message=f"FAILED: {path}"
        ):
            return False
        log.warning("%s: %s", path, error)
        return True

    # ------------------------------------------------------------------ claim
    def claim_next(self) -> Request | None:
        """Claim the first pending request (priority, private first, oldest); None when none is left."""
        if self._stopping:
            return None
        requests, _ = read_requests(self.requests)
        for candidate in sorted((r for r in requests if r.status in CLAIMABLE), key=_claim_order):
            now = self.clock.now()
            job_id = f"{self.settings.worker_id}-{uuid.uuid4().hex[:8]}"
            try:
                return transition(
                    self.requests,
                    candidate.path,
                    Status.RUNNING,
                    expected=CLAIMABLE,
                    now=iso_time(now),
                    job_id=job_id,
                    worker=self.settings.worker_id,
                    job_start_time=iso_time(now),
                    job_heartbeat=iso_time(now),
                    progress={"task": "", "done": 0, "total": 0, "phase": "claimed"},
                    error=None,
                    log_tail=None,
                )
            except (RequestConflict, FileNotFoundError, ValueError):
                continue  # another worker won this one
        return None

    # ------------------------------------------------------------------ one job
    def execute(self, request: Request) -> Request | None:
        """Run a claimed request to its end; returns the request as it ended (None if it is not ours)."""
        job_id = str(request.raw["job_id"])
        state = _JobState(job_id=job_id, last_beat=self.clock.now())
        workdir = Path(tempfile.mkdtemp(prefix="evaljob-", dir=self.settings.work_root))
        header = f"[{iso_time(self.clock.now())}] {self.settings.worker_id} runs {request.path} as {job_id}\n"
        try:
            try:
                spec = prepare_job(request, self.config)
            except JobRefused as exc:
                return self._settle(request, Status.FAILED, header + f"refused: {exc}\n", error=str(exc))
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
        if outcome.stopped:
            return self._settle(
                request,
                Status.PENDING,
                text + "\nstopped: worker shutting down\n",
                requeue_reason=f"{self.settings.worker_id} stopped (SIGTERM)",
            )
        if not outcome.ok:
            return self._settle(request, Status.FAILED, text, error=outcome.reason, log_tail=log_tail(text))
        try:
            results_file = self.publish(request, outcome)
        except (StoreError, OSError, JobRefused) as exc:
            log.error("%s: results could not be written, the request stays RUNNING: %s", request.path, exc)
            return None
        extra = self._publish_back(request, results_file, outcome)
        return self._settle(request, Status.FINISHED, text, results_file=results_file, **extra)

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
                update_request(
                    self.requests,
                    request.path,
                    expected=(Status.RUNNING,),
                    require={"job_id": state.job_id},
                    job_heartbeat=iso_time(now),
                    progress=state.progress or None,
                )
                state.last_beat = now
            except RequestConflict:
                state.lost = not self._still_ours(request.path, state.job_id)
                return not state.lost
            except FileNotFoundError:
                state.lost = True
                return False
            except (StoreError, OSError) as exc:
                log.warning("%s: heartbeat not written (%s); will retry", request.path, exc)
            return True

        return beat

    def _still_ours(self, path: str, job_id: str) -> bool:
        try:
            current, _ = read_request(self.requests, path)
        except (FileNotFoundError, ValueError):
            return False
        return current.status == Status.RUNNING and current.raw.get("job_id") == job_id

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

    def _settle(self, request: Request, status: Status, log_text: str, **fields: Any) -> Request | None:
        """Store the log, then move our job's request to ``status`` (retrying a CAS lost to a lock)."""
        job_id = request.raw.get("job_id")
        log_file = self._store_log(request.path, log_text)
        now = iso_time(self.clock.now())
        extra = {"job_end_time": now, "progress": None, "log_file": log_file}
        if status == Status.PENDING:
            extra = {"progress": None, "job_id": None, "worker": None, "job_heartbeat": None}
        for attempt in range(5):
            try:
                settled = transition(
                    self.requests,
                    request.path,
                    status,
                    expected=(Status.RUNNING,),
                    now=now,
                    require={"job_id": job_id},
                    **extra,
                    **fields,
                )
                log.info(
                    "%s: %s%s",
                    request.path,
                    status.value,
                    f" ({fields['error']})" if "error" in fields else "",
                )
                return settled
            except RequestConflict:
                if not self._still_ours(request.path, str(job_id)):
                    log.warning("%s: no longer ours, leaving its status alone", request.path)
                    return None
                self.clock.sleep(0.05 * (attempt + 1))
        log.error("%s: could not set %s after retries; the lease will expire", request.path, status.value)
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


def _last_beat(request: Request) -> float | None:
    for key in ("job_heartbeat", "job_start_time"):
        stamp = parse_time(request.raw.get(key))
        if stamp is not None:
            return stamp
    history = request.raw.get("status_history") or []
    if history and isinstance(history[-1], dict):
        return parse_time(history[-1].get("time"))
    return None


def _claim_order(request: Request) -> tuple[Any, ...]:
    priority = _int(request.raw.get("priority"))
    return (-priority, not request.private, request.submitted_time or "~", request.path)


def _still_malformed_and_pending(path: str, text: str) -> bool:
    try:
        data = json.loads(text)
    except ValueError:
        return True
    try:
        parse_request(path, data)
        return False  # fixed meanwhile
    except ValueError:
        pass
    if not isinstance(data, dict):
        return True
    try:
        return Status.parse(data.get("status", "PENDING")) in CLAIMABLE
    except ValueError:
        return True  # an unknown status: nobody can act on it


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
