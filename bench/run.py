"""The performance benchmark: every measurement of docs/performance.md in one run, as a Markdown table.

    python bench/run.py [--quick] [--out bench/out] [--profile]

Generates synthetic stores in a temporary folder (bench/synthetic.py), then measures cold ingest,
refresh, ranking at 100,000 evaluations, the leaderboard page's reruns (AppTest), peak memory, the
template's json.load + pandas baseline, and the checkpoint table and figure. ``--quick`` uses tiny
sizes so CI can smoke-test the whole run in seconds; its figures mean nothing. Timings are medians of
the repeats shown; a slow measurement stops repeating once its time budget is spent. This module
never touches a real store and asserts nothing about time: the table says which target is met.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/run.py`
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from bench import synthetic  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is, and how many times it repeats."""

    ingest_files: int = 10_000
    tasks: int = 20
    ingest_repeats: int = 3
    refresh_files: int = 10
    refresh_repeats: int = 5
    ranking_evaluations: int = 100_000
    ranking_repeats: int = 5
    page_reruns: int = 4
    trainings: int = 1_000
    checkpoints: int = 200
    checkpoint_metrics: int = 10
    curves: int = 20
    checkpoint_repeats: int = 7
    peer_models: int = 5_000
    peer_repeats: int = 5
    restart_evaluations: int = 100_000  # the big restart store: this many result files and requests
    restart_repeats: int = 3
    scale_evaluations: int = 1_000_000  # the scale rows: one table source of this many rows (bench/scale.py)
    budget_s: float = 40.0  # a measurement stops repeating after this long (it always runs once)


FULL = Sizes()
QUICK = Sizes(
    ingest_files=120, ingest_repeats=2, refresh_repeats=2, ranking_evaluations=500, ranking_repeats=2,
    page_reruns=1, trainings=12, checkpoints=15, checkpoint_metrics=4, curves=5, checkpoint_repeats=2,
    peer_models=40, peer_repeats=1, restart_evaluations=150, restart_repeats=1, scale_evaluations=2_000, budget_s=5.0,
)  # fmt: skip

# The scale rows (bench/scale.py): a 1,000,000-row table source, each phase in a fresh process.
SCALE_ROWS = (
    "scale: cold ingest of one table source, then its snapshot (fresh process)",
    "scale: peak memory of the cold ingest (RSS)",
    "scale: restart with the persisted index (fresh process)",
    "scale: first ranking after the restart (leaderboard_frame + rank_frame)",
    "scale: warm ranking",
    "scale: peak memory of the restart and rankings (RSS)",
    "scale: leaderboard page view, new process (AppTest, persisted index)",
    "scale: peak memory of the page view (RSS)",
)
# Every row the report has, in order (tests/test_bench.py checks them all).
MULTIPLES_ROW = "checkpoint small multiples: 3 panels, grouped, load + builders + JSON"
APP_RESTART_ROW = "restart at 100,000 evaluations: the app's new process to a ranked table (snapshot first)"
ROWS = (
    "write synthetic store",
    "cold ingest",
    "bare json.load loop over the same files",
    "cold ingest / json.load loop",
    "refresh after new files",
    "ranking at ingest size, first after a data change",
    "ranking as a control reruns it (build_table + the grid's rows)",
    "the same, every row ordered by model name (Order all rows by)",
    "every row in rank order (leaderboard_frame + rank_frame)",
    "ranking, first after a data change (SQL + score matrix)",
    "peak memory of cold ingest (RSS)",
    "peak Python heap of cold ingest (tracemalloc)",
    "baseline: json.load + pandas pivot + average",
    "ours (cold ingest + ranking) / baseline",
    "page cold run (AppTest)",
    "page rerun after typing a search",
    "page rerun after toggling raw/normalized",
    "best-checkpoint table (checkpoint_table)",
    "checkpoint figure: load + best + builders + JSON",
    "checkpoint figure: builders + JSON only",
    "restart: python -m lib rank, persisted index",
    "restart: python -m lib rank, no persisted index",
    APP_RESTART_ROW,
    "restart at 100,000 evaluations: python -m lib rank, persisted index",
    "restart at 100,000 evaluations: python -m lib rank, no persisted index",
    "template peer: whole process (walk, json.load, glob requests, pandas)",
    "ours (python -m lib rank, restart) / template peer",
    "ours (python -m lib rank, no persisted index) / template peer",
    MULTIPLES_ROW,
    *SCALE_ROWS,
)


@dataclass(frozen=True)
class Row:
    """One line of the report."""

    name: str
    size: str
    value: float
    unit: str
    repeats: int
    target: float | None = None  # in ``unit``; the value must be below it
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "—"
        return "met" if self.value < self.target else "**missed**"


@dataclass
class Timing:
    """Seconds of each repeat of one measurement."""

    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def timed(
    fn: Callable[[], Any], repeats: int, budget_s: float, setup: Callable[[], Any] | None = None
) -> Timing:
    """Run ``fn`` up to ``repeats`` times (``setup`` untimed before each), stopping once ``budget_s`` is spent."""
    seconds: list[float] = []
    started = time.perf_counter()
    while len(seconds) < repeats and (not seconds or time.perf_counter() - started < budget_s):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t0)
    return Timing(seconds)


# ------------------------------------------------------------------------------------------ ingest
def counts(index: Any) -> dict[str, int]:
    """Rows in the index's tables. (Not ``Index.counts``: with DuckDB 2.0 its ``fetchone`` leaves the
    result unfinished, and the next ``register`` of a refresh fails with ResourceInUseException.)"""
    with index._lock:
        row = index.con.execute(
            "SELECT (SELECT count(*) FROM evaluations), (SELECT count(*) FROM scores)"
        ).fetchall()[0]
    return {"evaluations": row[0], "scores": row[1]}


@dataclass
class Context:
    """What the measurements share: the sizes, the work folder, the stores and the definition."""

    sizes: Sizes
    work: Path
    profile_dir: Path | None = None

    @property
    def results(self) -> Path:
        return self.work / "results"

    @property
    def requests(self) -> Path:
        return self.work / "requests"

    @property
    def definition_path(self) -> Path:
        return self.work / "definition.yaml"


def measure_ingest(ctx: Context) -> tuple[list[Row], Any, float]:
    """Write the store, then time build_index over it; returns rows, the last index and its median."""
    from lib.index import build_index

    s = ctx.sizes
    t0 = time.perf_counter()
    synthetic.write_results(ctx.results, 0, s.ingest_files, s.tasks)
    written = time.perf_counter() - t0
    definition = synthetic.write_definition(ctx.definition_path, s.tasks, ctx.results, ctx.requests)
    holder: dict[str, Any] = {}

    def ingest() -> None:
        holder["index"] = build_index(definition, str(ctx.results), "")

    loop_s: list[float] = []

    def loop_then_ingest() -> None:  # interleaved: the machine's load hits both alike
        t0 = time.perf_counter()
        json_load_loop(ctx.results)
        loop_s.append(time.perf_counter() - t0)

    timing = timed(ingest, s.ingest_repeats, s.budget_s, setup=loop_then_ingest)
    index = holder["index"]
    loop_median = statistics.median(loop_s)
    loaded = counts(index)
    assert loaded["evaluations"] == s.ingest_files, loaded
    _profile(ctx, "ingest", ingest)
    size = f"{s.ingest_files:,} files x {s.tasks} tasks"
    rows = [
        Row("write synthetic store", size, written, "s", 1, None, "setup, not a target: generate and write the files"),
        Row("cold ingest", size, timing.median, "s", len(timing.seconds), 3.0,
            f"build_index(definition, results, ''); {loaded['scores']:,} score rows; files in the OS page cache; "
            "runs: " + ", ".join(f"{x:.2f}" for x in timing.seconds) + " s"),
        Row("bare json.load loop over the same files", size, loop_median, "s", len(loop_s), None,
            "the floor: sorted rglob, then json.load of each file (standard library, one process), nothing kept; "
            "runs: " + ", ".join(f"{x:.2f}" for x in loop_s) + " s"),
        Row("cold ingest / json.load loop", size, timing.median / loop_median, "x", len(loop_s), 1.3,
            f"{timing.median:.2f} s / {loop_median:.2f} s, each repeat a loop then an ingest (interleaved); "
            f"per pair: " + ", ".join(f"{a / b:.2f}" for a, b in zip(timing.seconds, loop_s, strict=True))),
    ]  # fmt: skip
    return rows, index, timing.median


def json_load_loop(results: Path) -> int:
    """The floor a cold ingest is compared with: list the store and ``json.load`` every file."""
    n = 0
    for path in sorted(results.rglob("*.json")):
        with open(path, encoding="utf-8") as handle:
            json.load(handle)
        n += 1
    return n


def measure_refresh(ctx: Context, index: Any) -> list[Row]:
    """Add ``refresh_files`` new files before each repeat and time ``index.refresh()``."""
    s = ctx.sizes
    state = {"next": s.ingest_files, "parsed": []}

    def add_files() -> None:
        synthetic.write_results(ctx.results, state["next"], s.refresh_files, s.tasks)
        state["next"] += s.refresh_files

    def refresh() -> None:
        state["parsed"].append(index.refresh().parsed)

    timing = timed(refresh, s.refresh_repeats, s.budget_s, setup=add_files)
    assert all(p == s.refresh_files for p in state["parsed"]), state["parsed"]
    return [
        Row("refresh after new files", f"{s.refresh_files} new files in ~{s.ingest_files:,}", timing.median, "s",
            len(timing.seconds), 0.3, "index.refresh(): lists the store, parses only the new files"),
    ]  # fmt: skip


def rank(index: Any, definition: Any) -> pd.DataFrame:
    """What the leaderboard computes for its default view: the frame, then the ranking."""
    from lib.analysis.ranking import leaderboard_frame, rank_frame, rank_key

    frame = leaderboard_frame(index, definition.benchmarks)
    return rank_frame(frame, rank_key(definition.benchmarks))


def rank_cold(index: Any, definition: Any) -> pd.DataFrame:
    """The ranking as the first view after new data sees it: the remembered score matrix is dropped."""
    index.generation += 1  # what a refresh that read a changed file does
    return rank(index, definition)


def measure_ranking_at_ingest_size(ctx: Context, index: Any) -> tuple[list[Row], float]:
    s = ctx.sizes
    timing = timed(lambda: rank_cold(index, index.definition), s.ranking_repeats, s.budget_s)
    n = counts(index)["evaluations"]
    row = Row("ranking at ingest size, first after a data change", f"{n:,} evaluations x {s.tasks} benchmarks", timing.median, "s", len(timing.seconds),
              None, "the ranking half of the baseline comparison: SQL, score matrix, weights, ranks")  # fmt: skip
    return [row], timing.median


def measure_ranking(ctx: Context) -> list[Row]:
    """Ranking over an index filled directly in DuckDB (writing 100,000 files would time the disk)."""
    from lib.analysis.leaderboard import LeaderboardView, build_table, unfiltered_frame

    s = ctx.sizes
    definition = synthetic.write_definition(ctx.work / "ranking.yaml", s.tasks)
    index = synthetic.empty_index(definition, ctx.work / "ranking")
    synthetic.fill_leaderboard_index(index, s.ranking_evaluations, s.tasks)
    ranked = rank(index, definition)
    assert len(ranked) == s.ranking_evaluations and ranked["average"].notna().all()
    base = unfiltered_frame(index, definition, LeaderboardView())  # what the page keeps between reruns

    def control() -> None:
        build_table(index, definition, LeaderboardView(), base).head(1000)

    page = timed(control, s.ranking_repeats, s.budget_s)
    by_name = LeaderboardView(order_by="model", descending=False)
    ordered = timed(
        lambda: build_table(index, definition, by_name, base).head(1000), s.ranking_repeats, s.budget_s
    )
    timing = timed(lambda: rank(index, definition), s.ranking_repeats, s.budget_s)
    cold = timed(lambda: rank_cold(index, definition), s.ranking_repeats, s.budget_s)
    _profile(ctx, "ranking", lambda: rank_cold(index, definition))
    n_scores = counts(index)["scores"]
    index.con.close()
    size = f"{s.ranking_evaluations:,} evaluations x {s.tasks} benchmarks ({n_scores:,} score rows)"
    return [
        Row("ranking as a control reruns it (build_table + the grid's rows)", size, page.median * 1000, "ms",
            len(page.seconds), 100.0,
            "what the leaderboard runs on each search, filter, raw/normalized or rank-by: filters, ranks and the "
            "statistical ranks over every row, then the first 1,000 rows copied for the grid, from the frame "
            "kept for this index generation; runs: " + ", ".join(f"{x * 1000:,.0f}" for x in page.seconds) + " ms"),
        Row("the same, every row ordered by model name (Order all rows by)", size, ordered.median * 1000, "ms",
            len(ordered.seconds), None,
            "the ranking above, then every row of the view sorted by its model name without regard to case "
            "(the costliest order: text); runs: " + ", ".join(f"{x * 1000:,.0f}" for x in ordered.seconds) + " ms"),
        Row("every row in rank order (leaderboard_frame + rank_frame)", size, timing.median * 1000, "ms",
            len(timing.seconds), None,
            "the whole ranked frame, every column of every row copied in rank order (the CLI, downloads); the "
            "score matrix remembered for this index generation; runs: "
            + ", ".join(f"{x * 1000:,.0f}" for x in timing.seconds) + " ms"),
        Row("ranking, first after a data change (SQL + score matrix)", size, cold.median * 1000, "ms", len(cold.seconds), None,
            "once per data change: the SQL of lib/index/sql/leaderboard_*.sql and the long-to-wide step; runs: "
            + ", ".join(f"{x * 1000:,.0f}" for x in cold.seconds) + " ms"),
    ]  # fmt: skip


# ------------------------------------------------------------------------------------------ memory
def memory_probe(results: str, definition_path: str, traced: bool) -> dict[str, float]:
    """In a fresh process: RSS after imports, then peak RSS (or tracemalloc peak) of one cold ingest."""
    import tracemalloc

    from lib.core.config import load_definition
    from lib.index import build_index

    definition = load_definition(definition_path)
    before = _high_water_mib()
    if traced:
        tracemalloc.start()
    index = build_index(definition, results, "")
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else 0.0
    after = _high_water_mib()
    return {"rss_before_mib": before, "rss_peak_mib": after, "heap_peak_mib": peak, **counts(index)}


def _high_water_mib() -> float:
    """Peak RSS of this process: VmHWM (ru_maxrss survives exec, so a child would report its parent's)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _probe_in_subprocess(ctx: Context, traced: bool) -> dict[str, float]:
    code = (
        "import json, sys; from bench.run import memory_probe; "
        "print(json.dumps(memory_probe(sys.argv[1], sys.argv[2], sys.argv[3] == '1')))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(ctx.results), str(ctx.definition_path), "1" if traced else "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_memory(ctx: Context) -> list[Row]:
    """Two fresh processes: one untraced for peak RSS (DuckDB included), one under tracemalloc."""
    plain = _probe_in_subprocess(ctx, traced=False)
    traced = _probe_in_subprocess(ctx, traced=True)
    size = f"{int(plain['evaluations']):,} files"
    return [
        Row("peak memory of cold ingest (RSS)", size, plain["rss_peak_mib"], "MiB", 1, None,
            f"peak RSS (VmHWM) of a fresh process; {plain['rss_before_mib']:.0f} MiB of it is the interpreter and "
            f"imports, so the ingest adds ~{plain['rss_peak_mib'] - plain['rss_before_mib']:.0f} MiB"),
        Row("peak Python heap of cold ingest (tracemalloc)", size, traced["heap_peak_mib"], "MiB", 1, None,
            "Python objects only (DuckDB's own memory is not traced)"),
    ]  # fmt: skip


# ------------------------------------------------------------------------------------------ baseline
def template_baseline(results: Path, definition: Any) -> pd.DataFrame:
    """What the template's front end does: json.load every file, a pandas pivot, a plain average."""
    wanted = {(c.task, f"{c.metric},none"): b.id for b in definition.benchmarks for c in b.components}
    records = []
    for path in sorted(results.rglob("*.json")):
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        model = data["config"]["model_args"]["pretrained"]
        for task, metrics in data["results"].items():
            for key, value in metrics.items():
                bench = wanted.get((task, key))
                if bench is not None:
                    records.append({"model": model, "benchmark": bench, "value": value * 100})
    frame = pd.DataFrame.from_records(records)
    table = frame.pivot_table(index="model", columns="benchmark", values="value", aggfunc="first")
    table["average"] = table.mean(axis=1)
    return table.sort_values("average", ascending=False)


def measure_baseline(ctx: Context, ours_s: float) -> list[Row]:
    s = ctx.sizes
    from lib.core.config import load_definition

    definition = load_definition(ctx.definition_path)
    n_files = sum(1 for _ in ctx.results.rglob("*.json"))
    timing = timed(lambda: template_baseline(ctx.results, definition), s.ingest_repeats, s.budget_s)
    return [
        Row("baseline: json.load + pandas pivot + average", f"{n_files:,} files", timing.median, "s", len(timing.seconds), None,
            "no normalization, stderr, n-shot check, request join or statistical rank"),
        Row("ours (cold ingest + ranking) / baseline", f"{n_files:,} files", ours_s / timing.median, "x", 1, None,
            f"{ours_s:.2f} s / {timing.median:.2f} s (below 1: we are faster)"),
    ]  # fmt: skip


# ------------------------------------------------------------------------------------------ page
@contextmanager
def _page_environment(ctx: Context) -> Iterator[None]:
    """Point the app at the synthetic stores."""
    saved = {
        k: os.environ.get(k) for k in ("LEADERBOARD_CONFIG", "LEADERBOARD_RESULTS", "LEADERBOARD_REQUESTS")
    }
    os.environ["LEADERBOARD_CONFIG"] = str(ctx.definition_path)
    os.environ["LEADERBOARD_RESULTS"] = str(ctx.results)
    os.environ["LEADERBOARD_REQUESTS"] = str(ctx.requests)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _caption_rows(app: Any) -> str:
    for caption in app.caption:
        if " rows · ranked by" in caption.value:
            return caption.value.split(" · ")[0]
    return "?"


def measure_page(ctx: Context) -> list[Row]:
    """AppTest of pages/leaderboard.py over the ingested store (with one request per model)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    s = ctx.sizes
    n_models = sum(1 for _ in ctx.results.rglob("*.json"))
    synthetic.write_requests(ctx.requests, n_models)
    st.cache_data.clear()
    st.cache_resource.clear()
    searches = ["model-0012", "org42", "@precision:bfloat16", "model-0001; org07", "org13 @license:mit"]
    with _page_environment(ctx):
        app = AppTest.from_file(str(ROOT / "pages" / "leaderboard.py"), default_timeout=600)
        t0 = time.perf_counter()
        app.run()
        cold = time.perf_counter() - t0
        _check_app(app)
        full = _caption_rows(app)
        search_s, shown = [], []
        for i in range(max(1, s.page_reruns)):
            query = searches[i % len(searches)]
            t0 = time.perf_counter()
            app.text_input[0].input(query).run()
            search_s.append(time.perf_counter() - t0)
            _check_app(app)
            shown.append(f"'{query}': {_caption_rows(app)}")
        app.text_input[0].input("").run()
        toggle_s = []
        for i in range(max(1, s.page_reruns)):
            t0 = time.perf_counter()
            app.segmented_control[0].set_value("raw" if i % 2 == 0 else "normalized").run()
            toggle_s.append(time.perf_counter() - t0)
            _check_app(app)
    st.cache_data.clear()
    st.cache_resource.clear()
    size = f"{n_models:,} evaluations, {n_models:,} requests"
    return [
        Row("page cold run (AppTest)", size, cold, "s", 1, None, f"reads every file and request; shows {full}"),
        Row("page rerun after typing a search", size, statistics.median(search_s), "s", len(search_s), 1.5, "; ".join(shown[:3])),
        Row("page rerun after toggling raw/normalized", size, statistics.median(toggle_s), "s", len(toggle_s), 1.5,
            "the cached frame is reused; filter, rank, display and serialize rerun"),
    ]  # fmt: skip


def _check_app(app: Any) -> None:
    if app.exception:
        raise RuntimeError(f"the leaderboard page raised: {app.exception[0].value}")


# ------------------------------------------------------------------------------------------ checkpoints
def measure_checkpoints(ctx: Context) -> list[Row]:
    """Best-checkpoint table and figure over an index filled directly with checkpoint evaluations."""
    import plotly.io

    from lib.analysis.checkpoints import best_checkpoints, checkpoint_table, load_series
    from lib.views.checkpoint_charts import curve_frame
    from lib.views.checkpoint_panels import build_panel, checkpoints_figure, panels_figure

    s = ctx.sizes
    definition = synthetic.write_definition(ctx.work / "checkpoints.yaml", 2)
    index = synthetic.empty_index(definition, ctx.work / "checkpoints")
    synthetic.fill_checkpoint_index(index, s.trainings, s.checkpoints, s.checkpoint_metrics)
    task, metric = synthetic.checkpoint_tasks(s.checkpoint_metrics)[0][:2]

    def table() -> pd.DataFrame:
        return checkpoint_table(index, task, metric)

    best = table()
    assert len(best) == s.trainings, len(best)
    table_t = timed(table, s.checkpoint_repeats, s.budget_s)
    reference_t = timed(
        lambda: best_checkpoints(load_series(index, task, metric)), min(3, s.checkpoint_repeats), s.budget_s
    )
    chosen = [synthetic.training_name(t) for t in range(s.curves)]
    frame = load_series(index, task, metric, chosen)
    curves_best = best_checkpoints(frame)

    def builders() -> str:
        figure = checkpoints_figure(curve_frame(frame), curves_best, "step", False, None, metric)
        return plotly.io.to_json(figure, validate=False)  # what st.plotly_chart sends

    def whole() -> str:
        loaded = load_series(index, task, metric, chosen)
        figure = checkpoints_figure(
            curve_frame(loaded), best_checkpoints(loaded), "step", False, None, metric
        )
        return plotly.io.to_json(figure, validate=False)

    three = synthetic.checkpoint_tasks(s.checkpoint_metrics)[:3]
    groups = {name: f"recipe {i // 4}" for i, name in enumerate(chosen)}  # seeds of one recipe, 4 each

    def panels() -> str:
        built = [
            build_panel(load_series(index, t, m, chosen), f"{t} {m}", groups=groups) for t, m, _, _ in three
        ]
        return plotly.io.to_json(panels_figure([b.panel for b in built]), validate=False)

    multiples = json.loads(panels())
    assert len([k for k in multiples["layout"] if k.startswith("yaxis")]) == len(three)
    panels_t = timed(panels, s.checkpoint_repeats, s.budget_s)
    spec = json.loads(whole())
    lines = [t for t in spec["data"] if t.get("mode") == "lines"]
    assert len(lines) == s.curves, len(lines)
    whole_t = timed(whole, s.checkpoint_repeats, s.budget_s)
    builders_t = timed(builders, s.checkpoint_repeats, s.budget_s)
    _profile(ctx, "checkpoint_table", table)
    n_scores = counts(index)["scores"]
    index.con.close()
    size = f"{s.trainings:,} trainings x {s.checkpoints} checkpoints x {s.checkpoint_metrics} metrics"
    curves = f"{s.curves} curves x {s.checkpoints} points"
    return [
        Row("best-checkpoint table (checkpoint_table)", f"{size} ({n_scores:,} score rows)", table_t.median * 1000, "ms", len(table_t.seconds),
            100.0, f"one task+metric: {len(best):,} trainings in the table; SQL picks best and final "
            f"(checkpoint_best.sql); the pandas reference load_series + best_checkpoints takes "
            f"{reference_t.median * 1000:,.0f} ms"),
        Row("checkpoint figure: load + best + builders + JSON", curves, whole_t.median * 1000, "ms", len(whole_t.seconds), 1000.0,
            "server time of the figure: query, best points, curve_frame, checkpoints_figure, plotly JSON"),
        Row("checkpoint figure: builders + JSON only", curves, builders_t.median * 1000, "ms", len(builders_t.seconds), None,
            "lib.views.checkpoint_charts alone, data already loaded"),
        Row(MULTIPLES_ROW, f"{len(three)} x {curves}", panels_t.median * 1000, "ms", len(panels_t.seconds), 1000.0,
            f"server time of the Checkpoints page's small multiples: per panel load_series + build_panel "
            f"(best points, curve_frame, group mean and band of {len(set(groups.values()))} groups), "
            "then panels_figure and plotly JSON"),
    ]  # fmt: skip


# ------------------------------------------------------------------------------------------ scale
def measure_scale(ctx: Context) -> list[Row]:
    """bench/scale.py: cold ingest, restart, rankings and a page view of a 1,000,000-row table source,
    each phase in a fresh process with its peak RSS; the target of a peak is the machine's memory."""
    from bench import scale

    size, r, written = scale.measure_scale(ctx.work, ctx.sizes.scale_evaluations, ctx.sizes.tasks)
    ingest, restart, page = r["ingest"], r["restart"], r["page"]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20
    within = f"the machine has {memory / 1024:.0f} GiB"
    return [
        Row(SCALE_ROWS[0], size, ingest["ingest_s"] + ingest["save_s"], "s", 1, None,
            f"DuckDB's Parquet reader, columns mapped in Arrow and SQL (lib/index/table_sources.py): read "
            f"{ingest['ingest_s']:.1f} s, snapshot written {ingest['save_s']:.1f} s ({ingest['snapshot_mib']:,.0f} "
            f"MiB); {ingest['scores']:,} score rows; the table took {written:.0f} s to write (not timed)"),
        Row(SCALE_ROWS[1], size, ingest["rss_peak_mib"], "MiB", 1, memory,
            f"VmHWM of the ingest process ({ingest['rss_imports_mib']:.0f} MiB after imports); {within}"),
        Row(SCALE_ROWS[2], size, restart["restart_s"], "s", 1, None,
            "Index.refresh in a new process: the snapshot opened in place (every block read once, not copied), the unchanged table not read"
            + ("" if restart["from_snapshot"] else " (NOT from the snapshot: the table was read again)")),
        Row(SCALE_ROWS[3], size, restart["first_rank_s"], "s", 1, None,
            f"SQL + score matrix + ranks over {restart['ranked_rows']:,} rows, once per data change"),
        Row(SCALE_ROWS[4], size, restart["warm_rank_s"], "s", 1, None,
            "the score matrix remembered for this index generation"),
        Row(SCALE_ROWS[5], size, restart["rss_peak_mib"], "MiB", 1, memory, f"VmHWM of that process; {within}"),
        Row(SCALE_ROWS[6], size, page["page_s"], "s", 1, None,
            f"pages/leaderboard.py's first run in a new process (index from the snapshot, first ranking, "
            f"the grid's first {page['grid_rows']:,} rows); whole process {page['process_s']:.0f} s; "
            f"shows \"{page['caption'].split(' · ')[0]}\""),
        Row(SCALE_ROWS[7], size, page["rss_peak_mib"], "MiB", 1, memory, f"VmHWM of that process; {within}"),
    ]  # fmt: skip


# ------------------------------------------------------------------------------------------ processes
def _process_seconds(command: list[str], env: dict[str, str]) -> float:
    """Wall time of a whole process (start, imports, load, output), its output discarded."""
    t0 = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=True, timeout=600)
    return time.perf_counter() - t0


def _app_restart(definition: Path, env: dict[str, str]) -> dict[str, float]:
    """``bench/app_restart.py`` in a fresh process: its phases in seconds."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "app_restart.py"), str(definition)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def _age_files(folder: Path) -> None:
    """Files written a while ago, as in a real store: a file written this instant is re-read on a
    restart however it is cached (lib/index/cache.py, the racy rule)."""
    old = time.time() - 3600
    for path in folder.rglob("*.json"):
        os.utime(path, (old, old))


def measure_restart(ctx: Context) -> list[Row]:
    """``python -m lib rank`` as a new process on the ingest store: with a persisted index, and without."""
    s = ctx.sizes
    _age_files(ctx.work)
    cache = ctx.work / "restart-cache"
    base = [sys.executable, "-m", "lib", "rank", "--config", str(ctx.definition_path)]
    base += ["--results", str(ctx.results), "--requests", str(ctx.requests), "--format", "csv"]
    warm_env = {**os.environ, "PYTHONPATH": str(ROOT), "LEADERBOARD_CACHE": str(cache)}
    cold_env = {**warm_env, "LEADERBOARD_CACHE": "off"}
    _process_seconds(base, warm_env)  # writes the snapshot
    warm, cold = [], []
    for _ in range(max(1, s.peer_repeats)):  # interleaved: the machine's load hits both alike
        warm.append(_process_seconds(base, warm_env))
        cold.append(_process_seconds(base, cold_env))
    n = sum(1 for _ in ctx.results.rglob("*.json"))
    size = f"{n:,} evaluations + {n:,} requests"
    return [
        Row("restart: python -m lib rank, persisted index", size, statistics.median(warm), "s", len(warm), 1.5,
            "a new process on an unchanged store: opens the snapshot, lists the stores, ranks, prints CSV; "
            "runs: " + ", ".join(f"{x:.2f}" for x in warm) + " s"),
        Row("restart: python -m lib rank, no persisted index", size, statistics.median(cold), "s", len(cold), None,
            "LEADERBOARD_CACHE=off: parses every file; runs: " + ", ".join(f"{x:.2f}" for x in cold) + " s"),
    ]  # fmt: skip


def measure_big_restart(ctx: Context) -> list[Row]:
    """The restart rows again on a store of ``restart_evaluations`` result files and as many requests
    (written here, not timed): the issue's "a restart at 100,000 evaluations reaches a ranked table"."""
    s = ctx.sizes
    folder = ctx.work / "big"
    t0 = time.perf_counter()
    synthetic.write_results(folder / "results", 0, s.restart_evaluations, s.tasks)
    synthetic.write_requests(folder / "requests", s.restart_evaluations)
    synthetic.write_definition(folder / "definition.yaml", s.tasks, folder / "results", folder / "requests")
    written = time.perf_counter() - t0
    _age_files(folder)
    base = [sys.executable, "-m", "lib", "rank", "--config", str(folder / "definition.yaml")]
    base += ["--format", "csv"]
    warm_env = {**os.environ, "PYTHONPATH": str(ROOT), "LEADERBOARD_CACHE": str(folder / "cache")}
    cold_env = {**warm_env, "LEADERBOARD_CACHE": "off"}
    first = _process_seconds(base, warm_env)  # a cold start that writes the snapshot
    warm = [_process_seconds(base, warm_env) for _ in range(max(1, s.restart_repeats))]
    cold = [first] + ([_process_seconds(base, cold_env)] if s.restart_repeats > 1 else [])
    app = [_app_restart(folder / "definition.yaml", warm_env) for _ in range(max(1, s.restart_repeats))]
    size = f"{s.restart_evaluations:,} evaluations + {s.restart_evaluations:,} requests"
    name = "restart at 100,000 evaluations: python -m lib rank"
    to_table = [a["to_table"] for a in app]
    phases = {
        k: statistics.median(a[k] for a in app)
        for k in ("imports", "open_snapshot", "ranked_and_shaped", "check_after")
    }
    return [
        Row(APP_RESTART_ROW, size,
            statistics.median(to_table), "s", len(app), 1.5,
            "bench/app_restart.py, fresh process, Streamlit imported before (a restarted server's): the app's modules "
            f"{phases['imports']:.2f} s, Index.open_snapshot {phases['open_snapshot']:.2f} s, default view ranked and its "
            f"first 1,000 rows shaped {phases['ranked_and_shaped']:.2f} s; then the check of the stores under the drawn "
            f"table {phases['check_after']:.2f} s; {int(app[0]['rows']):,} rows; runs: "
            + ", ".join(f"{x:.2f}" for x in to_table) + " s"),
        Row(f"{name}, persisted index", size, statistics.median(warm), "s", len(warm), 1.5,
            "whole process: imports, snapshot opened in place (checked, not copied) while both stores are listed "
            "(every file stat-ed; folders unchanged since the snapshot not read again), first ranking "
            "(its score matrix read from beside the snapshot), CSV of every row to /dev/null; runs: " + ", ".join(f"{x:.2f}" for x in warm)
            + f" s; the store took {written:.0f} s to write (not timed)"),
        Row(f"{name}, no persisted index", size, statistics.median(cold), "s", len(cold), None,
            "parses every file and request; the first run also writes the snapshot; runs: "
            + ", ".join(f"{x:.2f}" for x in cold) + " s"),
    ]  # fmt: skip


def measure_peer(ctx: Context) -> list[Row]:
    """Whole processes on a store in the template's layout: the template's loader vs ``python -m lib rank``."""
    from bench import template_peer

    s = ctx.sizes
    results, requests, definition = template_peer.write_store(ctx.work / "peer", s.peer_models)
    _age_files(ctx.work / "peer")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LEADERBOARD_CACHE": str(ctx.work / "peer-cache")}
    cold_env = {**env, "LEADERBOARD_CACHE": "off"}
    ours = [sys.executable, "-m", "lib", "rank", "--config", str(definition), "--format", "csv"]
    peer = [sys.executable, str(ROOT / "bench" / "template_peer.py"), str(results), str(requests)]
    _process_seconds(ours, env)  # writes the snapshot
    peer_s, warm_s, cold_s = [], [], []
    for _ in range(max(1, s.peer_repeats)):  # interleaved
        peer_s.append(_process_seconds(peer, env))
        warm_s.append(_process_seconds(ours, env))
        cold_s.append(_process_seconds(ours, cold_env))
    p, w, c = (statistics.median(x) for x in (peer_s, warm_s, cold_s))
    size = f"{s.peer_models:,} models x {template_peer.N_TASKS} tasks, template layout, one request each"
    return [
        Row("template peer: whole process (walk, json.load, glob requests, pandas)", size, p, "s", len(peer_s), None,
            "bench/template_peer.py (no Hub call per model, which the template makes); runs: "
            + ", ".join(f"{x:.2f}" for x in peer_s) + " s"),
        Row("ours (python -m lib rank, restart) / template peer", size, w / p, "x", len(warm_s), 0.5,
            f"{w:.2f} s / {p:.2f} s; ours: " + ", ".join(f"{x:.2f}" for x in warm_s) + " s"),
        Row("ours (python -m lib rank, no persisted index) / template peer", size, c / p, "x", len(cold_s), None,
            f"{c:.2f} s / {p:.2f} s; ours: " + ", ".join(f"{x:.2f}" for x in cold_s) + " s"),
    ]  # fmt: skip


# ------------------------------------------------------------------------------------------ report
def _profile(ctx: Context, name: str, fn: Callable[[], Any]) -> None:
    """With --profile: the top 25 cumulative costs of one more run of ``fn``, to <out>/profile_<name>.txt."""
    if ctx.profile_dir is None:
        return
    profiler = cProfile.Profile()
    profiler.runcall(fn)
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(25)
    ctx.profile_dir.mkdir(parents=True, exist_ok=True)
    (ctx.profile_dir / f"profile_{name}.txt").write_text(buffer.getvalue(), encoding="utf-8")


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import duckdb
    import streamlit

    mem_kib = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "streamlit": streamlit.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def run_all(
    sizes: Sizes, work: Path, profile_dir: Path | None = None, log: Callable[[str], None] | None = None
) -> list[Row]:
    """Every measurement, in order, over stores generated under ``work``."""
    # Cold figures are cold: no persisted index (lib/index/cache.py) unless a measurement names its
    # own folder. Subprocesses (the memory probes) inherit this.
    saved = os.environ.get("LEADERBOARD_CACHE")
    os.environ["LEADERBOARD_CACHE"] = "off"
    try:
        return _run_all(sizes, work, profile_dir, log)
    finally:
        if saved is None:
            os.environ.pop("LEADERBOARD_CACHE", None)
        else:
            os.environ["LEADERBOARD_CACHE"] = saved


class _SayingRows(list):
    """The run's rows, each said (one line) as it is added: a long run shows its figures as it goes, and
    a run stopped early still leaves the rows it measured in its log."""

    def __init__(self, say: Callable[[str], None]) -> None:
        super().__init__()
        self._say = say

    def append(self, row: Row) -> None:
        self._say(f"{row.name} | {row.size} | {row.value:,.3f} {row.unit} | {row.verdict}")
        super().append(row)

    def __iadd__(self, rows):  # type: ignore[override]
        for row in rows:
            self.append(row)
        return self


def _run_all(
    sizes: Sizes, work: Path, profile_dir: Path | None, log: Callable[[str], None] | None
) -> list[Row]:
    say = log or (lambda _text: None)
    ctx = Context(sizes, work, profile_dir)
    rows: list[Row] = _SayingRows(say)
    say("ingest")
    ingest_rows, index, ingest_s = measure_ingest(ctx)
    rows += ingest_rows
    say("refresh")
    rows += measure_refresh(ctx, index)
    say("ranking at ingest size")
    small_rows, small_rank_s = measure_ranking_at_ingest_size(ctx, index)
    index.con.close()
    say("ranking")
    ranking_rows = measure_ranking(ctx)
    say("memory")
    memory_rows = measure_memory(ctx)
    say("baseline")
    baseline_rows = measure_baseline(ctx, ingest_s + small_rank_s)
    rows += small_rows + ranking_rows + memory_rows + baseline_rows
    say("page")
    rows += measure_page(ctx)
    say("checkpoints")
    rows += measure_checkpoints(ctx)
    say("restart")
    rows += measure_restart(ctx)
    say("template peer")
    rows += measure_peer(ctx)
    say("restart at 100,000 evaluations")
    rows += measure_big_restart(ctx)
    _remove_tree(ctx.work / "big")  # 1.2 GB
    say(f"scale: {sizes.scale_evaluations:,} evaluations")
    rows += measure_scale(ctx)
    _remove_tree(ctx.work / "scale")
    return sorted(rows, key=lambda r: ROWS.index(r.name))


def markdown(rows: list[Row], info: dict[str, Any], quick: bool, total_s: float) -> str:
    """The report: one table row per measurement, then the machine."""
    lines = [
        "| Measurement | Size | Median | Repeats | Target | Verdict | Notes |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        value = f"{r.value:,.2f} {r.unit}" if r.value < 100 else f"{r.value:,.0f} {r.unit}"
        target = f"< {r.target:g} {r.unit}" if r.target is not None else ""
        lines.append(f"| {r.name} | {r.size} | {value} | {r.repeats} | {target} | {r.verdict} | {r.note} |")
    mode = "QUICK (tiny sizes: a smoke test, not figures)" if quick else "full"
    lines.append("")
    lines.append(
        f"Mode: {mode}. Machine: {info['cpus']} CPUs, {info['memory_gib']} GiB, Python {info['python']}, "
        f"DuckDB {info['duckdb']}, pandas {info['pandas']}, Streamlit {info['streamlit']}; load average at "
        f"start {info['load_average']} and at end {info.get('load_average_end')}. Whole run {total_s:.0f} s."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test in a few seconds")
    parser.add_argument("--out", type=Path, default=None, help="write results.md and results.json here")
    parser.add_argument("--profile", action="store_true", help="write cProfile top costs to --out")
    parser.add_argument("--keep", action="store_true", help="keep the generated stores (prints where)")
    parser.add_argument(
        "--no-browser", action="store_true", help="leave out the real-Chromium rows (bench/browser.py)"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    info = machine()
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="leaderboard-bench-"))
    profile_dir = (args.out or ROOT / "bench" / "out") if args.profile else None
    try:
        rows = run_all(
            sizes, work, profile_dir, log=lambda text: print(f"… {text}", file=sys.stderr, flush=True)
        )
        if not args.no_browser:
            rows += browser_rows(args.quick, work, args.out)
    finally:
        if args.keep:
            print(f"stores kept in {work}", file=sys.stderr)
        else:
            _remove_tree(work)
    info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    report = markdown(rows, info, args.quick, time.perf_counter() - started)
    print(report)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.md").write_text(report + "\n", encoding="utf-8")
        payload = {
            "quick": args.quick,
            "sizes": asdict(sizes),
            "machine": info,
            "rows": [asdict(r) for r in rows],
        }
        (args.out / "results.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


def browser_rows(quick: bool, work: Path, out: Path | None) -> list[Row]:
    """The real-Chromium rows of bench/browser.py, on the stores this run wrote (its rows follow ROWS)."""
    from bench import browser

    if not Path(browser.CHROMIUM).exists():
        print(f"… browser rows left out: no Chromium at {browser.CHROMIUM}", file=sys.stderr)
        return []
    sizes = browser.QUICK if quick else browser.FULL
    found = browser.measure_all(
        work, sizes, out, lambda text: print(f"… {text}", file=sys.stderr, flush=True)
    )
    from bench import streamlit_floor  # the same measurement on a bare Streamlit page: the floor

    print("… browser floor: a bare Streamlit page", file=sys.stderr, flush=True)
    try:
        found += streamlit_floor.measure(*((1, 1, 2) if quick else (5, 3, 6)))
    except Exception as exc:  # noqa: BLE001 - reported as a row, never hidden
        found.append({"name": streamlit_floor.ROWS[0], "size": streamlit_floor.SIZE, "value": float("nan"),
                      "unit": "s", "repeats": 0, "target": None, "note": f"FAILED: {type(exc).__name__}: {exc}"})  # fmt: skip
    return [Row(**row) for row in found]


def _remove_tree(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
