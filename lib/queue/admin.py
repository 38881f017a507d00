"""Admin actions on the queue: approve a request waiting for approval, re-queue or cancel one, flag a model.

Each checks that the acting user is one of the definition's admins (``AdminError`` otherwise) and then
takes one edge of the status machine (``lib.queue.status``) through ``lib.queue.requests``, so an admin
action sets and clears job fields exactly as the evaluator's own transitions do. Used by the Queue and
Leaderboard pages; nothing here validates submissions (``lib.queue.submissions`` does).
"""

from __future__ import annotations

import logging
import re

from lib.core.config import Definition
from lib.core.records import Status
from lib.core.request import Request
from lib.queue import requests as queue_requests
from lib.queue.requests import RequestConflict, read_requests
from lib.queue.requests import update_request as update_request_fields
from lib.stores.base import FileStore

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AdminError(PermissionError):
    """The user is not an admin of this leaderboard."""


def require_admin(definition: Definition, user: str) -> None:
    """Raise AdminError unless ``user`` is listed in the definition's admins."""
    if not user or user not in definition.admins:
        raise AdminError(f"{user or 'anonymous'} is not an admin of this leaderboard")


def approve(store: FileStore, definition: Definition, path: str, admin: str) -> Request:
    """An APPROVAL request becomes PENDING (manual and semi-automatic modes)."""
    require_admin(definition, admin)
    return queue_requests.approve(store, path, admin)


def requeue(store: FileStore, definition: Definition, path: str, admin: str) -> Request:
    """A FAILED or RUNNING request goes back to PENDING, its error and job fields cleared.

    For a RUNNING request this is the machine's ``release`` edge: its claim is gone, so a local worker's
    heartbeat fails its check and stops the job, and the Slurm executor ``scancel``s the Slurm job.
    """
    require_admin(definition, admin)
    current, _ = queue_requests.read_request(store, path)
    if current.status != Status.RUNNING:
        return queue_requests.requeue(store, path, admin)
    return queue_requests.transition(
        store, path, "release", attempts=0, requeued_by=admin, requeue_reason=f"re-queued by {admin}",
        slurm_state=None,
    )  # fmt: skip


def cancel(store: FileStore, definition: Definition, path: str, admin: str) -> Request:
    """A RUNNING request becomes FAILED ("cancelled by <admin>"); its claim is cleared, which stops its job
    (the Slurm executor ``scancel``s a Slurm job whose claim is gone). The Slurm job id is kept."""
    require_admin(definition, admin)
    return queue_requests.transition(
        store, path, "fail", error=f"cancelled by {admin}", cancelled_by=admin, job_id=None, slurm_claim=None
    )


def set_flag(store: FileStore, definition: Definition, model: str, reason: str, admin: str) -> int:
    """Flag every request of ``model`` with ``reason`` (an empty reason unflags); returns how many changed."""
    require_admin(definition, admin)
    reason = _CONTROL.sub(" ", reason).strip()[:500]
    requests, _ = read_requests(store)
    changed = 0
    for request in requests:
        if request.model != model or request.flagged == reason:
            continue
        try:
            update_request_fields(
                store,
                request.path,
                flagged=reason or None,
                flagged_by=admin if reason else None,
            )
            changed += 1
        except RequestConflict:
            log.warning("flag of %s skipped: the file changed meanwhile", request.path)
    return changed
