"""The leaderboard template's own loading path, reimplemented from its documented behaviour, as a peer.

The template (the Hugging Face "leaderboard" Space template, ``src/leaderboard/read_evals.py`` and
``src/populate.py``) loads its table like this, in one process, on every start:

1. ``os.walk`` the results folder; per folder, sort the ``results_*.json`` files by the date in the name;
2. ``json.load`` each file: ``config.model_name``, ``config.model_dtype``, ``config.model_sha``; per task of
   its task list, the mean of ``results[task][metric]`` times 100;
3. per result, ``glob`` the requests folder for ``<model>_eval_request_*.json``, ``json.load`` each match
   and keep the last one that is FINISHED at the same precision; read its model type, weight type,
   license, likes, parameters and date;
4. merge results of the same model and precision (a newer file's tasks win);
5. ``pandas.DataFrame.from_records`` of every result's dict, the average over the task list, sort by it
   descending, round to two decimals, drop rows with a missing benchmark.

Left out (each favours the template): the Hub call per model (``is_model_on_hub``) and the
architecture lookup. ``write_store`` writes a store in the template's layout that our parser reads as
``template`` files (``lib/ingest/template.py``), with one request per model. Run as a script it prints the
row count, so a whole-process time can be taken the same way as ``python -m lib rank``.
"""

from __future__ import annotations

import glob
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

N_TASKS = 6
# (task, metric) per benchmark, the shape of the template's `Tasks` enum.
TASKS = tuple((f"task_{i}", "acc_norm" if i % 2 else "acc") for i in range(N_TASKS))
# Models alternate between the template's two usual precisions (its demo requests are float16 and bfloat16).
PRECISIONS = ("float16", "bfloat16")


def write_store(folder: Path, n_models: int, seed: int = 0) -> tuple[Path, Path, Path]:
    """``folder/results/<org>/<model>/results_<date>.json``, ``folder/requests/<org>/<model>_eval_request_
    False_<precision>_Original.json`` (precisions alternate) and a definition with one benchmark per task; returns the three paths."""
    import yaml

    rng = np.random.default_rng(seed)
    results, requests = folder / "results", folder / "requests"
    for i in range(n_models):
        org, name = f"org{i % 97:02d}", f"model-{i:06d}"
        scores = rng.uniform(0.2, 0.9, size=N_TASKS)
        precision = PRECISIONS[i % len(PRECISIONS)]  # a precision filter then keeps half of the models
        doc = {
            "config": {
                "model_dtype": f"torch.{precision}",
                "model_name": f"{org}/{name}",
                "model_sha": f"{i:040x}",
            },
            "results": {
                task: {metric: float(v), f"{metric}_stderr": 0.01}
                for (task, metric), v in zip(TASKS, scores.tolist(), strict=True)
            },
        }
        target = results / org / name / "results_2024-05-01 10:00:00.000000.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(doc), encoding="utf-8")
        request = {
            "model": f"{org}/{name}", "base_model": "", "revision": "main", "private": False,
            "precision": precision, "weight_type": "Original", "status": "FINISHED",
            "submitted_time": "2024-05-01T09:00:00Z", "model_type": "🟢 : pretrained", "likes": int(i % 50),
            "params": float(1 + i % 70), "license": "apache-2.0",
        }  # fmt: skip
        target = requests / org / f"{name}_eval_request_False_{precision}_Original.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(request), encoding="utf-8")
    definition = {
        "title": "Template peer",
        "stores": {"results": str(results), "requests": str(requests)},
        "precisions": list(PRECISIONS),
        "benchmarks": [
            {"id": f"b{i}", "name": f"Task {i}", "task": task, "metric": metric, "baseline": 0.0}
            for i, (task, metric) in enumerate(TASKS)
        ],
    }
    path = folder / "definition.yaml"
    path.write_text(yaml.safe_dump(definition, sort_keys=False), encoding="utf-8")
    return results, requests, path


class _EvalResult:
    """The template's ``EvalResult``: one model at one precision, its scores and request metadata."""

    def __init__(self, path: str) -> None:
        with open(path) as fp:
            data = json.load(fp)
        config = data.get("config")
        self.precision = str(config.get("model_dtype", "")).split(".")[-1]
        self.full_model = config.get("model_name", "")
        org_and_model = self.full_model.split("/", 1)
        self.org, self.model = (None, org_and_model[0]) if len(org_and_model) == 1 else org_and_model
        self.eval_name = f"{self.full_model.replace('/', '_')}_{self.precision}"
        self.revision = config.get("model_sha", "")
        self.results: dict[str, float | None] = {}
        for task, metric in TASKS:
            accs = np.array([v.get(metric, None) for k, v in data["results"].items() if task == k])
            if accs.size == 0 or any(acc is None for acc in accs):
                continue
            self.results[task] = float(np.mean(accs)) * 100.0
        self.model_type = self.weight_type = self.license = self.date = ""
        self.likes = self.num_params = 0

    def update_with_request_file(self, requests_path: str) -> None:
        request_file = _request_file_for_model(requests_path, self.full_model, self.precision)
        try:
            with open(request_file) as f:
                request = json.load(f)
            self.model_type = request.get("model_type", "")
            self.weight_type = request.get("weight_type", "Original")
            self.license = request.get("license", "?")
            self.likes = request.get("likes", 0)
            self.num_params = request.get("params", 0)
            self.date = request.get("submitted_time", "")
        except Exception:  # noqa: BLE001 - the template prints and goes on
            pass

    def to_dict(self) -> dict[str, Any]:
        average = sum(v for v in self.results.values() if v is not None) / len(TASKS)
        row = {
            "eval_name": self.eval_name, "precision": self.precision, "model_type": self.model_type,
            "weight_type": self.weight_type, "model": self.full_model, "revision": self.revision,
            "average": average, "license": self.license, "likes": self.likes, "params": self.num_params,
            "date": self.date,
        }  # fmt: skip
        for task, _ in TASKS:
            row[task] = self.results.get(task)
        return row


def _request_file_for_model(requests_path: str, model_name: str, precision: str) -> str:
    """The template's ``get_request_file_for_model``: glob, read each candidate, keep the last match."""
    pattern = os.path.join(requests_path, f"{model_name}_eval_request_*.json")
    request_file = ""
    for tmp_request_file in sorted(glob.glob(pattern), reverse=True):
        with open(tmp_request_file) as f:
            req_content = json.load(f)
            if req_content["status"] in ["FINISHED"] and req_content["precision"] == precision.split(".")[-1]:
                request_file = tmp_request_file
    return request_file


def raw_eval_results(results_path: str, requests_path: str) -> list[_EvalResult]:
    """The template's ``get_raw_eval_results``."""
    paths = []
    for root, _, files in os.walk(results_path):
        if len(files) == 0 or any(not f.endswith(".json") for f in files):
            continue
        try:
            files.sort(key=lambda x: x.removesuffix(".json").removeprefix("results_")[:-7])
        except Exception:  # noqa: BLE001
            files = [files[-1]]
        paths += [os.path.join(root, f) for f in files]
    eval_results: dict[str, _EvalResult] = {}
    for path in paths:
        result = _EvalResult(path)
        result.update_with_request_file(requests_path)
        if result.eval_name in eval_results:
            eval_results[result.eval_name].results.update(
                {k: v for k, v in result.results.items() if v is not None}
            )
        else:
            eval_results[result.eval_name] = result
    return list(eval_results.values())


def leaderboard_df(results_path: str, requests_path: str) -> Any:
    """The template's ``get_leaderboard_df``: records to pandas, sorted by the average, complete rows only."""
    import pandas as pd

    records = [r.to_dict() for r in raw_eval_results(results_path, requests_path)]
    df = pd.DataFrame.from_records(records)
    df = df.sort_values(by=["average"], ascending=False)
    df = df.round(decimals=2)
    benchmark_cols = [task for task, _ in TASKS]
    return df[df[benchmark_cols].notna().all(axis=1)]


if __name__ == "__main__":  # python bench/template_peer.py RESULTS REQUESTS
    frame = leaderboard_df(sys.argv[1], sys.argv[2])
    print(len(frame))
