"""The page registry: every screen of the app, listed explicitly, in menu order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

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


def navigation_pages() -> list[st.Page]:
    """The ``st.Page`` objects for ``st.navigation``."""
    return [
        st.Page(str(ROOT / p.script), title=p.title, icon=p.icon, url_path=p.url_path, default=p.default)
        for p in PAGES
    ]
