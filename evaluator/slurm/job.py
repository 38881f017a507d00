"""What runs inside a Slurm job: ``python -m evaluator run-request --request PATH --job-id TOKEN ...``.

The executor claimed the request (status RUNNING, ``job_id`` = TOKEN) before submitting this job. Here
the request is checked to still be ours, Slurm's job id and log path are recorded in it, and the request
is run by the local worker's own code (``Worker.execute``: heartbeats with progress, publish, FINISHED or
FAILED). A SIGTERM from Slurm (scancel, time limit, preemption, node going down) stops the evaluation
without settling the request: the executor reads from Slurm why the job ended and decides. Exit status:
0 FINISHED, 1 FAILED, 3 stopped or no longer ours (nothing settled).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from dataclasses import replace

from evaluator.worker import Worker
from lib.core.config import DefinitionError
from lib.core.records import Status
from lib.queue.requests import RequestConflict, read_request, update_job

log = logging.getLogger("evaluator.slurm.job")
EXIT_FINISHED, EXIT_FAILED, EXIT_NOT_SETTLED = 0, 1, 3


def main(argv: list[str]) -> int:
    from evaluator.cli import build_parser, build_worker, install_signal_handlers

    parser = build_parser()
    parser.prog = "python -m evaluator run-request"
    parser.add_argument("--request", required=True, help="path of the claimed request in the requests store")
    parser.add_argument("--job-id", required=True, help="the claim's job_id (the request must still hold it)")
    parser.add_argument("--slurm-log", default=None, help="this job's Slurm log file (%%j = job id)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    slurm_id = os.environ.get("SLURM_JOB_ID", "")
    args.worker_id = args.worker_id or f"slurm-{slurm_id or 'none'}@{socket.gethostname()}"
    try:
        worker = build_worker(args)
    except (DefinitionError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    worker.settings = replace(worker.settings, requeue_on_stop=False)
    install_signal_handlers(worker)
    log_path = (args.slurm_log or "").replace("%j", slurm_id) or None
    return run_request(worker, args.request, args.job_id, slurm_id, log_path)


def run_request(worker: Worker, path: str, token: str, slurm_id: str, log_path: str | None) -> int:
    """Record the Slurm job in the request, then evaluate it as the local worker would."""
    for attempt in range(10):
        try:
            request = update_job(
                worker.requests,
                path,
                token,
                worker.clock.now(),
                lease_s=worker.settings.lease_s,
                slurm_job_id=slurm_id or None,
                slurm_claim=token if slurm_id else None,
                slurm_log=log_path,
                slurm_state="RUNNING",
                slurm_node=socket.gethostname(),
                progress={"task": "", "done": 0, "total": 0, "phase": "starting"},
            )
            break
        except FileNotFoundError:
            log.warning("%s: the request file is gone; nothing to run", path)
            return EXIT_NOT_SETTLED
        except RequestConflict as exc:
            if not _still_ours(worker, path, token):
                log.warning("%s: no longer claimed by %s (%s); nothing to run", path, token, exc)
                return EXIT_NOT_SETTLED
            time.sleep(0.1 * (attempt + 1))  # the executor wrote to it at the same moment
    else:
        log.error("%s: could not record Slurm job %s in the request; giving up", path, slurm_id)
        return EXIT_NOT_SETTLED
    log.info("%s: running as Slurm job %s (claim %s)", path, slurm_id or "-", token)
    ended = worker.execute(request)
    if ended is None:
        return EXIT_NOT_SETTLED
    log.info("%s: %s", path, ended.status.value)
    return EXIT_FINISHED if ended.status == Status.FINISHED else EXIT_FAILED


def _still_ours(worker: Worker, path: str, token: str) -> bool:
    try:
        current, _ = read_request(worker.requests, path)
    except (FileNotFoundError, ValueError):
        return False
    return current.status == Status.RUNNING and current.job_id == token
