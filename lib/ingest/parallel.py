"""Parsing many local results files at once in worker processes (the cold load of a large store).

A cold load is mostly Python work per file (JSON decoding, one record per metric), so on a machine
with several cores it is shared out. Each worker is a fresh interpreter running this module
(``python -m lib.ingest.parallel``), given a folder and a list of paths on its standard input and
answering with the parsed outcomes, pickled, on its standard output. Fresh interpreters rather than
``multiprocessing``: forking the Streamlit server (which runs threads) can deadlock, and the spawn
and forkserver methods re-run the caller's main script in every worker. Workers read the files the
store's own listing returned; they never list or write anything.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from lib.ingest.tables import ParsedBatch, parse_batch

# Below this many files the start-up of the workers (~0.1 s each) costs more than it saves.
PARALLEL_MIN_FILES = 2000
_ROOT = Path(__file__).resolve().parents[2]
_PROGRESS = "progress "  # a worker's stderr line: files read so far


class WorkerError(RuntimeError):
    """A worker process died or answered with something that is not a pickled list of outcomes."""


def worker_count() -> int:
    """How many worker processes a cold load uses (1: parse in this process)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def parse_in_workers(
    root: str,
    paths: list[str],
    workers: int,
    patterns: tuple[str, ...] = (),
    progress: Callable[[int], None] | None = None,
) -> Iterator[ParsedBatch]:
    """One parsed batch per worker, in the order of ``paths``.

    ``progress`` is called in the caller's thread (a Streamlit progress bar needs that) with the number
    of files the workers have read so far; each worker reports on its standard error as it goes.
    """
    size = -(-len(paths) // workers)
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    jobs = [_Worker(root, chunk, patterns) for chunk in chunks]
    try:
        while not all(job.finished() for job in jobs):
            if progress is not None:
                progress(sum(job.done for job in jobs))
            time.sleep(0.1)
        for job in jobs:
            yield job.result()
    finally:
        for job in jobs:
            job.stop()


class _Worker:
    """One ``python -m lib.ingest.parallel`` process, fed its paths and read by two threads."""

    def __init__(self, root: str, paths: list[str], patterns: tuple[str, ...]) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))
        self.paths = paths
        self.done = 0
        self._out = b""
        self._err: list[str] = []
        self._process = subprocess.Popen(
            [sys.executable, "-m", "lib.ingest.parallel"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        job = json.dumps({"root": root, "paths": paths, "patterns": list(patterns)}).encode("utf-8")
        self._threads = [
            threading.Thread(target=self._feed, args=(job,), daemon=True),
            threading.Thread(target=self._read_out, daemon=True),
            threading.Thread(target=self._read_err, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _feed(self, job: bytes) -> None:
        try:
            self._process.stdin.write(job)
            self._process.stdin.close()
        except OSError:
            pass  # the worker died; result() reports it

    def _read_out(self) -> None:
        self._out = self._process.stdout.read()

    def _read_err(self) -> None:
        for line in self._process.stderr:
            text = line.decode("utf-8", "replace")
            if text.startswith(_PROGRESS):
                self.done = int(text[len(_PROGRESS) :])
            else:
                self._err.append(text)

    def finished(self) -> bool:
        return self._process.poll() is not None and not any(t.is_alive() for t in self._threads)

    def result(self) -> ParsedBatch:
        code = self._process.wait()
        for thread in self._threads:
            thread.join()
        if code != 0:
            raise WorkerError(f"an ingest worker exited with code {code}: {''.join(self._err)[-2000:]}")
        try:
            batch = pickle.loads(self._out)  # noqa: S301 - our own child process, over a pipe
        except (pickle.UnpicklingError, EOFError) as exc:
            raise WorkerError(f"an ingest worker answered with something unreadable: {exc}") from exc
        if not isinstance(batch, ParsedBatch) or len(batch.read) + len(batch.vanished) != len(self.paths):
            raise WorkerError("an ingest worker answered for a different set of files")
        return batch

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def _read_below(root: str) -> Callable[[str], bytes]:
    def read(path: str) -> bytes:
        with open(os.path.join(root, path), "rb") as handle:
            return handle.read()

    return read


def main() -> None:
    job = json.loads(sys.stdin.buffer.read())

    def report(done: int) -> None:
        print(f"{_PROGRESS}{done}", file=sys.stderr, flush=True)

    batch = parse_batch(_read_below(job["root"]), job["paths"], tuple(job["patterns"]), report)
    sys.stdout.buffer.write(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    main()
