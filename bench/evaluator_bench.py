"""Evaluator benchmarks: overhead against the plain ``lm_eval`` command line, and queue throughput of 4 workers.

Run from the repository root: ``python bench/evaluator_bench.py [--skip-overhead] [--skip-throughput]``.
Everything happens in a temporary folder, offline (HF_HUB_OFFLINE, HF_DATASETS_OFFLINE, a private
HF_HOME). Prints the figures; docs/performance.md records them.

1. Overhead: the tiny model on the bundled suite (tiny_mc 0-shot + tiny_gen 2-shot, batch size 8, CPU),
   once through ``python -m evaluator --once`` (claim, child process, results publication, FINISHED)
   and once through ``lm_eval run`` with the same model, tasks and batch size. The ratio is ours over
   theirs, wall clock of each whole command; ours should be well under 1, because our TaskManager
   indexes only the suite's folder while the CLI indexes all of lm-eval's task files first.
2. Throughput: 40 requests, 4 worker processes in ``--burst`` mode with a runner that does no
   evaluation (tests.lmeval_fixtures:QuickRunner), so the figure is the queue's own cost: claims,
   heartbeats, results writes and status changes on a local store.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evaluator.suite import BUNDLED_TASKS_DIR, materialize_include_dir  # noqa: E402
from evaluator.tiny_model import build_tiny_model  # noqa: E402
from tests.lmeval_fixtures import add_request, fake_model_folder, write_definition  # noqa: E402


def offline_env(work: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HOME": str(work / "hf_home"),
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": str(ROOT),
    }


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"command failed ({done.returncode}): {' '.join(command)}\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return elapsed


def overhead(work: Path) -> dict[str, float]:
    models = work / "models"
    model = build_tiny_model(models / "tiny-llama")
    definition = write_definition(work, [models])
    (work / "requests").mkdir()
    (work / "results").mkdir()
    env = offline_env(work)
    path = add_request(work / "requests", model, name="tiny-llama")
    ours = timed(
        [
            sys.executable,
            "-m",
            "evaluator",
            "--config",
            str(definition),
            "--once",
            "--batch-size",
            "8",
            "--device",
            "cpu",
        ],
        env,
    )
    status = json.loads((work / "requests" / path).read_text())["status"]
    if status != "FINISHED":
        raise SystemExit(f"our run ended {status}")
    include = materialize_include_dir(BUNDLED_TASKS_DIR, work / "cli_tasks")
    theirs = timed(
        [
            "lm_eval", "run", "--model", "hf",
            "--model_args", f"pretrained={model},dtype=float32",
            "--tasks", "tiny_mc,tiny_gen", "--include_path", str(include),
            "--batch_size", "8", "--device", "cpu", "--output_path", str(work / "cli_out"),
        ],
        env,
    )  # fmt: skip
    return {"evaluator_s": ours, "lm_eval_cli_s": theirs, "ratio": ours / theirs}


def throughput(work: Path, workers: int = 4, requests: int = 40) -> dict[str, float]:
    models = work / "models"
    model = fake_model_folder(models)
    definition = write_definition(work, [models])
    (work / "requests").mkdir()
    (work / "results").mkdir()
    for i in range(requests):
        add_request(work / "requests", model, name=f"quick-{i:03d}")
    env = offline_env(work)
    command = [
        sys.executable, "-m", "evaluator", "--config", str(definition), "--burst",
        "--runner", "tests.lmeval_fixtures:QuickRunner",
    ]  # fmt: skip
    start = time.perf_counter()
    procs = [subprocess.Popen([*command, "--worker-id", f"w{i}"], cwd=ROOT, env=env) for i in range(workers)]
    codes = [p.wait() for p in procs]
    elapsed = time.perf_counter() - start
    finished = sum(
        json.loads(p.read_text()).get("status") == "FINISHED"
        for p in (work / "requests" / "local").glob("*.json")
    )
    if any(codes) or finished != requests:
        raise SystemExit(f"throughput run: exit codes {codes}, {finished} of {requests} finished")
    return {"workers": workers, "requests": requests, "wall_s": elapsed, "requests_per_s": requests / elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="evaluator-bench-") as tmp:
        if not args.skip_overhead:
            figures = overhead(Path(tmp) / "overhead")
            print(
                f"overhead: evaluator {figures['evaluator_s']:.1f} s, lm_eval CLI {figures['lm_eval_cli_s']:.1f} s, "
                f"ratio {figures['ratio']:.2f}"
            )
        if not args.skip_throughput:
            figures = throughput(Path(tmp) / "throughput")
            print(
                f"throughput: {figures['workers']} workers, {figures['requests']} quick requests in "
                f"{figures['wall_s']:.1f} s = {figures['requests_per_s']:.1f} requests/s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
