"""Builders of small result and request files for tests (lm-eval 0.4 layout, template request schema)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


def result_file(
    root: Path,
    model: str,
    scores: dict[str, dict[str, float]],
    *,
    revision: str = "main",
    dtype: str = "bfloat16",
    shots: dict[str, int] | int = 0,
    stderr: float | None = 0.01,
    date: float = 1_700_000_000.0,
    limit: float | None = None,
    stamp: str = "2026-01-01T00-00-00.000000",
    sha: str = "",
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``<root>/<model sanitized>/results_<stamp>.json`` and return its path.

    ``scores`` maps task -> {metric: value}; every metric gets ``stderr`` unless it is None.
    """
    results: dict[str, dict[str, Any]] = {}
    for task, metrics in scores.items():
        block: dict[str, Any] = {"alias": task}
        for metric, value in metrics.items():
            block[f"{metric},none"] = value
            block[f"{metric}_stderr,none"] = stderr if stderr is not None else "N/A"
        results[task] = block
    n_shot = {task: (shots if isinstance(shots, int) else shots.get(task, 0)) for task in scores}
    data = {
        "results": results,
        "n-shot": n_shot,
        "higher_is_better": {},
        "config": {
            "model": "hf",
            "model_args": {"pretrained": model, "revision": revision, "dtype": dtype},
            "model_sha": sha,
            "batch_size": "auto",
            "limit": limit,
        },
        "date": date,
        "lm_eval_version": "0.4.13",
        **(extra or {}),
    }
    path = root / model.replace("/", "__") / f"results_{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def request_file(root: Path, model: str, **fields: Any) -> Path:
    """Write a template-layout request file; ``fields`` override the defaults."""
    data = {
        "model": model,
        "base_model": "",
        "revision": "main",
        "precision": "bfloat16",
        "weight_type": "Original",
        "status": "FINISHED",
        "submitted_time": "2026-01-01T00:00:00Z",
        "model_type": "🟢 : pretrained",
        "likes": 0,
        "params": 7.0,
        "license": "apache-2.0",
        "private": False,
        **fields,
    }
    org, name = model.split("/", 1)
    path = root / org / f"{name}_eval_request_False_{data['precision']}_{data['weight_type']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def gpqa_store(root: Path, n: int, step: float) -> None:
    """``n`` models ``org/m<i>`` under ``root/results`` and ``root/requests`` (GPQA ``step * i``, ``i + 1``
    billion parameters), one unreadable results file beside them, every file aged (``age_files``)."""
    for i in range(n):
        result_file(root / "results", f"org/m{i}", {"leaderboard_gpqa": {"acc_norm": step * i}})
        request_file(root / "requests", f"org/m{i}", params=float(i + 1))
    (root / "results" / "broken.json").write_text("{not json")
    age_files(root)


def age_files(root: Path, seconds: float = 600) -> None:
    """Every JSON file below ``root`` last changed ``seconds`` ago: older than the persisted index's
    "racy clean" window, so an unchanged file is taken from the snapshot."""
    old = time.time() - seconds
    for path in root.rglob("*.json"):
        os.utime(path, (old, old))
