"""From the leaderboard to a model page and to a comparison by clicking, in a real Chromium; the URLs
they land on reproduce the view when opened afresh."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser import wait_for_app

pytestmark = pytest.mark.browser
HEADER_PX, ROW_PX = 35, 35  # Streamlit's default dataframe header and row heights


def _select_rows(page, positions: list[int]) -> None:
    """Tick the row-selection checkboxes (the grid's first column) of the leaderboard table."""
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.locator("canvas").first.wait_for()
    page.wait_for_timeout(1000)
    box = grid.bounding_box()
    for pos in positions:
        page.mouse.click(box["x"] + 18, box["y"] + HEADER_PX + ROW_PX * pos + ROW_PX / 2)
        page.wait_for_timeout(1000)
        wait_for_app(page)


def _top_models(page, count: int) -> list[str]:
    """The first models of the table, read from the CSV download of the current view."""
    with page.expect_download() as info:
        page.get_by_role("button", name="⬇ CSV").click()
    text = open(info.value.path(), encoding="utf-8").read().splitlines()
    header = text[0].split(",")
    page.wait_for_timeout(500)
    wait_for_app(page)  # a download button reruns the script
    return [line.split(",")[header.index("Model")] for line in text[1 : count + 1]]


def test_leaderboard_row_opens_its_model_page(app_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(app_server.url + "/")
    wait_for_app(page, "rows · ranked by Average")
    _select_rows(page, [0])
    top = _top_models(page, 1)[0]
    button = page.get_by_role("button", name=re.compile("Open model page"))
    expect(button).to_be_enabled()
    button.click()
    page.wait_for_url(re.compile(r"/model\?"))
    wait_for_app(page, "Provenance")
    query = parse_qs(urlparse(page.url).query)
    assert query["model"] == [top] and query["revision"] and query["precision"]
    expect(page.get_by_text("Status history").or_(page.get_by_text("Requests")).first).to_be_visible()

    page.goto(page.url)  # the link alone reproduces the view
    wait_for_app(page, "Provenance")
    picker = page.locator("[data-testid='stMain']").get_by_role("combobox", name="Model", exact=True)
    expect(picker).to_have_value(top)


def test_two_selected_rows_open_a_comparison(app_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(app_server.url + "/")
    wait_for_app(page, "rows · ranked by Average")
    _select_rows(page, [0, 1])
    first, second = _top_models(page, 2)
    button = page.get_by_role("button", name=re.compile(r"Compare selected \(2\)"))
    expect(button).to_be_enabled()
    button.click()
    page.wait_for_url(re.compile(r"/compare\?"))
    wait_for_app(page, "Settings check")
    keys = parse_qs(urlparse(page.url).query)["m"][0].split(",")
    assert [k.split("|")[0] for k in keys] == [first, second]

    page.goto(page.url)
    wait_for_app(page, "Settings check")
    picked = page.locator("[data-testid='stMain'] [data-testid='stMultiSelect']").first
    expect(picked).to_contain_text(first)
    expect(picked).to_contain_text(second)
    expect(page.get_by_text(re.compile("^Differences from"))).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(2, timeout=30_000)
