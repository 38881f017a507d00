"""The floor under the browser rows: the same measurement on a bare Streamlit page on this machine.

Issue 14 asks for a first load under 1 s and a warm reload under 0.8 s at 5,000 models. Streamlit itself
takes time before any script of ours runs (its page and JavaScript, the websocket, the per-element
JavaScript it loads after the first run). This script measures that floor with exactly the method of
``bench/browser.py`` (same Chromium flags, viewport, websocket probe and "usable" test): a page with a
title and, in a fragment, a search box over one selectable grid of 1,000 rows x 8 columns (what the
leaderboard sends), nothing else. A search there is what one control's round trip costs in Streamlit. Its first load's
phases and a returning visitor's (``bench/first_load.py``) are reported as for the leaderboard, so the two
can be read side by side.

    python3 bench/streamlit_floor.py            # prints the rows; bench/run.py adds them to a full run

This module measures; it changes nothing in the app.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import browser  # noqa: E402 - after the path set-up, as a script

APP = """import pandas as pd
import streamlit as st

st.set_page_config(page_title="floor", layout="wide")
st.title("A bare page")
frame = pd.DataFrame({"Model": [f"org/model-{i:04d}" for i in range(1000)],
                      **{f"Bench {k}": [((i * 7 + k) % 100) / 1.0 for i in range(1000)] for k in range(7)}})


@st.fragment
def table() -> None:  # a search reruns this part alone, as the leaderboard's fragment does
    query = st.text_input("Search", placeholder="Search models", key="q")
    shown = frame[frame["Model"].str.contains(query, regex=False)] if query else frame
    st.dataframe(shown, hide_index=True, on_select="rerun", selection_mode="single-row", key="grid")


table()
"""
ROWS = (
    "browser floor: bare Streamlit page, first load, warm server",
    "browser floor: bare Streamlit page, warm reload",
    "browser floor: bare Streamlit page, search (type + Enter)",
    "browser floor: bare Streamlit page, where a first load's time goes",
    "browser floor: bare Streamlit page, first load, returning visitor",
)
SIZE = "a title, a search box and one grid of 1,000 rows x 8 columns"


def measure(first_loads: int = 5, reloads: int = 3, searches: int = 6) -> list[dict[str, Any]]:
    """Report rows (bench.run.Row fields): the bare page's first loads (a new browser context each, after
    one unmeasured visit), reloads (the same context) and searches (typed + Enter, then cleared: each a
    fragment rerun that sends the grid again), as ``bench/browser.py`` times the leaderboard."""
    import subprocess

    from playwright.sync_api import sync_playwright

    from bench import first_load

    folder = Path(tempfile.mkdtemp(prefix="streamlit-floor-"))
    script = folder / "app.py"
    script.write_text(APP, encoding="utf-8")
    port = browser._free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    # Run from the temporary folder: Streamlit's shipped settings, not the app's .streamlit/config.toml.
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        if not browser.wait_healthy(url, process):
            raise RuntimeError("streamlit did not become healthy in 120 s")
        firsts: list[float] = []
        reload_s: list[float] = []
        servers: list[float] = []
        search_s: list[float] = []
        search_servers: list[float] = []
        with sync_playwright() as playwright:
            chromium = browser._browser(playwright)
            try:
                for i in range(first_loads + 1):
                    context = chromium.new_context(viewport=browser.VIEWPORT)
                    page = context.new_page()
                    probe = browser.Probe(page)
                    t0 = time.perf_counter()
                    page.goto(url, wait_until="commit")
                    seconds, run = browser.usable(probe, t0)
                    if i:  # the first visit warms the server (Streamlit's first script run)
                        firsts.append(seconds)
                        if run is not None and run.finished is not None:
                            servers.append(run.finished - t0)
                    if i < first_loads:
                        context.close()
                for _ in range(reloads):
                    t0 = time.perf_counter()
                    page.reload(wait_until="commit")
                    reload_s.append(browser.usable(probe, t0)[0])
                box = page.get_by_placeholder("Search models")
                for i in range(searches):
                    probe.forget_drawn()
                    t0 = time.perf_counter()
                    box.fill("model-01" if i % 2 == 0 else "")
                    box.press("Enter")
                    seconds, run = browser.usable(probe, t0, 60.0)
                    search_s.append(seconds)
                    if run is not None and run.finished is not None:
                        search_servers.append(run.finished - t0)
                context.close()
                phases = first_load.visits(chromium, url, min(first_loads, 3))
                returning = first_load.visits(chromium, url, min(first_loads, 3), returning=True)
            finally:
                chromium.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    note = "runs: " + ", ".join(f"{x:.2f}" for x in firsts) + " s"
    if servers:
        note += f"; navigation to script_finished median {statistics.median(servers):.2f} s"
    return [
        {"name": ROWS[0], "size": SIZE, "value": statistics.median(firsts), "unit": "s", "repeats": len(firsts),
         "target": None, "note": note + "; a new browser context each (no HTTP cache), as the leaderboard's row"},
        {"name": ROWS[1], "size": SIZE, "value": statistics.median(reload_s), "unit": "s",
         "repeats": len(reload_s), "target": None,
         "note": "runs: " + ", ".join(f"{x:.2f}" for x in reload_s) + " s; the same context"},
        {"name": ROWS[2], "size": SIZE, "value": statistics.median(search_s), "unit": "s",
         "repeats": len(search_s), "target": None,
         "note": "runs: " + ", ".join(f"{x:.2f}" for x in search_s) + " s; 'model-01' then cleared, a fragment "
         "rerun each; server (input to script_finished) median "
         + (f"{statistics.median(search_servers):.2f} s" if search_servers else "unknown")},
        {"name": ROWS[3], "size": SIZE, "value": statistics.median(v.seconds for v in phases), "unit": "s",
         "repeats": len(phases), "target": None, "note": first_load.describe(phases)},
        {"name": ROWS[4], "size": SIZE, "value": statistics.median(v.seconds for v in returning), "unit": "s",
         "repeats": len(returning), "target": None,
         "note": "a new tab in a context that visited once (HTTP cache warm); " + first_load.describe(returning)},
    ]  # fmt: skip


def main() -> int:
    for row in measure():
        print(
            f"| {row['name']} | {row['size']} | {row['value']:.2f} {row['unit']} | {row['repeats']} | {row['note']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
