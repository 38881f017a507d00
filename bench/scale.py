"""The scale rows of the benchmark: a leaderboard of 1,000,000 evaluations x 20 benchmarks (issue 14).

``measure_scale`` writes one Parquet table in the ``wide`` layout (one row per model, one raw-score column
per benchmark: 20,000,000 scores) and a definition that names it in ``stores.tables``, then measures, each
in a fresh process with its peak RSS (VmHWM): the cold ingest (read the table, then write the persisted
index), a restart on the unchanged table (the snapshot copied in, the table not read), the first ranking
after it and a warm one, and one real page view (AppTest of pages/leaderboard.py, cold: the index comes
from the snapshot). ``python bench/run.py`` prints them as rows; ``--quick`` uses a small table.
Writes only under the folder it is given.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from bench import synthetic

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("ingest", "restart", "page")


def write_table(folder: Path, n: int, tasks: int, seed: int = 0) -> Path:
    """``n`` models x ``tasks`` raw scores as ``folder/table.parquet`` and a definition naming it
    (``folder/definition.yaml``, no results or requests store); the definition's path."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = np.arange(n)
    quality = rng.uniform(0.05, 0.95, size=n)
    task_list = synthetic.tasks(tasks)
    columns: dict[str, Any] = {
        "model": pa.array([synthetic.model_name(int(i)) for i in ids], pa.string()),
        "revision": pa.array(np.char.mod("%040x", ids).astype(object), pa.string()),
        "precision": pa.array(
            np.array(["bfloat16", "float16", "float32"], dtype=object)[ids % 3], pa.string()
        ),
    }
    for k, t in enumerate(task_list):
        raw = np.clip(t.baseline + (1 - t.baseline) * quality + rng.normal(0, 0.05, n), 0, 1)
        columns[f"score_{k:02d}"] = raw
    pq.write_table(pa.table(columns), folder / "table.parquet", row_group_size=100_000)
    data = synthetic.definition_data(tasks, "", "")
    data["stores"]["tables"] = [
        {
            "location": "table.parquet",
            "layout": "wide",
            "benchmarks": {f"b{k:02d}": f"score_{k:02d}" for k in range(tasks)},
        }
    ]
    definition = folder / "definition.yaml"
    definition.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    old = time.time() - 3600  # written a while ago: the persisted index trusts its version (racy rule)
    os.utime(folder / "table.parquet", (old, old))
    return definition


def high_water_mib() -> float:
    """Peak RSS of this process (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def probe(phase: str, definition_path: str, cache: str) -> dict[str, Any]:
    """One phase in this (fresh) process; its timings and peak RSS."""
    from lib.core.config import load_definition
    from lib.index import Index
    from lib.index.cache import IndexCache

    out: dict[str, Any] = {"rss_imports_mib": high_water_mib()}
    definition = load_definition(definition_path)
    if phase == "ingest":
        index = Index(definition, cache=False)
        t0 = time.perf_counter()
        index.refresh()
        out["ingest_s"] = time.perf_counter() - t0
        out["rss_ingest_mib"] = high_water_mib()
        snapshot = IndexCache.for_index(index, cache)
        assert snapshot is not None
        t0 = time.perf_counter()
        assert snapshot.save(index, time.time_ns()), "the snapshot could not be written"
        out["save_s"] = time.perf_counter() - t0
        out["snapshot_mib"] = snapshot.path.stat().st_size / 2**20
    elif phase == "restart":
        from bench.run import rank

        index = Index(definition, cache=cache)
        t0 = time.perf_counter()
        stats = index.refresh()
        out["restart_s"] = time.perf_counter() - t0
        out["from_snapshot"] = bool(stats.cached) and stats.parsed == 0
        t0 = time.perf_counter()
        ranked = rank(index, definition)
        out["first_rank_s"] = time.perf_counter() - t0
        out["ranked_rows"] = len(ranked)
        t0 = time.perf_counter()
        rank(index, definition)
        out["warm_rank_s"] = time.perf_counter() - t0
    else:
        from streamlit.testing.v1 import AppTest

        os.environ.update(LEADERBOARD_CONFIG=definition_path, LEADERBOARD_CACHE=cache)
        app = AppTest.from_file(str(ROOT / "pages" / "leaderboard.py"), default_timeout=600)
        t0 = time.perf_counter()
        app.run()
        out["page_s"] = time.perf_counter() - t0
        if app.exception:
            raise RuntimeError(f"the leaderboard page raised: {app.exception[0].value}")
        out["caption"] = next((c.value for c in app.caption if " rows · ranked by" in c.value), "?")
        out["grid_rows"] = len(app.dataframe[0].value) if app.dataframe else 0
    index_counts = None if phase == "page" else index.con.execute(
        "SELECT (SELECT count(*) FROM evaluations), (SELECT count(*) FROM scores)"
    ).fetchall()[0]  # fmt: skip
    if index_counts is not None:
        out["evaluations"], out["scores"] = index_counts
    out["rss_peak_mib"] = high_water_mib()
    return out


def _run_phase(phase: str, definition: Path, cache: Path) -> dict[str, Any]:
    code = (
        "import json, sys; from bench.scale import probe; "
        "print(json.dumps(probe(sys.argv[1], sys.argv[2], sys.argv[3])))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, phase, str(definition), str(cache)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"scale phase {phase} failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - t0
    return result


def measure_scale(work: Path, n: int, tasks: int) -> tuple[str, dict[str, dict[str, Any]], float]:
    """Write the table (timed apart) and run every phase; (size label, results by phase, write seconds)."""
    folder = work / "scale"
    t0 = time.perf_counter()
    definition = write_table(folder, n, tasks)
    written = time.perf_counter() - t0
    cache = folder / "cache"
    results = {phase: _run_phase(phase, definition, cache) for phase in PHASES}
    size = f"{n:,} evaluations x {tasks} benchmarks ({n * tasks:,} scores; Parquet, wide)"
    return size, results, written
