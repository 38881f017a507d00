"""Real-browser latency of the leaderboard: headless Chromium (Playwright) against ``streamlit run``.

    python bench/browser.py [--quick] [--out bench/out]      # or as part of: python bench/run.py

Starts the real app (``streamlit run streamlit_app.py -- --config DEF --results R --requests Q``, as the
README starts it) on generated stores and times what a user waits for:

- **navigation to a usable table**: from ``page.goto`` until the grid's canvas has drawn the table's first
  model in its first row (``DRAWN_JS``), no progress bar is left and the app is not running (no status
  widget). On a COLD server (a fresh process: with the persisted index present, and without
  one) and on a WARM server (a second visit: the index is in memory);
- **warm reload**: ``page.reload()`` of a page already open, to a usable table;
- **each control** (search typed + Enter, raw/normalized, rank-by a benchmark, a precision filter, a
  custom weight): from the input (for a dropdown: the click on the option) until the updated table is
  usable: the script has finished a run that started after the input (Streamlit's ``script_finished``
  message on the websocket) and the grid has drawn the first model of the table that run sent.

- **where a first load's time goes** (``bench/first_load.py``): the phases of first visits on the warm
  server on the page's own clock (HTML, page code, DOMContentLoaded, websocket open, script start, table
  sent, script_finished, the grid's code, first row drawn, usable), the bytes fetched and the renderer's
  main-thread time; and the same for a RETURNING visitor (a new tab, the HTTP cache warm).

It also records where the time goes: the script's own run time per rerun (Streamlit's ``page_profile``
message: ``exec_time``), the bytes and rows of the table's Arrow data on the websocket, and so the
browser's share (the rest). And a TIMELINE: screenshots every ~250 ms from navigation until usable,
composed into one filmstrip PNG (``timeline_<store>.png`` in ``--out``), from which the "no blank gap
after the progress bar" check is read: once the progress bar is gone, the table is there in the same or
the next frame.

Every measurement repeats up to its count but stops once its time budget is spent (so the whole browser
part of ``bench/run.py`` stays within a few minutes on 2 cores). This module asserts nothing about time.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/browser.py`
    sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
VIEWPORT = {"width": 1600, "height": 1000}
CAPTION = re.compile(r"([\d,]+) of ([\d,]+) rows")
FRAME_S = 0.25  # the timeline's interval

# Rows of the report (bench/run.py adds them after its own; tests/test_bench.py checks them).
ROWS = (
    "browser: first load, cold server, persisted index",
    "browser: first load, cold server, no persisted index",
    "browser: first load, warm server",
    "browser: warm reload",
    "browser: search (type + Enter)",
    "browser: raw/normalized",
    "browser: rank by a benchmark",
    "browser: precision filter",
    "browser: custom weight",
    "browser: no blank gap after the progress bar",
    "browser: where a control's time goes",
    "browser: where a first load's time goes",
    "browser: first load, returning visitor",
)


# ------------------------------------------------------------------------------------------ stores
@dataclass(frozen=True)
class Store:
    """A store the app is started on, and the targets its rows are held to."""

    name: str  # file-name friendly
    label: str  # the report's size column
    definition: Path
    results: Path
    requests: Path
    cacheable: bool  # whether the cold-server rows with a persisted index are measured on it
    targets: dict[str, float] = field(default_factory=dict)  # row name -> seconds


def template_store(work: Path, models: int) -> Store:
    """5,000 models x 6 tasks in the leaderboard template's layout (``bench/template_peer.py``)."""
    from bench import template_peer

    folder = work / "peer"
    if (folder / "definition.yaml").exists():
        results, requests, definition = folder / "results", folder / "requests", folder / "definition.yaml"
    else:
        results, requests, definition = template_peer.write_store(folder, models)
    targets = {ROWS[0]: 1.0, ROWS[2]: 1.0, ROWS[3]: 0.8, ROWS[4]: 0.2}
    label = f"{models:,} models x {template_peer.N_TASKS} tasks, template layout"
    return Store("template", label, definition, results, requests, True, targets)


def files_store(work: Path, n: int, tasks: int = 20) -> Store:
    """``n`` lm-eval 0.4 result files (one model each) with a request each (``bench/synthetic.py``)."""
    from bench import synthetic

    results, requests, definition = work / "results", work / "requests", work / "definition.yaml"
    have = sum(1 for _ in results.rglob("*.json")) if results.exists() else 0
    if have < n:
        synthetic.write_results(results, have, n - have, tasks)
    if not requests.exists():
        synthetic.write_requests(requests, n)
    if not definition.exists():
        synthetic.write_definition(definition, tasks, results, requests)
    have = sum(1 for _ in results.rglob("*.json"))
    targets = {ROWS[2]: 2.0, **{r: 0.5 for r in ROWS[4:9]}}
    return Store("files", f"{have:,} evaluations x {tasks} tasks (files)", definition, results, requests,
                 True, targets)  # fmt: skip


def table_store(work: Path, n: int, tasks: int = 20) -> Store:
    """``n`` evaluations as one Parquet table in the Open LLM Leaderboard's ``contents`` layout (writing
    100,000 result files would time the disk): a table source, read by DuckDB and kept in the persisted
    index like result files (bench/scale.py measures the same at 1,000,000 rows)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bench import synthetic

    folder = work / "table"
    folder.mkdir(parents=True, exist_ok=True)
    path, requests, definition = folder / "contents.parquet", folder / "requests", folder / "definition.yaml"
    requests.mkdir(exist_ok=True)
    if not path.exists():
        rng = np.random.default_rng(1)
        ids = np.arange(n)
        quality = rng.uniform(0.05, 0.95, size=n)
        columns: dict[str, Any] = {
            "fullname": [synthetic.model_name(int(i)) for i in ids],
            "Model sha": [f"{int(i):040x}" for i in ids],
            "Precision": np.array(["bfloat16", "float16", "float32"])[ids % 3],
            "Type": np.array(["🟢 pretrained", "💬 chat", "🔶 fine-tuned"])[ids % 3],
            "#Params (B)": (1 + ids % 140).astype(float),
            "Hub License": np.array(["apache-2.0", "mit", "other"])[ids % 3],
        }
        for k, t in enumerate(synthetic.tasks(tasks)):
            raw = np.clip(t.baseline + (1 - t.baseline) * quality + rng.normal(0, 0.05, n), 0, 1)
            columns[f"Task {k:02d} Raw"] = raw
            columns[f"Task {k:02d}"] = np.maximum(raw - t.baseline, 0) / (1 - t.baseline) * 100
        pq.write_table(pa.table(columns), path)
    if not definition.exists():
        synthetic.write_definition(definition, tasks, path, requests)
    targets = {r: 0.5 for r in ROWS[4:9]}
    return Store("table", f"{n:,} evaluations x {tasks} tasks (Parquet table)", definition, path, requests,
                 True, targets)  # fmt: skip


# ------------------------------------------------------------------------------------------ server
def wait_healthy(url: str, process: Any, timeout_s: float = 120.0) -> bool:
    """Wait until the Streamlit server at ``url`` answers its health check; False when ``process`` exits
    first or ``timeout_s`` passes."""
    deadline = time.time() + timeout_s
    while process.poll() is None and time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.1)
    return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def app_server(store: Store, cache: str) -> Iterator[str]:
    """``streamlit run streamlit_app.py -- --config ... --results ... --requests ...``; yields its URL once
    healthy (the index is not loaded yet: the first page run loads it)."""
    port = _free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false", "LEADERBOARD_CACHE": cache,
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.fileWatcherType", "none", "--",
        "--config", str(store.definition), "--results", str(store.results), "--requests", str(store.requests),
    ]  # fmt: skip
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_healthy(url, process):
            log.seek(0)
            raise RuntimeError(f"streamlit did not start:\n{log.read().decode(errors='replace')[-3000:]}")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# ------------------------------------------------------------------------------------------ probe
@dataclass
class Run:
    """What the websocket carried for one script run."""

    started: float  # perf_counter when its first message arrived
    finished: float | None = None
    exec_s: float | None = None  # Streamlit's page_profile exec_time
    fragment: bool = False
    table_bytes: int = 0
    table_rows: int = 0
    first_model: str | None = None
    bytes_total: int = 0
    table_hash: str | None = None  # Streamlit's message hash of the table it sent
    shown_hash: str | None = None  # that of the table the grid showed when this run began
    first_frame: int = 0  # the websocket's binary messages counted from the page's first: this run's first
    table_frame: int | None = None  # the one that carried its table
    finished_frame: int | None = None  # its script_finished


class Probe:
    """A page with its websocket decoded: each script run's messages, table sizes and timings."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.runs: list[Run] = []
        self.dom_fallbacks = 0  # usable by the DOM table after DOM_GRACE_S, not by a canvas draw
        self.frames = (
            0  # binary websocket messages so far (bench/first_load.py reads their times in the page)
        )
        self._shown_hash: str | None = None  # the table the grid shows (the last finished run's)
        self._current: Run | None = None
        self._seen: dict[
            str, tuple[int, str | None, int]
        ] = {}  # message hash -> table rows, first model, bytes
        page.add_init_script(DRAWN_JS)  # on every document the page loads
        page.on("websocket", self._on_socket)

    def forget_drawn(self) -> None:
        """Forget what the grid drew so far: a control's updated table must be drawn after its input."""
        self.page.evaluate(FORGET_DRAWN_JS)

    def _on_socket(self, ws: Any) -> None:
        ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload: Any) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if isinstance(payload, str):
            return
        now = time.perf_counter()
        frame, self.frames = self.frames, self.frames + 1
        msg = ForwardMsg()
        try:
            msg.ParseFromString(payload)
        except Exception:  # noqa: BLE001 - not ours to judge; skip
            return
        kind = msg.WhichOneof("type")
        if kind == "new_session" or self._current is None:
            if kind in ("heartbeat_ack", "session_status_changed", "session_event"):
                return
            self._current = Run(now, shown_hash=self._shown_hash, first_frame=frame)
            self.runs.append(self._current)
        run = self._current
        run.bytes_total += len(payload)
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            if element.WhichOneof("type") == "dataframe" and element.dataframe.id:
                data = element.dataframe.arrow_data.data
                rows, first = _arrow_summary(data)
                self._seen[msg.hash] = (rows, first, len(data))
                if rows >= run.table_rows:  # the leaderboard, not the ingest report
                    run.table_bytes, run.table_rows, run.first_model = len(data), rows, first
                    run.table_hash, run.table_frame = msg.hash or None, frame
        elif kind == "ref_hash" and msg.ref_hash in self._seen:
            # a message the browser already has is sent by reference (Streamlit's message cache)
            rows, first, _ = self._seen[msg.ref_hash]
            if rows >= run.table_rows:
                run.table_bytes, run.table_rows, run.first_model = 0, rows, first
                run.table_hash, run.table_frame = msg.ref_hash, frame
        elif kind == "page_profile":
            run.exec_s = msg.page_profile.exec_time / 1000.0
            run.fragment = bool(msg.page_profile.is_fragment_run)
        elif kind == "script_finished":
            run.finished, run.finished_frame = now, frame
            self._shown_hash = run.table_hash or self._shown_hash
            self._current = None

    def wait(self, predicate: Callable[[], bool], timeout: float = 120.0, step_ms: int = 15) -> None:
        """Poll ``predicate`` while letting Playwright deliver events."""
        deadline = time.perf_counter() + timeout
        while not predicate():
            if time.perf_counter() > deadline:
                raise TimeoutError("the page did not get there in time")
            self.page.wait_for_timeout(step_ms)

    def finished_since(self, t0: float) -> Run | None:
        """The last finished run that began after ``t0`` and sent a table (or the last one at all)."""
        done = [r for r in self.runs if r.started >= t0 and r.finished is not None]
        with_table = [r for r in done if r.first_model is not None]
        return (with_table or done or [None])[-1]


def _arrow_summary(data: bytes) -> tuple[int, str | None]:
    import pyarrow as pa

    try:
        table = pa.ipc.open_stream(data).read_all()
    except Exception:  # noqa: BLE001
        return 0, None
    if "Model" not in table.column_names or table.num_rows == 0:
        return table.num_rows, None
    return table.num_rows, str(table.column("Model")[0].as_py())  # the grid's cell holds the link itself


# What the grid's canvas draws in its first data row, and when: a page script (installed by ``Probe``)
# records the text of every ``fillText`` whose baseline falls in the first row (row height 35 px under a
# 35 px header, Streamlit's defaults). That is the moment the user sees the new top row. The grid's DOM
# table (``td`` cells, for screen readers) cannot say it: glide-data-grid rebuilds it 200 ms after the
# canvas (a debounce), and its rows hold whatever models were visible before, so a model already on
# screen (a search's top hit) "appears" before the canvas is redrawn.
DRAWN_JS = """(() => {
  const first = new Map();
  Object.defineProperty(window, '__firstRowDrawn', {value: first});
  const fill = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
    const m = this.getTransform();
    const top = (m.b * x + m.d * y + m.f) / (window.devicePixelRatio || 1);
    if (top >= 36 && top < 70) first.set(String(text), performance.now());
    return fill.call(this, text, x, y, ...rest);
  };
})();"""
FORGET_DRAWN_JS = "() => { if (window.__firstRowDrawn) window.__firstRowDrawn.clear(); }"

# The table is usable: no progress bar, the app is not running (no status widget), and the grid's first
# row shows the model of the table the run sent: its canvas drew it since the input ('drawn', see
# ``DRAWN_JS``), or the first row of the grid's DOM table holds it ('dom': accepted at once when the run
# sent the very table the grid showed, which glide does not draw again, else only ``DOM_GRACE_S`` after
# the run ended). ``shown`` is the Model cell as the grid
# prints it (the link column's display text).
USABLE_JS = """(a) => {
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-testid="stProgress"]')) return false;
  const grid = document.querySelector('[data-testid="stDataFrame"]');
  if (!grid) return false;
  const drawn = window.__firstRowDrawn;
  if (drawn && a.shown.some(t => drawn.has(t))) return 'drawn';
  const row = grid.querySelector('tr[aria-rowindex="2"]');
  if (!row) return false;
  for (const td of row.querySelectorAll('td')) { if (td.textContent === a.model) return 'dom'; }
  return false;
}"""
# A canvas that drew nothing new in this long after the run ended shows what the DOM table says.
DOM_GRACE_S = 0.3


def shown_text(model: str) -> list[str]:
    """How the grid prints a Model cell: a link column shows its display-text match, else the value."""
    from urllib.parse import unquote

    from lib.ui.leaderboard import MODEL_LINK_TEXT

    found = re.match(MODEL_LINK_TEXT, model)
    return [model] if found is None else list(dict.fromkeys([found.group(1), unquote(found.group(1))]))


def is_usable(probe: Probe, run: Run) -> bool:
    """``USABLE_JS`` for the table ``run`` sent (its first Model cell)."""
    assert run.first_model is not None and run.finished is not None
    found = probe.page.evaluate(USABLE_JS, {"model": run.first_model, "shown": shown_text(run.first_model)})
    if found == "dom" and run.table_hash is not None and run.table_hash == run.shown_hash:
        return True  # the same table as before (a filter that keeps every row): nothing to draw
    if found == "dom" and time.perf_counter() - run.finished > DOM_GRACE_S:
        probe.dom_fallbacks += 1
        return True
    return found == "drawn"


STATE_JS = """() => ({
  progress: !!document.querySelector('[data-testid="stProgress"]'),
  running: !!document.querySelector('[data-testid="stStatusWidget"]'),
  grid: !!document.querySelector('[data-testid="stDataFrame"] td'),
})"""


def usable(probe: Probe, t0: float, timeout: float = 120.0) -> tuple[float, Run | None]:
    """Seconds from ``t0`` until a run begun after ``t0`` finished and the grid shows its first model."""
    page = probe.page

    def ready() -> bool:
        run = probe.finished_since(t0)
        if run is None or run.first_model is None:
            return False
        return is_usable(probe, run)

    probe.wait(ready, timeout)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")  # painted
    return time.perf_counter() - t0, probe.finished_since(t0)


# ------------------------------------------------------------------------------------------ timeline
def timeline(page: Any, probe: Probe, url: str, out: Path | None, name: str) -> tuple[float, bool, str]:
    """Navigate and screenshot every FRAME_S until usable; returns (seconds, no blank gap, note)."""
    frames: list[tuple[float, bytes, dict[str, bool]]] = []
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    done_at: float | None = None
    missed = 0
    while time.perf_counter() - t0 < 300:
        shot_at = time.perf_counter() - t0
        frame = _frame(page)
        if frame is None:
            missed += 1
        else:
            frames.append((shot_at, *frame))
        run = probe.finished_since(t0)
        if run is not None and run.first_model and is_usable(probe, run):
            done_at = time.perf_counter() - t0
            frame = _frame(page)
            if frame is not None:
                frames.append((done_at, *frame))
            break
        page.wait_for_timeout(max(1, int((FRAME_S - (time.perf_counter() - t0 - shot_at)) * 1000)))
    gap_ok, note = _no_blank_gap([f[2] for f in frames])
    if missed:
        note += f"; {missed} frame(s) Chromium could not capture (mid-navigation), left out"
    if out is not None:
        _filmstrip(frames, out, name)
    return (done_at if done_at is not None else float("nan")), gap_ok, note


def _frame(page: Any) -> tuple[bytes, dict[str, bool]] | None:
    """A screenshot and the page's state; None when Chromium cannot capture one at that instant (it
    answers "Unable to capture screenshot" while a navigation swaps the document): that frame is left
    out, the timeline goes on."""
    from playwright.sync_api import Error

    try:
        return page.screenshot(), page.evaluate(STATE_JS)
    except Error:
        return None


def _no_blank_gap(states: list[dict[str, bool]]) -> tuple[bool, str]:
    """After the last frame with a progress bar, the grid is in the same or the next frame."""
    with_bar = [i for i, s in enumerate(states) if s["progress"]]
    if not with_bar:
        return True, "no frame caught a progress bar"
    last = with_bar[-1]
    after = states[last + 1 : last + 2]
    if states[last]["grid"] or any(s["grid"] for s in after) or not after:
        return True, f"progress bar in {len(with_bar)} frame(s); the table follows at once"
    blank = next((i for i in range(last + 1, len(states)) if states[i]["grid"]), len(states)) - last - 1
    return False, f"{blank} frame(s) ({blank * FRAME_S:.2f} s) without progress bar or table"


def _filmstrip(frames: list[tuple[float, bytes, dict[str, bool]]], out: Path, name: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    try:
        from PIL import Image, ImageDraw
    except ImportError:
        for i, (_, png, _) in enumerate(frames):
            (out / f"timeline_{name}_{i:02d}.png").write_bytes(png)
        return
    if len(frames) > 36:  # a slow load: the first 6 frames and the last 30 (the bar's end and the table)
        frames = frames[:6] + frames[-30:]
    thumbs = []
    for at, png, state in frames:
        image = Image.open(io.BytesIO(png)).convert("RGB")
        image.thumbnail((480, 300))
        tile = Image.new("RGB", (image.width, image.height + 22), "white")
        tile.paste(image, (0, 22))
        flags = " ".join(k for k, v in state.items() if v)
        ImageDraw.Draw(tile).text((4, 4), f"{at:5.2f} s  {flags}", fill="black")
        thumbs.append(tile)
    per_row = 6
    width, height = thumbs[0].width, thumbs[0].height
    rows = (len(thumbs) + per_row - 1) // per_row
    strip = Image.new("RGB", (width * min(per_row, len(thumbs)), height * rows), (200, 200, 200))
    for i, tile in enumerate(thumbs):
        strip.paste(tile, ((i % per_row) * width, (i // per_row) * height))
    strip.save(out / f"timeline_{name}.png", optimize=True)


# ------------------------------------------------------------------------------------------ measurements
@dataclass
class Sizes:
    """Stores, repeats and the time budget of the browser part."""

    files: int = 10_000
    table: int = 100_000
    template_models: int = 5_000
    tasks: int = 20
    cold_repeats: int = 2
    warm_repeats: int = 3
    control_repeats: int = 3
    budget_s: float = 110.0  # per store; a measurement stops repeating once its store has spent this
    only: tuple[str, ...] = ("template", "files", "table")


FULL = Sizes()
QUICK = Sizes(files=60, table=300, template_models=40, tasks=4, cold_repeats=1, warm_repeats=1,
              control_repeats=1, budget_s=60.0, only=("template",))  # fmt: skip


@dataclass
class Sample:
    """One timed step: seconds to usable, and what the websocket said about the run behind it."""

    seconds: float
    server_s: float | None = None  # from the input until the script's last message (script_finished)
    table_rows: int = 0
    table_bytes: int = 0


@dataclass
class Result:
    """Everything measured on one store."""

    store: Store
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    gap_ok: bool | None = None
    gap_note: str = ""
    notes: dict[str, str] = field(default_factory=dict)
    phase_notes: dict[str, tuple[float, int, str]] = field(default_factory=dict)  # row -> (median s, n, note)

    def add(self, row: str, t0: float, seconds: float, run: Run | None) -> None:
        server = (run.finished - t0) if run is not None and run.finished is not None else None
        sample = Sample(seconds, server, run.table_rows if run else 0, run.table_bytes if run else 0)
        self.samples.setdefault(row, []).append(sample)


def _browser(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)


def _visit(browser: Any, url: str, result: Result, row: str) -> tuple[Any, Probe]:
    """A new session (fresh context) navigating to ``url``; times it to usable under ``row``."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    probe = Probe(page)
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    seconds, run = usable(probe, t0, 300.0)  # a cold server may parse a whole store first
    result.add(row, t0, seconds, run)
    return page, probe


def _cold(
    browser: Any, store: Store, cache: str, result: Result, row: str, repeats: int, spent: Callable[[], bool]
) -> None:
    for i in range(repeats):
        if i and spent():
            break
        with app_server(store, cache) as url:
            page, _ = _visit(browser, url, result, row)
            page.context.close()


def measure_store(store: Store, sizes: Sizes, out: Path | None, log: Callable[[str], None]) -> Result:
    """Every browser measurement on one store, within ``sizes.budget_s``."""
    from playwright.sync_api import sync_playwright

    result = Result(store)
    started = time.perf_counter()

    def spent() -> bool:
        return time.perf_counter() - started > sizes.budget_s

    cache_dir = tempfile.mkdtemp(prefix="leaderboard-browser-cache-")
    with sync_playwright() as playwright:
        browser = _browser(playwright)
        try:
            if store.cacheable and sizes.cold_repeats:  # write the snapshot, then a cold server opens it
                log(f"browser {store.name}: cold, persisted index")
                with app_server(store, cache_dir) as url:
                    page, _ = _visit(browser, url, Result(store), ROWS[1])
                    page.context.close()
                _cold(browser, store, cache_dir, result, ROWS[0], sizes.cold_repeats, spent)
            log(f"browser {store.name}: cold, no persisted index, with a timeline")
            with app_server(store, "off") as url:
                context = browser.new_context(viewport=VIEWPORT)
                page = context.new_page()
                probe = Probe(page)
                seconds, result.gap_ok, result.gap_note = timeline(page, probe, url, out, store.name)
                result.notes["timeline"] = f"{seconds:.2f} s to usable with screenshots every {FRAME_S} s"
                context.close()
                log(f"browser {store.name}: warm server")
                for i in range(sizes.warm_repeats):
                    page, probe = _visit(browser, url, result, ROWS[2])
                    if i + 1 < sizes.warm_repeats:
                        page.context.close()
                for _ in range(sizes.warm_repeats):
                    t0 = time.perf_counter()
                    page.reload(wait_until="commit")
                    result.add(ROWS[3], t0, *usable(probe, t0))
                log(f"browser {store.name}: where a first load's time goes, a returning visitor")
                first_load_rows(browser, url, sizes.warm_repeats, result, spent)
                log(f"browser {store.name}: controls")
                controls(page, probe, store, sizes, result, spent)
                if probe.dom_fallbacks:
                    log(
                        f"browser {store.name}: {probe.dom_fallbacks} step(s) usable by the DOM table, not a draw"
                    )
                page.context.close()
            if sizes.cold_repeats:
                _cold(browser, store, "off", result, ROWS[1], max(1, sizes.cold_repeats - 1), spent)
        finally:
            browser.close()
    result.notes["seconds"] = f"{time.perf_counter() - started:.0f}"
    return result


def first_load_rows(browser: Any, url: str, repeats: int, result: Result, spent: Callable[[], bool]) -> None:
    """The phases of first visits (a new context each) and of a returning visitor's (a new tab in a context
    that visited before), as notes (``bench/first_load.py``)."""
    from bench import first_load

    for row, returning in ((ROWS[11], False), (ROWS[12], True)):
        found = first_load.visits(browser, url, repeats, returning, spent)
        result.phase_notes[row] = (
            statistics.median(v.seconds for v in found),
            len(found),
            first_load.describe(found),
        )


def controls(
    page: Any, probe: Probe, store: Store, sizes: Sizes, result: Result, spent: Callable[[], bool]
) -> None:
    """Each control's change to the updated table, repeated (each repeat sets it and sets it back)."""
    names = _bench_names(store)
    search = page.get_by_placeholder(re.compile("Search models"))

    def timed(row: str, act: Callable[[], None] | tuple[Callable[[], None], Callable[[], None]]) -> None:
        """Time ``act`` (or ``(prepare, act)``: prepare untimed, e.g. open a dropdown) to usable."""
        prepare, act = act if isinstance(act, tuple) else (None, act)
        if prepare is not None:
            prepare()
        probe.forget_drawn()
        t0 = time.perf_counter()
        act()
        try:
            result.add(row, t0, *usable(probe, t0, 60.0))
        except TimeoutError as exc:
            page.screenshot(path=os.path.join(tempfile.gettempdir(), "browser-bench-failed.png"))
            raise TimeoutError(f"{row}: the updated table did not come") from exc

    def type_search(text: str) -> Callable[[], None]:
        def act() -> None:
            search.fill(text)
            search.press("Enter")

        return act

    def scores(which: str) -> Callable[[], None]:
        return lambda: page.locator(
            "[data-testid='stButtonGroup'] button", has_text=re.compile(f"^{which}$")
        ).click()

    def rank_by(label: str) -> tuple[Callable[[], None], Callable[[], None]]:
        """Opening the dropdown is not the change: the time runs from the click on the option."""
        option = page.get_by_role("option", name=label, exact=True)

        def prepare() -> None:
            page.locator("[data-testid='stSelectbox']").filter(has_text="Rank by").first.click()
            option.wait_for()

        return prepare, option.click

    precision = page.locator("[data-testid='stMultiSelect']").filter(has_text="Precision").first

    def open_precision() -> None:
        precision.get_by_role("combobox").click()
        page.get_by_role("option").first.wait_for()

    def add_precision() -> None:
        page.get_by_role("option").first.click()
        page.keyboard.press("Escape")

    def clear_precision() -> None:
        page.keyboard.press("Backspace")
        page.keyboard.press("Escape")

    Step = Callable[[], None] | tuple[Callable[[], None], Callable[[], None]]
    steps: list[tuple[str, Step, Step]] = [
        (ROWS[4], type_search("org1"), type_search("")),
        (ROWS[5], scores("raw"), scores("normalized")),
        (ROWS[6], rank_by(names[min(3, len(names) - 1)]), rank_by("Average")),
        (
            ROWS[7],
            (open_precision, add_precision),
            (lambda: precision.get_by_role("combobox").click(), clear_precision),
        ),
    ]
    for row, do, undo in steps:
        if row == ROWS[7]:
            _open_expander(page, "Filters")
        for i in range(sizes.control_repeats):
            if i and spent():
                break
            timed(row, do)
            timed(row, undo)
    _open_expander(page, "Custom weights")
    toggle = page.get_by_text("Use custom weights", exact=True)
    t0 = time.perf_counter()
    toggle.click()
    usable(probe, t0)
    weight = page.locator("[data-testid='stNumberInput']").filter(has_text=names[0]).first.locator("input")
    for i in range(sizes.control_repeats):
        if i and spent():
            break
        for value in ("5", "1"):

            def act(value: str = value) -> None:
                weight.fill(value)
                weight.press("Enter")

            timed(ROWS[8], act)


def _open_expander(page: Any, label: str) -> None:
    summary = page.locator("[data-testid='stExpander'] summary").filter(has_text=label).first
    details = page.locator("[data-testid='stExpander'] details").filter(has_text=label).first
    if details.get_attribute("open") is None:
        summary.click()
        page.wait_for_timeout(300)


def _bench_names(store: Store) -> list[str]:
    from lib.core.config import load_definition

    return [b.name for b in load_definition(store.definition).benchmarks]


# ------------------------------------------------------------------------------------------ report
def rows_of(result: Result) -> list[dict[str, Any]]:
    """Report rows (dicts with the fields of bench.run.Row) for one store's result."""
    out = []
    store = result.store
    for name in ROWS[:9]:
        samples = result.samples.get(name)
        if not samples:
            continue
        seconds = [s.seconds for s in samples]
        servers = [s.server_s for s in samples if s.server_s is not None]
        table = max(samples, key=lambda s: s.table_rows)
        note = "runs: " + ", ".join(f"{x:.2f}" for x in seconds) + " s"
        if servers:
            note += f"; server (input to script_finished) median {statistics.median(servers):.2f} s"
        if table.table_rows:
            note += f"; table sent: {table.table_rows:,} rows, {table.table_bytes / 1024:,.0f} KiB Arrow"
        if name == ROWS[0]:
            note = "fresh streamlit process, snapshot in LEADERBOARD_CACHE; " + note
        elif name == ROWS[1]:
            note = (
                "fresh streamlit process, LEADERBOARD_CACHE=off"
                + ("" if store.cacheable else " (a table source is read on every start)")
                + "; "
                + note
            )
        out.append({"name": name, "size": store.label, "value": statistics.median(seconds), "unit": "s",
                    "repeats": len(seconds), "target": store.targets.get(name), "note": note})  # fmt: skip
    if result.gap_ok is not None:
        out.append({"name": ROWS[9], "size": store.label, "value": 0.0 if result.gap_ok else 1.0,
                    "unit": "gaps", "repeats": 1, "target": 0.5 if store.name == "files" else None,
                    "note": f"{result.gap_note}; {result.notes.get('timeline', '')}; filmstrip timeline_{store.name}.png"})  # fmt: skip
    shares = [
        (s.seconds, s.server_s)
        for name in ROWS[4:9] for s in result.samples.get(name, []) if s.server_s is not None
    ]  # fmt: skip
    if shares:
        total = statistics.median(s for s, _ in shares)
        server = statistics.median(v for _, v in shares)
        out.append({"name": ROWS[10], "size": store.label, "value": server / total if total else 0.0, "unit": "x",
                    "repeats": len(shares), "target": None,
                    "note": f"share of the server (input to script_finished: {server:.2f} s) in a control's "
                    f"{total:.2f} s; the rest is the browser drawing the page and the grid"})  # fmt: skip
    for name, (seconds, repeats, note) in result.phase_notes.items():
        target = store.targets.get(ROWS[2]) if name == ROWS[11] else None
        out.append({"name": name, "size": store.label, "value": seconds, "unit": "s", "repeats": repeats,
                    "target": target, "note": note})  # fmt: skip
    return out


def stores(work: Path, sizes: Sizes, log: Callable[[str], None]) -> list[Store]:
    log("browser: stores")
    makers = {
        "template": lambda: template_store(work, sizes.template_models),
        "files": lambda: files_store(work, sizes.files, sizes.tasks),
        "table": lambda: table_store(work, sizes.table, sizes.tasks),
    }
    return [makers[name]() for name in sizes.only]


def measure_all(
    work: Path, sizes: Sizes, out: Path | None, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Every store's rows; a store whose run fails gives one row saying why (the others still run)."""
    rows: list[dict[str, Any]] = []
    for store in stores(work, sizes, log):
        try:
            rows += rows_of(measure_store(store, sizes, out, log))
        except Exception as exc:  # noqa: BLE001 - reported as a row, never hidden
            rows.append({"name": ROWS[2], "size": store.label, "value": float("nan"), "unit": "s", "repeats": 0,
                         "target": None, "note": f"FAILED: {type(exc).__name__}: {str(exc)[:300]}"})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--work", type=Path, default=None, help="keep the stores here (reused when present)")
    parser.add_argument("--only", default=None, help="stores, comma-separated: template,files,table")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.only:
        sizes = replace(sizes, only=tuple(args.only.split(",")))
    work = args.work or Path(tempfile.mkdtemp(prefix="leaderboard-browser-"))
    work.mkdir(parents=True, exist_ok=True)

    def log(text: str) -> None:
        print(f"… {text}", file=sys.stderr, flush=True)

    rows = []
    for store in stores(work, sizes, log):
        rows += rows_of(measure_store(store, sizes, args.out, log))
    for r in rows:
        target = f"< {r['target']:g}" if r["target"] is not None else ""
        print(
            f"| {r['name']} | {r['size']} | {r['value']:.2f} {r['unit']} | {r['repeats']} | {target} | {r['note']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
