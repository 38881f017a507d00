"""Parsing many local results files at once in worker processes (the cold load of a large store).

A cold load is mostly Python work per file (JSON decoding, one record per metric), so on a machine
with several cores it is shared out. Each worker is a fresh interpreter running ``main`` here
(``python -m lib.ingest.parallel_worker``), given a folder and a list of paths on its standard input and
answering with the parsed outcomes, pickled, on its standard output. Fresh interpreters rather than
``multiprocessing``: forking the Streamlit server (which runs threads) can deadlock, and the spawn
and forkserver methods re-run the caller's main script in every worker. Workers read the files the
store's own listing returned (never following a link the listing did not accept); they never list
or write anything. Before each file a worker writes its index to its standard error, unbuffered, so
that a worker that dies is known to have died on that file.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from lib.ingest.tables import ParsedBatch, parse_batch, reason, to_tables

# Below this many files the start-up of the workers (~0.1 s each) costs more than it saves.
PARALLEL_MIN_FILES = 2000
_ROOT = Path(__file__).resolve().parents[2]
_AT = b"at "  # a worker's stderr line: the index of the file it starts reading
log = logging.getLogger(__name__)


class WorkerError(RuntimeError):
    """A worker process died or answered with something that is not a pickled list of outcomes."""


def worker_count() -> int:
    """How many worker processes a cold load uses (1: parse in this process)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def start_workers(root: str, workers: int) -> list[_Worker]:
    """Workers started before the store is listed, so that their start-up (an interpreter and its
    imports) overlaps the listing; none unless the store's top folder already holds many entries (a
    cheap guess that the listing will find ``PARALLEL_MIN_FILES`` files). Stop unused ones with
    ``stop_workers``."""
    if workers < 2:
        return []
    enough = PARALLEL_MIN_FILES // 20
    started: list[_Worker] = []
    try:
        with os.scandir(root) as entries:
            if sum(1 for _, _ in zip(range(enough), entries, strict=False)) < enough:
                return []
        for _ in range(workers):
            started.append(_Worker())
    except OSError:  # an unreadable store, or no process could be started: the listing says why
        stop_workers(started)
    return started


def stop_workers(workers: list[_Worker]) -> None:
    """Stop workers that were started and never given a job."""
    while workers:
        workers.pop().stop()


def parse_in_workers(
    root: str,
    paths: list[str],
    workers: int,
    patterns: tuple[str, ...] = (),
    progress: Callable[[int], None] | None = None,
    started: list[_Worker] | None = None,
) -> Iterator[ParsedBatch]:
    """Parsed batches covering every path: one per worker, more when a worker died.

    ``progress`` is called in the caller's thread (a Streamlit progress bar needs that) with the number
    of files the workers have read so far; each worker reports on its standard error as it goes. A
    worker that dies (killed, out of memory, crashed in C code) costs one error row naming the file it
    was reading; the other files of its share are parsed again by a fresh worker. ``started``: workers
    from ``start_workers`` to use first (taken from the list; the caller stops what is left).
    """
    size = -(-len(paths) // workers)
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    pool = started if started is not None else []
    jobs = [(pool.pop() if pool else _Worker()).assign(root, chunk, patterns) for chunk in chunks]
    try:
        while True:
            running = [job for job in jobs if not job.finished()]
            if not running:
                break
            if progress is not None:
                progress(sum(job.done for job in jobs))
            running[0].settle(0.1)  # returns as soon as that worker is done: no fixed sleep at the end
        for job in jobs:
            yield from _outcome(job, root, patterns)
    finally:
        for job in jobs:
            job.stop()


def _outcome(job: _Worker, root: str, patterns: tuple[str, ...]) -> Iterator[ParsedBatch]:
    """A finished worker's batch; when it died, a row for its file and the rest parsed again."""
    while True:
        try:
            yield job.result()
            return
        except WorkerError as exc:
            at = job.at
            if at is None or not 0 <= at < len(job.paths):  # not a file's fault: parse here instead
                log.warning("%s; parsing its %d files in this process", exc, len(job.paths))
                yield parse_batch(_read_below(root), job.paths, patterns)
                return
            culprit = job.paths[at]
            log.warning("%s while reading %s", exc, culprit)
            yield ParsedBatch(
                *to_tables([]), [(culprit, "error", reason(f"{exc} while reading this file"))], [culprit]
            )
            rest = job.paths[:at] + job.paths[at + 1 :]
            if not rest:
                return
            job = _Worker().assign(root, rest, patterns)
            job.wait()


class _Worker:
    """One ``python -m lib.ingest.parallel_worker`` process, fed its paths and read by two threads."""

    def __init__(self) -> None:
        """Start the process; it imports its modules, then waits for a job (``assign``) on stdin."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))
        self.paths: list[str] = []
        self.done = 0
        self.at: int | None = None  # the index of the file the worker is reading (or last read)
        self._out = b""
        self._err: list[str] = []
        self._process = subprocess.Popen(
            [sys.executable, "-m", "lib.ingest.parallel_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self._threads: list[threading.Thread] = []

    def assign(self, root: str, paths: list[str], patterns: tuple[str, ...]) -> _Worker:
        """Give the worker its files (once) and start reading its answer."""
        self.paths = paths
        job = json.dumps({"root": root, "paths": paths, "patterns": list(patterns)}).encode("utf-8")
        self._threads = [
            threading.Thread(target=self._feed, args=(job,), daemon=True),
            threading.Thread(target=self._read_out, daemon=True),
            threading.Thread(target=self._read_err, daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    @property
    def pid(self) -> int:
        return self._process.pid

    def _feed(self, job: bytes) -> None:
        assert self._process.stdin is not None  # started with stdin=PIPE
        try:
            self._process.stdin.write(job)
            self._process.stdin.close()
        except OSError:
            pass  # the worker died; result() reports it

    def _read_out(self) -> None:
        assert self._process.stdout is not None  # started with stdout=PIPE
        self._out = self._process.stdout.read()

    def _read_err(self) -> None:
        assert self._process.stderr is not None  # started with stderr=PIPE
        for line in self._process.stderr:
            if line.startswith(_AT):
                try:
                    self.at = int(line[len(_AT) :])
                except ValueError:
                    continue
                self.done = max(self.done, self.at)
            else:
                self._err.append(line.decode("utf-8", "replace"))
                del self._err[:-50]

    def finished(self) -> bool:
        return self._process.poll() is not None and not any(t.is_alive() for t in self._threads)

    def settle(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the process to exit and its output to be read.

        The reader threads end when the process closes its pipes (it exits): joining them wakes at
        that moment, where ``Popen.wait(timeout)`` polls with sleeps of up to 50 ms."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(max(0.0, deadline - time.monotonic()))

    def wait(self) -> None:
        self._process.wait()
        for thread in self._threads:
            thread.join()

    def result(self) -> ParsedBatch:
        self.wait()
        code = self._process.returncode
        if code != 0:
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            detail = " ".join("".join(self._err).split())[-300:]
            raise WorkerError(f"the ingest worker {how}" + (f" ({detail})" if detail else ""))
        try:
            batch = pickle.loads(self._out)  # noqa: S301 - our own child process, over a pipe
        except Exception as exc:  # noqa: BLE001 - pickle raises many kinds on a truncated stream
            self.at = None
            raise WorkerError(f"an ingest worker answered with something unreadable: {exc}") from exc
        if not isinstance(batch, ParsedBatch) or len(batch.read) + len(batch.vanished) != len(self.paths):
            self.at = None
            raise WorkerError("an ingest worker answered for a different set of files")
        return batch

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def _read_below(root: str) -> Callable[[str], bytes]:
    """Read a listed path without following a link, unless the link resolves to a file inside ``root``
    (the store's listing accepts such links; it never lists one that leaves the store)."""
    top = os.path.realpath(root)

    def read(path: str) -> bytes:
        full = os.path.join(top, path)
        try:
            fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            target = os.path.realpath(full)
            if os.path.commonpath([top, target]) != top:
                raise OSError(errno.EACCES, "a symbolic link out of the store: not read") from None
            fd = os.open(target, os.O_RDONLY)
        try:  # one read of the size fstat gives, without a buffered file object (5 us of ~13 a file)
            size = os.fstat(fd).st_size
            data = os.read(fd, size + 1)
            if len(data) == size:
                return data
            chunks = [data]  # the file grew or shrank since fstat, or a short read: read to its end
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    return read


def main() -> None:
    """A worker's work (started by lib.ingest.parallel_worker, which keeps pandas and numpy out)."""
    # Parsed JSON holds no reference cycles, and the worker exits after one batch: the cyclic garbage
    # collector would only walk the growing rows again and again (about 13% of a worker's time).
    gc.disable()
    job = json.loads(sys.stdin.buffer.read())

    def before(i: int) -> None:
        os.write(2, b"%s%d\n" % (_AT, i))  # unbuffered: the parent knows the file even after a SIGKILL

    batch = parse_batch(_read_below(job["root"]), job["paths"], tuple(job["patterns"]), before=before)
    os.write(2, b"%s-1\n" % _AT)  # every file read: a death from here on is no file's fault
    sys.stdout.buffer.write(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
