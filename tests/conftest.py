"""Shared fixtures: paths, Streamlit isolation for AppTest, and the real-data folder."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

pytest_plugins = ["tests.browser"]

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
REAL_DATA = ROOT.parent / "shared" / "data" / "real"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
# The persisted index (lib.index.cache) of this test run, apart from the user's; subprocesses inherit it.
if "LEADERBOARD_CACHE" not in os.environ:
    _CACHE = tempfile.mkdtemp(prefix="leaderboard-cache-")
    os.environ["LEADERBOARD_CACHE"] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, True)


@pytest.fixture
def real_data() -> Path:
    """The real Pythia result files beside the checkout; skips when they are not there."""
    if not REAL_DATA.is_dir():
        pytest.skip(f"real data folder {REAL_DATA} is not present")
    return REAL_DATA


@pytest.fixture(autouse=True)
def _streamlit_isolation():
    """Keep AppTest runs independent: clear Streamlit's caches after each test."""
    yield
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
