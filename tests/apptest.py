"""The real entry script for AppTest, run from a folder without ``pages/`` beside it.

AppTest resets Streamlit's "legacy ``pages/`` folder" flag before every run, while a real server sets
it once per process and ``st.navigation`` clears it for good. With ``pages/`` beside the script, every
AppTest run after the first would therefore take Streamlit's legacy path and skip the entry script
(the sidebar form vanishes). A byte-identical copy of ``streamlit_app.py`` in a folder of its own runs
exactly the real entry script on the ``st.navigation`` path; the page registry uses absolute paths,
so the pages are the real ones too. The deep-link behaviour of a real server with ``pages/`` present
is covered in Chromium (tests/test_browser_navigation.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_COPY_DIR = Path(tempfile.mkdtemp(prefix="leaderboard-entry-"))


def entry_script() -> str:
    """The path of a fresh copy of ``streamlit_app.py`` for ``AppTest.from_file``."""
    copy = _COPY_DIR / "streamlit_app.py"
    copy.write_bytes((ROOT / "streamlit_app.py").read_bytes())
    return str(copy)


def run_entry():
    """A first run of the real entry script in AppTest (90 s budget), asserted free of exceptions."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(entry_script(), default_timeout=90)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def run_entry_on_stores(monkeypatch, folder: Path):
    """A first run of the real entry script on ``folder``'s results and requests stores with its cache
    folder, asserted free of exceptions; (the AppTest, the one Index the run made), for tests that look
    at what the app's index did (drawn from the snapshot, checked or not)."""
    from streamlit.testing.v1 import AppTest

    from lib.index import Index

    made: list[Index] = []
    init = Index.__init__

    def record(self: Index, *args: object, **kwargs: object) -> None:
        init(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(Index, "__init__", record)
    monkeypatch.setenv("LEADERBOARD_RESULTS", str(folder / "results"))
    monkeypatch.setenv("LEADERBOARD_REQUESTS", str(folder / "requests"))
    monkeypatch.setenv("LEADERBOARD_CACHE", str(folder / "cache"))
    at = AppTest.from_file(entry_script(), default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    (app,) = made
    return at, app
