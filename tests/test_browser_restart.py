"""A restart (issue 14) in real Chromium: a fresh server with a persisted index draws the leaderboard from
the snapshot at once, then lists the stores and, when a file changed since the snapshot, draws the page
again by itself with a toast saying what changed; on an unchanged store nothing is redrawn."""

from __future__ import annotations

import os
import re
import shutil
import time

import pytest

from lib.core.config import load_definition
from lib.index import Index
from tests.browser import ROOT, add_demo_model, browser_page, start_app, wait_for_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser
CAPTION = re.compile(r"([\d,]+) of ([\d,]+) rows")


def _rows(page) -> int:
    return int(CAPTION.search(page.get_by_text(CAPTION).first.inner_text()).group(2).replace(",", ""))


def test_a_restart_draws_the_snapshot_then_shows_what_changed_since(tmp_path, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    shutil.copytree(ROOT / "demo" / "results", tmp_path / "results")
    shutil.copytree(ROOT / "demo" / "requests", tmp_path / "requests")
    old = time.time() - 600
    for path in tmp_path.rglob("*.json"):
        os.utime(path, (old, old))
    cache = tmp_path / "cache"
    saved = Index(load_definition(None), str(tmp_path / "results"), str(tmp_path / "requests"), cache=cache)
    saved.refresh()  # the snapshot a server that ran before the restart left
    total = saved.counts()["evaluations"]
    env = {
        "LEADERBOARD_RESULTS": str(tmp_path / "results"),
        "LEADERBOARD_REQUESTS": str(tmp_path / "requests"),
        "LEADERBOARD_CACHE": str(cache),
    }
    page = browser_page

    server = start_app(env)  # unchanged store: drawn from the snapshot, checked, not redrawn
    try:
        page.goto(server.url + "/")
        wait_for_app(page, "rows · ranked by Average")
        assert _rows(page) == total
        expect(page.get_by_text("Checking the stores")).to_have_count(0)
        expect(page.locator("[data-testid='stToast']")).to_have_count(0)
    finally:
        server.stop()

    add_demo_model(tmp_path, "Kestrel-Restart-1B")  # written while no server ran: only a listing finds it
    server = start_app(env)
    try:
        page.goto(server.url + "/")
        toast = page.locator("[data-testid='stToast']").filter(has_text="Refreshed:")
        expect(toast.first).to_contain_text("1 result file(s) read", timeout=30_000)
        wait_for_app(page, "rows · ranked by Average")
        expect(page.get_by_text(CAPTION).first).to_contain_text(f"of {total + 1:,} rows")
        expect(page.get_by_text("Checking the stores")).to_have_count(0)
    finally:
        server.stop()
    assert "index cache" not in server.log_path.read_text(
        errors="replace"
    )  # the snapshot was used, not discarded
