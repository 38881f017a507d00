"""Missing values in the app's tables, in real Chromium (issue 13): a blank, never "None" or "0.00".

The data grid draws its cells on a canvas; the words it draws are recorded by wrapping the canvas's
``fillText`` before the page loads (``DRAWN_HOOK``), which is what a user reads. Its hidden DOM table (for
assistive technology) holds each cell's value, which says whether a column kept its numbers.
"""

from __future__ import annotations

import json
import shutil
from urllib.parse import urlencode

import pytest

from tests.browser import ROOT, app_server, browser_page, start_app, wait_for_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

DRAWN_HOOK = """
window.__drawn = [];
const fillText = CanvasRenderingContext2D.prototype.fillText;
CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
  window.__drawn.push(String(text));
  return fillText.call(this, text, ...rest);
};
"""
UNKNOWN_ZERO = "bluefin-research/Bluefin-1.5B"  # its request says "params": 0, the template's "unknown"
UNKNOWN_NULL = "bluefin-research/Bluefin-0.5B"  # its request says "params": null


@pytest.fixture
def unknown_sizes(tmp_path):
    shutil.copytree(ROOT / "demo" / "results", tmp_path / "results")
    shutil.copytree(ROOT / "demo" / "requests", tmp_path / "requests")
    for model, params in ((UNKNOWN_ZERO, 0), (UNKNOWN_NULL, None)):
        org, name = model.split("/")
        for path in (tmp_path / "requests" / org).glob(f"{name}_eval_request_*.json"):
            data = json.loads(path.read_text(encoding="utf-8"))
            data["params"] = params
            path.write_text(json.dumps(data), encoding="utf-8")
    env = {"LEADERBOARD_RESULTS": str(tmp_path / "results"), "LEADERBOARD_REQUESTS": str(tmp_path / "requests"),
           "LEADERBOARD_CACHE": "off"}  # fmt: skip
    server = start_app(env)
    yield server
    server.stop()


def _params_cells(page) -> dict[str, str]:
    """Model id -> the #Params cell's value in the grid's DOM table."""
    return page.evaluate(
        """() => {
          const grid = document.querySelector("[data-testid='stDataFrame'] table[role='grid']");
          const heads = Array.from(grid.querySelectorAll("th[role='columnheader']"));
          const col = heads.find(h => h.textContent.trim().startsWith('#Params')).getAttribute('aria-colindex');
          const modelCol = heads.find(h => h.textContent.trim() === 'Model').getAttribute('aria-colindex');
          const out = {};
          for (const row of grid.querySelectorAll('tbody tr')) {
            const cell = c => (row.querySelector(`td[aria-colindex='${c}']`) || {}).textContent;
            const link = (cell(modelCol) || '').trim();
            out[link.replace(/^https:\\/\\/huggingface\\.co\\//, '')] = (cell(col) || '').trim();
          }
          return out;
        }"""
    )


def test_unknown_parameter_counts_read_blank_and_the_column_stays_numeric(unknown_sizes, browser_page):  # noqa: F811
    page = browser_page
    page.set_viewport_size({"width": 3000, "height": 1000})  # the grid draws the columns in view
    page.add_init_script(DRAWN_HOOK)
    page.goto(f"{unknown_sizes.url}/?{urlencode({'q': 'Bluefin'})}")
    wait_for_app(page)
    page.wait_for_selector("[data-testid='stDataFrame'] table[role='grid'] th", state="attached")
    page.wait_for_function("() => window.__drawn.some(t => t.includes('Bluefin-1.5B'))")
    cells = _params_cells(page)
    assert cells[UNKNOWN_ZERO] == "" and cells[UNKNOWN_NULL] == "", cells  # unknown, not 0
    known = {m: v for m, v in cells.items() if m not in (UNKNOWN_ZERO, UNKNOWN_NULL)}
    assert known and all(float(v) > 0 for v in known.values()), known  # numbers, sorted as numbers
    drawn = page.evaluate("window.__drawn")
    assert "None" not in drawn, sorted(set(drawn))[:80]


def test_the_benchmarks_tables_draw_no_none(app_server, browser_page):  # noqa: F811
    page = browser_page
    page.set_viewport_size({"width": 3000, "height": 1000})
    page.add_init_script(DRAWN_HOOK)
    page.goto(f"{app_server.url}/benchmarks?{urlencode({'task': 'demo-benchmarks/gpqa · default'})}")
    wait_for_app(page, "GPQA (demo)")
    page.wait_for_selector("[data-testid='stDataFrame'] table td", state="attached")
    page.wait_for_function("() => window.__drawn.some(t => t.includes('Sable'))")
    page.wait_for_timeout(500)
    drawn = page.evaluate("window.__drawn")
    assert "None" not in drawn, sorted(set(drawn))[:80]
