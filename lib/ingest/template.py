"""The leaderboard template's own result files: lm-eval output with ``config.model_name`` added.

The template's back end writes lm-eval 0.3 output plus ``config.model_name``, ``model_sha`` and
``model_dtype``, keeps the run's ``limit`` and ``num_fewshot`` in ``config``, and names the file
``results_<datetime.now()>.json`` (a space in the name). Later back ends wrote lm-eval 0.4 output the
same way, with filtered metric keys and an ``n-shot`` block. ``config.model_name`` is what makes a file
the template's, whatever optional keys come with it: this parser runs before the lm-eval ones.
"""

from __future__ import annotations

from typing import Any

from lib.core.records import Evaluation, Score, as_float, as_mapping
from lib.ingest.common import (
    IngestError,
    as_int,
    date_from_path,
    model_args_text,
    normalize_precision,
    parse_model_args,
    setting_text,
    task_scores,
    task_versions,
)


def detect(data: dict[str, Any]) -> bool:
    config = data.get("config")
    return isinstance(data.get("results"), dict) and isinstance(config, dict) and "model_name" in config


def parse(path: str, data: dict[str, Any]) -> Evaluation:
    config = data["config"]
    model = str(config.get("model_name") or "").strip()
    if not model:
        raise IngestError("config.model_name is empty (the template names the model there)")
    n_shot_block = as_mapping(data.get("n-shot"))
    directions = as_mapping(data.get("higher_is_better"))
    fallback_shots = as_int(config.get("num_fewshot"))
    versions = task_versions(data.get("versions"))
    warnings: list[str] = []
    scores: list[Score] = []
    for task, metrics in data["results"].items():
        task = str(task)
        shots = as_int(n_shot_block.get(task))
        scores.extend(
            task_scores(
                task,
                metrics,
                shots if shots is not None else fallback_shots,
                directions.get(task) if isinstance(directions.get(task), dict) else None,
                None,
                True,  # keys with a filter suffix (0.4) and without one (0.3) both read
                warnings,
                versions.get(task),
            )
        )
    if not scores:
        raise IngestError("; ".join(["no numeric metric in any task", *warnings[:3]]))
    sha = str(config.get("model_sha") or "").strip()
    precision = normalize_precision(config.get("model_dtype"))
    backend = str(config.get("model") or "").strip()
    return Evaluation(
        model=model,
        revision=sha or str(config.get("model_revision") or "").strip() or "main",
        precision=precision,
        scores=tuple(scores),
        sha=sha,
        limit=as_float(config.get("limit")),
        lm_eval_version=str(data.get("lm_eval_version") or ""),
        git_hash=str(data.get("git_hash") or ""),
        date=as_float(data.get("date")) or date_from_path(path),
        model_args=model_args_text(config.get("model_args")),
        batch_size=str(config.get("batch_size") or ""),
        source_format="template",
        backend=backend,
        setting=setting_text(parse_model_args(config.get("model_args")), backend, precision),
        warnings=tuple(warnings),
        provenance={"config": config, "versions": data.get("versions")},
    )
