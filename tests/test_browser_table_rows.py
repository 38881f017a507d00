"""The grid gets the top rows only; "Show more" adds rows; search, "Order all rows by" and downloads still
cover the whole view.

The app runs with ``LEADERBOARD_TABLE_ROWS=25`` on the demo store (over a hundred rows), so the cut is
reached with a small store; the default is 1,000 rows (``lib.ui.leaderboard.PAGE_ROWS``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest

from tests.browser import AppServer, start_app, wait_for_app

pytestmark = pytest.mark.browser
CAPTION = re.compile(r"([\d,]+) of ([\d,]+) rows")
GRID_ROWS_JS = """() => Number(document.querySelector("[data-testid='stDataFrame'] table[role='grid']")
  ?.getAttribute('aria-rowcount') || 0)"""


@pytest.fixture(scope="module")
def small_pages_server() -> Iterator[AppServer]:
    server = start_app(extra_env={"LEADERBOARD_TABLE_ROWS": "25"})
    yield server
    server.stop()


def _grid_rows(page) -> int:
    page.wait_for_selector("[data-testid='stDataFrame'] table[role='grid']", state="attached")
    return int(page.evaluate(GRID_ROWS_JS)) - 1  # the header row counts in aria-rowcount


def _download_rows(page) -> list[dict[str, str]]:
    with page.expect_download(timeout=120_000) as info:  # the click reruns the page first
        page.get_by_role("button", name="⬇ CSV").click()
    text = open(info.value.path(), encoding="utf-8").read()
    page.wait_for_timeout(500)
    wait_for_app(page)
    return list(csv.DictReader(io.StringIO(text)))


def test_the_grid_shows_the_top_rows_and_show_more_adds_rows(small_pages_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(small_pages_server.url + "/")
    wait_for_app(page, "rows · ranked by Average")
    shown, _total = (
        int(x.replace(",", "")) for x in CAPTION.search(page.get_by_text(CAPTION).first.inner_text()).groups()
    )
    assert shown > 50
    note = page.get_by_text(re.compile(r"Showing the first 25 of [\d,]+ rows")).first
    expect(note).to_contain_text(f"Showing the first 25 of {shown:,} rows")
    expect(note).to_contain_text(f"Order all rows by sorts all {shown:,}")
    assert _grid_rows(page) == 25

    page.get_by_role("button", name="Show 25 more").click()
    wait_for_app(page, "Showing the first 50 of")
    page.wait_for_function(f"() => ({GRID_ROWS_JS})() === 51")

    rows = _download_rows(page)  # the download has every row of the view, not the rows sent
    assert len(rows) == shown
    assert [r["Rank"] for r in rows[:3]] == ["1", "2", "3"]


def test_search_covers_the_whole_view_not_only_the_rows_sent(small_pages_server, browser_page):
    page = browser_page
    page.goto(small_pages_server.url + "/")
    wait_for_app(page, "rows · ranked by Average")
    everything = _download_rows(page)
    last = everything[-1]["Model"]  # far below the first 25 rows
    search = page.get_by_placeholder(re.compile("Search models"))
    search.fill(last)
    search.press("Enter")
    page.wait_for_function("() => window.location.search.includes('q=')")
    wait_for_app(page)
    found = _download_rows(page)
    assert last in [r["Model"] for r in found]
    assert _grid_rows(page) == len(found) <= 25
    assert page.get_by_text(re.compile("Showing the first")).count() == 0


def test_ordering_all_rows_sorts_the_whole_view_not_only_the_rows_sent(small_pages_server, browser_page):
    """A column header sorts the 25 rows the grid holds; "Order all rows by" sorts every row on the server:
    the largest model of the whole view comes first, the link keeps the order, ranks stay the ranking's."""
    page = browser_page
    page.goto(small_pages_server.url + "/")
    wait_for_app(page, "rows · ranked by Average")
    everything = _download_rows(page)
    size = [float(r["#Params (B)"]) if r["#Params (B)"] else None for r in everything]
    smallest = min(s for s in size if s is not None)
    assert smallest not in size[:25]  # not among the rows the grid was sent: a header sort cannot find it
    box = page.locator("[data-testid='stSelectbox']").filter(has_text="Order all rows by")
    box.get_by_role("combobox").click()
    page.get_by_role("option", name="#Params (B)", exact=True).click()
    page.wait_for_function("() => window.location.search.includes('order=params')")
    wait_for_app(page, "ordered by #Params (B), descending")  # a number starts largest first
    page.get_by_text("Descending", exact=True).click()
    page.wait_for_function("() => window.location.search.includes('desc=0')")
    wait_for_app(page, "ordered by #Params (B), ascending")
    ordered = _download_rows(page)  # the download follows the order too
    assert len(ordered) == len(everything)
    assert float(ordered[0]["#Params (B)"]) == smallest
    known = [float(r["#Params (B)"]) for r in ordered if r["#Params (B)"]]
    assert known == sorted(known)
    assert not any(r["#Params (B)"] for r in ordered[len(known) :])  # unknown sizes last
    rows = sorted(tuple(r.items()) for r in everything)
    assert sorted(tuple(r.items()) for r in ordered) == rows  # the same rows, each with its own rank

    page.goto(small_pages_server.url + "/?order=model&desc=0")  # a link to the order A to Z
    wait_for_app(page, "ordered by Model, ascending")
    names = [r["Model"] for r in _download_rows(page)]
    assert names == sorted(names, key=str.casefold)
