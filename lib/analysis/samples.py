"""Per-sample predictions: lm-eval's ``samples_<task>_<timestamp>.jsonl`` files beside a results file.

``lm_eval --log_samples`` writes one JSON line per (document, filter) next to ``results_<timestamp>.json``
with ``doc_id``, ``doc``, ``target``, ``arguments``, ``resps``, ``filtered_resps``, ``filter``,
``metrics`` (the metric names) and each metric's value (``"acc": 1.0``). This module finds those files
through the results store (``local_path`` when the store has a folder, else its listing and
``read_bytes``), reads them into a tidy frame and filters it by task and correctness. It never writes,
never renders text, and never builds a path from a model id.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from lib.stores.base import FileStore, StoreError

log = logging.getLogger(__name__)
_STAMP_RE = re.compile(r"^results_(?P<stamp>.+)\.json$")
MAX_SAMPLE_BYTES = 200_000_000  # a samples file larger than this is skipped, not read into memory
SAMPLE_COLUMNS = ("task", "doc_id", "filter", "metric", "value", "correct", "target", "response", "prompt")


@dataclass(frozen=True)
class SamplesFile:
    """One samples file of a results file: its task and its path in the results store."""

    task: str
    path: str


def results_stamp(results_path: str) -> str | None:
    """The timestamp of ``results_<stamp>.json`` (None for another name)."""
    match = _STAMP_RE.match(PurePosixPath(results_path).name)
    return match["stamp"] if match else None


def task_from_name(name: str, stamp: str) -> str | None:
    """The task of ``samples_<task>_<stamp>.jsonl`` (None when the name does not fit)."""
    prefix, suffix = "samples_", f"_{stamp}.jsonl"
    if not (name.startswith(prefix) and name.endswith(suffix)) or len(name) <= len(prefix) + len(suffix):
        return None
    return name[len(prefix) : -len(suffix)]


def find_samples(store: FileStore, results_path: str) -> list[SamplesFile]:
    """The samples files written by the same run as ``results_path`` (same folder, same timestamp)."""
    stamp = results_stamp(results_path)
    if stamp is None:
        return []
    folder = PurePosixPath(results_path).parent
    names = _names_beside(store, results_path, folder)
    found = []
    for name in sorted(names):
        task = task_from_name(name, stamp)
        if task is not None:
            path = name if str(folder) == "." else f"{folder}/{name}"
            found.append(SamplesFile(task, path))
    return found


def _names_beside(store: FileStore, results_path: str, folder: PurePosixPath) -> list[str]:
    local = store.local_path(results_path)
    if local is not None:
        parent = Path(local).parent
        return [p.name for p in parent.glob("samples_*.jsonl") if p.is_file()] if parent.is_dir() else []
    try:
        files = store.list_files((".jsonl",))
    except StoreError as exc:
        log.warning("cannot list samples files: %s", exc)
        return []
    return [PurePosixPath(f.path).name for f in files if PurePosixPath(f.path).parent == folder]


def read_samples(store: FileStore, files: list[SamplesFile], tasks: list[str] | None = None) -> pd.DataFrame:
    """One row per (task, document, filter, metric) of the given files; unreadable lines are skipped.

    Columns: task, doc_id, filter, metric, value (float; a list of booleans becomes its mean), correct
    (value >= 1 for 0/1 metrics; NaN when the metric is not a 0/1 score), target, response, prompt.
    """
    rows: list[dict[str, Any]] = []
    for file in files:
        if tasks is not None and file.task not in tasks:
            continue
        try:
            data = store.read_bytes(file.path)
        except (OSError, StoreError) as exc:
            log.warning("cannot read samples file %s: %s", file.path, exc)
            continue
        if len(data) > MAX_SAMPLE_BYTES:
            log.warning("samples file %s is too large to browse (%d bytes)", file.path, len(data))
            continue
        rows.extend(parse_sample_lines(file.task, data))
    frame = pd.DataFrame(rows, columns=list(SAMPLE_COLUMNS))
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce")
    return frame


def parse_sample_lines(task: str, data: bytes) -> list[dict[str, Any]]:
    """The rows of one samples file's bytes (see ``read_samples``)."""
    rows = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        try:
            sample = json.loads(line)
        except ValueError:
            continue
        if isinstance(sample, dict):
            rows.extend(_sample_rows(task, sample))
    return rows


def _sample_rows(task: str, sample: dict[str, Any]) -> list[dict[str, Any]]:
    listed = sample.get("metrics")
    metrics: list[Any] = listed if isinstance(listed, list) else []
    common = {
        "task": task,
        "doc_id": sample.get("doc_id"),
        "filter": str(sample.get("filter") or "none"),
        "target": _text(sample.get("target")),
        "response": _text(sample.get("filtered_resps")),
        "prompt": _prompt(sample.get("arguments")),
    }
    rows = []
    for metric in metrics:
        value = metric_value(sample.get(metric))
        rows.append({**common, "metric": str(metric), "value": value, "correct": _correct(value)})
    return rows


def metric_value(value: Any) -> float | None:
    """A per-sample metric as a number: booleans as 0/1, a list (IFEval's instruction level) as its mean."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and np.isfinite(value):
        return float(value)
    if isinstance(value, list) and value and all(isinstance(v, (bool, int, float)) for v in value):
        return float(np.mean([float(v) for v in value]))
    return None


def _correct(value: float | None) -> float:
    if value is None or not 0.0 <= value <= 1.0:
        return np.nan
    return float(value >= 1.0)


def _text(value: Any, limit: int = 2000) -> str:
    """A response or target as plain text (lists of one item unwrapped), cut to ``limit`` characters."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def _prompt(arguments: Any) -> str:
    """The first request's first argument (the prompt) from lm-eval's sanitized ``arguments``."""
    if isinstance(arguments, dict):
        first = arguments.get("gen_args_0")
        if isinstance(first, dict):
            return _text(first.get("arg_0", ""))
    if isinstance(arguments, list) and arguments:
        first = arguments[0]
        return _text(first[0] if isinstance(first, list) and first else first)
    return ""


def filter_samples(
    frame: pd.DataFrame,
    tasks: list[str] | None = None,
    metric: str | None = None,
    correctness: str = "all",
    text: str = "",
) -> pd.DataFrame:
    """Rows of ``read_samples`` for the chosen tasks and metric; ``correctness`` is all, correct or wrong.

    ``text`` keeps rows whose prompt, target or response contains it (plain text, case-insensitive).
    """
    mask = pd.Series(True, index=frame.index)
    if tasks:
        mask &= frame["task"].isin(tasks)
    if metric:
        mask &= frame["metric"] == metric
    if correctness == "correct":
        mask &= frame["correct"] == 1.0
    elif correctness == "wrong":
        mask &= frame["correct"] == 0.0
    if text.strip():
        needle = text.strip().lower()
        hay = (
            frame["prompt"].str.lower()
            + "\n"
            + frame["target"].str.lower()
            + "\n"
            + frame["response"].str.lower()
        )
        mask &= hay.str.contains(needle, regex=False)
    return frame[mask]


def per_doc_values(frame: pd.DataFrame, task: str, metric: str, filt: str | None = None) -> pd.Series:
    """One value per document of a task and metric (the 'none' filter first), indexed by doc_id."""
    rows = frame[(frame["task"] == task) & (frame["metric"] == metric)]
    if filt is not None and (rows["filter"] == filt).any():
        rows = rows[rows["filter"] == filt]
    elif (rows["filter"] == "none").any():
        rows = rows[rows["filter"] == "none"]
    else:
        rows = rows[rows["filter"] == rows["filter"].min()] if len(rows) else rows
    rows = rows.dropna(subset=["value", "doc_id"]).drop_duplicates("doc_id")
    return rows.set_index("doc_id")["value"]
