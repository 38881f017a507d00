"""lm-evaluation-harness v0.3 results JSON (``results``, ``versions``, ``config`` with a model_args string).

Metric keys have no filter suffix (``acc``, ``acc_stderr``, ``ppl``); the shot count is
``config.num_fewshot``; there is no direction block, so perplexity-like names are lower-is-better.
"""

from __future__ import annotations

from typing import Any

from lib.core.records import Evaluation, Score, as_float
from lib.ingest.common import (
    IngestError,
    as_int,
    date_from_path,
    model_args_text,
    model_identity,
    normalize_precision,
    parse_model_args,
    setting_text,
    task_scores,
    task_versions,
)


def detect(data: dict[str, Any]) -> bool:
    config = data.get("config")
    return (
        isinstance(data.get("results"), dict)
        and isinstance(config, dict)
        and "model_args" in config
        and "model_name" not in config
    )


def parse(path: str, data: dict[str, Any]) -> Evaluation:
    config = data["config"]
    args = parse_model_args(config.get("model_args"))
    model, base_model, adapter_type = model_identity(args)
    if not model:
        raise IngestError("config.model_args has no pretrained=<model> (nor model=, peft=)")
    shots = as_int(config.get("num_fewshot"))
    warnings: list[str] = []
    scores: list[Score] = []
    versions = task_versions(data.get("versions"))
    for task, metrics in data["results"].items():
        task = str(task)
        scores.extend(task_scores(task, metrics, shots, None, None, False, warnings, versions.get(task)))
    if not scores:
        raise IngestError("; ".join(["no numeric metric in any task", *warnings[:3]]))
    precision = normalize_precision(args.get("dtype"), config.get("model_dtype"))
    backend = str(config.get("model") or "").strip()
    return Evaluation(
        model=model,
        revision=args.get("revision", "main"),
        precision=precision,
        scores=tuple(scores),
        limit=as_float(config.get("limit")),
        date=date_from_path(path),
        model_args=model_args_text(config.get("model_args")),
        batch_size=str(config.get("batch_size") or ""),
        source_format="lm-eval 0.3",
        weight_type=adapter_type,
        base_model=base_model,
        backend=backend,
        setting=setting_text(args, backend, precision),
        warnings=tuple(warnings),
        provenance={"config": config, "versions": data.get("versions")},
    )
