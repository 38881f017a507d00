"""Request files: the evaluation queue kept in the requests store, in the leaderboard template's layout.

A request lives at ``<org>/<model>_eval_request_<private>_<precision>_<weight_type>.json`` and holds the
template's fields plus ours (``status_history``, ``attempts``, ``error``, ``job_*``). This module reads
and writes those files through a ``FileStore``; every change of status is a compare-and-swap on the
file's version, so two writers can never both win. It does no validation of submissions (see
``lib.queue.submissions``) and runs no evaluation (see ``evaluator``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from lib.core.records import IngestProblem, Request, Status, as_float
from lib.stores.base import FileStore, safe_relpath

log = logging.getLogger(__name__)


class RequestConflict(RuntimeError):
    """The request file changed under us (another writer won the race)."""


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


def parse_request(path: str, data: Any) -> Request:
    """A Request from a decoded JSON object; ValueError says what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("a request file must hold a JSON object")
    model = data.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ValueError("missing 'model'")
    status = Status.parse(data.get("status", "PENDING"))
    params = as_float(data.get("params"))
    likes = as_float(data.get("likes"))
    architectures = data.get("architectures") or ()
    if isinstance(architectures, str):
        architectures = (architectures,)
    step = data.get("step")
    return Request(
        path=path,
        model=model.strip(),
        revision=str(data.get("revision") or "main"),
        precision=str(data.get("precision") or "").strip(),
        weight_type=str(data.get("weight_type") or "Original"),
        status=status,
        submitted_time=str(data.get("submitted_time") or ""),
        base_model=str(data.get("base_model") or ""),
        model_type=str(data.get("model_type") or ""),
        private=bool(data.get("private", False)),
        params=params,
        license=str(data.get("license") or ""),
        likes=int(likes) if likes is not None else None,
        architectures=tuple(str(a) for a in architectures),
        use_chat_template=bool(data.get("use_chat_template", False)),
        sender=str(data.get("sender") or ""),
        error=str(data.get("error") or ""),
        flagged=str(data.get("flagged") or ""),
        training=str(data.get("training") or ""),
        step=int(step) if isinstance(step, int) and not isinstance(step, bool) else None,
        tokens=as_float(data.get("tokens")),
        raw=dict(data),
    )


def read_requests(store: FileStore) -> tuple[list[Request], list[IngestProblem]]:
    """Every request in the store, and a problem row for each file that cannot be read."""
    requests: list[Request] = []
    problems: list[IngestProblem] = []
    for info in store.list_files((".json",)):
        try:
            data = json.loads(store.read_bytes(info.path))
            requests.append(parse_request(info.path, data))
        except FileNotFoundError:
            continue  # removed while we listed
        except (ValueError, UnicodeDecodeError) as exc:
            problems.append(IngestProblem(info.path, f"request file: {exc}"))
    return requests, problems


def read_request(store: FileStore, path: str) -> tuple[Request, str]:
    """One request and the file version it was read at (for a later compare-and-swap)."""
    version = _version(store, path)
    data = json.loads(store.read_bytes(path))
    return parse_request(path, data), version


def encode_request(data: dict[str, Any]) -> bytes:
    """The bytes written for a request file: indented JSON, keys in a stable order."""
    return (json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")


def create_request(store: FileStore, data: dict[str, Any], path: str | None = None) -> tuple[bool, str]:
    """Write a new request file; never overwrites. Returns (created, path).

    ``path`` defaults to the template's ``request_path``; a caller may give another safe path (a second
    revision of the same model and precision gets the sha appended, see ``lib.queue.submissions``).
    """
    if path is None:
        private = bool(data.get("private", False))
        path = request_path(data["model"], private, data["precision"], data["weight_type"])
    path = safe_relpath(path)
    data = dict(data)
    now = data.setdefault("submitted_time", utc_now())
    data.setdefault("status_history", [{"status": data.get("status", "PENDING"), "time": now}])
    data.setdefault("attempts", 0)
    created = store.create_exclusive(path, encode_request(data), message=f"Add request for {data['model']}")
    return created, path


def transition(
    store: FileStore,
    path: str,
    new_status: Status,
    expected: tuple[Status, ...] | None = None,
    now: str | None = None,
    require: dict[str, Any] | None = None,
    **fields: Any,
) -> Request:
    """Move a request to ``new_status`` (and set ``fields``) only if nobody changed it meanwhile.

    ``expected`` lists the statuses the request may be in; anything else raises RequestConflict, as
    does a concurrent change of the file, or a field that differs from ``require`` (``{"job_id": ...}``
    lets a worker change only the job it owns). Returns the updated request.
    """
    request, version = read_request(store, path)
    if expected is not None and request.status not in expected:
        raise RequestConflict(
            f"{path} is {request.status.value}, expected one of {[s.value for s in expected]}"
        )
    _check_required(request, require)
    data = dict(request.raw)
    stamp = now or utc_now()
    data["status"] = new_status.value
    history = list(data.get("status_history") or [])
    entry: dict[str, Any] = {"status": new_status.value, "time": stamp}
    if fields.get("error"):
        entry["error"] = str(fields["error"])[:500]
    history.append(entry)
    data["status_history"] = history
    for key, value in fields.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    if not store.replace_if_unchanged(
        path, encode_request(data), version, message=f"{new_status.value}: {path}"
    ):
        raise RequestConflict(f"{path} changed while we updated it")
    return replace(parse_request(path, data))


def update_request(
    store: FileStore,
    path: str,
    expected: tuple[Status, ...],
    require: dict[str, Any] | None = None,
    **fields: Any,
) -> Request:
    """Set ``fields`` of a request without changing its status (a heartbeat, progress), by compare-and-swap.

    Raises RequestConflict when the status is not in ``expected``, a ``require`` field differs, or the
    file changed meanwhile. A field set to None is removed. Returns the updated request.
    """
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
    if not store.replace_if_unchanged(path, encode_request(data), version, message=f"update: {path}"):
        raise RequestConflict(f"{path} changed while we updated it")
    return parse_request(path, data)


def _check_required(request: Request, require: dict[str, Any] | None) -> None:
    for key, value in (require or {}).items():
        if request.raw.get(key) != value:
            raise RequestConflict(f"{request.path}: {key} is {request.raw.get(key)!r}, expected {value!r}")


def _version(store: FileStore, path: str) -> str:
    getter = getattr(store, "version", None)
    if getter is None:
        raise TypeError(f"store {store.location} cannot tell file versions")
    version = getter(path)
    if version is None:
        raise FileNotFoundError(path)
    return version
