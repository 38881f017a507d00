"""The Queue page's tables, built from request records: groups, ages, senders, progress and failures.

Pure functions over ``lib.records.Request`` (no Streamlit, no store access), so the page stays thin and
the command line (``python -m lib queue``) shows the same rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd

from lib.core.records import IngestProblem
from lib.core.request import Progress, Request

GROUPS: tuple[tuple[str, str], ...] = (
    ("approval", "⏸️ Waiting for approval"),
    ("running", "🔄 Running"),
    ("pending", "⏳ Pending"),
    ("failed", "❌ Failed"),
    ("finished", "✅ Finished"),
)
COLUMNS = [
    "Model",
    "Revision",
    "Precision",
    "Weight type",
    "Type",
    "Sender",
    "Submitted",
    "Age",
    "Status",
    "path",
]
LOG_TAIL_LINES = 30


def filter_requests(requests: list[Request], model: str = "") -> list[Request]:
    """Requests whose model id contains ``model`` (case-insensitive); all when it is empty."""
    needle = model.strip().lower()
    if not needle:
        return list(requests)
    exact = [r for r in requests if r.model.lower() == needle]
    return exact or [r for r in requests if needle in r.model.lower()]


def grouped(requests: list[Request]) -> dict[str, list[Request]]:
    """Requests by Queue-page group, each ordered as the evaluator takes them (private first, then oldest)."""
    groups: dict[str, list[Request]] = {key: [] for key, _ in GROUPS}
    for request in requests:
        groups.setdefault(request.status.queue_group, []).append(request)
    for key, items in groups.items():
        newest_first = key in ("finished", "failed")
        items.sort(key=lambda r: r.submitted_time, reverse=newest_first)
        if not newest_first:
            items.sort(key=lambda r: not r.private)
    return groups


def age_text(timestamp: str, now: datetime | None = None) -> str:
    """'3 min', '5 h', '2 d' since an ISO time; '' when the time cannot be read."""
    moment = parse_time(timestamp)
    if moment is None:
        return ""
    seconds = max(0.0, ((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} d"


def parse_time(text: str) -> datetime | None:
    """A timezone-aware datetime from the template's ``2024-01-22T08:48:36Z`` (or any ISO form)."""
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def progress_of(request: Request) -> Progress | None:
    """The job's progress, or None when the request carries none."""
    return request.progress


def slurm_job_text(request: Request) -> str:
    """``1234 · RUNNING on node17`` for a request run as a Slurm job (see evaluator.slurm), else ''."""
    slurm_id = request.raw.get("slurm_job_id")
    if not slurm_id:
        return ""
    text = str(slurm_id)[:20]
    state = request.raw.get("slurm_state")
    if state:
        text += f" · {str(state)[:20]}"
    node = request.raw.get("slurm_node")
    if node and state in ("RUNNING", "COMPLETING"):
        text += f" on {str(node)[:60]}"
    return text


def failure_reason(request: Request) -> str:
    """Why a request failed: its ``error``, else the last error in its status history."""
    if request.error:
        return request.error
    for entry in reversed(request.status_history):
        if entry.error:
            return entry.error
    return "no reason recorded"


def log_tail(request: Request, lines: int = LOG_TAIL_LINES) -> str:
    """The end of the job's log as the evaluator stored it in the request (``log_tail``)."""
    return "\n".join(request.log_tail.rstrip().splitlines()[-lines:])


def status_since(request: Request) -> str:
    """When the request entered its current status (last status_history entry), else its submission time."""
    for entry in reversed(request.status_history):
        if entry.status == request.status.value and entry.time:
            return entry.time
    return request.submitted_time


def queue_frame(requests: list[Request], now: datetime | None = None) -> pd.DataFrame:
    """One row per request with the columns the Queue page and the command line show."""
    rows: list[dict[str, Any]] = []
    for r in requests:
        progress = progress_of(r)
        rows.append(
            {
                "Model": r.model,
                "Revision": r.revision[:12],
                "Precision": r.precision,
                "Weight type": r.weight_type,
                "Type": r.model_type,
                "Sender": r.sender,
                "Submitted": r.submitted_time,
                "Age": age_text(r.submitted_time, now),
                "In status for": age_text(status_since(r), now),
                "Status": r.status.value,
                "Progress": progress.text if progress else "",
                "Attempts": r.attempts,
                "Slurm job": slurm_job_text(r),
                "Error": r.error,
                "Flagged": r.flagged,
                "path": r.path,
            }
        )
    columns = COLUMNS[:-1] + [
        "In status for",
        "Progress",
        "Attempts",
        "Slurm job",
        "Error",
        "Flagged",
        "path",
    ]
    return pd.DataFrame(rows, columns=columns)


def counts(requests: list[Request]) -> dict[str, int]:
    """How many requests each group holds."""
    return {key: len(items) for key, items in grouped(requests).items()}


def malformed_frame(problems: list[IngestProblem]) -> pd.DataFrame:
    """One row per request file that does not validate: its path and the reason (shown as text)."""
    rows = [{"File": p.path, "Reason": p.reason.removeprefix("request file: ")} for p in problems]
    return pd.DataFrame(rows, columns=["File", "Reason"])
