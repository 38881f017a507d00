"""The request status machine: the one table of legal edges, and what each edge does to the job fields.

```
  APPROVAL ──approve──► PENDING ◄──requeue── FAILED
                          │  ▲                 ▲
                    claim │  │ release         │ fail
                          ▼  │                 │
                        RUNNING ───────────────┘
                          │
                   finish ▼
                        FINISHED
```

``RERUN`` and ``PENDING_NEW_EVAL`` (older template queues) are claimable like ``PENDING``. Any other pair
of statuses is illegal: ``apply`` raises ``IllegalTransition`` whoever asks. The field rules are applied
here, not by the callers, so every path into a status leaves the same fields:

- ``LIVE_FIELDS`` (``job_heartbeat``, ``lease_expires_at``, ``progress``) exist only while RUNNING;
- ``JOB_FIELDS`` (the live ones plus ``job_id``, ``worker``, ``job_start_time``, ``job_end_time``,
  ``log_file``, ``log_tail``, ``results_file``, ``slurm_job_id``, ...) describe the last run: a claim
  replaces them, FINISHED and FAILED keep them as the record of that run, and PENDING clears them;
- ``error`` is set only by FAILED and cleared by every other edge.

One more rewrite is not an edge, because it has no record to start from: a request file that does not
validate is replaced by a FAILED request naming the reason (``evaluator.worker``). This module is pure:
it changes a dict; ``lib.queue.requests`` reads and writes the files by compare-and-swap.
"""

from __future__ import annotations

from typing import Any

from lib.core.records import Status

CLAIMABLE = (Status.PENDING, Status.RERUN, Status.PENDING_NEW_EVAL)

# (from, to) -> the edge's name. The only place that says which status changes are allowed.
EDGES: dict[tuple[Status, Status], str] = {
    (Status.APPROVAL, Status.PENDING): "approve",
    **{(status, Status.RUNNING): "claim" for status in CLAIMABLE},
    (Status.RUNNING, Status.FINISHED): "finish",
    (Status.RUNNING, Status.FAILED): "fail",
    (Status.RUNNING, Status.PENDING): "release",
    (Status.FAILED, Status.PENDING): "requeue",
}

LIVE_FIELDS = ("job_heartbeat", "lease_expires_at", "progress")
JOB_FIELDS = (
    "job_id",
    "worker",
    "job_start_time",
    "job_end_time",
    *LIVE_FIELDS,
    "log_file",
    "log_tail",
    "results_file",
    "slurm_job_id",
    "slurm_claim",  # the claim that submitted slurm_job_id (evaluator.slurm)
    "slurm_log",
    "slurm_node",
    "eval_results_pr",
    "publish_error",
)
MAX_HISTORY_ERROR = 500
KEPT_HISTORY = 1000  # status changes kept when a request is rewritten (the oldest go first)


class RequestConflict(RuntimeError):
    """The request file changed under us (another writer won the race), or is not where the change needs it."""


class IllegalTransition(RequestConflict):
    """A status change that the table of edges does not allow from the request's current status."""


def target(current: Status, edge: str) -> Status:
    """Where ``edge`` leads from ``current``; IllegalTransition when the table has no such edge."""
    for (frm, to), name in EDGES.items():
        if frm == current and name == edge:
            return to
    legal = sorted(name for (frm, _), name in EDGES.items() if frm == current)
    raise IllegalTransition(
        f"a {current.value} request cannot {edge} (from {current.value}: {', '.join(legal) or 'no edge'})"
    )


def apply(
    data: dict[str, Any], current: Status, edge: str, stamp: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """The request's object after ``edge`` from ``current`` at ``stamp``, with ``fields`` set.

    The field rules of the module docstring are applied first, then ``fields`` (a value of None removes
    the key). A status-history entry is appended with the edge's error or note.
    """
    new = target(current, edge)
    name = edge
    out = dict(data)
    cleared: tuple[str, ...] = LIVE_FIELDS
    if new in (Status.PENDING, Status.RUNNING, Status.APPROVAL):
        cleared = (*JOB_FIELDS, "error")
    elif new == Status.FINISHED:
        cleared = (*LIVE_FIELDS, "error")
    for key in cleared:
        out.pop(key, None)
    for key, value in fields.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    out["status"] = new.value
    entry: dict[str, Any] = {"status": new.value, "time": stamp, "edge": name}
    if new == Status.FAILED and out.get("error"):
        entry["error"] = str(out["error"])[:MAX_HISTORY_ERROR]
    elif fields.get("requeue_reason"):
        entry["note"] = str(fields["requeue_reason"])[:MAX_HISTORY_ERROR]
    history = out.get("status_history")
    out["status_history"] = [*(history if isinstance(history, list) else []), entry][-KEPT_HISTORY:]
    return out
