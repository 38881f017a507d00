"""The leaderboard's layout in a real Chromium: a phone-sized screen and the first screen of a laptop.

At 400 px the rank, the model and the score the table is ranked on are in the grid's visible area
without any scrolling, the page itself never scrolls sideways, and no two controls overlap. At
1,280 x 800 the model-type filter is on the first screen, filters the table and is kept in the URL.
Measured in the browser: the grid is a canvas, so a column's right edge is found where the header
offers to resize it (the pointer turns into ``col-resize``), and the column titles come from the grid's
accessible table.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser import wait_for_app

pytestmark = pytest.mark.browser
READY = "rows · ranked by"
CAPTION = re.compile(r"([\d,]+) of ([\d,]+) rows")

# Elements a user reads or operates; none may cover another.
CONTROLS = (
    "stTextInput", "stButtonGroup", "stSelectbox", "stMultiSelect", "stExpander", "stPopover",
    "stButton", "stDownloadButton", "stDataFrame", "stCaptionContainer", "stHeading", "stAlert",
)  # fmt: skip


def _grid_ready(page):
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.locator("canvas").first.wait_for()
    grid.locator("table[role='grid']").wait_for(state="attached")
    return grid


def _column_edges(page, grid) -> tuple[list[float], dict]:
    """The x of each column's right edge that lies in the grid's visible header row (left to right)."""
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    y = box["y"] + 17  # the header row
    canvas = grid.locator("canvas").first
    hot: list[float] = []
    x = box["x"] + 1
    while x < box["x"] + box["width"] - 1:
        page.mouse.move(x, y)
        if canvas.evaluate("c => getComputedStyle(c).cursor") == "col-resize":
            hot.append(x)
        x += 1
    page.mouse.move(box["x"] - 5, y)
    edges: list[list[float]] = []
    for x in hot:  # runs of adjacent positions: one edge each, at its middle
        if edges and x - edges[-1][-1] <= 1.5:
            edges[-1].append(x)
        else:
            edges.append([x])
    return [(run[0] + run[-1]) / 2 for run in edges], box


def _headers(grid) -> list[str]:
    return [h.strip() for h in grid.locator("th[role='columnheader']").all_inner_texts()]


def _overlaps(page) -> list[str]:
    """Pairs of visible controls (neither inside the other) whose boxes intersect, once the layout
    stopped moving (an expander opens with an animation)."""
    previous = None
    for _ in range(40):
        layout = page.evaluate(
            '(ids) => ids.flatMap(id => Array.from(document.querySelectorAll(`[data-testid="${id}"]`)))'
            ".map(e => JSON.stringify(e.getBoundingClientRect())).join()",
            list(CONTROLS),
        )
        if layout == previous:
            break
        previous = layout
        page.wait_for_timeout(250)
    return page.evaluate(
        """(ids) => {
        const els = ids.flatMap(id => Array.from(document.querySelectorAll(`[data-testid="${id}"]`)))
          .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0
                         && e.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true}); });
        const bad = [];
        for (let i = 0; i < els.length; i++) for (let j = i + 1; j < els.length; j++) {
          const a = els[i], b = els[j];
          if (a.contains(b) || b.contains(a)) continue;
          const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
          const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
          const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
          if (w > 1 && h > 1) bad.push(`${a.dataset.testid} "${a.innerText.slice(0, 30)}" / `
                                     + `${b.dataset.testid} "${b.innerText.slice(0, 30)}"`);
        }
        return bad; }""",
        list(CONTROLS),
    )


@pytest.mark.parametrize("query, score", [("", "Average ⬆️"), ("?by=gpqa", "GPQA ⬆️")])
def test_a_400px_screen_shows_rank_model_and_score_without_scrolling(app_server, phone_page, query, score):
    from playwright.sync_api import expect

    page = phone_page
    page.goto(f"{app_server.url}/{query}")
    wait_for_app(page, READY)
    grid = _grid_ready(page)
    expect(grid.locator("th[role='columnheader']").first).to_have_text("Rank", timeout=30_000)
    headers = _headers(grid)
    assert headers[:3] == ["Rank", "Model", score], headers
    edges, box = _column_edges(page, grid)
    # The row-selection column has no edge; Rank, Model and the score each end inside the grid.
    assert len(edges) >= 3, f"only {len(edges)} column edges inside the grid ({headers}): {edges}"
    assert edges[2] <= box["x"] + box["width"] - 2, (edges, box)
    assert box["x"] >= 0 and box["x"] + box["width"] <= 400
    widths = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    main = page.locator("[data-testid='stMain']")
    assert main.evaluate("m => m.scrollWidth <= m.clientWidth"), "the main area scrolls sideways"
    assert _overlaps(page) == []


def test_a_400px_screen_has_no_overlapping_controls_with_the_filters_open(app_server, phone_page):
    page = phone_page
    page.goto(f"{app_server.url}/")
    wait_for_app(page, READY)
    _grid_ready(page)
    page.locator("[data-testid='stExpander'] summary", has_text="Filters").click()
    page.get_by_text("Official providers only").wait_for()
    assert _overlaps(page) == []
    widths = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"


def _counts(page) -> tuple[int, int]:
    text = page.get_by_text(CAPTION).first.inner_text()
    shown, total = CAPTION.search(text).groups()
    return int(shown.replace(",", "")), int(total.replace(",", ""))


def test_the_model_type_filter_is_on_the_first_screen_at_1280(app_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{app_server.url}/")
    wait_for_app(page, READY)
    shown, total = _counts(page)
    chips = page.locator("[data-testid='stButtonGroup']").filter(has_text="pretrained").first
    chip = chips.get_by_role("button", name=re.compile(r"chat$"))
    expect(chip).to_be_visible(timeout=30_000)  # widgets' code loads on first use: slow on a busy machine
    top = chip.bounding_box()
    assert top is not None and 0 <= top["y"] and top["y"] + top["height"] <= 800, top
    assert top["x"] + top["width"] <= 1280
    chip.click()
    page.wait_for_function(
        "() => new URLSearchParams(window.location.search).get('cat') === 'chat'", timeout=30_000
    )
    expect(page.get_by_text(CAPTION).first).not_to_have_text(re.compile(rf"^{shown:,} of"), timeout=30_000)
    chats, _ = _counts(page)
    assert 0 < chats < shown
    assert parse_qs(urlparse(page.url).query)["cat"] == ["chat"]
    # A link with the filter reproduces it on a fresh load, with the chip selected.
    page.goto(page.url)
    wait_for_app(page, READY)
    expect(page.get_by_text(CAPTION).first).to_contain_text(f"{chats:,} of {total:,} rows", timeout=30_000)


def test_a_laptop_keeps_the_model_column_wide_enough_for_whole_names(app_server, browser_page):
    """The phone's 180 px Model column is for phones only: a laptop's grid gives names their width."""
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{app_server.url}/")
    wait_for_app(page, READY)
    grid = _grid_ready(page)
    expect(grid.locator("th[role='columnheader']").first).to_have_text("Rank", timeout=30_000)
    assert _headers(grid)[:2] == ["Rank", "Model"]
    edges, _ = _column_edges(page, grid)
    model_width = edges[1] - edges[0]
    assert model_width > 200, f"the Model column is {model_width:.0f} px wide at 1,280 px: names are cut"
