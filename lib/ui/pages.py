"""The page registry: every screen of the app, listed explicitly, in menu order, and the app's runner.

The project keeps its page scripts in ``pages/`` beside ``streamlit_app.py``. Streamlit treats such a
folder as its legacy multipage layout until some run calls ``st.navigation`` (the documented switch
to explicit pages). On a fresh server whose first visitor opens a deep link (``/checkpoints?...``),
that first run executes the page script on its own: no page config, no sidebar form, and Streamlit's
menu of file names. ``run_app`` marks the runs it starts; a page script that finds no mark calls
``st.navigation`` itself (public API only, which leaves the legacy mode for the whole process) and
reruns, and the rerun goes through ``streamlit_app.py``, which picks the page from the URL.

So that the legacy menu is never drawn, not even for that one run, ``.streamlit/config.toml`` sets
``client.showSidebarNavigation = false``. That option hides every sidebar menu ``st.navigation`` would
draw too, so ``run_app`` draws the app's menu itself: one ``st.page_link`` per registered page, at the
top of the sidebar (``menu``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from lib.ui.state import page_changed

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PageSpec:
    """One page: its script, menu title, icon and URL path."""

    script: str
    title: str
    icon: str
    url_path: str
    default: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/leaderboard.py", "Leaderboard", ":material/leaderboard:", "leaderboard", default=True),
    PageSpec("pages/checkpoints.py", "Checkpoints", ":material/show_chart:", "checkpoints"),
    PageSpec("pages/model.py", "Model", ":material/person_search:", "model"),
    PageSpec("pages/compare.py", "Compare", ":material/compare_arrows:", "compare"),
    PageSpec("pages/benchmarks.py", "Benchmarks", ":material/verified:", "benchmarks"),
    PageSpec("pages/queue.py", "Queue", ":material/pending_actions:", "queue"),
    PageSpec("pages/about.py", "About", ":material/info:", "about"),
)


def _page(spec: PageSpec) -> st.Page:
    return st.Page(str(ROOT / spec.script), title=spec.title, icon=spec.icon, url_path=spec.url_path,
                   default=spec.default)  # fmt: skip


def navigation_pages() -> list[st.Page]:
    """The ``st.Page`` objects for ``st.navigation``."""
    return [_page(p) for p in PAGES]


def page(url_path: str) -> st.Page:
    """The registered page at ``url_path``, for ``st.switch_page`` and ``st.page_link``.

    Pages are named by the registry, never by a path relative to wherever the entry script runs from.
    """
    for spec in PAGES:
        if spec.url_path == url_path:
            return _page(spec)
    raise KeyError(f"no page at {url_path!r}; registered: {', '.join(p.url_path for p in PAGES)}")


MENU_KEY = "app_menu"


def menu() -> None:
    """The app's page menu at the top of the sidebar, in registry order (the current page is marked
    by ``st.page_link`` itself)."""
    with st.sidebar.container(key=MENU_KEY):
        for spec in PAGES:
            st.page_link(_page(spec), label=spec.title, icon=spec.icon)
        st.divider()


# Each session's script runs on its own thread: the mark is per thread, so sessions never see each other's.
_entry = threading.local()


def run_app(page_config: Callable[[], None], sidebar: Callable[[], None]) -> None:
    """The entry script's whole body: page config, navigation, the sidebar, then the chosen page."""
    _entry.active = True
    try:
        page_config()
        page = st.navigation(navigation_pages(), position="hidden")  # the menu is ``menu``
        page_changed(next((p.url_path for p in PAGES if p.title == page.title), page.title))
        menu()
        sidebar()
        page.run()
    finally:
        _entry.active = False


def require_entry() -> None:
    """Called first by every page script: reroute a run that did not start in ``streamlit_app.py``.

    At most once per session: a page script that is itself the main script (``streamlit run
    pages/x.py``, an AppTest of one page) then simply runs.
    """
    if getattr(_entry, "active", False) or st.session_state.get(_REROUTED):
        return
    st.session_state[_REROUTED] = True
    st.navigation(navigation_pages(), position="hidden")
    st.rerun()


_REROUTED = "_leaderboard_rerouted_to_entry"
