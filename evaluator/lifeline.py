"""Ties a job's processes to the life of the worker that started them, so a killed worker leaves no job running.

Three layers, because a worker can die by SIGKILL (no handler runs) and a job can have grandchildren
(a launcher's ranks, tokenizer or data-loader workers):

1. ``die_with_parent`` runs in the child between fork and exec (``preexec_fn``): on Linux it asks the
   kernel for SIGKILL when the parent dies (``prctl(PR_SET_PDEATHSIG)``, through ctypes), and exits at once
   if the parent is already gone (the race between fork and prctl).
2. ``guard_job`` runs first thing in ``evaluator.harness`` (also under a launcher, whose ranks are the
   worker's grandchildren): a parent-death SIGTERM whose handler kills the job's whole process group, and
   a watchdog thread that does the same once the worker (``EVALUATOR_WORKER_PID``) is gone, within about
   a second (the thread acts even while the main thread sits in a long native call).
3. The job runs in its own process group (``start_new_session``), so the worker kills all of it at once
   on a timeout or a stop, and the watchdog's ``killpg`` reaches every descendant that stayed in it.

On other systems only the watchdog acts. Nothing here touches stores or imports lm_eval.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time

log = logging.getLogger(__name__)

WORKER_PID_ENV = "EVALUATOR_WORKER_PID"
_PR_SET_PDEATHSIG = 1


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent dies; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(parent_pid: int) -> None:
    """For ``preexec_fn``: the child gets SIGKILL when the worker dies (and exits if it already has)."""
    set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent_pid:
        os._exit(1)


def worker_alive(pid: int) -> bool:
    """Whether the worker process still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def guard_job(poll_s: float = 1.0) -> threading.Thread | None:
    """In the job's process: when the parent or the worker dies, kill the job's process group.

    Acts only when the worker handed down its pid (``EVALUATOR_WORKER_PID``) and the job runs in a process
    group of its own (never the worker's or a shell's). Returns the watchdog thread (a daemon), or None.
    """
    text = os.environ.get(WORKER_PID_ENV, "")
    if not text.isdigit():
        set_parent_death_signal(signal.SIGKILL)
        return None
    worker = int(text)
    try:
        shares_group = os.getpgid(worker) == os.getpgrp()
    except ProcessLookupError:
        shares_group = False
    if shares_group:
        set_parent_death_signal(signal.SIGKILL)
        return None
    signal.signal(signal.SIGTERM, lambda signum, frame: _kill_own_group())
    set_parent_death_signal(signal.SIGTERM)
    if not worker_alive(worker):
        _kill_own_group()

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if not worker_alive(worker):  # (not getppid() == 1: a worker may itself be pid 1 in a container)
                log.error("the worker (pid %d) is gone: killing this job's processes", worker)
                _kill_own_group()

    thread = threading.Thread(target=watch, name="worker-watchdog", daemon=True)
    thread.start()
    return thread


def _kill_own_group() -> None:
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(137)
