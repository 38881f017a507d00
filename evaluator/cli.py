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
import time
from pathlib import Path
from typing import Any

from evaluator.jobs import EvaluationConfig
from evaluator.runner import Runner, SubprocessRunner
from evaluator.worker import JobEnd, Worker, WorkerSettings
from lib.core.config import DefinitionError, load_definition
from lib.core.records import Status
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
    if not (args.once or args.burst):
        worker.run_forever()
        return 0
    summary = BurstSummary(worker.results.location, worker.requests.location)
    worker.on_job_end = summary.add
    if args.once:
        worker.run_once()
    else:
        taken = worker.run_burst()
        log.info("burst done: %d request(s) taken", taken)
    return summary.finish()


class BurstSummary:
    """The lines ``--once`` and ``--burst`` print: one per request handled (as it ends), then a total.

    A request line: ``FINISHED  model@revision  precision  12.3 s  results: <store>/<file>`` or
    ``FAILED  model@revision  precision  0.4 s  <reason, first line, shortened>  log: <store>/<file>``.
    ``finish`` prints the total and returns the exit status: 1 when any request ended FAILED or could not
    be settled by this worker, else 0. Model ids and reasons come from request files (strangers' text):
    control characters are escaped so they cannot rewrite the terminal.
    """

    REASON_CHARS = 160

    def __init__(self, results_location: str, requests_location: str) -> None:
        self.results_location = results_location.rstrip("/")
        self.requests_location = requests_location.rstrip("/")
        self.started = time.monotonic()
        self.counts = {"finished": 0, "failed": 0, "other": 0}

    def add(self, end: JobEnd) -> None:
        status = end.status.value if end.status is not None else "NOT SETTLED"
        identity = _printable(end.model, 200) + (f"@{_printable(end.revision, 64)}" if end.revision else "")
        parts = [f"{status:<9}", identity]
        if end.precision:
            parts.append(_printable(end.precision, 32))
        parts.append(f"{end.elapsed_s:.1f} s")
        if end.status == Status.FINISHED:
            self.counts["finished"] += 1
            if end.results_file:
                parts.append(f"results: {self.results_location}/{_printable(end.results_file, 400)}")
        else:
            self.counts["failed" if end.status in (Status.FAILED, None) else "other"] += 1
            if end.status is None:
                reason = "not settled by this worker: its lease was lost or the store refused the write"
            else:
                reason = next(iter(end.reason.strip().splitlines()), "")
            if reason:
                parts.append(_printable(reason, self.REASON_CHARS))
            if end.log_file:
                parts.append(f"log: {self.requests_location}/{_printable(end.log_file, 400)}")
        print("  ".join(parts), flush=True)

    def finish(self) -> int:
        total = time.monotonic() - self.started
        line = f"{self.counts['finished']} finished, {self.counts['failed']} failed"
        if self.counts["other"]:
            line += f", {self.counts['other']} put back"
        print(f"total: {line} in {total:.1f} s", flush=True)
        return 1 if self.counts["failed"] else 0


def _printable(text: str, limit: int) -> str:
    """One line of a stranger's text for a terminal: control characters escaped, at most ``limit`` chars."""
    short = text[:limit] + ("..." if len(text) > limit else "")
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in short)


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
