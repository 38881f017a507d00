"""The leaderboard template's own result files: ``config.model_name``/``model_sha``/``model_dtype``.

These come from older lm-eval runs reshaped by the template's back end: one metric per task,
keys without filter suffix, no shot counts.
"""

from __future__ import annotations

from typing import Any

from lib.core.records import Evaluation, Score
from lib.ingest.common import IngestError, date_from_path, normalize_precision, task_scores


def detect(data: dict[str, Any]) -> bool:
    config = data.get("config")
    return isinstance(data.get("results"), dict) and isinstance(config, dict) and "model_name" in config


def parse(path: str, data: dict[str, Any]) -> Evaluation:
    config = data["config"]
    model = str(config.get("model_name") or "").strip()
    if not model:
        raise IngestError("config.model_name is empty")
    warnings: list[str] = []
    scores: list[Score] = []
    for task, metrics in data["results"].items():
        scores.extend(task_scores(str(task), metrics, None, None, None, False, warnings))
    if not scores:
        raise IngestError("; ".join(["no numeric metric in any task", *warnings[:3]]))
    sha = str(config.get("model_sha") or "")
    return Evaluation(
        model=model,
        revision=sha or "main",
        precision=normalize_precision(config.get("model_dtype")),
        scores=tuple(scores),
        sha=sha,
        date=date_from_path(path),
        source_format="template",
        warnings=tuple(warnings),
        provenance={"config": config, "versions": data.get("versions")},
    )
