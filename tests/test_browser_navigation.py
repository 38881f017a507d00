"""A deep link opened first on a fresh server runs through the entry script (real Chromium).

With ``pages/`` beside ``streamlit_app.py``, Streamlit starts in its legacy multipage mode until a run
calls ``st.navigation``. The first visitor of a new server who opens ``/checkpoints?...`` must still get
the app: the registered menu (titles, not file names), the sidebar submission form, and the page with
its URL state.
"""

from __future__ import annotations

import pytest

from tests.browser import browser_page, start_app, wait_for_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


@pytest.fixture
def fresh_server():
    server = start_app()
    yield server
    server.stop()


def test_a_deep_link_on_a_fresh_server_gets_the_whole_app(fresh_server, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{fresh_server.url}/checkpoints?task=lambada_openai&metric=acc&smooth=3")
    wait_for_app(page, "Checkpoints")
    # The first run of a fresh server reroutes and runs again: wait for the second one (slow when busy).
    sidebar = page.locator("[data-testid='stSidebar']")
    expect(sidebar.get_by_text("Submit a model")).to_be_visible(timeout=60_000)
    nav = page.locator("[data-testid='stSidebarNav']")
    for title in ("Leaderboard", "Checkpoints", "Queue", "About"):
        expect(nav.get_by_text(title, exact=True)).to_have_count(1)
    # The legacy menu would list the entry script and file names.
    expect(nav.get_by_text("streamlit app")).to_have_count(0)
    # The page kept the link's state.
    expect(page.get_by_text("mean of 3 neighbouring checkpoints").first).to_be_visible(timeout=60_000)
    assert "/checkpoints" in page.url and "smooth=3" in page.url
