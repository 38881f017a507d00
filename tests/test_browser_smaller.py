"""Issue 13's smaller items, in real Chromium on the demo store: what a user reads on a page."""

from __future__ import annotations

import pytest

from tests.browser import ROOT, menu_link, wait_for_app

pytestmark = pytest.mark.browser


def test_an_unknown_model_shows_no_unrelated_model(app_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{app_server.url}/model?model=kestrel-nlp/Kestrel-9000B")
    wait_for_app(page, "No evaluation of this model is in the index")
    expect(page.get_by_text("Choose a model above.")).to_be_visible()
    expect(page.get_by_text("Models with a similar name").first).to_contain_text("kestrel-nlp/Kestrel")
    expect(page.get_by_text("Provenance")).to_have_count(0)  # no other model's page under the error
    assert "model=None" not in page.url


def test_the_value_at_step_table_speaks_the_page_words(app_server, browser_page):
    page = browser_page
    page.goto(f"{app_server.url}/checkpoints?task=lambada_openai&metric=acc&at=20000")
    wait_for_app(page, "Value at step 20,000")
    grid = page.locator("[data-testid='stDataFrame']").last
    grid.locator("table[role='grid']").wait_for(state="attached")
    headers = [h.strip() for h in grid.locator("th[role='columnheader']").all_inner_texts()]
    assert headers[:4] == ["Training", "n-shot", "Chat template", "Step"], headers
    assert not {"num_fewshot", "requested_step", "stderr"} & set(headers)
    assert "None" not in grid.locator("table[role='grid']").inner_text()


def test_the_benchmarks_page_prints_no_server_path(app_server, browser_page):
    page = browser_page
    page.goto(f"{app_server.url}/benchmarks")
    wait_for_app(page, "Hub benchmarks")
    text = page.locator("[data-testid='stMain']").inner_text()
    assert str(ROOT) not in text and "/work/" not in text


def test_a_closed_submission_form_cannot_be_typed_in_and_says_why(app_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{app_server.url}/about")
    wait_for_app(page, "About")
    sidebar = page.locator("[data-testid='stSidebar']")
    expect(sidebar.get_by_placeholder("org/model-name")).to_have_count(0)  # behind its switch at first
    switch = sidebar.locator(".st-key-submit_open input")
    switch.focus()  # reachable from the keyboard: focus, then Space
    page.keyboard.press("Space")
    expect(sidebar.get_by_text("Submissions are closed on this leaderboard").first).to_be_visible()
    expect(sidebar.get_by_placeholder("org/model-name")).to_be_disabled()
    expect(sidebar.get_by_role("button", name="Submit")).to_be_disabled()
    menu_link(page, "Queue").click()  # the switch stays on from page to page
    wait_for_app(page, "Evaluation queue")
    expect(sidebar.get_by_placeholder("org/model-name")).to_be_visible()


def test_the_best_checkpoint_says_whether_it_beats_the_final_one(app_server, browser_page):
    page = browser_page
    page.goto(f"{app_server.url}/checkpoints?task=lambada_openai&metric=acc")
    wait_for_app(page, "Best =")
    page.set_viewport_size({"width": 3000, "height": 1000})  # the grid renders the columns in view
    grid = page.locator("[data-testid='stDataFrame']").filter(has_text="Best revision").first
    table = grid.locator("table[role='grid']")
    table.wait_for(state="attached")
    grid.locator("th[role='columnheader']", has_text="Best vs final").wait_for(state="attached")
    headers = [h.strip() for h in grid.locator("th[role='columnheader']").all_inner_texts()]
    assert headers[-1] == "Best vs final", headers
    column = len(headers)  # aria-colindex of the last column
    verdicts = [t.strip() for t in table.locator(f"td[aria-colindex='{column}']").all_inner_texts()]
    assert verdicts and all(
        v.startswith(("significantly better", "within noise", "the final checkpoint is the best"))
        for v in verdicts
    ), verdicts
