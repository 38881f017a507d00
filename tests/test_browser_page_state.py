"""Leaderboard state and numbers in a real Chromium (issue 13's bugs 1-5).

What a user sees after using the controls: the Columns popover keeps its selection, a page keeps its
state across page changes and its URL matches the screen, the interval column is the interval of the
score ranked on, removing the rank-by benchmark falls back to the average, and out-of-range link values
are clamped with a notice. Runs the app on the bundled demo store.
"""

from __future__ import annotations

import csv
import io
import math
import re
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser import menu_link, wait_for_app

pytestmark = pytest.mark.browser
Z95 = 1.959963984540054
READY = "rows · ranked by"


def _headers(page) -> list[str]:
    """The leaderboard grid's column headers, from its accessible table."""
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.locator("table[role='grid']").wait_for(state="attached")
    return [h.strip() for h in grid.locator("th[role='columnheader']").all_inner_texts()]


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query, keep_blank_values=True)


def _download_csv(page) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.get_by_role("button", name="⬇ CSV").click()
    text = open(info.value.path(), encoding="utf-8").read()
    page.wait_for_timeout(500)
    wait_for_app(page)
    return list(csv.DictReader(io.StringIO(text)))


def _raw_toggle(page):
    return page.locator("[data-testid='stButtonGroup'] button", has_text=re.compile("^raw$"))


def _nav(page, title: str) -> None:
    menu_link(page, title).click()


def test_columns_popover_keeps_its_selection_after_another_control(app_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(app_server.url + "/")
    wait_for_app(page, READY)
    _raw_toggle(page).click()
    page.wait_for_function("() => window.location.search.includes('view=raw')")
    wait_for_app(page, "(raw scores)")
    page.get_by_role("button", name=re.compile("Columns")).click()
    body = page.locator("[data-testid='stPopoverBody']")
    picker = body.locator("[data-testid='stMultiSelect']")
    for column in ("Stat. rank", "± 95%", "Precision"):
        expect(picker).to_contain_text(column)  # the columns on screen, not "Choose options"
    picker.get_by_role("combobox").click()
    page.get_by_role("option", name="Architecture", exact=True).click()
    page.keyboard.press("Escape")
    page.wait_for_function("() => window.location.search.includes('Architecture')")
    wait_for_app(page)
    page.set_viewport_size({"width": 3600, "height": 1000})  # the grid only renders the columns in view
    page.wait_for_timeout(1000)
    headers = _headers(page)
    assert "Architecture" in headers
    assert "Precision" in headers and "Stat. rank" in headers  # the defaults stay
    assert any(h.startswith("± 95%") for h in headers)


def test_leaderboard_state_survives_a_visit_to_another_page(app_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(app_server.url + "/")
    wait_for_app(page, READY)
    search = page.get_by_placeholder(re.compile("Search models"))
    search.fill("Bluefin")
    search.press("Enter")
    page.wait_for_function("() => window.location.search.includes('q=Bluefin')")
    wait_for_app(page)
    _raw_toggle(page).click()
    page.wait_for_function("() => window.location.search.includes('view=raw')")
    wait_for_app(page, "(raw scores)")
    caption = page.get_by_text(re.compile(r"[\d,]+ of [\d,]+ rows")).first.inner_text()

    for other in ("Checkpoints", "About"):
        _nav(page, other)
        page.wait_for_url(re.compile(other.lower()))
        wait_for_app(page)
        _nav(page, "Leaderboard")
        page.wait_for_function("() => !window.location.pathname.includes('" + other.lower() + "')")
        wait_for_app(page, READY)
        page.wait_for_function("() => window.location.search.includes('q=Bluefin')")
        query = _query(page)
        assert query.get("q") == ["Bluefin"] and query.get("view") == ["raw"], page.url
        assert "None" not in page.url
        expect(page.get_by_placeholder(re.compile("Search models"))).to_have_value("Bluefin")
        expect(page.get_by_text(re.compile(r"[\d,]+ of [\d,]+ rows")).first).to_have_text(caption)


def _index_frame():
    from lib.analysis.ranking import leaderboard_frame
    from lib.core.config import load_definition
    from lib.index import Index

    definition = load_definition("demo")
    index = Index(definition, definition.results_store, definition.requests_store)
    index.refresh()
    return definition, leaderboard_frame(index, definition.benchmarks)


def _float(text: str) -> float:
    return float(text) if text not in ("", None) else math.nan


@pytest.mark.parametrize("by", ["average", "gpqa"])
def test_the_interval_column_is_the_interval_of_the_raw_score_ranked_on(app_server, browser_page, by):
    page = browser_page
    definition, frame = _index_frame()
    names = {b.id: b.name for b in definition.benchmarks}
    page.goto(app_server.url + f"/?view=raw&by={by}")
    wait_for_app(page, "(raw scores)")
    label = "Average" if by == "average" else names[by]
    headers = _headers(page)
    assert f"± 95% ({label}, raw)" in headers, headers
    if by != "average":  # the arrow marks the column ranked on
        assert f"{names[by]} ⬆️" in headers and "Average" in headers, headers

    rows = _download_csv(page)
    expected = {}
    k = len(definition.benchmarks)
    for _, row in frame.iterrows():
        ses = [row[f"{b.id}_raw_se"] for b in definition.benchmarks]
        if by == "average":
            half = Z95 * math.sqrt(sum(s * s for s in ses)) / k * 100
        else:
            half = Z95 * row[f"{by}_raw_se"] * 100
        expected.setdefault(row["model"], []).append(half)
    checked = 0
    for row in rows[:40]:
        shown = _float(row["± 95%"])
        candidates = expected[row["Model"]]
        if math.isnan(shown):
            assert any(math.isnan(c) for c in candidates), row
            continue
        assert any(abs(shown - c) < 1e-6 for c in candidates), (row["Model"], shown, candidates)
        checked += 1
    assert checked >= 10
    grid_text = page.locator("[data-testid='stDataFrame']").first.locator("table[role='grid']").inner_text()
    assert "None" not in grid_text  # missing intervals are blank


def test_removing_the_rank_by_benchmark_falls_back_to_the_average(app_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(app_server.url + "/?by=gpqa&bench=ifeval,bbh,gpqa")
    wait_for_app(page, "ranked by GPQA")
    benchmarks = page.locator("[data-testid='stMultiSelect']").filter(has_text="Benchmarks").first
    benchmarks.get_by_role("button", name=re.compile("Remove GPQA|GPQA")).last.click()
    wait_for_app(page, "ranked by Average")
    expect(page.get_by_text("no longer among the selected benchmarks").first).to_be_visible()
    expect(page.locator("[data-testid='stDataFrame']")).to_have_count(1)
    page.wait_for_function("() => !window.location.search.includes('by=')")  # the URL follows the screen
    assert "gpqa" not in _query(page).get("bench", [""])[0] and "cannot rank" not in page.content()

    for name in ("IFEval", "BBH"):  # clearing every benchmark does not leave the control empty
        benchmarks.get_by_role("button", name=re.compile(f"Remove {name}|{name}")).last.click()
        wait_for_app(page)
    expect(page.get_by_text("every benchmark is used again").first).to_be_visible()
    for name in ("IFEval", "BBH", "GPQA", "MuSR"):
        expect(benchmarks).to_contain_text(name)


def test_out_of_range_link_values_are_clamped_with_a_notice(app_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(app_server.url + "/?weighted=1&w_ifeval=1000&pmin=2000")
    wait_for_app(page, READY)
    notice = page.get_by_text("Some values in the link were changed").first
    expect(notice).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"w_ifeval=1000 is outside 0 to 100; using 100")).first
    ).to_be_visible()
    expect(page.get_by_text(re.compile(r"pmin=2000")).first).to_be_visible()
    # an empty table says why and how to widen the view
    expect(page.get_by_text(re.compile("No model matches")).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"#Params")).first).to_be_visible()
    page.get_by_role("button", name=re.compile("Clear the filters")).click()
    wait_for_app(page, READY)
    page.wait_for_function("() => !window.location.search.includes('pmin')")
    assert "w_ifeval=100" in page.url
