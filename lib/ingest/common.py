"""Helpers every results parser shares: model arguments, precisions, metric keys, dates."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from lib.core.bounded import brief
from lib.core.records import Score, as_float, default_higher_is_better


class IngestError(ValueError):
    """A file that cannot be read as results; the message is the ingest report's reason."""


_PRECISIONS = {
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
    "torch.float16": "float16",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "torch.bfloat16": "bfloat16",
    "float32": "float32",
    "fp32": "float32",
    "float": "float32",
    "torch.float32": "float32",
    "8bit": "8bit",
    "int8": "8bit",
    "4bit": "4bit",
    "int4": "4bit",
    "gptq": "GPTQ",
}
_WINDOWS_PATH_RE = re.compile(r"^[A-Za-z]:[\\/]")
_STAMP_RE = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2})[-:](\d{2})[-:](\d{2})(\.\d+)?")
# Keys inside a task's results that are not metrics.
_NOT_METRICS = frozenset({"alias", "name", "samples", "sample_len", "sample_count", " "})
_new_score = tuple.__new__


def parse_model_args(value: Any) -> dict[str, str]:
    """``model_args`` as a dict, whether lm-eval stored a dict or a ``k=v,k2=v2`` string."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if v is not None}
    if not isinstance(value, str):
        return {}
    args: dict[str, str] = {}
    for part in value.split(","):
        key, sep, val = part.partition("=")
        if sep and key.strip():
            args[key.strip()] = val.strip()
    return args


def model_args_text(value: Any) -> str:
    """``model_args`` as the one-line ``k=v,...`` text the model page shows."""
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value or "")


def normalize_precision(*candidates: Any) -> str:
    """The leaderboard's precision name from the first recognisable candidate ('' when unknown)."""
    for candidate in candidates:
        text = str(candidate or "").strip().lower()
        if text in _PRECISIONS:
            return _PRECISIONS[text]
        if "load_in_4bit" in text:
            return "4bit"
        if "load_in_8bit" in text:
            return "8bit"
    return ""


def model_from_pretrained(pretrained: str) -> str:
    """A model id from ``pretrained``: a Hub id as is; a local folder as its whole path, never only its
    last folder name (``/data/a/13B`` and ``/data/b/13B`` are two models)."""
    text = pretrained.strip()
    if is_local_path(text):
        return text.replace("\\", "/").rstrip("/") or "/"
    return text


def date_from_path(path: str) -> float | None:
    """The UNIX time in a ``results_2024-01-22T08-48-36.123456.json`` file name, if any."""
    match = _STAMP_RE.search(PurePosixPath(path).name)
    if not match:
        return None
    day, hour, minute, second, fraction = match.groups()
    try:
        moment = datetime.fromisoformat(f"{day}T{hour}:{minute}:{second}").replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment.timestamp() + (float(fraction) if fraction else 0.0)


def as_int(value: Any) -> int | None:
    """An integer from an int or a whole finite number (None otherwise); the range is checked in tables."""
    if type(value) is int:
        return value
    number = as_float(value)
    return int(number) if number is not None else None


# What a metric key of a task's results block says, by key: (metric, filter, its stderr's key, the
# stderr's key without a filter to try next or None), or None for a key that is no metric. Keys repeat
# across the files of a store, so each is split once; the memo holds at most _MAX_KEYS keys per style
# (a hostile store's random keys are split each time, never kept).
_KeyParts = tuple[str, str, str, "str | None"]
_KEY_PARTS: tuple[dict[str, _KeyParts | None], dict[str, _KeyParts | None]] = ({}, {})
_MAX_KEYS = 4096
_UNSEEN: Any = object()


def _key_parts(key: Any, with_filters: bool) -> _KeyParts | None:
    name, _, filt = key.partition(",") if type(key) is str else str(key).partition(",")
    if name in _NOT_METRICS or name.endswith("_stderr") or not name:
        return None
    if not with_filters:
        return name, "none", f"{name}_stderr", None
    filt = filt or "none"
    # a 0.3-style stderr key in a file read as 0.4 is taken for the unfiltered metric
    return name, filt, f"{name}_stderr,{filt}", f"{name}_stderr" if filt == "none" else None


def task_scores(
    task: str,
    metrics: Any,
    n_shot: int | None,
    directions: dict[str, Any] | None,
    n_samples: int | None,
    with_filters: bool,
    warnings: list[str],
    version: str | None = None,
) -> list[Score]:
    """The scores of one task's results block.

    ``with_filters`` says the keys look like ``acc,none`` (lm-eval 0.4); older files use ``acc``.
    A metric whose value is not a finite number is skipped and named in ``warnings``; so is a
    ``higher_is_better`` block of the task that is not an object (the metric names then decide).
    """
    if not isinstance(metrics, dict):
        warnings.append(f"{task}: results are not an object")
        return []
    if directions is not None and not isinstance(directions, dict):
        warnings.append(f"{task}: higher_is_better is {brief(directions)}, not an object; ignored")
        directions = None
    scores: list[Score] = []
    get = metrics.get
    known = _KEY_PARTS[with_filters]
    for key, raw_value in metrics.items():
        parts = known.get(key, _UNSEEN) if type(key) is str else _UNSEEN
        if parts is _UNSEEN:
            parts = _key_parts(key, with_filters)
            if type(key) is str and len(known) < _MAX_KEYS:
                known[key] = parts
        if parts is None:
            continue
        name, filt, stderr_key, plain_stderr_key = parts
        # the common case first: a finite float (x - x is 0.0 only for finite x), else as_float's checks
        value = (
            raw_value if type(raw_value) is float and raw_value - raw_value == 0.0 else as_float(raw_value)
        )
        if value is None:
            if not isinstance(raw_value, (dict, list)):
                warnings.append(f"{task}: metric {name} is {brief(raw_value)}, not a number; skipped")
            continue
        raw_stderr = get(stderr_key)
        if raw_stderr is None and plain_stderr_key is not None:
            raw_stderr = get(plain_stderr_key)
        stderr = (
            raw_stderr
            if type(raw_stderr) is float and raw_stderr - raw_stderr == 0.0
            else as_float(raw_stderr)
        )
        if stderr is not None and stderr < 0:
            stderr = None
        hib = directions.get(name) if directions else None
        # tuple.__new__ is the named tuple's own constructor without its Python-level __new__
        scores.append(
            _new_score(
                Score,
                (
                    task,
                    name,
                    filt,
                    value,
                    stderr,
                    n_shot,
                    hib if type(hib) is bool else default_higher_is_better(name),
                    n_samples,
                    version,
                ),
            )
        )
    return scores


def task_versions(block: Any) -> dict[str, str]:
    """lm-eval's ``versions`` block as text per task (``0``, ``1.0``, ``Yaml``); {} when absent."""
    if not isinstance(block, dict):
        return {}
    versions: dict[str, str] = {}
    for task, v in block.items():
        if type(v) is str:
            text = v
        elif isinstance(v, (str, int, float)):
            text = str(v)
        else:
            continue
        if text:
            versions[task if type(task) is str else str(task)] = text
    return versions


# ----------------------------------------------------------------------------- model identity and setting
# The rule of docs/formats.md "What makes a row": model arguments that name the model (identity), that
# only place it on hardware or reach a server (placement: never split rows), and every other argument,
# which may change scores and so splits rows (kept in ``Evaluation.setting``). Unknown arguments split:
# mixing two settings silently is worse than showing two rows.
IDENTITY_ARGS = frozenset(
    {"pretrained", "model", "revision", "dtype", "peft", "delta", "load_in_4bit", "load_in_8bit"}
)
PLACEMENT_ARGS = frozenset(
    {
        "parallelize",
        "device_map",
        "device_map_option",
        "batch_size",
        "max_batch_size",
        "max_memory_per_gpu",
        "max_cpu_memory",
        "device",
        "offload_folder",
        "trust_remote_code",
        "cache_dir",
        "token",
        "base_url",
        "num_concurrent",
        "max_retries",
        "timeout",
        "tensor_parallel_size",
        "data_parallel_size",
        "gpu_memory_utilization",
        "swap_space",
        "seed",
    }
)
# Backends that run the weights themselves: the model is the weights, whichever of these ran them.
# Any other backend (an API or a server: local-completions, openai-chat-completions, ...) is part of
# the setting, because the server decides prompt formatting and decoding.
WEIGHT_BACKENDS = frozenset(
    {"", "hf", "hf-auto", "hf-causal", "hf-causal-experimental", "huggingface", "gpt2", "vllm", "sglang"}
)


def is_local_path(text: str) -> bool:
    """A model given as a folder on some machine rather than a Hub id."""
    return text.startswith(("/", "./", "../", "~", ".\\", "..\\")) or bool(_WINDOWS_PATH_RE.match(text))


def model_key(model: str) -> str:
    """What makes two model names one model: Hub ids are case-insensitive, local paths are not."""
    return model if is_local_path(model) else model.lower()


def model_identity(args: dict[str, str]) -> tuple[str, str, str]:
    """(model, base model, weight type) from model arguments; ('', '', '') when they name no model.

    ``pretrained`` names the weights (``model`` for API and server backends). An adapter
    (``peft=...``) or delta weights (``delta=...``) are their own model, with ``pretrained`` as the base.
    """
    base = (args.get("pretrained") or args.get("model") or "").strip()
    for key, weight_type in (("peft", "Adapter"), ("delta", "Delta")):
        own = (args.get(key) or "").strip()
        if own:
            return model_from_pretrained(own), model_from_pretrained(base) if base else "", weight_type
    return (model_from_pretrained(base) if base else ""), "", ""


def setting_text(args: dict[str, str], backend: str, precision: str) -> str:
    """The arguments that may change scores, as sorted ``k=v`` text ('' for a plain run)."""
    parts = {
        key.lower(): value
        for key, value in args.items()
        if key.lower() not in IDENTITY_ARGS and key.lower() not in PLACEMENT_ARGS
    }
    if not precision and args.get("dtype"):
        parts["dtype"] = args["dtype"]  # a dtype we cannot name as a precision (auto): keep it apart
    if backend.lower() not in WEIGHT_BACKENDS:
        parts["backend"] = backend
    return ",".join(f"{key}={parts[key]}" for key in sorted(parts))
