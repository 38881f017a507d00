"""The command line of the evaluator service.

``python -m evaluator [--config NAME|PATH] [--requests PATH] [--results PATH] [--once|--burst]`` runs the
worker loop over the definition's stores (forever by default); ``--executor slurm`` (or the definition's
``evaluation.executor``) submits each claimed request as a Slurm job instead (``evaluator.slurm``);
``python -m evaluator run-request ...`` is what such a job runs; ``python -m evaluator make-tiny-model DIR``
builds the tiny offline model. SIGTERM and Ctrl-C stop the loop cleanly: a running job is put back to
PENDING. This is the only module of the package that prints or installs signal handlers.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from evaluator.jobs import EvaluationConfig
from evaluator.runner import Runner, SubprocessRunner
from evaluator.worker import Worker, WorkerSettings
from lib.core.config import DefinitionError, load_definition
from lib.stores import open_store

log = logging.getLogger("evaluator")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m evaluator",
        description="Evaluate queued requests with lm-eval. Subcommand: make-tiny-model DIR.",
    )
    parser.add_argument("--config", default=None, help="definition file path or bundled name (default: demo)")
    parser.add_argument("--requests", default=None, help="requests store: a folder or hub:org/name")
    parser.add_argument("--results", default=None, help="results store: a folder or hub:org/name")
    parser.add_argument(
        "--executor",
        choices=("local", "slurm"),
        default=None,
        help="run jobs here (local) or as Slurm jobs (default: the definition's evaluation.executor, else local)",
    )
    parser.add_argument(
        "--max-jobs", type=int, default=None, help="Slurm jobs in flight at most (default: evaluation.slurm)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="take at most one request, then exit")
    mode.add_argument("--burst", action="store_true", help="run until the queue is empty, then exit")
    parser.add_argument("--worker-id", default=None, help="name shown on claimed requests (default host-pid)")
    parser.add_argument(
        "--lease", type=float, default=300.0, help="seconds without heartbeat before a job is stale"
    )
    parser.add_argument("--heartbeat", type=float, default=15.0, help="seconds between heartbeats")
    parser.add_argument("--max-attempts", type=int, default=3, help="lost leases before a request FAILS")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds a job may run (default: definition)"
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=None,
        help="first wait when the queue is empty (doubles; default 5); with Slurm: seconds between passes",
    )
    parser.add_argument("--poll-max", type=float, default=120.0, help="longest wait when the queue is empty")
    parser.add_argument(
        "--limit", type=float, default=None, help="documents per task (testing only: partial run)"
    )
    parser.add_argument("--device", default=None, help="torch device (default: cuda when present, else cpu)")
    parser.add_argument("--batch-size", default=None, help="batch size (default: definition, else auto)")
    parser.add_argument("--runner", default=None, help=argparse.SUPPRESS)  # module:factory, for tests/benches
    parser.add_argument("--keep-workdirs", action="store_true", help="keep each job's temporary folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "make-tiny-model":
        return make_tiny_model(argv[1:])
    if argv and argv[0] == "run-request":
        from evaluator.slurm.job import main as run_request_main

        return run_request_main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        worker = build_worker(args)
        if executor_name(args) == "slurm":
            from evaluator.slurm.cli import run_slurm

            return run_slurm(args, worker)
    except (DefinitionError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    install_signal_handlers(worker)
    if args.once:
        worker.run_once()
    elif args.burst:
        taken = worker.run_burst()
        log.info("burst done: %d request(s) taken", taken)
    else:
        worker.run_forever()
    return 0


def build_worker(args: argparse.Namespace) -> Worker:
    """A Worker over the definition's stores, with the command line's overrides."""
    definition = load_definition(args.config)
    requests_location = args.requests or definition.requests_store
    results_location = args.results or definition.results_store
    for location in (requests_location, results_location):
        if not location.startswith("hub:"):
            Path(location).mkdir(parents=True, exist_ok=True)
    config = EvaluationConfig.from_definition(
        definition, timeout_s=args.timeout, limit=args.limit, device=args.device, batch_size=args.batch_size
    )
    settings = WorkerSettings(
        worker_id=args.worker_id or f"{socket.gethostname()}-{os.getpid()}",
        lease_s=args.lease,
        heartbeat_s=args.heartbeat,
        max_attempts=args.max_attempts,
        poll_min_s=args.poll if args.poll is not None else 5.0,
        poll_max_s=args.poll_max,
        keep_workdirs=args.keep_workdirs,
    )
    runner = load_runner(args.runner) if args.runner else SubprocessRunner(launcher=config.launcher)
    from evaluator.publish import publisher_for

    publisher = publisher_for(definition, results_location)
    return Worker(
        open_store(requests_location),
        open_store(results_location),
        config,
        runner,
        settings,
        publisher=publisher,
    )


def executor_name(args: argparse.Namespace) -> str:
    """``--executor``, else the definition's ``evaluation.executor``, else ``local``."""
    if args.executor:
        return str(args.executor)
    from evaluator.slurm.settings import executor_of

    return executor_of(load_definition(args.config))


def load_runner(spec: str) -> Runner:
    """``package.module:factory`` -> the runner the factory returns (a class is a factory too)."""
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"--runner must look like module:factory, got {spec!r}")
    factory: Any = getattr(importlib.import_module(module_name), attr)
    return factory()


def install_signal_handlers(worker: Any) -> None:
    """SIGTERM and SIGINT ask the worker (or the Slurm executor) to stop; a local job goes back to PENDING."""

    def handle(signum: int, _frame: object) -> None:
        log.warning("signal %s: stopping after putting the running job back", signal.Signals(signum).name)
        worker.stop()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def make_tiny_model(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluator make-tiny-model")
    parser.add_argument("folder", help="where to write the model and tokenizer")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from evaluator.tiny_model import build_tiny_model

    print(build_tiny_model(args.folder, seed=args.seed))
    return 0
