"""The Checkpoints page in real Chromium: a shared URL restores the view, curves and stars are drawn.

Runs the app on the bundled demo store (four trainings). The README's picture is made by
``python bench/screenshots.py``, never by a test.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.browser import DEMO_TRAININGS as TRAININGS
from tests.browser import app_server, browser_page, wait_for_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

SHARED = {"task": "lambada_openai", "metric": "acc", "train": ",".join(TRAININGS), "smooth": "3"}

# The figure as plotly holds it in the page: one entry per trace with its name, mode, x and marker.
FIGURE_JS = """() => {
  const plot = document.querySelector('.js-plotly-plot');
  return plot.data.map(t => ({name: t.name, mode: t.mode, x: Array.from(t.x || []),
                             symbol: t.marker ? t.marker.symbol : null,
                             dash: t.line ? t.line.dash : null}));
}"""


def test_shared_url_draws_curves_with_starred_best_checkpoints(app_server, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{app_server.url}/checkpoints?{urlencode(SHARED)}")
    wait_for_app(page, "mean of 3 neighbouring checkpoints")
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace")

    traces = page.evaluate(FIGURE_JS)
    lines = {t["name"] for t in traces if t["mode"] == "lines" and not t["name"].startswith("gap: ")}
    stars = {t["name"].removeprefix("best: "): t for t in traces if t["name"].startswith("best: ")}
    assert lines == set(TRAININGS)
    assert set(stars) == set(TRAININGS)
    assert all(t["symbol"] == "star" and len(t["x"]) == 1 for t in stars.values())
    # Pellet declines late: its best checkpoint is not its last one (step 143000).
    assert stars["pellet-collective/Pellet-410M"]["x"][0] < 143000
    # Cirrus misses steps 20000-32000: a dotted bridge, not a silent solid line.
    gaps = [t for t in traces if t["name"] == "gap: meridian-ai/Cirrus-7B"]
    assert gaps and gaps[0]["dash"] == "dot"

    # Plotly drew them as SVG: one scatter trace group per trace, star paths among the points.
    assert page.locator(".scatterlayer .trace").count() == len(traces)
    assert page.locator(".scatterlayer .trace .point").count() > 4 * 20
    # The URL state reached the widgets: smoothing 3, and the rule is said under the chart.
    expect(page.get_by_text("★ Best = highest acc, mean of 3 neighbouring checkpoints")).to_have_count(1)

    # docs/screenshots is refreshed only by `python bench/screenshots.py`: tests never write the tree.
