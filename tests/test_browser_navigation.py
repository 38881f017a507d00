"""A deep link opened first on a fresh server runs through the entry script (real Chromium).

With ``pages/`` beside ``streamlit_app.py``, Streamlit starts in its legacy multipage mode until a run
calls ``st.navigation``. The first visitor of a new server who opens ``/checkpoints?...`` must still get
the app, and only the app: Streamlit's legacy menu of file names is never drawn, not even for the first
run; the app's menu (titles, not file names), the sidebar submission form, and the page with its URL
state.
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
    nav = page.locator("[data-testid='stSidebar'] .st-key-app_menu")
    for title in ("Leaderboard", "Checkpoints", "Queue", "About"):
        expect(nav.get_by_text(title, exact=True)).to_have_count(1)
    # The legacy menu would list the entry script and file names.
    expect(nav.get_by_text("streamlit app")).to_have_count(0)
    # The page kept the link's state.
    expect(page.get_by_text("mean of 3 neighbouring checkpoints").first).to_be_visible(timeout=60_000)
    assert "/checkpoints" in page.url and "smooth=3" in page.url


# Installed before any page script: records every menu the sidebar ever showed, from the first paint on.
# ``innerText`` is empty while an ancestor is hidden (the sidebar can become visible by a style change
# after its last DOM change), so attribute changes are watched too, and a sample is taken every frame.
RECORD_MENUS = """
window.__menus = [];
window.__recordMenus = () => {
  for (const nav of document.querySelectorAll('[data-testid="stSidebarNav"], .st-key-app_menu')) {
    const text = nav.innerText.trim();
    if (text && window.__menus[window.__menus.length - 1] !== text) window.__menus.push(text);
  }
};
new MutationObserver(window.__recordMenus).observe(
  document, {childList: true, subtree: true, characterData: true, attributes: true});
const everyFrame = () => { window.__recordMenus(); requestAnimationFrame(everyFrame); };
requestAnimationFrame(everyFrame);
"""


def test_a_cold_deep_link_never_shows_the_legacy_menu(fresh_server, browser_page):  # noqa: F811
    """Streamlit's legacy menu (file names: "streamlit app", "leaderboard", ...) must never be drawn,
    not even for the first run of a fresh server; the app's own menu is the only one ever seen."""
    from playwright.sync_api import expect

    page = browser_page
    page.add_init_script(RECORD_MENUS)
    page.goto(f"{fresh_server.url}/checkpoints?task=lambada_openai&metric=acc&smooth=3")
    wait_for_app(page, "Checkpoints")
    sidebar = page.locator("[data-testid='stSidebar']")
    expect(sidebar.get_by_text("Submit a model")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("mean of 3 neighbouring checkpoints").first).to_be_visible(timeout=60_000)
    menus = page.evaluate("() => { window.__recordMenus(); return window.__menus; }")
    assert menus, "no menu was ever seen"
    legacy = [m for m in menus if "streamlit app" in m.lower() or "Leaderboard" not in m]
    assert not legacy, f"the legacy page menu was drawn: {legacy}"
    nav = page.locator("[data-testid='stSidebar'] .st-key-app_menu")
    for title in ("Leaderboard", "Checkpoints", "Model", "Compare", "Benchmarks", "Queue", "About"):
        expect(nav.get_by_text(title, exact=True)).to_have_count(1)
    assert "/checkpoints" in page.url and "smooth=3" in page.url
