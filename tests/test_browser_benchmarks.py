"""The Benchmarks page in real Chromium on the demo's local Hub mirror: badges in the ranked table and legend."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.browser import app_server, browser_page, wait_for_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

# Cell texts of the ranked table as the data grid exposes them to assistive technology (its DOM table).
CELLS_JS = """() => Array.from(document.querySelectorAll("[data-testid='stDataFrame'] table td"))
  .map(td => (td.textContent || '').trim())"""


def test_badges_show_in_the_legend_and_the_ranked_entries(app_server, browser_page):  # noqa: F811
    page = browser_page
    page.goto(f"{app_server.url}/benchmarks?{urlencode({'task': 'demo-benchmarks/agent-arena · default'})}")
    wait_for_app(page, "Agent Arena (demo)")
    for label in ("✔ verified", "👥 community", "🏆 leaderboard", "🔗 source"):
        assert page.get_by_text(label, exact=True).count() >= 1, label
    page.wait_for_selector("[data-testid='stDataFrame'] table td", state="attached")
    cells = page.evaluate(CELLS_JS)
    assert "meridian-ai/Sable-70B-Instruct" in cells
    assert "bluefin-research/Bluefin-32B-Instruct" in cells
    assert any("👥 community" in c for c in cells), cells[:40]
    assert {"tools", "no-tools"} <= set(cells)


def test_verified_and_source_badges_on_the_gpqa_leader(app_server, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{app_server.url}/benchmarks?{urlencode({'task': 'demo-benchmarks/gpqa · default'})}")
    wait_for_app(page, "GPQA (demo)")
    page.wait_for_selector("[data-testid='stDataFrame'] table td", state="attached")
    cells = page.evaluate(CELLS_JS)
    assert any("✔ verified" in c and "🔗 source" in c for c in cells), cells[:40]
    expect(page.get_by_text("Self-reported vs. our evaluation (GPQA)")).to_have_count(1)
