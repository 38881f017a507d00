"""Publishing back: offer a finished evaluation to the model repo as ``.eval_results`` files in a pull request.

For each benchmark of the definition that names a Hub benchmark dataset and task (``hub_benchmark`` and
``hub_task``), ``eval_results_files`` builds ``.eval_results/<benchmark id>.yaml`` with one entry whose
``value`` is the benchmark's raw score in percent (the mean of its components' raw lm-eval values × 100)
and whose ``source.url`` points to the results file. ``EvalResultsPublisher`` opens one pull request
(``create_pr=True``) with those files when ``evaluation.publish_eval_results`` is true. It never touches
the leaderboard's stores, never runs for local or private models, and never logs the token.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import Any

import yaml

from lib.core.config import Benchmark, Definition
from lib.core.request import Request

log = logging.getLogger(__name__)
HUB_URL = "https://huggingface.co"


class PublishError(RuntimeError):
    """Publishing back failed; the message (token-free) goes to the request's ``publish_error``."""


def benchmark_value(bench: Benchmark, results: dict[str, Any]) -> float | None:
    """The benchmark's raw score in percent from lm-eval's ``results`` block; None when a component is missing."""
    values = []
    for comp in bench.components:
        metrics = results.get(comp.task)
        if not isinstance(metrics, dict):
            return None
        wanted = f"{comp.metric},{comp.filter}" if comp.filter else None
        found = None
        for key, value in metrics.items():
            name, _, filt = str(key).partition(",")
            if (key == wanted or (wanted is None and name == comp.metric)) and "stderr" not in name:
                found = value
                break
        if isinstance(found, bool) or not isinstance(found, (int, float)):
            return None
        values.append(float(found))
    return round(100.0 * sum(values) / len(values), 4) if values else None


def results_url(definition: Definition, results_location: str, path: str, endpoint: str | None = None) -> str:
    """Where the results file can be seen: ``evaluation.publish_results_url`` + path, or the results dataset page."""
    prefix = definition.evaluation.publish_results_url
    if prefix.startswith(("http://", "https://")):
        return f"{prefix.rstrip('/')}/{path}"
    if results_location.startswith("hub:"):
        return f"{(endpoint or HUB_URL).rstrip('/')}/datasets/{results_location[4:]}/blob/main/{path}"
    return ""


def eval_results_files(
    definition: Definition, document: dict[str, Any], source_url: str, request: Request | None = None
) -> dict[str, bytes]:
    """``{".eval_results/<benchmark>.yaml": YAML}`` for every mapped benchmark the document scores."""
    from huggingface_hub import EvalResultEntry
    from huggingface_hub._eval_results import eval_result_entries_to_yaml

    results = document.get("results") or {}
    files: dict[str, bytes] = {}
    for bench in definition.benchmarks:
        if not (bench.hub_benchmark and bench.hub_task):
            continue
        value = benchmark_value(bench, results)
        if value is None:
            continue
        entry = EvalResultEntry(
            dataset_id=bench.hub_benchmark,
            task_id=bench.hub_task,
            value=value,
            date=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            source_url=source_url or None,
            source_name=f"{definition.short_title} (lm-evaluation-harness)" if source_url else None,
            notes=_notes(bench, request),
        )
        text = yaml.safe_dump(eval_result_entries_to_yaml([entry]), sort_keys=False, allow_unicode=True)
        files[f".eval_results/{bench.id}.yaml"] = text.encode("utf-8")
    return files


def _notes(bench: Benchmark, request: Request | None) -> str:
    parts = [f"{bench.num_fewshot}-shot" if bench.num_fewshot is not None else ""]
    if request is not None:
        parts += [request.precision, "chat template" if request.use_chat_template else ""]
    return ", ".join(p for p in parts if p)


class EvalResultsPublisher:
    """Opens a pull request on the evaluated model's repo with its ``.eval_results`` files."""

    def __init__(
        self,
        definition: Definition,
        results_location: str,
        endpoint: str | None = None,
        token: str | None = None,
    ) -> None:
        self.definition = definition
        self.results_location = results_location
        self.endpoint = endpoint
        self._token = token or os.environ.get("HF_TOKEN") or None

    def __call__(self, request: Request, results_path: str, document: dict[str, Any]) -> str | None:
        """The pull request's URL, or None when there is nothing to publish; PublishError on failure."""
        if request.private or request.is_local:
            return None
        source = results_url(self.definition, self.results_location, results_path, self.endpoint)
        files = eval_results_files(self.definition, document, source, request)
        if not files:
            return None
        from huggingface_hub import CommitOperationAdd, HfApi

        api = HfApi(endpoint=self.endpoint, token=self._token)
        try:
            info = api.create_commit(
                request.model,
                [CommitOperationAdd(path, data) for path, data in sorted(files.items())],
                commit_message=f"Add evaluation results from {self.definition.short_title}",
                commit_description=(
                    "Scores measured by this leaderboard's evaluator with lm-evaluation-harness. "
                    f"Results file: {source or results_path}"
                ),
                create_pr=True,
            )
        except Exception as exc:  # noqa: BLE001 - reported on the request, never raised further
            text = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            if self._token:
                text = text.replace(self._token, "***")
            raise PublishError(f"publishing eval results to {request.model} failed: {text}") from None
        log.info("%s: eval results offered in %s", request.model, info.pr_url)
        return str(info.pr_url or info.commit_url)


def publisher_for(definition: Definition, results_location: str) -> EvalResultsPublisher | None:
    """A publisher when ``evaluation.publish_eval_results`` is true, else None."""
    if not definition.evaluation.publish_eval_results:
        return None
    return EvalResultsPublisher(definition, results_location)
