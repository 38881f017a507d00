"""Where a first load's time goes: one visit's phases on the page's own clock, for ``bench/browser.py``.

A new browser session (a new context: no HTTP cache) opens the app on a warm server; its phases are read
from the page itself, in milliseconds from navigation: the HTML; the page code (Streamlit's JavaScript,
CSS and fonts named by the HTML) fetched; DOMContentLoaded (that code compiled and run); the websocket
open; the script's start (its first message) and end (``script_finished``); the message that carried the
table; the grid's code (fetched only once the first grid element reaches the page); the grid's first
row drawn (``DRAWN_JS``) and "usable" (``browser.usable``). Beside them: the renderer's main-thread time
(Chromium's ``TaskDuration`` and ``ScriptDuration``, CPU time, less sensitive to a busy machine than the
wall clock) and the bytes fetched. A RETURNING visitor is the same measurement in a new tab of a context
that has visited once (its HTTP cache warm), what most visitors of a leaderboard are.

This module measures; it asserts nothing about time.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any

# The websocket's messages on the page's clock (ms since navigation), in arrival order; the probe sees
# the same binary messages in the same order, so the n-th here is its n-th frame.
SOCKET_JS = """(() => {
  const log = {open: null, messages: []};
  Object.defineProperty(window, '__socketTimes', {value: log});
  const Native = window.WebSocket;
  function Timed(...args) {
    const ws = new Native(...args);
    ws.addEventListener('open', () => { if (log.open === null) log.open = performance.now(); });
    ws.addEventListener('message', (e) => { if (typeof e.data !== 'string') log.messages.push(performance.now()); });
    return ws;
  }
  Timed.prototype = Native.prototype;
  Object.assign(Timed, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Timed;
})();"""

ENTRIES_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    html: nav.responseEnd, dcl: nav.domContentLoadedEventEnd,
    resources: performance.getEntriesByType('resource').map(e => ({
      name: e.name, start: e.startTime, end: e.responseEnd, bytes: e.decodedBodySize,
      encoded: e.encodedBodySize})),
    socket: window.__socketTimes || {open: null, messages: []},
    drawn: Array.from((window.__firstRowDrawn || new Map()).entries()),
    now: performance.now(),
  };
}"""

# (key, label) in the order a first load passes them
PHASES = (
    ("html", "HTML"),
    ("page_code", "page code fetched"),
    ("dcl", "DOMContentLoaded"),
    ("socket_open", "websocket open"),
    ("script_start", "script start"),
    ("table_sent", "table sent"),
    ("script_finished", "script_finished"),
    ("grid_code", "grid code fetched"),
    ("first_row", "first row drawn"),
    ("usable", "usable"),
)
GRID_CODE = "/DataFrame."  # the grid element's chunk (Streamlit's Vite build names it DataFrame.<hash>.js)


@dataclass
class Visit:
    """One visit's phases (ms from navigation; None: not seen) and what it fetched and ran."""

    phases: dict[str, float | None] = field(default_factory=dict)
    seconds: float = 0.0  # to usable, on the bench's clock (as every other browser row)
    page_files: int = 0
    page_bytes: int = 0
    page_compressed: bool = False
    late_files: int = 0  # JavaScript fetched after the script started: the elements' own code
    late_bytes: int = 0
    main_thread_ms: float = 0.0  # Chromium's TaskDuration: the renderer's main thread busy
    script_ms: float = 0.0  # of it, running JavaScript (ScriptDuration)


def visit(browser: Any, url: str, context: Any = None) -> Visit:
    """Open ``url`` in a new page (of ``context``, else of a new context) and read its phases."""
    from bench import browser as bench

    own = context is None
    if own:
        context = browser.new_context(viewport=bench.VIEWPORT)
    page = context.new_page()
    page.add_init_script(SOCKET_JS)
    probe = bench.Probe(page)
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit")
    seconds, run = bench.usable(probe, t0)
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    found = page.evaluate(ENTRIES_JS)
    page.close()
    if own:
        context.close()
    return _read(found, run, seconds, metrics)


def _read(found: dict[str, Any], run: Any, seconds: float, metrics: dict[str, float]) -> Visit:
    from bench.browser import shown_text

    messages: list[float] = found["socket"]["messages"]

    def at(frame: int | None) -> float | None:
        return messages[frame] if frame is not None and 0 <= frame < len(messages) else None

    script_start = at(run.first_frame) if run is not None else None
    resources = found["resources"]
    static = [r for r in resources if "/static/" in r["name"]]
    page_code = [r for r in static if r["start"] < found["dcl"]]  # named by the HTML, and their imports
    late = [
        r
        for r in static
        if script_start is not None and r["start"] >= script_start and r["name"].endswith(".js")
    ]
    grid = [r["end"] for r in static if GRID_CODE in r["name"]]
    shown = set(shown_text(run.first_model)) if run is not None and run.first_model else set()
    drawn = [t for text, t in found["drawn"] if text in shown]
    result = Visit(seconds=seconds)
    result.phases = {
        "html": found["html"],
        "page_code": max((r["end"] for r in page_code), default=None),
        "dcl": found["dcl"],
        "socket_open": found["socket"]["open"],
        "script_start": script_start,
        "table_sent": at(run.table_frame) if run is not None else None,
        "script_finished": at(run.finished_frame) if run is not None else None,
        "grid_code": max(grid) if grid else None,
        "first_row": min(drawn) if drawn else None,
        "usable": found["now"],
    }
    result.page_files, result.page_bytes = len(page_code), sum(r["bytes"] for r in page_code)
    result.page_compressed = any(0 < r["encoded"] < r["bytes"] for r in page_code)
    result.late_files, result.late_bytes = len(late), sum(r["bytes"] for r in late)
    result.main_thread_ms = metrics.get("TaskDuration", 0.0) * 1000
    result.script_ms = metrics.get("ScriptDuration", 0.0) * 1000
    return result


def visits(browser: Any, url: str, count: int, returning: bool = False, enough: Any = None) -> list[Visit]:
    """``count`` first visits (a new context each), or with ``returning`` a new tab each in one context
    that visited once before (not counted); stops early once ``enough()`` says the budget is spent."""
    from bench import browser as bench

    out: list[Visit] = []
    context = browser.new_context(viewport=bench.VIEWPORT) if returning else None
    try:
        if context is not None:
            visit(browser, url, context)  # the visit that fills the HTTP cache
        for i in range(count):
            if i and enough is not None and enough():
                break
            out.append(visit(browser, url, context))
    finally:
        if context is not None:
            context.close()
    return out


def describe(found: list[Visit]) -> str:
    """The medians as one note: each phase's time from navigation, then bytes and main-thread time."""

    def median(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return statistics.median(present) if present else None

    parts = []
    for key, label in PHASES:
        value = median([v.phases.get(key) for v in found])
        parts.append(f"{label} {value:.0f}" if value is not None else f"{label} —")
    page_mb = statistics.median(v.page_bytes for v in found) / 1e6
    late_mb = statistics.median(v.late_bytes for v in found) / 1e6
    compressed = "compressed" if all(v.page_compressed for v in found) else "uncompressed"
    return (
        "median ms from navigation: " + " · ".join(parts)
        + f"; page code {statistics.median(v.page_files for v in found):.0f} files, {page_mb:.2f} MB ({compressed}),"
        f" elements' code fetched after the script started {statistics.median(v.late_files for v in found):.0f}"
        f" files, {late_mb:.2f} MB; renderer main thread busy {statistics.median(v.main_thread_ms for v in found):.0f} ms"
        f" (JavaScript {statistics.median(v.script_ms for v in found):.0f} ms); runs "
        + ", ".join(f"{v.seconds:.2f}" for v in found) + " s"
    )  # fmt: skip
