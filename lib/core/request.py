"""The typed record of one evaluation request file, validated once at the boundary (pydantic v2).

A request file is JSON written by the dashboard, by the leaderboard template, by older versions of either,
or by hand. ``parse_request(path, data)`` turns the decoded object into a frozen ``Request`` whose fields
are typed (the template's identity fields, our display fields, and the job fields the evaluator writes:
``job_id``, ``worker``, ``attempts``, ``priority``, ``job_heartbeat``, ``lease_expires_at``, ``progress``,
``status_history`` ...), or raises ``RequestInvalid`` with a short readable reason naming each bad field.
Nothing else in the code reads a request's raw dict for a known field.

Rules (strict where a field decides what runs or how the queue moves, lenient for display-only fields
that old template files fill loosely):

- strict: ``model`` (non-empty text, at most ``MAX_MODEL_ID`` characters, no control characters),
  ``revision``/``precision``/``weight_type``/``base_model``/``model_path`` (text), ``status`` (a known
  ``Status``), ``private``/``use_chat_template`` (booleans), the job fields (integers within bounds,
  texts of bounded length, ``progress`` an object of counts, ``status_history`` a list of objects).
- lenient: ``params``, ``likes``, ``tokens``, ``step`` (a wrong type or an absurd number reads as unknown),
  ``architectures`` (one string is a list of one), and ``null`` in a text field reads as empty;
  ``params`` of 0 or below reads as unknown too (the template writes 0 when it cannot count them).

``raw`` keeps the object exactly as read, so a rewrite (``lib.queue.requests``) never drops a key that a
newer or older writer added. Why pydantic rather than msgspec: pydantic 2 is already installed (msgspec
is not), the definition file's schema uses it too (one validation library in the project), and its errors
carry the field's path, which is what a person fixing a request file needs. The cost, about 0.1 s to import,
is paid only by modules that handle requests; ``lib.core.records`` (imported by ingest workers) does not
import this module.

Must not: do I/O, import anything from ``lib`` beyond ``lib.core.records``, or import pandas.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from lib.core.records import Status

MAX_MODEL_ID = 256  # Hub ids are at most 96 characters; local names and paths get some room
MAX_TEXT = 20_000  # any other text field (an error message, a log tail)
MAX_COUNT = 10**12  # attempts, progress counts: anything larger is not a count
MAX_PRIORITY = 10**6
MAX_HISTORY = 10_000  # status changes kept in one request file
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class RequestInvalid(ValueError):
    """A request file that does not validate; the message names each bad field and why."""


def _none_to_empty(value: Any) -> Any:
    return "" if value is None else value


def _lenient_float(value: Any) -> float | None:
    """A finite float, or None for anything else (strings such as 'N/A', NaN, huge integers, objects)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _lenient_int(value: Any) -> int | None:
    number = _lenient_float(value)
    if number is None or abs(number) > 2**62:
        return None
    return int(number)


def _lenient_count(value: Any) -> int | None:
    number = _lenient_int(value)
    return number if number is None or number >= 0 else None


def _lenient_bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")


def _as_tuple(value: Any) -> Any:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else value


def _zero_if_none(value: Any) -> Any:
    return 0 if value is None else value


Text = Annotated[str, BeforeValidator(_none_to_empty), Field(max_length=MAX_TEXT)]
ShortText = Annotated[str, BeforeValidator(_none_to_empty), Field(max_length=512)]
Stamp = Annotated[str | None, Field(max_length=64)]
Ident = Annotated[str | None, Field(max_length=512)]


def _size_or_unknown(value: Any) -> float | None:
    """A parameter count in billions: above zero, or None (the template writes 0 when it does not know)."""
    number = _lenient_float(value)
    return number if number is not None and number > 0 else None


LenientFloat = Annotated[float | None, BeforeValidator(_lenient_float)]
ModelSize = Annotated[float | None, BeforeValidator(_size_or_unknown)]
LenientCount = Annotated[int | None, BeforeValidator(_lenient_count)]
LenientBool = Annotated[bool, BeforeValidator(_lenient_bool)]
Count = Annotated[int, BeforeValidator(_zero_if_none), Field(ge=0, le=MAX_COUNT, strict=True)]


class Progress(BaseModel):
    """A running job's progress as the evaluator writes it: ``{task, done, total, phase}``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    task: ShortText = ""
    done: Count = 0
    total: Count = 0
    phase: ShortText = ""

    @property
    def fraction(self) -> float:
        return min(max(self.done / self.total, 0.0), 1.0) if self.total > 0 else 0.0

    @property
    def text(self) -> str:
        what = self.task or self.phase or "starting"
        if self.total > 0:
            return f"{what}: {self.done:,}/{self.total:,} ({self.fraction:.0%})"
        return what


class HistoryEntry(BaseModel):
    """One status change: the new status (as written), when, and the error or note that came with it."""

    model_config = ConfigDict(frozen=True, extra="allow")

    status: ShortText
    time: ShortText = ""
    error: Text = ""
    note: Text = ""
    by: ShortText = ""


class Request(BaseModel):
    """One evaluation request file of the requests store (the template's schema plus ours), validated.

    ``path`` is the file's path inside the requests store; ``raw`` is the object as read.
    """

    model_config = ConfigDict(
        frozen=True, extra="ignore", protected_namespaces=(), str_strip_whitespace=False
    )

    path: str
    # identity: what gets evaluated
    model: str
    revision: Annotated[str, BeforeValidator(lambda v: v or "main"), Field(max_length=512)] = "main"
    precision: ShortText = ""
    weight_type: Annotated[str, BeforeValidator(lambda v: v or "Original"), Field(max_length=64)] = "Original"
    base_model: ShortText = ""
    model_path: Text = ""
    private: bool = False
    use_chat_template: bool = False
    status: Status = Status.PENDING
    # display fields (the template's, filled loosely by old versions)
    submitted_time: ShortText = ""
    model_type: ShortText = ""
    params: ModelSize = None  # billions; 0 or below reads as unknown
    license: ShortText = ""
    likes: LenientCount = None
    architectures: Annotated[tuple[str, ...], BeforeValidator(_as_tuple)] = ()
    sender: ShortText = ""
    flagged: Text = ""
    training: ShortText = ""
    step: LenientCount = None
    tokens: LenientFloat = None
    merged: LenientBool = False
    moe: LenientBool = False
    on_hub: LenientBool = True
    # the queue's fields
    error: Text = ""
    attempts: Count = 0
    priority: Annotated[
        int, BeforeValidator(_zero_if_none), Field(ge=-MAX_PRIORITY, le=MAX_PRIORITY, strict=True)
    ] = 0
    status_history: Annotated[tuple[HistoryEntry, ...], Field(max_length=MAX_HISTORY)] = ()
    requeue_reason: Text = ""
    # the job's fields (see lib.queue.status for when each is set and cleared)
    job_id: Ident = None
    worker: Ident = None
    job_start_time: Stamp = None
    job_heartbeat: Stamp = None
    job_end_time: Stamp = None
    lease_expires_at: Stamp = None
    progress: Progress | None = None
    log_file: Annotated[str | None, Field(max_length=1024)] = None
    log_tail: Annotated[
        str, BeforeValidator(lambda v: "\n".join(map(str, v)) if isinstance(v, list) else v or "")
    ] = ""
    results_file: Annotated[str | None, Field(max_length=1024)] = None
    slurm_job_id: Annotated[str | None, Field(max_length=64)] = None
    malformed_content: Text = ""
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @field_validator("model", mode="before")
    @classmethod
    def _model_id(cls, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be a non-empty model id")
        value = value.strip()
        if len(value) > MAX_MODEL_ID:
            raise ValueError(f"is longer than {MAX_MODEL_ID} characters")
        if _CONTROL.search(value):
            raise ValueError("contains control characters")
        return value

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> Status:
        if value is None:
            return Status.PENDING
        if not isinstance(value, str):
            raise ValueError("must be a status name such as PENDING")
        return Status.parse(value[:64])

    @field_validator(
        "job_id", "worker", "job_start_time", "job_heartbeat", "job_end_time", "lease_expires_at"
    )
    @classmethod
    def _no_control(cls, value: str | None) -> str | None:
        if value is not None and _CONTROL.search(value):
            raise ValueError("contains control characters")
        return value

    @field_validator("job_start_time", "job_heartbeat", "job_end_time", "lease_expires_at")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        if value is not None and value != "" and parse_time(value) is None:
            raise ValueError("is not an ISO time such as 2024-01-22T08:48:36Z")
        return value or None

    @field_validator("slurm_job_id", mode="before")
    @classmethod
    def _slurm_id(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    # ---------------------------------------------------------------- derived
    @property
    def is_local(self) -> bool:
        """A local model folder rather than a Hub repo."""
        return bool(self.model_path) or self.model.startswith("local/")

    @property
    def lease_deadline(self) -> float | None:
        """When the holder's lease ends (seconds since the epoch), as the holder wrote it; None if not written."""
        return parse_time(self.lease_expires_at)

    @property
    def last_beat(self) -> float | None:
        """The job's last sign of life: heartbeat, else start, else the last status change."""
        for stamp in (self.job_heartbeat, self.job_start_time):
            moment = parse_time(stamp)
            if moment is not None:
                return moment
        return parse_time(self.status_history[-1].time) if self.status_history else None


def parse_time(text: Any) -> float | None:
    """Seconds since the epoch from an ISO time (``Z`` or an offset); None when absent or unreadable."""
    if not isinstance(text, str) or not text.strip() or len(text) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def iso_time(ts: float) -> str:
    """Seconds since the epoch as the template writes times: ``2024-01-22T08:48:36Z``."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_request(path: str, data: Any) -> Request:
    """A validated Request from a decoded JSON value; RequestInvalid says what is wrong, field by field."""
    if not isinstance(data, dict):
        raise RequestInvalid(f"a request file must hold a JSON object, not {_kind(data)}")
    try:
        return Request.model_validate({**data, "path": path, "raw": data})
    except ValidationError as exc:
        raise RequestInvalid(explain(exc)) from None
    except (RecursionError, OverflowError, TypeError) as exc:  # pathological values inside known fields
        raise RequestInvalid(f"unreadable values ({type(exc).__name__})") from None


def explain(exc: ValidationError, limit: int = 5) -> str:
    """A short reason from pydantic's errors: ``attempts: ...; status: ...`` (never the bad value itself)."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False)[:limit]:
        where = ".".join(str(p) for p in error["loc"]) or "request"
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}"[:200])
    more = exc.error_count() - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _kind(data: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(data), "null" if data is None else type(data).__name__
    )
