"""The leaderboard in a real Chromium: search, raw/normalized toggle, and a URL that reproduces the view."""

from __future__ import annotations

import re

import pytest

from tests.browser import wait_for_app

pytestmark = pytest.mark.browser
CAPTION = re.compile(r"([\d,]+) of ([\d,]+) rows")


def _counts(page) -> tuple[int, int]:
    text = page.get_by_text(CAPTION).first.inner_text()
    shown, total = CAPTION.search(text).groups()
    return int(shown.replace(",", "")), int(total.replace(",", ""))


def test_search_and_toggle_survive_a_reload(app_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(app_server.url + "/")
    wait_for_app(page, "rows · ranked by Average")
    shown, total = _counts(page)
    assert shown == total - 3 and total > 100  # the demo store, flagged models hidden by default

    search = page.get_by_placeholder(re.compile("Search models"))
    search.fill("Bluefin; @precision:GPTQ")
    search.press("Enter")
    page.wait_for_function("() => window.location.search.includes('q=')")
    expect(page.get_by_text(CAPTION).first).not_to_have_text(re.compile(rf"^{shown:,} of"))
    filtered, _ = _counts(page)
    assert 0 < filtered < total

    page.locator("[data-testid='stButtonGroup'] button", has_text=re.compile("^raw$")).click()
    page.wait_for_function("() => window.location.search.includes('view=raw')")
    expect(page.get_by_text(CAPTION).first).to_contain_text("(raw scores)")
    url = page.url
    assert "q=Bluefin" in url and "view=raw" in url

    page.goto(url)  # a fresh load of the shared link reproduces the view
    wait_for_app(page, "(raw scores)")
    expect(page.get_by_placeholder(re.compile("Search models"))).to_have_value("Bluefin; @precision:GPTQ")
    expect(page.get_by_text(CAPTION).first).to_contain_text(f"{filtered:,} of {total:,} rows")
    expect(page.locator("[data-testid='stDataFrame']")).to_have_count(1)
