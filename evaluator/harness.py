"""The child process of one job: ``python -m evaluator.harness SPEC.json WORKDIR``. The only lm_eval import.

It reads a ``JobSpec`` (see ``evaluator.jobs``), loads the tasks through a TaskManager restricted to
the folders they need (no indexing of lm-eval's 14,000 task files), loads the model, runs
``simple_evaluate`` and saves lm-eval's own output with its ``EvaluationTracker`` under
``WORKDIR/out/<model sanitized>/``. It writes ``WORKDIR/progress.json`` while it runs and, for a failure
it understands, ``WORKDIR/failure.json`` with the reason (exit code 3). It never touches a store or a
request file: the worker does that.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from evaluator.lifeline import guard_job

log = logging.getLogger("evaluator.harness")
EXIT_REFUSED = 3


class JobFailure(RuntimeError):
    """A failure with a reason the request should show."""


class ProgressFile:
    """Writes ``{"task", "done", "total", "phase"}`` atomically, at most twice a second."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.state: dict[str, Any] = {"task": "", "done": 0, "total": 0, "phase": "starting"}
        self._last = 0.0

    def set(self, force: bool = False, **values: Any) -> None:
        self.state.update(values)
        now = time.monotonic()
        if force:  # phase changes also go to the job log, which outlives the progress file
            log.info("progress: %s", json.dumps(self.state, sort_keys=True))
        elif now - self._last < 0.5:
            return
        self._last = now
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(self.state), encoding="utf-8")
        os.replace(tmp, self.path)


def main(argv: list[str]) -> int:
    guard_job()  # first: a killed worker takes this job (and its children) with it
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    workdir = Path(argv[1])
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    progress = ProgressFile(workdir / "progress.json")
    try:
        run_job(spec, workdir, progress)
    except JobFailure as exc:
        log.error("job failed: %s", exc)
        (workdir / "failure.json").write_text(json.dumps({"reason": str(exc)}), encoding="utf-8")
        return EXIT_REFUSED
    return 0


def run_job(spec: dict[str, Any], workdir: Path, progress: ProgressFile) -> None:
    """Check, load, evaluate and save; JobFailure carries the reason of an understood failure."""
    spec = {**spec, "_out": str(workdir / "out")}
    model_args = dict(spec["model_args"])
    progress.set(force=True, phase="checking model")
    if spec.get("remote_check"):
        check_hub_config(spec["remote_check"], model_args.get("revision"))
    if spec.get("download"):
        model_args[spec["download"]["arg"]] = download_snapshot(spec["download"])
    progress.set(force=True, phase="loading tasks")
    task_manager, task_objects = load_tasks(spec, workdir)
    progress.set(force=True, phase="loading model")
    lm = load_model(spec, model_args)
    watch_progress(lm, progress)
    progress.set(force=True, phase="evaluating")
    results, tracker = evaluate(spec, lm, task_manager, task_objects)
    progress.set(force=True, phase="saving")
    save(spec, model_args, results, tracker)


def check_hub_config(repo: str, revision: str | None) -> None:
    """Refuse a Hub model that does not exist here or whose config needs remote code."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        path = hf_hub_download(repo, "config.json", revision=revision)
    except RepositoryNotFoundError as exc:
        raise JobFailure(f"model {repo} does not exist on the Hub (or is gated/private)") from exc
    except EntryNotFoundError as exc:
        raise JobFailure(f"model {repo} has no config.json at revision {revision}") from exc
    except LocalEntryNotFoundError as exc:
        raise JobFailure(
            f"model {repo} at {revision} is not in the local cache and the Hub is offline"
        ) from exc
    except Exception as exc:  # revision not found, network down: the reason is in the message
        raise JobFailure(f"model {repo} at revision {revision} cannot be read: {exc}") from exc
    config = json.loads(Path(path).read_text(encoding="utf-8"))
    if isinstance(config, dict) and config.get("auto_map"):
        raise JobFailure(
            "model needs remote code (config.json has auto_map); this evaluator never enables trust_remote_code"
        )


def download_snapshot(download: dict[str, str]) -> str:
    """A local snapshot of an adapter or delta repo at the request's sha (its base loads separately)."""
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(download["repo"], revision=download["revision"])
    except Exception as exc:
        raise JobFailure(f"{download['arg']} weights {download['repo']} cannot be downloaded: {exc}") from exc


def load_tasks(spec: dict[str, Any], workdir: Path) -> tuple[Any, list[Any]]:
    """A TaskManager over only the needed folders, and the built tasks with the definition's n-shot."""
    from lm_eval.tasks import TaskManager

    from evaluator.suite import materialize_include_dir

    names = [t["name"] for t in spec["tasks"]]
    include = [
        str(materialize_include_dir(src, workdir / f"tasks_{i}"))
        for i, src in enumerate(spec.get("include_paths") or [])
    ]
    include += lm_eval_task_folders(names, spec.get("lm_eval_task_dirs") or [])
    try:
        manager = TaskManager(include_path=include or None, include_defaults=False)
        if not all(name in manager.all_tasks for name in names):
            log.warning("some tasks are outside the restricted folders; indexing all of lm-eval's tasks")
            manager = TaskManager(include_path=include or None, include_defaults=True)
        objects: list[Any] = []
        for task in spec["tasks"]:
            loaded = manager.load([task["name"]])
            for task_name, task_obj in loaded["tasks"].items():
                shots = task.get("subtask_fewshot", {}).get(task_name, task.get("num_fewshot"))
                if shots is not None:
                    task_obj.set_config(key="num_fewshot", value=shots)
            top = loaded["groups"].get(task["name"]) or loaded["tasks"].get(task["name"])
            objects.extend([top] if top is not None else loaded["tasks"].values())
    except Exception as exc:
        raise JobFailure(f"task failed to load: {type(exc).__name__}: {exc}") from exc
    return manager, objects


def lm_eval_task_folders(names: list[str], configured: list[str]) -> list[str]:
    """lm-eval's own task folders likely to hold ``names`` (first name segment), plus configured ones."""
    import lm_eval.tasks

    root = Path(lm_eval.tasks.__file__).resolve().parent
    folders = {str(root / d) for d in configured if (root / d).is_dir()}
    for name in names:
        candidate = root / name.split("_")[0]
        if candidate.is_dir():
            folders.add(str(candidate))
    return sorted(folders)


def load_model(spec: dict[str, Any], model_args: dict[str, Any]) -> Any:
    """The lm-eval model object; JobFailure when the weights cannot be loaded."""
    import lm_eval.api.registry

    args = dict(model_args)
    if spec.get("quantization") in ("8bit", "4bit"):
        from transformers import BitsAndBytesConfig

        key = "load_in_8bit" if spec["quantization"] == "8bit" else "load_in_4bit"
        args["quantization_config"] = BitsAndBytesConfig(**{key: True})
    elif spec.get("quantization") == "GPTQ":
        args["gptqmodel"] = True
    device = spec.get("device") or _default_device()
    extra = {
        "batch_size": spec.get("batch_size"),
        "max_batch_size": spec.get("max_batch_size"),
        "device": device,
    }
    try:
        model_class = lm_eval.api.registry.get_model(spec.get("backend") or "hf")
        return model_class.create_from_arg_obj(args, {k: v for k, v in extra.items() if v is not None})
    except Exception as exc:
        raise JobFailure(f"model failed to load: {type(exc).__name__}: {exc}") from exc


def watch_progress(lm: Any, progress: ProgressFile) -> None:
    """Report requests done of total and the current tasks while lm-eval runs (HF backend progress bars)."""
    for method in ("loglikelihood", "loglikelihood_rolling", "generate_until"):
        original = getattr(lm, method, None)
        if original is not None:
            setattr(lm, method, _tracked(original, method, progress))
    try:
        import lm_eval.models.huggingface as hf_module
        from tqdm import tqdm as base_tqdm
    except ImportError:
        return

    class ReportingTqdm(base_tqdm):
        def update(self, n: float | None = 1) -> bool | None:
            shown = super().update(n)
            progress.set(done=int(self.n), total=int(self.total or 0))
            return shown

    hf_module.tqdm = ReportingTqdm


def _tracked(original: Any, method: str, progress: ProgressFile) -> Any:
    def call(requests: list[Any], *args: Any, **kwargs: Any) -> Any:
        tasks = sorted({str(getattr(r, "task_name", "")) for r in requests} - {""})
        progress.set(force=True, phase=method, task=", ".join(tasks), done=0, total=len(requests))
        out = original(requests, *args, **kwargs)
        progress.set(force=True, done=len(requests), total=len(requests))
        return out

    return call


def evaluate(spec: dict[str, Any], lm: Any, manager: Any, tasks: list[Any]) -> tuple[dict[str, Any], Any]:
    """lm-eval's results dictionary and the tracker that saves it; JobFailure when a task fails."""
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    tracker = EvaluationTracker(output_path=str(Path(spec["_out"])))
    chat = bool(spec.get("apply_chat_template"))
    try:
        results = simple_evaluate(
            model=lm,
            tasks=tasks,
            task_manager=manager,
            batch_size=spec.get("batch_size"),
            max_batch_size=spec.get("max_batch_size"),
            limit=spec.get("limit"),
            log_samples=bool(spec.get("log_samples")),
            apply_chat_template=chat,
            fewshot_as_multiturn=chat,
            evaluation_tracker=tracker,
        )
    except Exception as exc:
        raise JobFailure(f"evaluation failed: {type(exc).__name__}: {exc}") from exc
    if results is None:
        raise JobFailure("lm-eval returned no results on this rank")
    return results, tracker


def save(spec: dict[str, Any], model_args: dict[str, Any], results: dict[str, Any], tracker: Any) -> None:
    """Write lm-eval's results (and samples when asked) as its command line would, under WORKDIR/out."""
    from lm_eval.utils import sanitize_model_name

    samples = results.pop("samples", None)
    results["config"]["model"] = spec.get("backend") or "hf"
    results["config"]["model_args"] = {k: v for k, v in model_args.items() if _is_plain(v)}
    general = tracker.general_config_tracker
    general.model_source = spec.get("backend") or "hf"
    general.model_name = spec["model_name"]
    general.model_name_sanitized = sanitize_model_name(spec["model_name"])
    tracker.save_results_aggregated(results=results, samples=samples if spec.get("log_samples") else None)
    if spec.get("log_samples") and samples:
        for task_name in results.get("configs", {}):
            if task_name in samples:
                tracker.save_results_samples(task_name=task_name, samples=samples[task_name])


def _is_plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
