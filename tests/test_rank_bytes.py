"""The same store gives the same bytes: ``python -m lib rank --format csv`` built from the files (no
persisted index) prints identical output run after run, also when DuckDB aggregates on several threads.

A benchmark with subtasks (the demo's BBH has 24, MuSR 3, IFEval 2) is the mean of its subtasks, summed
in SQL (lib/index/sql/leaderboard_benchmarks.sql). A parallel aggregate adds in whatever order its
threads meet the rows, and floating-point addition is not associative: the last digit of a mean moved
between runs. The subtasks are now summed as exact decimals and rounded once; values too large for that
(no score is, a hostile file's may be) are still averaged, as doubles."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lib.analysis.ranking import leaderboard_frame, resolve_benchmarks
from lib.core.config import load_definition
from lib.index import build_index
from tests.factories import result_file

ROOT = Path(__file__).resolve().parents[1]
# The command line itself, with every DuckDB database it opens given 4 threads (a 1-core runner would
# otherwise aggregate on one thread, in a fixed order, and never show the problem).
RUN = (
    "import duckdb, runpy, sys\n"
    "connect = duckdb.connect\n"
    "def threaded(*args, **kwargs):\n"
    "    kwargs['config'] = {**kwargs.get('config', {}), 'threads': 4}\n"
    "    return connect(*args, **kwargs)\n"
    "duckdb.connect = threaded\n"
    "sys.argv = ['python -m lib', *sys.argv[1:]]\n"
    "runpy.run_module('lib', run_name='__main__')\n"
)


def _rank(*args: str) -> bytes:
    env = {**os.environ, "LEADERBOARD_CACHE": "off"}
    done = subprocess.run([sys.executable, "-c", RUN, "rank", *args], cwd=ROOT, env=env,
                          capture_output=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return done.stdout


@pytest.mark.parametrize("args", [("--format", "csv"), ("--format", "csv", "--raw", "--by", "bbh")])
def test_the_same_store_prints_the_same_bytes(args):
    runs = [_rank(*args) for _ in range(5)]
    assert runs[0].count(b"\n") > 100  # the demo's leaderboard, not an error or an empty table
    assert all(run == runs[0] for run in runs[1:])


MUSR = (
    "leaderboard_musr_murder_mysteries",
    "leaderboard_musr_object_placements",
    "leaderboard_musr_team_allocation",
)


def test_subtask_means_are_the_exact_mean_rounded_once_and_absurd_values_still_averaged(tmp_path):
    rng = np.random.default_rng(7)
    values = {
        f"org/m{i:02d}": tuple(float(v) for v in rng.random(3) * rng.choice((1e-6, 1.0, 1e4)))
        for i in range(40)
    }
    values |= {"org/big": (2e5, 0.4, 0.6), "org/huge": (1e300, 0.4, 0.6), "org/negative": (-3e5, 0.1, 0.1)}
    for model, triple in values.items():
        result_file(tmp_path, model, {task: {"acc_norm": v} for task, v in zip(MUSR, triple, strict=True)})
    frame = leaderboard_frame(build_index(load_definition("demo"), str(tmp_path), ""),
                              resolve_benchmarks(load_definition("demo"), ["musr"])).set_index("model")  # fmt: skip
    assert len(frame) == len(values)
    for model, triple in values.items():
        exact = math.fsum(triple) / 3  # the correctly rounded sum, then one division
        got = frame.loc[model, "musr_raw"]
        assert got == pytest.approx(exact, rel=4e-16, abs=1e-300), model  # within the last bit
        assert frame.loc[model, "musr_complete"]
