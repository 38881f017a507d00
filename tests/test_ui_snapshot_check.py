"""The check of the stores after a restart (issue 14) runs off the script thread: the restart's page run ends
with the table drawn from the persisted snapshot and "Checking the stores for changes since the saved
index…" under it (the check starts on the browser's first poll), and a session whose page run finds the
index unchecked while the check runs waits for that one check instead of starting a second."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

from lib.core.config import load_definition
from lib.index import Index
from lib.ui import store_check
from lib.ui.data import await_snapshot_check, snapshot_check
from tests.test_index_refresh_lock import ROOT, GatedStore, _add_model


def _store(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "demo" / "results", tmp_path / "results")
    shutil.copytree(ROOT / "demo" / "requests", tmp_path / "requests")
    old = time.time() - 600
    for path in tmp_path.rglob("*.json"):
        os.utime(path, (old, old))


def _index(tmp_path: Path, results: object = None) -> Index:
    return Index(load_definition(None), results or str(tmp_path / "results"), str(tmp_path / "requests"),  # type: ignore[arg-type]
                 cache=tmp_path / "cache")  # fmt: skip


def test_a_session_that_finds_the_check_under_way_waits_for_it_and_lists_nothing_itself(tmp_path):
    _store(tmp_path)
    _index(tmp_path).refresh()  # the snapshot a server that ran before the restart left
    _add_model(tmp_path / "results", "Kestrel-Restart-2B")
    store = GatedStore(tmp_path / "results")
    index = _index(tmp_path, store)
    assert index.open_snapshot() and not index.verified
    check = snapshot_check(index)  # the run that opened the snapshot, drawn from it
    store.armed = True
    store_check.launch(check)  # its browser's first poll
    assert store.listing.wait(30)
    assert snapshot_check(index) is check  # a session drawn meanwhile polls the same check
    other = threading.Thread(target=await_snapshot_check, args=(index,), daemon=True)
    other.start()  # another session's page (not redrawn by a check): waits for the one check
    store.gate.set()
    other.join(60)
    assert not other.is_alive() and check.done.is_set()
    assert store.calls == 1  # one listing of the results store: no second check
    assert index.verified and check.error is None
    assert check.note.startswith("Refreshed: 1 result file(s) read")
    assert snapshot_check(index) is not check  # a finished check is not handed out again


def test_a_snapshot_check_that_finds_the_snapshot_damaged_says_the_table_was_rebuilt(tmp_path):
    _store(tmp_path)
    saved = _index(tmp_path)
    saved.refresh()
    snapshot = saved.cache.path
    index = _index(tmp_path)
    assert index.open_snapshot()
    size = snapshot.stat().st_size
    with snapshot.open("r+b") as f:  # every block after the header overwritten: the check reads them all
        f.seek(size // 4)
        f.write(b"\xa5" * (size - size // 4))
    check = snapshot_check(index)
    store_check.launch(check)
    assert check.done.wait(60) and check.error is None
    assert index.verified
    assert check.note == "The saved index could not be read: the table was rebuilt from the stores"


def test_the_restart_run_ends_with_the_snapshot_drawn_and_the_check_not_run_on_its_thread(
    tmp_path, monkeypatch
):
    """AppTest, the real entry script: the first run draws the leaderboard from the snapshot and ends with
    the check's caption under it, the index not checked yet; the check (started by the browser's first
    poll, here by the test) then finds the result written while no server ran."""
    from tests.apptest import run_entry_on_stores

    _store(tmp_path)
    saved = _index(tmp_path)
    saved.refresh()
    total = saved.counts()["evaluations"]
    _add_model(tmp_path / "results", "Kestrel-Restart-3B")
    at, app = run_entry_on_stores(monkeypatch, tmp_path)
    assert not app.verified  # the run did not list the stores
    assert app.counts()["evaluations"] == total  # drawn from the snapshot
    captions = [c.value for c in at.caption]
    assert "Checking the stores for changes since the saved index…" in captions, captions
    check = snapshot_check(app)
    store_check.launch(check)  # the browser's first poll
    assert check.done.wait(60)
    assert app.verified and app.counts()["evaluations"] == total + 1
    assert check.note.startswith("Refreshed: 1 result file(s) read")
    at.run()  # drawn again (the poll's rerun; AppTest does not poll): with the check's toast
    assert not at.exception, [e.value for e in at.exception]
    toasts = [t.value.replace("\\", "") for t in at.toast]  # shown as plain text: Markdown escaped
    assert [t for t in toasts if t.startswith("Refreshed: 1 result file(s) read")], toasts
    assert "Checking the stores for changes since the saved index…" not in [c.value for c in at.caption]


def _drawn_page() -> None:
    """A page drawn with ``hold_progress`` whose check is due; another session's refresh moves the index's
    generation on after this run's ``app_index`` returned it and before ``progress_done``."""
    import streamlit as st

    from lib.core.config import load_definition
    from lib.ui import data

    index = data.app_index(load_definition(None), hold_progress=True)
    st.write(f"drawn from {index.generation}")
    index.generation += 1  # another session's refresh, between this run's draw and its check
    data.progress_done()


def test_the_check_after_the_draw_compares_with_the_generation_the_page_was_drawn_from(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from lib.ui import data

    _store(tmp_path)
    monkeypatch.setenv("LEADERBOARD_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("LEADERBOARD_REQUESTS", str(tmp_path / "requests"))
    monkeypatch.setenv("LEADERBOARD_CACHE", "off")
    monkeypatch.setattr(data, "LOCAL_CHECK_S", -1.0)  # every run's check is due
    seen: list[object] = []
    monkeypatch.setattr(data, "check_after_draw", lambda index, drawn=None: seen.append(drawn))
    at = AppTest.from_function(_drawn_page, default_timeout=60)
    at.run()  # the first load: no check
    assert not at.exception, [e.value for e in at.exception]
    at.run()  # the check is due: after the table
    assert not at.exception, [e.value for e in at.exception]
    drawn = int(at.markdown[-1].value.removeprefix("drawn from "))
    assert seen == [drawn]  # not the generation another session moved on to: the page is drawn again
