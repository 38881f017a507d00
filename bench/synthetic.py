"""Synthetic stores for the benchmark: lm-eval 0.4 result files, requests, a definition, direct indexes.

Everything is deterministic for a seed. Result files have the keys of ``demo/results`` (alias, metric and
stderr keys with ``,none``, n-shot, higher_is_better, n-samples, versions, config with a ``model_args``
dict, date); large indexes (100,000 evaluations, 200,000 checkpoints) are inserted straight into the
DuckDB tables of ``lib/index/sql/schema.sql`` through pyarrow, because writing that many files would only
measure the disk. This module writes only under the folders it is given; it never touches a real store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

from lib.core.config import Definition, load_definition
from lib.index import Index

# One metric family per task, in turn; multiple-choice tasks with acc_norm also report acc, as lm-eval does.
_METRICS = ("acc_norm", "acc", "exact_match")
_BASELINES = (0.25, 0.1, 0.0, 0.5, 0.2)
_SHOTS = (0, 5, 3, 0, 4)
_PRECISIONS = ("bfloat16", "float16", "float32", "8bit", "4bit")
_TYPES = ("🟢 : pretrained", "💬 : chat", "🔶 : fine-tuned", "🤝 : base merges and moerges")
_LICENSES = ("apache-2.0", "mit", "llama3", "other")
_EPOCH = 1_735_689_600.0  # 2025-01-01 UTC


@dataclass(frozen=True)
class SynthTask:
    """One synthetic task: its name, main metric, random baseline and n-shot."""

    name: str
    metric: str
    baseline: float
    n_shot: int

    @property
    def metrics(self) -> tuple[str, ...]:
        return (self.metric, "acc") if self.metric == "acc_norm" else (self.metric,)


def tasks(n_tasks: int = 20) -> tuple[SynthTask, ...]:
    """The synthetic tasks; task i is benchmark ``b{i:02d}`` of ``definition_data``."""
    return tuple(
        SynthTask(
            f"synth_task_{i:02d}", _METRICS[i % 3], _BASELINES[i % len(_BASELINES)], _SHOTS[i % len(_SHOTS)]
        )
        for i in range(n_tasks)
    )


def model_name(i: int) -> str:
    """The model of result file i: one leaderboard row per file (about 100 organisations)."""
    return f"org{i % 97:02d}/model-{i:06d}"


# ------------------------------------------------------------------------------------- definition
def definition_data(n_tasks: int, results: str, requests: str) -> dict[str, Any]:
    """A definition mapping with one benchmark per synthetic task."""
    return {
        "title": "Benchmark leaderboard",
        "stores": {"results": results, "requests": requests},
        "categories": [
            {"id": "pretrained", "symbol": "🟢"},
            {"id": "chat", "symbol": "💬"},
            {"id": "fine-tuned", "symbol": "🔶"},
            {"id": "merges", "symbol": "🤝"},
        ],
        "precisions": list(_PRECISIONS),
        "benchmarks": [
            {
                "id": f"b{i:02d}",
                "name": f"Task {i:02d}",
                "task": t.name,
                "metric": t.metric,
                "baseline": t.baseline,
                "num_fewshot": t.n_shot,
            }
            for i, t in enumerate(tasks(n_tasks))
        ],
    }


def write_definition(
    path: Path, n_tasks: int, results: Path | str = "", requests: Path | str = ""
) -> Definition:
    """Write the definition YAML to ``path`` and load it back (as the app will)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = definition_data(n_tasks, str(results), str(requests))
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_definition(path)


# ------------------------------------------------------------------------------------- result files
def result_document(i: int, rng: np.random.Generator, task_list: tuple[SynthTask, ...]) -> dict[str, Any]:
    """One lm-eval 0.4 results document for model ``model_name(i)``."""
    model = model_name(i)
    quality = float(rng.uniform(0.05, 0.95))
    noise = rng.normal(0, 0.05, size=2 * len(task_list)).tolist()
    results: dict[str, Any] = {}
    for k, t in enumerate(task_list):
        row: dict[str, Any] = {"alias": t.name}
        for j, metric in enumerate(t.metrics):
            p = min(1.0, max(0.0, t.baseline + (1 - t.baseline) * quality + noise[2 * k + j]))
            row[f"{metric},none"] = p
            row[f"{metric}_stderr,none"] = (max(p * (1 - p), 1e-4) / 1000) ** 0.5
        results[t.name] = row
    sha = rng.bytes(20).hex()
    precision = _PRECISIONS[i % len(_PRECISIONS)]
    return {
        "results": results,
        "group_subtasks": {t.name: [] for t in task_list},
        "versions": {t.name: 1.0 for t in task_list},
        "n-shot": {t.name: t.n_shot for t in task_list},
        "higher_is_better": {t.name: {m: True for m in t.metrics} for t in task_list},
        "n-samples": {t.name: {"original": 1000, "effective": 1000} for t in task_list},
        "config": {
            "model": "hf",
            "model_args": {"pretrained": model, "revision": sha, "dtype": precision},
            "model_num_parameters": (1 + i % 140) * 10**9,
            "model_dtype": f"torch.{precision}",
            "model_revision": sha,
            "model_sha": sha,
            "batch_size": "auto",
            "batch_sizes": [8],
            "device": "cuda:0",
            "limit": None,
            "bootstrap_iters": 100000,
            "random_seed": 0,
        },
        "git_hash": "8c1e47d",
        "date": _EPOCH + i * 600.0,
        "transformers_version": "4.51.0",
        "lm_eval_version": "0.4.13",
        "model_source": "hf",
        "model_name": model,
        "model_name_sanitized": model.replace("/", "__"),
        "chat_template": None,
        "chat_template_sha": None,
        "total_evaluation_time_seconds": "1755.49",
    }


def results_path(i: int) -> str:
    """The store path of result file i, laid out as the Open LLM Leaderboard lays them out."""
    stamp = datetime.fromtimestamp(_EPOCH + i * 600.0, UTC).strftime("%Y-%m-%dT%H-%M-%S.%f")
    return f"{model_name(i).replace('/', '__')}/results_{stamp}.json"


def write_results(folder: Path, start: int, count: int, n_tasks: int = 20, seed: int = 0) -> list[Path]:
    """Write result files ``start`` .. ``start + count - 1`` under ``folder``; returns their paths."""
    task_list = tasks(n_tasks)
    rng = np.random.default_rng((seed, start))
    written = []
    for i in range(start, start + count):
        target = folder / results_path(i)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Compact JSON: json.dumps with indent runs the pure-Python encoder (7x slower to write);
        # parsing cost is the same either way.
        target.write_text(json.dumps(result_document(i, rng, task_list)), encoding="utf-8")
        written.append(target)
    return written


def write_requests(folder: Path, count: int) -> None:
    """One FINISHED request file per model 0 .. count - 1 (type, size, license for the page's filters)."""
    for i in range(count):
        model = model_name(i)
        org, name = model.split("/")
        precision = _PRECISIONS[i % len(_PRECISIONS)]
        doc = {
            "model": model,
            "base_model": "",
            "revision": "main",
            "precision": precision,
            "weight_type": "Original",
            "status": "FINISHED",
            "submitted_time": datetime.fromtimestamp(_EPOCH + i * 600.0, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "model_type": _TYPES[i % len(_TYPES)],
            "likes": i % 300,
            "params": float(1 + i % 140),
            "license": _LICENSES[i % len(_LICENSES)],
            "private": False,
            "architectures": ["LlamaForCausalLM"],
            "use_chat_template": False,
            "sender": "bench",
        }
        target = folder / org / f"{name}_eval_request_False_{precision}_Original.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(doc), encoding="utf-8")


# ------------------------------------------------------------------------------------- direct indexes
def empty_index(definition: Definition, folder: Path) -> Index:
    """An index over two empty local stores, loaded once so that it is ready to use."""
    (folder / "results").mkdir(parents=True, exist_ok=True)
    (folder / "requests").mkdir(parents=True, exist_ok=True)
    index = Index(definition, str(folder / "results"), str(folder / "requests"))
    index.refresh()
    return index


def _insert(index: Index, evaluations: pa.Table, scores: pa.Table) -> None:
    """Append rows to the index's tables (the column order of lib/index/sql/schema.sql, ids assigned by the index)."""
    index.insert_tables(evaluations, scores)


def _evaluations_table(
    models: np.ndarray, revisions: np.ndarray, dates: np.ndarray, training: np.ndarray | None = None,
    steps: np.ndarray | None = None, tokens: np.ndarray | None = None,
) -> pa.Table:  # fmt: skip
    n = len(models)
    eval_ids = np.char.add(np.char.add(models.astype(str), "/"), revisions.astype(str))
    empty = pa.array([""] * n, pa.string())
    none_f = pa.nulls(n, pa.float64())
    columns = {
        "eval_id": pa.array(eval_ids, pa.string()),
        "model": pa.array(models, pa.string()),
        "revision": pa.array(revisions, pa.string()),
        "sha": pa.array(revisions, pa.string()) if training is None else empty,
        "precision": pa.array(np.array(_PRECISIONS)[np.arange(n) % len(_PRECISIONS)], pa.string()),
        "weight_type": empty,
        "chat_template": pa.array(np.zeros(n, bool)),
        "limit_n": none_f,
        "lm_eval_version": pa.array(["0.4.13"] * n, pa.string()),
        "git_hash": empty,
        "date": pa.array(dates, pa.float64()),
        "duration_s": none_f,
        "model_args": empty,
        "batch_size": empty,
        "source_format": pa.array(["lm-eval 0.4"] * n, pa.string()),
        "training": pa.array(training, pa.string()) if training is not None else empty,
        "step": pa.array(steps, pa.int64()) if steps is not None else pa.nulls(n, pa.int64()),
        "tokens": pa.array(tokens, pa.float64()) if tokens is not None else none_f,
        "request_file": empty,
        "n_warnings": pa.array(np.zeros(n, np.int32)),
    }
    return pa.table(columns)


def _scores_table(
    eval_ids: pa.Array, pairs: list[tuple[str, str, int, float]], values: np.ndarray
) -> pa.Table:
    """Scores for every evaluation x (task, metric, n_shot, higher_is_better) pair; values[e, k]."""
    n, k = values.shape
    ids = pa.array(np.repeat(np.asarray(eval_ids.to_pylist(), dtype=object), k), pa.string())
    task_names = np.array([p[0] for p in pairs], dtype=object)
    metric_names = np.array([p[1] for p in pairs], dtype=object)
    shots = np.array([p[2] for p in pairs], dtype=np.int32)
    higher = np.array([p[3] for p in pairs], dtype=bool)
    flat = values.reshape(-1)
    return pa.table(
        {
            "eval_id": ids,
            "task": pa.array(np.tile(task_names, n), pa.string()),
            "metric": pa.array(np.tile(metric_names, n), pa.string()),
            "filter": pa.array(np.full(n * k, "none", dtype=object), pa.string()),
            "value": pa.array(flat, pa.float64()),
            "stderr": pa.array(np.sqrt(np.clip(flat * (1 - flat), 1e-4, None) / 1000), pa.float64()),
            "n_shot": pa.array(np.tile(shots, n), pa.int32()),
            "higher_is_better": pa.array(np.tile(higher, n)),
            "n_samples": pa.array(np.full(n * k, 1000, np.int64)),
        }
    )


def fill_leaderboard_index(index: Index, n_evaluations: int, n_tasks: int = 20, seed: int = 0) -> None:
    """Insert ``n_evaluations`` evaluations (one model each) scored on the synthetic tasks."""
    rng = np.random.default_rng(seed)
    task_list = tasks(n_tasks)
    pairs = [(t.name, m, t.n_shot, True) for t in task_list for m in t.metrics]
    ids = np.arange(n_evaluations)
    models = np.array([model_name(int(i)) for i in ids], dtype=object)
    revisions = np.array([f"{int(i):040x}" for i in rng.permutation(n_evaluations)], dtype=object)
    evaluations = _evaluations_table(models, revisions, _EPOCH + ids * 600.0)
    quality = rng.uniform(0.05, 0.95, size=(n_evaluations, 1))
    baselines = np.array([next(t.baseline for t in task_list if t.name == p[0]) for p in pairs])
    values = baselines + (1 - baselines) * quality + rng.normal(0, 0.05, size=(n_evaluations, len(pairs)))
    _insert(index, evaluations, _scores_table(evaluations["eval_id"], pairs, np.clip(values, 0, 1)))


def checkpoint_tasks(n_metrics: int) -> list[tuple[str, str, int, bool]]:
    """(task, metric, n_shot, higher_is_better) of the checkpoint store: 2 metrics per task, one a ppl."""
    pairs = []
    for k in range(n_metrics):
        task = f"ckpt_task_{k // 2:02d}"
        pairs.append((task, "acc", 0, True) if k % 2 == 0 else (task, "perplexity", 0, False))
    return pairs


def training_name(t: int) -> str:
    return f"lab{t % 20:02d}/run-{t:05d}"


def fill_checkpoint_index(
    index: Index, n_trainings: int, n_checkpoints: int, n_metrics: int, seed: int = 0
) -> None:
    """Insert ``n_trainings`` x ``n_checkpoints`` checkpoint evaluations (revision ``step<N>``),
    each scored on ``n_metrics`` (task, metric) pairs: rising, noisy curves with a late plateau."""
    rng = np.random.default_rng(seed)
    pairs = checkpoint_tasks(n_metrics)
    trainings = np.array([training_name(t) for t in range(n_trainings)], dtype=object)
    steps = (np.arange(n_checkpoints) + 1) * 1000
    models = np.repeat(trainings, n_checkpoints)
    step_col = np.tile(steps, n_trainings)
    revisions = np.array([f"step{s}" for s in step_col], dtype=object)
    n = len(models)
    dates = _EPOCH + np.arange(n) * 60.0
    evaluations = _evaluations_table(models, revisions, dates, models, step_col, step_col * 2.0e6)
    progress = np.log1p(step_col / 1000.0)[:, None] / np.log1p(n_checkpoints)
    ceiling = rng.uniform(0.4, 0.9, size=(n_trainings, 1)).repeat(n_checkpoints, axis=0)
    noise = rng.normal(0, 0.01, size=(n, len(pairs)))
    acc = np.clip(0.25 + (ceiling - 0.25) * progress + noise, 0, 1)
    lower = np.array([not p[3] for p in pairs])
    values = np.where(lower, 40.0 * (1.05 - acc), acc)
    _insert(index, evaluations, _scores_table(evaluations["eval_id"], pairs, values))
