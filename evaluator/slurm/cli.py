"""``python -m evaluator --executor slurm``: build the Slurm executor from the command line and run it.

The job command repeats the evaluation options given here (``--config``, stores, ``--limit``,
``--device``, ...) with absolute paths, so the job evaluates exactly as a local worker started with the
same options would. Only ``evaluator.cli`` calls this module.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

from evaluator.slurm.client import SlurmClient, SlurmError
from evaluator.slurm.executor import SlurmExecutor
from evaluator.slurm.settings import SlurmSettings
from evaluator.worker import Worker
from lib.core.config import load_definition

log = logging.getLogger("evaluator")
PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
# Options passed on to the job unchanged (flag -> argparse attribute).
FORWARDED = {"--limit": "limit", "--device": "device", "--batch-size": "batch_size", "--timeout": "timeout",
             "--heartbeat": "heartbeat", "--lease": "lease", "--max-attempts": "max_attempts",
             "--runner": "runner"}  # fmt: skip


def build_executor(args: argparse.Namespace, worker: Worker) -> SlurmExecutor:
    """The executor over ``worker`` (which claims), with the definition's Slurm settings and CLI overrides."""
    definition = load_definition(args.config)
    settings = SlurmSettings.from_definition(definition)
    if args.max_jobs is not None:
        if args.max_jobs < 1:
            raise ValueError("--max-jobs must be at least 1")
        settings = replace(settings, max_jobs=args.max_jobs)
    if args.poll is not None:
        settings = replace(settings, poll_s=args.poll)
    base = [
        "-m", "evaluator", "run-request",
        "--config", str(definition.path.resolve()),
        "--requests", _absolute(args.requests or definition.requests_store),
        "--results", _absolute(args.results or definition.results_store),
    ]  # fmt: skip
    for flag, attr in FORWARDED.items():
        value = getattr(args, attr, None)
        if value is not None:
            base += [flag, str(value)]

    def job_command(request_path: str, token: str, log_pattern: str) -> list[str]:
        return [
            settings.python,
            *base,
            "--request",
            request_path,
            "--job-id",
            token,
            "--slurm-log",
            log_pattern,
        ]

    return SlurmExecutor(worker, settings, SlurmClient(), job_command, PROJECT_ROOT)


def run_slurm(args: argparse.Namespace, worker: Worker) -> int:
    """Run the executor in the mode the command line asks for; 1 when Slurm refuses or cannot be reached."""
    from evaluator.cli import install_signal_handlers

    if args.once:
        raise ValueError("--once is for the local executor; use --burst with Slurm")
    executor = build_executor(args, worker)
    try:
        executor.client.ping()
    except SlurmError as exc:
        print(f"error: Slurm cannot be reached: {exc}", file=sys.stderr)
        return 1
    install_signal_handlers(executor)
    if not args.burst:
        executor.run_forever()
        return 0
    try:
        submitted = executor.run_burst()
    except SlurmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    log.info("burst done: %d Slurm job(s) submitted", submitted)
    return 0


def _absolute(location: str) -> str:
    return location if location.startswith("hub:") else str(Path(location).resolve())
