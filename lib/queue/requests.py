"""Request files: the evaluation queue kept in the requests store, in the leaderboard template's layout.

A request lives at ``<org>/<model>_eval_request_<private>_<precision>_<weight_type>.json``. This module
reads those files into validated ``lib.core.request.Request`` records and changes them through a
``FileStore``, every change a compare-and-swap on the file's version, so two writers never both win.

API (what the dashboard, the command line and the evaluator call):

- reading: ``read_requests(store) -> (requests, problems)`` (a file that does not validate is a problem
  row, never an exception), ``read_request(store, path) -> (request, version)``, ``decode_request``;
- creating: ``create_request(store, data, path=None) -> (created, path)`` (exclusive create);
- the status machine's edges (``lib.queue.status`` holds the table and the field rules), one function each:
  ``approve``, ``claim``, ``finish``, ``fail``, ``release``, ``expire`` (a lost lease: ``release`` with an
  attempt counted, or ``fail`` at the last attempt), ``requeue``;
- the running job's own fields, without a status change: ``update_job(store, path, job_id, ...)`` (heartbeat,
  lease, progress, ``slurm_job_id``); other fields (a flag): ``update_request``.

Every function raises ``RequestConflict`` when the file changed meanwhile, the request is in a status the
edge does not start from (``IllegalTransition``), or a ``require``d field differs (a worker changes only
the job it owns). It does no validation of submissions (``lib.queue.submissions``) and runs no evaluation.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from lib.core.records import IngestProblem, Status
from lib.core.request import Request, RequestInvalid, iso_time, parse_request
from lib.queue.status import (
    JOB_FIELDS,
    LIVE_FIELDS,
    IllegalTransition,
    RequestConflict,
    apply,
    target,
)
from lib.stores.base import FileStore, safe_relpath

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 2_000_000  # a request is a few KB; anything this large is not one
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # a JSON escape that may be a lone surrogate
__all__ = [
    "IllegalTransition",
    "Request",
    "RequestConflict",
    "RequestInvalid",
    "approve",
    "claim",
    "create_request",
    "decode_request",
    "expire",
    "fail",
    "finish",
    "read_request",
    "read_requests",
    "release",
    "requeue",
    "update_job",
    "update_request",
]


def utc_now() -> str:
    """The current time as the template writes it: ``2024-01-22T08:48:36Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_path(model: str, private: bool, precision: str, weight_type: str, revision_tag: str = "") -> str:
    """The template's file path for a request; raises UnsafePathError for a hostile model id.

    ``revision_tag`` (a short sha or a checkpoint name) is appended for a second revision of a model at
    the same precision, which the template's name alone would overwrite.
    """
    org, sep, name = model.partition("/")
    if not sep:
        org, name = "", model
    tag = f"_{revision_tag}" if revision_tag else ""
    file_name = f"{name}_eval_request_{bool(private)}_{precision}_{weight_type}{tag}.json"
    return safe_relpath(org, file_name) if org else safe_relpath(file_name)


# ----------------------------------------------------------------------------------------------- reading
def decode_request(path: str, content: bytes) -> Request:
    """A Request from a file's bytes; RequestInvalid (a ValueError) with a readable reason otherwise."""
    if len(content) > MAX_REQUEST_BYTES:
        raise RequestInvalid(f"the file is {len(content):,} bytes, more than a request can be")
    try:
        data = json.loads(content)
    except RecursionError:
        raise RequestInvalid("not valid JSON: nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise RequestInvalid(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        raise RequestInvalid(f"not valid JSON: {str(exc)[:200]}") from None
    if _SURROGATE_ESCAPE.search(content):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise RequestInvalid(
                "a text holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text"
            ) from None
        except (RecursionError, ValueError):
            raise RequestInvalid("unreadable values") from None
    return parse_request(path, data)


def read_requests(store: FileStore) -> tuple[list[Request], list[IngestProblem]]:
    """Every request in the store, and a problem row ('request file: <reason>') for each malformed file."""
    requests: list[Request] = []
    problems: list[IngestProblem] = []
    for info in store.list_files((".json",), irregular=True):
        if info.skipped:
            continue  # not a request by its name (a log, a hidden file): nothing to report here
        if info.problem:  # a directory named *.json, a dangling symlink, a loop: listed, not readable
            problems.append(IngestProblem(info.path, f"request file: {info.problem}"))
            continue
        try:
            if info.size > MAX_REQUEST_BYTES:
                raise RequestInvalid(f"the file is {info.size:,} bytes, more than a request can be")
            requests.append(decode_request(info.path, store.read_bytes(info.path)))
        except FileNotFoundError:
            continue  # removed while we listed
        except RequestInvalid as exc:
            problems.append(IngestProblem(info.path, f"request file: {exc}"))
        except Exception as exc:  # noqa: BLE001 - one unreadable file never hides the others
            problems.append(IngestProblem(info.path, f"request file cannot be read: {type(exc).__name__}"))
    return requests, problems


def read_request(store: FileStore, path: str) -> tuple[Request, str]:
    """One request and the file version it was read at (for a later compare-and-swap)."""
    version = _version(store, path)
    return decode_request(path, store.read_bytes(path)), version


def encode_request(data: dict[str, Any]) -> bytes:
    """The bytes written for a request file: indented JSON, keys in a stable order."""
    return (json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")


def create_request(store: FileStore, data: dict[str, Any], path: str | None = None) -> tuple[bool, str]:
    """Write a new request file; never overwrites. Returns (created, path).

    ``path`` defaults to the template's ``request_path``; a caller may give another safe path (a second
    revision of the same model and precision gets the sha appended, see ``lib.queue.submissions``).
    The object is validated first: RequestInvalid when it would not read back.
    """
    if path is None:
        private = bool(data.get("private", False))
        path = request_path(data["model"], private, data["precision"], data["weight_type"])
    path = safe_relpath(path)
    data = dict(data)
    now = data.setdefault("submitted_time", utc_now())
    data.setdefault("status_history", [{"status": data.get("status", "PENDING"), "time": now}])
    data.setdefault("attempts", 0)
    parse_request(path, data)
    created = store.create_exclusive(path, encode_request(data), message=f"Add request for {data['model']}")
    return created, path


# ------------------------------------------------------------------------------------ the machine's edges
def transition(
    store: FileStore,
    path: str,
    edge: str,
    now: float | None = None,
    require: dict[str, Any] | None = None,
    **fields: Any,
) -> Request:
    """Follow ``edge`` (a name of ``lib.queue.status.EDGES``) from the request's current status.

    The one place a status changes: the table is checked, the field rules applied, the result validated,
    and the file replaced only if nobody changed it since we read it. Prefer the edge functions below.
    """
    request, version = read_request(store, path)
    target(request.status, edge)  # the table first: an illegal edge is refused whoever holds the job
    _check_required(request, require)
    stamp = iso_time(now) if now is not None else utc_now()
    data = apply(request.raw, request.status, edge, stamp, fields)
    updated = parse_request(path, data)  # never write what would not read back
    if not store.replace_if_unchanged(
        path, encode_request(data), version, message=f"{updated.status}: {path}"
    ):
        raise RequestConflict(f"{path} changed while we updated it")
    return updated


def approve(store: FileStore, path: str, by: str, now: float | None = None) -> Request:
    """APPROVAL -> PENDING: an admin let the request into the queue."""
    return transition(store, path, "approve", now, approved_by=by)


def claim(store: FileStore, path: str, worker: str, job_id: str, lease_s: float, now: float) -> Request:
    """PENDING -> RUNNING for ``job_id``: the holder writes its own lease end (``lease_expires_at``)."""
    stamp = iso_time(now)
    return transition(
        store,
        path,
        "claim",
        now,
        job_id=job_id,
        worker=worker,
        job_start_time=stamp,
        job_heartbeat=stamp,
        lease_expires_at=iso_time(now + lease_s),
        progress={"task": "", "done": 0, "total": 0, "phase": "claimed"},
    )


def finish(store: FileStore, path: str, job_id: str, now: float, results_file: str, **fields: Any) -> Request:
    """RUNNING -> FINISHED for the job that holds it; ``fields`` add ``log_file``, ``eval_results_pr``..."""
    return transition(
        store,
        path,
        "finish",
        now,
        require={"job_id": job_id},
        job_end_time=iso_time(now),
        results_file=results_file,
        **fields,
    )


def fail(
    store: FileStore,
    path: str,
    job_id: str | None,
    now: float,
    error: str,
    require: dict[str, Any] | None = None,
    **fields: Any,
) -> Request:
    """RUNNING -> FAILED with ``error`` (the reason the Queue page shows); ``fields`` add the log."""
    return transition(
        store,
        path,
        "fail",
        now,
        require={"job_id": job_id, **(require or {})},
        job_end_time=iso_time(now),
        error=str(error)[:20_000] or "failed (no reason given)",
        **fields,
    )


def release(
    store: FileStore,
    path: str,
    job_id: str | None,
    now: float,
    reason: str,
    require: dict[str, Any] | None = None,
) -> Request:
    """RUNNING -> PENDING: the job gave its request back (its worker is stopping); no attempt is counted."""
    return transition(
        store, path, "release", now, require={"job_id": job_id, **(require or {})}, requeue_reason=reason
    )


def expire(store: FileStore, seen: Request, now: float, max_attempts: int) -> Request:
    """A lease ran out: PENDING again with an attempt counted, or FAILED at the last attempt.

    ``seen`` is the request as the caller found it; if its job heartbeat since (or another worker already
    expired it), RequestConflict is raised and nothing changes.
    """
    attempts = seen.attempts + 1
    owner = seen.worker or "an unknown worker"
    note = f"lease expired: {owner} stopped heartbeating (attempt {attempts} of {max_attempts})"
    require = {"job_heartbeat": seen.job_heartbeat, "lease_expires_at": seen.lease_expires_at}
    if attempts >= max_attempts:
        return fail(
            store,
            seen.path,
            seen.job_id,
            now,
            f"{note}; giving up",
            require,
            attempts=attempts,
            requeue_reason=note,
        )
    return transition(
        store,
        seen.path,
        "release",
        now,
        require={"job_id": seen.job_id, **require},
        attempts=attempts,
        requeue_reason=note,
    )


def requeue(store: FileStore, path: str, by: str, now: float | None = None) -> Request:
    """FAILED -> PENDING by an admin: the error and the last run's fields cleared, attempts back to 0."""
    return transition(
        store, path, "requeue", now, attempts=0, requeued_by=by, requeue_reason=f"re-queued by {by}"
    )


# ------------------------------------------------------------------------------------ fields without edges
# slurm_state is not a job field (an executor writes a settled request's final Slurm state with update_request)
JOB_UPDATABLE = (*LIVE_FIELDS, "slurm_job_id", "slurm_claim", "slurm_log", "slurm_node", "slurm_state")


def update_job(
    store: FileStore, path: str, job_id: str, now: float, lease_s: float | None = None, **fields: Any
) -> Request:
    """Set the running job's own fields (``progress``, ``slurm_job_id``) and beat its heartbeat.

    ``lease_s`` renews the holder's lease to ``now + lease_s``. Only the job holding the request may do
    this: RequestConflict when the request is not RUNNING with ``job_id``.
    """
    unknown = set(fields) - set(JOB_UPDATABLE)
    if unknown:
        raise ValueError(f"update_job cannot set {sorted(unknown)}; status changes go through the edges")
    fields["job_heartbeat"] = iso_time(now)
    if lease_s is not None:
        fields["lease_expires_at"] = iso_time(now + lease_s)
    return _rewrite(store, path, (Status.RUNNING,), {"job_id": job_id}, fields)


def update_request(
    store: FileStore, path: str, require: dict[str, Any] | None = None, **fields: Any
) -> Request:
    """Set fields that are neither the status nor a job field (a flag, say), by compare-and-swap."""
    reserved = set(fields) & {*JOB_FIELDS, "status", "status_history", "error", "attempts"}
    if reserved:
        raise ValueError(f"update_request cannot set {sorted(reserved)}; use the status machine's edges")
    return _rewrite(store, path, tuple(Status), require, fields)


def _rewrite(
    store: FileStore,
    path: str,
    expected: tuple[Status, ...],
    require: dict[str, Any] | None,
    fields: dict[str, Any],
) -> Request:
    request, version = read_request(store, path)
    if request.status not in expected:
        raise RequestConflict(
            f"{path} is {request.status.value}, expected one of {[s.value for s in expected]}"
        )
    _check_required(request, require)
    data = dict(request.raw)
    for key, value in fields.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    updated = parse_request(path, data)
    if not store.replace_if_unchanged(path, encode_request(data), version, message=f"update: {path}"):
        raise RequestConflict(f"{path} changed while we updated it")
    return updated


def _check_required(request: Request, require: dict[str, Any] | None) -> None:
    for key, value in (require or {}).items():
        if request.raw.get(key) != value:
            raise RequestConflict(f"{request.path}: {key} is not the expected value (another job holds it?)")


def _version(store: FileStore, path: str) -> str:
    getter = getattr(store, "version", None)
    if getter is None:
        raise TypeError(f"store {store.location} cannot tell file versions")
    version = getter(path)
    if version is None:
        raise FileNotFoundError(path)
    return version
