"""The Checkpoints page's axes in real Chromium (issue 13, bug 6), on the demo store.

Pellet-410M records no token counts and starts at a perplexity of about 10^5 at step 0: on the tokens
axis it leaves the legend (and the chart), and its step-0 point must not squash every other curve.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.browser import DEMO_TRAININGS as TRAININGS
from tests.browser import wait_for_app

pytestmark = pytest.mark.browser
PLOT_JS = """() => {
  const plot = document.querySelector('.js-plotly-plot');
  const y = plot._fullLayout.yaxis;
  return {names: plot.data.filter(t => t.showlegend !== false && t.x && t.x.some(v => v !== null))
                          .map(t => t.name),
          type: y.type, range: y.range.slice()};
}"""


def _open(page, url: str, **query: str) -> dict:
    page.goto(f"{url}/checkpoints?{urlencode(query)}")
    wait_for_app(page, "Checkpoints")
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace")
    page.wait_for_timeout(500)
    return page.evaluate(PLOT_JS)


def test_trainings_without_token_counts_leave_the_tokens_axis(app_server, browser_page):
    from playwright.sync_api import expect

    base = {"task": "lambada_openai", "metric": "acc", "train": ",".join(TRAININGS)}
    on_steps = _open(browser_page, app_server.url, **base)
    assert "pellet-collective/Pellet-410M" in on_steps["names"]
    on_tokens = _open(browser_page, app_server.url, **base, x="tokens")
    assert "pellet-collective/Pellet-410M" not in on_tokens["names"]
    assert {"meridian-ai/Cirrus-7B", "northwind-labs/Tern-1B"} <= set(on_tokens["names"])
    expect(browser_page.get_by_text("Not on the tokens axis").first).to_contain_text("Pellet-410M")


def test_one_outlier_does_not_squash_the_curves_and_log_y_can_be_turned_off(app_server, browser_page):
    from playwright.sync_api import expect

    base = {"task": "lambada_openai", "metric": "perplexity", "train": ",".join(TRAININGS)}
    auto = _open(browser_page, app_server.url, **base)
    assert auto["type"] == "log"  # perplexities over orders of magnitude: log by default

    linear = _open(browser_page, app_server.url, **base, logy="off")
    assert linear["type"] == "linear"
    low, high = linear["range"]
    assert high < 100, linear  # the step-0 perplexity (~88,745) is left off the axis...
    expect(browser_page.get_by_text("outlying point(s) left off").first).to_be_visible()  # ...and said so

    full = _open(browser_page, app_server.url, **base, logy="off", yr="full")
    assert full["range"][1] > 80_000
    # the controls are on the page and drive the URL
    browser_page.locator("[data-testid='stButtonGroup'] button", has_text="robust").click()
    browser_page.wait_for_function("() => !window.location.search.includes('yr=')")
    wait_for_app(browser_page)
    assert browser_page.evaluate(PLOT_JS)["range"][1] < 100
