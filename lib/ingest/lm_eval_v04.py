"""lm-evaluation-harness 0.4.x results JSON (``results``, ``n-shot``, ``higher_is_better``, ``config``).

Metric keys carry their filter (``acc,none``); group rows appear in both ``results`` and ``groups``
and are read once. A ``request`` block (written by our evaluator) names the request the run served.
"""

from __future__ import annotations

from typing import Any

from lib.core.records import Evaluation, Score, as_float, as_mapping
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

_PROVENANCE_KEYS = (
    "pretty_env_info",
    "transformers_version",
    "upper_git_hash",
    "model_source",
    "system_instruction",
    "fewshot_as_multiturn",
    "chat_template_sha",
    "task_hashes",
    "start_time",
    "end_time",
)


def detect(data: dict[str, Any]) -> bool:
    """0.4 files have filtered metric keys, or one of the blocks older releases never wrote."""
    if not isinstance(data.get("results"), dict):
        return False
    if any(
        key in data
        for key in ("n-shot", "higher_is_better", "lm_eval_version", "n-samples", "group_subtasks")
    ):
        return True
    for metrics in data["results"].values():
        if isinstance(metrics, dict) and any("," in str(k) for k in metrics):
            return True
    return False


def parse(path: str, data: dict[str, Any]) -> Evaluation:
    config = as_mapping(data.get("config"))
    args = parse_model_args(config.get("model_args"))
    request = as_mapping(data.get("request"))
    named, base_model, adapter_type = model_identity(args)
    model = str(request.get("model") or named or data.get("model_name") or "").strip()
    if not model:
        raise IngestError(
            "no model name: none of request.model, config.model_args pretrained/model/peft, model_name"
        )
    backend = str(config.get("model") or "").strip()
    n_shot_block = as_mapping(data.get("n-shot"))
    directions = as_mapping(data.get("higher_is_better"))
    samples_block = as_mapping(data.get("n-samples"))
    fallback_shots = as_int(config.get("num_fewshot"))
    versions = task_versions(data.get("versions"))
    tasks: dict[str, Any] = {}
    for block in ("results", "groups"):
        section = data.get(block)
        if isinstance(section, dict):
            for task, metrics in section.items():
                tasks.setdefault(str(task), metrics)
    if not tasks:
        raise IngestError("'results' is empty: no task was evaluated")
    warnings: list[str] = []
    scores: list[Score] = []
    for task, metrics in tasks.items():
        shots = n_shot_block.get(task)
        if type(shots) is not int:  # an int is the common case, as_int the rest
            shots = as_int(shots)
        samples = samples_block.get(task)
        if isinstance(samples, dict):
            samples = samples.get("effective")
        if type(samples) is not int:
            samples = as_int(samples)
        scores += task_scores(
            task,
            metrics,
            shots if shots is not None else fallback_shots,
            directions.get(task),
            samples,
            True,
            warnings,
            versions.get(task),
        )
    if not scores:
        raise IngestError("; ".join(["no numeric metric in any task", *warnings[:3]]))
    revision = str(
        request.get("revision") or args.get("revision") or config.get("model_revision") or "main"
    ).strip()
    precision = normalize_precision(
        request.get("precision"),
        args.get("dtype"),
        config.get("model_dtype"),
        "load_in_4bit" if args.get("load_in_4bit") in ("True", "true") else "",
        "load_in_8bit" if args.get("load_in_8bit") in ("True", "true") else "",
    )
    date = as_float(data.get("date")) or date_from_path(path)
    setting = setting_text(args, backend, precision)
    limit = as_float(config.get("limit"))
    chat = request.get("use_chat_template")
    if chat is None:
        chat = bool(data.get("chat_template")) or bool(data.get("chat_template_sha"))
    provenance = {key: data[key] for key in _PROVENANCE_KEYS if key in data}
    provenance["config"] = config
    return Evaluation(
        model=model,
        revision=revision,
        precision=precision,
        scores=tuple(scores),
        sha=str(request.get("revision") or config.get("model_sha") or "").strip(),
        chat_template=bool(chat),
        limit=limit,
        lm_eval_version=str(data.get("lm_eval_version") or ""),
        git_hash=str(data.get("git_hash") or ""),
        date=date,
        duration_s=as_float(data.get("total_evaluation_time_seconds")),
        model_args=model_args_text(config.get("model_args")),
        batch_size=str(config.get("batch_size") or ""),
        source_format="lm-eval 0.4",
        training=str(request.get("training") or ""),
        step=as_int(request.get("step")),
        tokens=as_float(request.get("tokens")),
        request_file=str(request.get("path") or ""),
        weight_type=str(request.get("weight_type") or adapter_type),
        base_model=base_model,
        backend=backend,
        setting=setting,
        warnings=tuple(warnings),
        provenance=provenance,
    )
