"""From a request and the definition file to a job the runner can start, and from its output to a results file.

``EvaluationConfig`` gathers the definition's ``evaluation`` section (with command-line overrides);
``prepare_job`` checks a claimed request before anything heavy starts (precision, weight type, local
model roots, remote code) and raises ``JobRefused`` with the reason the request will show;
``results_document`` adds the request's identity to lm-eval's output so ingest ties them together.
This module never imports lm_eval, torch or transformers, and never writes to a store.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from lib.core.config import Definition
from lib.core.request import Request
from lib.core.schema import DEFAULT_TIMEOUT_S
from lib.stores.base import UnsafePathError, safe_relpath

DTYPES = {"float16": "float16", "bfloat16": "bfloat16", "float32": "float32"}
QUANTIZED = {"8bit": "bitsandbytes", "4bit": "bitsandbytes", "GPTQ": "gptqmodel"}
WEIGHT_TYPES = ("Original", "Delta", "Adapter")
LOCAL_PREFIX = "local/"


class JobRefused(ValueError):
    """The request cannot be evaluated; the message is the reason the FAILED request shows."""


@dataclass(frozen=True)
class TaskSpec:
    """One lm-eval task or group to run, with the n-shot of the definition (per subtask when given)."""

    name: str
    num_fewshot: int | None = None
    subtask_fewshot: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluationConfig:
    """How this evaluator runs jobs: the definition's ``evaluation`` section, paths made absolute."""

    tasks: tuple[TaskSpec, ...]
    include_paths: tuple[str, ...] = ()
    lm_eval_task_dirs: tuple[str, ...] = ()
    allow_local_models: bool = False
    local_model_roots: tuple[str, ...] = ()
    backend: str = "hf"
    model_args: dict[str, Any] = field(default_factory=dict)
    batch_size: str = "auto"
    max_batch_size: int | None = None
    device: str | None = None
    limit: float | None = None
    log_samples: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S
    launcher: tuple[str, ...] = ()

    @classmethod
    def from_definition(cls, definition: Definition, **overrides: Any) -> EvaluationConfig:
        """Read ``definition.evaluation`` (relative paths against the definition's folder)."""
        section = definition.evaluation
        base = definition.path.parent
        config = cls(
            tasks=tasks_of(definition),
            include_paths=_paths(section.tasks_include_path, base),
            lm_eval_task_dirs=tuple(section.lm_eval_task_dirs),
            allow_local_models=section.allow_local_models,
            local_model_roots=_paths(section.local_model_roots, base),
            backend=section.model,
            model_args=dict(section.model_args),
            batch_size=str(section.batch_size),
            max_batch_size=section.max_batch_size,
            device=section.device,
            limit=section.limit,
            log_samples=section.log_samples,
            timeout_s=section.timeout_s,
            launcher=tuple(section.launcher),
        )
        overrides = {k: v for k, v in overrides.items() if v is not None}
        return replace(config, **overrides) if overrides else config


@dataclass(frozen=True)
class JobSpec:
    """Everything the child process needs, written to it as JSON (see ``evaluator.harness``)."""

    request_path: str
    model_name: str
    backend: str
    model_args: dict[str, Any]
    tasks: tuple[TaskSpec, ...]
    include_paths: tuple[str, ...]
    lm_eval_task_dirs: tuple[str, ...]
    batch_size: str
    max_batch_size: int | None
    device: str | None
    apply_chat_template: bool
    limit: float | None
    log_samples: bool
    quantization: str | None = None
    remote_check: str | None = None  # a Hub repo whose config.json the child checks for remote code
    download: dict[str, str] | None = None  # {"arg": "peft", "repo": ..., "revision": ...}

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def tasks_of(definition: Definition) -> tuple[TaskSpec, ...]:
    """The lm-eval tasks the definition's benchmarks need, each once, with their n-shot."""
    specs: dict[str, TaskSpec] = {}
    for bench in definition.benchmarks:
        sub = {c.task: c.num_fewshot for c in bench.components if c.task != bench.task}
        known = specs.get(bench.task)
        merged = dict(known.subtask_fewshot) if known else {}
        merged.update({k: v for k, v in sub.items() if v is not None})
        shots = bench.num_fewshot if bench.num_fewshot is not None else (known.num_fewshot if known else None)
        specs[bench.task] = TaskSpec(bench.task, shots, merged)
    return tuple(specs.values())


def result_folder(model: str) -> str:
    """lm-eval's folder name for a model ('/' -> '__'), checked as a safe store path."""
    try:
        return safe_relpath(model.replace("/", "__"))
    except UnsafePathError as exc:
        raise JobRefused(f"model id {model!r} cannot name a results folder: {exc}") from exc


def prepare_job(request: Request, config: EvaluationConfig) -> JobSpec:
    """A JobSpec for a claimed request; JobRefused says why it cannot run."""
    result_folder(request.model)
    quantization = _check_precision(request.precision)
    if request.weight_type not in WEIGHT_TYPES:
        raise JobRefused(f"unknown weight type {request.weight_type!r} (expected one of {WEIGHT_TYPES})")
    if request.weight_type != "Original" and not request.base_model:
        raise JobRefused(f"weight type {request.weight_type} needs a base model")
    model_args: dict[str, Any] = dict(config.model_args)
    model_args["trust_remote_code"] = False
    if request.precision in DTYPES:
        model_args["dtype"] = DTYPES[request.precision]
    remote_check = download = None
    if _is_local(request):
        folder = local_model_folder(request, config)
        location = str(folder)
    else:
        _check_hub_id(request.model)
        location = request.model
        remote_check = request.model
    if request.weight_type == "Original":
        model_args["pretrained"] = location
        if not _is_local(request):
            model_args["revision"] = request.revision
    else:
        arg = "peft" if request.weight_type == "Adapter" else "delta"
        model_args["pretrained"] = request.base_model
        if _is_local(request):
            model_args[arg] = location
        else:
            download = {"arg": arg, "repo": request.model, "revision": request.revision}
    return JobSpec(
        request_path=request.path,
        model_name=request.model,
        backend=config.backend,
        model_args=model_args,
        tasks=config.tasks,
        include_paths=config.include_paths,
        lm_eval_task_dirs=config.lm_eval_task_dirs,
        batch_size=config.batch_size,
        max_batch_size=config.max_batch_size,
        device=config.device,
        apply_chat_template=request.use_chat_template,
        limit=config.limit,
        log_samples=config.log_samples,
        quantization=quantization,
        remote_check=remote_check,
        download=download,
    )


def local_model_folder(request: Request, config: EvaluationConfig) -> Path:
    """The request's model folder after every local check; JobRefused names the one that failed."""
    if not config.allow_local_models:
        raise JobRefused("local model folders are not allowed by this leaderboard's definition")
    raw_path = request.model_path
    if not raw_path:
        raise JobRefused(f"request for {request.model} has no model_path")
    folder = Path(raw_path).expanduser()
    if not folder.is_absolute():
        raise JobRefused(f"model_path {raw_path!r} is not an absolute path")
    resolved = folder.resolve()
    roots = [Path(r).expanduser().resolve() for r in config.local_model_roots]
    if not any(resolved == root or root in resolved.parents for root in roots):
        shown = ", ".join(str(r) for r in roots) or "none configured"
        raise JobRefused(f"model_path {raw_path} is outside the allowed local model roots ({shown})")
    if not resolved.is_dir():
        raise JobRefused(f"model folder {raw_path} does not exist")
    check_no_remote_code(resolved)
    return resolved


def check_no_remote_code(folder: Path) -> None:
    """Refuse a model folder whose config needs code from the repository (we never trust remote code)."""
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise JobRefused(f"model folder {folder} has no config.json")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise JobRefused(f"model config {config_file} cannot be read: {exc}") from exc
    if not isinstance(config, dict):
        raise JobRefused(f"model config {config_file} is not a JSON object")
    if config.get("auto_map"):
        raise JobRefused(
            "model needs remote code (config.json has auto_map); this evaluator never enables trust_remote_code"
        )


def results_document(lm_eval_output: dict[str, Any], request: Request) -> dict[str, Any]:
    """lm-eval's results JSON plus the ``request`` block (path, model, revision, precision, ...)."""
    document = dict(lm_eval_output)
    document["model_name"] = request.model
    document["model_name_sanitized"] = request.model.replace("/", "__")
    document["request"] = {
        "path": request.path,
        "model": request.model,
        "revision": request.revision,
        "precision": request.precision,
        "weight_type": request.weight_type,
        "base_model": request.base_model,
        "use_chat_template": request.use_chat_template,
        "model_type": request.model_type,
        "sender": request.sender,
    }
    for key in ("model_path", "job_id"):
        if getattr(request, key):
            document["request"][key] = getattr(request, key)
    return document


def _check_precision(precision: str) -> str | None:
    if precision in DTYPES:
        return None
    package = QUANTIZED.get(precision)
    if package is None:
        known = ", ".join([*DTYPES, *QUANTIZED])
        raise JobRefused(f"unknown precision {precision!r} (expected one of {known})")
    candidates = ("gptqmodel", "auto_gptq") if precision == "GPTQ" else (package,)
    if not any(importlib.util.find_spec(name) for name in candidates):
        raise JobRefused(f"precision {precision} needs {package}, which is not installed on this evaluator")
    return precision


def _check_hub_id(model: str) -> None:
    org, sep, name = model.partition("/")
    try:
        safe_relpath(org, name) if sep else safe_relpath(model)
    except UnsafePathError as exc:
        raise JobRefused(f"model id {model!r} is not a valid Hub id: {exc}") from exc
    if model.startswith(LOCAL_PREFIX):
        raise JobRefused(f"local model {model!r} has no model_path")


def _is_local(request: Request) -> bool:
    return request.is_local


def _paths(value: Any, base: Path) -> tuple[str, ...]:
    out = []
    for item in _as_list(value):
        path = Path(str(item)).expanduser()
        out.append(str(path if path.is_absolute() else (base / path).resolve()))
    return tuple(out)


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
