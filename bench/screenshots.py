"""Refresh the pictures in docs/screenshots: every page of the app in real Chromium, on the demo store.

    python bench/screenshots.py [--out docs/screenshots] [--only leaderboard,checkpoints]

The only thing that writes docs/screenshots (tests never do, so a test run leaves the tree clean).
Starts the app on a free loopback port with the bundled demo store, opens each page at a fixed
viewport (1280 px wide, the width the leaderboard's first screen is designed for; 400 px for the
narrow view), waits until Streamlit has stopped running and the grid or the charts have painted, and
saves one PNG per view. Needs Chromium at /usr/bin/chromium (or $CHROMIUM_PATH) and Playwright.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: `python bench/screenshots.py`
    sys.path.insert(0, str(ROOT))

from tests.browser import CHROMIUM, LAUNCH_ARGS, PHONE_USER_AGENT, SCREENSHOTS, start_app, wait_for_app  # noqa: E402


@dataclass(frozen=True)
class Shot:
    """One picture: its file name, the path and query opened, the text to wait for, the viewport."""

    name: str
    path: str
    ready: str
    width: int = 1280
    height: int = 900
    wait_for: str | None = None  # a CSS selector that must be drawn first
    scroll_to: str | None = None  # a CSS selector scrolled into view before the picture


SHOTS = (
    Shot("leaderboard.png", "/", "rows · ranked by", wait_for="[data-testid='stDataFrame'] canvas"),
    Shot(
        "leaderboard-narrow.png",
        "/",
        "rows · ranked by",
        width=400,
        height=860,
        wait_for="[data-testid='stDataFrame'] canvas",
        scroll_to="[data-testid='stDataFrame']",
    ),  # fmt: skip
    Shot(
        "checkpoints.png",
        "/checkpoints?task=lambada_openai&metric=acc&smooth=3",
        "Best",
        height=1100,
        wait_for=".js-plotly-plot .scatterlayer .trace",
    ),  # fmt: skip
    Shot(
        "checkpoints-compare.png",
        "/checkpoints?task=lambada_openai&metric=acc&more=lambada_openai:perplexity,average&group=precision",
        "Runs grouped by",
        height=1100,
        wait_for=".js-plotly-plot .scatterlayer .trace",
        scroll_to=".js-plotly-plot",
    ),  # fmt: skip
    Shot("model.png", "/model", "Provenance", height=1000),
    Shot("compare.png", "/compare", "Compare", height=1000),
    Shot("benchmarks.png", "/benchmarks", "Benchmarks", height=1000),
    Shot("queue.png", "/queue", "Evaluation queue", height=1000),
    Shot("about.png", "/about", "About", height=1000),
)


def take(out: Path, only: set[str] | None = None) -> list[Path]:
    """Take every shot (or those named in ``only``, without '.png') into ``out``; returns the files."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    server = start_app()
    written: list[Path] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            for shot in SHOTS:
                if only and shot.name.removesuffix(".png") not in only:
                    continue
                phone = {"user_agent": PHONE_USER_AGENT} if shot.width <= 500 else {}  # a phone says so
                context = browser.new_context(viewport={"width": shot.width, "height": shot.height}, **phone)
                page = context.new_page()
                page.set_default_timeout(60_000)
                page.goto(server.url + shot.path)
                wait_for_app(page, shot.ready, timeout=90_000)
                if shot.wait_for:
                    page.wait_for_selector(shot.wait_for)
                if shot.scroll_to:
                    page.locator(shot.scroll_to).first.scroll_into_view_if_needed()
                page.wait_for_timeout(1500)  # let the grid and the charts paint
                target = out / shot.name
                page.screenshot(path=str(target), full_page=False)
                written.append(target)
                print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}", flush=True)
                context.close()
            browser.close()
    finally:
        server.stop()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SCREENSHOTS, help="folder for the PNGs")
    parser.add_argument("--only", default="", help="comma-separated names, e.g. leaderboard,checkpoints")
    options = parser.parse_args(argv)
    only = {n.strip() for n in options.only.split(",") if n.strip()} or None
    take(options.out.resolve(), only)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
