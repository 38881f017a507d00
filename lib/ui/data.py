"""The app's definition and index, cached across reruns and sessions, with visible loading progress."""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from lib.core.config import Definition, load_definition
from lib.index import Index
from lib.index.db import RefreshStats
from lib.ui.tables import show_table
from lib.ui.text import plain

if TYPE_CHECKING:
    from lib.ui.store_check import Check

# How old the index may be before a rerun refreshes it (re-reading only changed files). A refresh of
# local stores is a listing of two folders, comparing each file's mtime and size with what the index
# holds: cheap enough to run every few seconds, so a reload after the evaluator finished shows its
# result. A Hub store's listing is an HTTP call: it keeps the longer interval.
REFRESH_TTL_S = float(os.environ.get("LEADERBOARD_REFRESH_S", "60"))
LOCAL_CHECK_S = float(os.environ.get("LEADERBOARD_CHECK_S", "3"))


def _cli_options() -> argparse.Namespace:
    """Options after ``--`` on ``streamlit run streamlit_app.py -- --config offline`` (every run asks:
    parsed once per command line, not by a new argparse parser on each control's click)."""
    return _parse_cli(tuple(sys.argv[1:]))


@functools.lru_cache(maxsize=8)
def _parse_cli(argv: tuple[str, ...]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config", default=None)
    parser.add_argument("--results", default=None)
    parser.add_argument("--requests", default=None)
    options, _ = parser.parse_known_args(list(argv))
    return options


@st.cache_resource(show_spinner=False)
def _definition(name_or_path: str | None) -> Definition:
    return load_definition(name_or_path)


def app_definition() -> Definition:
    """The definition the app runs on: ``--config``, else $LEADERBOARD_CONFIG, else the demo.

    Every page calls this first, which is also where a page run outside ``streamlit_app.py`` is
    rerouted (``lib.ui.pages.require_entry``).
    """
    from lib.ui.pages import require_entry

    require_entry()
    return _definition(_cli_options().config or os.environ.get("LEADERBOARD_CONFIG"))


@st.cache_resource(show_spinner=False)
def _index(definition_path: str, results: str, requests: str) -> Index:
    from lib.ui.hub import hub_token  # a Hub store reads $HF_TOKEN; Streamlit secrets may hold it

    hub_token()
    return Index(_definition(definition_path), results, requests)


PROGRESS_KEY = "_loading_progress"
VERIFY_KEY = "_verify_snapshot"
CHECK_KEY = "_check_after_draw"
SNAPSHOT_DRAWN_KEY = "_drawn_from_snapshot"  # (its check, the generation drawn) until the outcome is said


def app_index(definition: Definition, hold_progress: bool = False, check: bool = True) -> Index:
    """The shared index, loaded on first use with a progress bar, refreshed after the TTL.

    With ``hold_progress`` the bar stays after the load, saying what comes next, until the page calls
    ``progress_done`` once its main content is drawn: no blank page between the bar and the table; a
    check of the stores that is due waits for ``progress_done`` too (``check_after_draw``).
    With ``check=False`` a loaded index is returned as it is, without listing the stores (see
    ``full_run``)."""
    st.session_state.pop(PROGRESS_KEY, None)  # a bar held by an earlier run that stopped is not this run's
    st.session_state.pop(CHECK_KEY, None)  # likewise a check it left for after its table
    st.session_state.pop(VERIFY_KEY, None)
    options = _cli_options()
    results = options.results or os.environ.get("LEADERBOARD_RESULTS") or definition.results_store
    requests = options.requests or os.environ.get("LEADERBOARD_REQUESTS") or definition.requests_store
    index = _index(str(definition.path), results, requests)
    _snapshot_check_outcome(index)
    if index.loaded_at is None and hold_progress and index.open_snapshot():
        # a restart: the table is drawn from the persisted index at once; progress_done lists the
        # stores right after it, off the script thread, and redraws the page when a file changed since
        st.session_state[VERIFY_KEY] = (index, index.generation, snapshot_check(index))
    elif index.loaded_at is None:
        slot = st.empty() if hold_progress else None
        if slot is not None:
            holder = slot.container()
            bar = holder.progress(0.0, text="Loading the results store…")
            # An empty grid under the bar: the browser loads and mounts its grid component while the
            # store loads, instead of after (a blank page between the bar and the table otherwise).
            holder.dataframe(pd.DataFrame({"Model": []}), hide_index=True, height=80)
        else:
            bar = st.progress(0.0, text="Loading the results store…")

        def progress(fraction: float, text: str) -> None:
            bar.progress(min(fraction, 1.0), text=plain(text))

        index.refresh(progress=progress)
        if slot is not None:
            bar.progress(1.0, text="Ranking and drawing the table…")
            st.session_state[PROGRESS_KEY] = slot
        else:
            bar.empty()
    elif not index.verified:  # opened from the snapshot, its check not done: the one check, shared
        if hold_progress:  # drawn from the snapshot too; progress_done polls the check after the table
            st.session_state[VERIFY_KEY] = (index, index.generation, snapshot_check(index))
        elif check:  # a page that is not redrawn by a check: drawn once it is done
            await_snapshot_check(index)
    elif check and time.time() - index.loaded_at > check_interval(index):
        if hold_progress:  # the page's table first, from what the index holds; progress_done lists after it
            st.session_state[CHECK_KEY] = (index, index.generation)  # the generation the page is drawn from
        else:
            check_stores(index)
    return index


def _snapshot_check_outcome(index: Index) -> None:
    """A page drawn from the snapshot whose check ended without its poll seeing it (the run was replaced
    by another, or the browser never polled): the page is being drawn again now, with the check's toast
    when the index changed since that page was drawn."""
    waiting = st.session_state.pop(SNAPSHOT_DRAWN_KEY, None)
    if waiting is None:
        return
    check, drawn = waiting
    if not check.done.is_set():
        st.session_state[SNAPSHOT_DRAWN_KEY] = waiting  # its poll, or the next run, says the outcome
    elif check.note and index.generation != drawn:
        st.session_state["_refresh_note"] = check.note


def snapshot_check(index: Index) -> Check:
    """The check of an index opened from its snapshot (``lib.ui.store_check.prepare_snapshot_check``):
    the one under way or prepared by any session, else a new one. Its listing (on the check's thread, no
    Streamlit calls) refreshes the index and says what changed when its generation moved on: the saved
    index found damaged (rebuilt from the files) or the files changed since it was written."""
    from lib.ui import store_check

    made: list[Check] = []

    def listing() -> str:
        generation = index.generation

        def progress(fraction: float, text: str) -> None:  # files read again (many: a damaged saved index)
            if made:
                made[0].text = text

        stats = index.refresh(progress=progress)
        if index.generation == generation:
            return ""
        if index.cache is not None and index.cache.status.startswith("discarded"):
            return SNAPSHOT_REBUILT
        return describe_refresh(stats, {}, {}) or "Refreshed: the stores changed since the saved index"

    check = store_check.prepare_snapshot_check(index, listing)
    if check.listing is listing:
        made.append(check)
    return check


SNAPSHOT_REBUILT = "The saved index could not be read: the table was rebuilt from the stores"


def await_snapshot_check(index: Index) -> None:
    """A page run that found the index opened from its snapshot and not checked yet, on a page that the
    check does not redraw: the check is started if no session started it, and the run waits for it (its
    reads would wait for the index's lock, which the check holds) instead of checking a second time."""
    from lib.ui import store_check

    check = snapshot_check(index)
    store_check.launch(check)
    check.done.wait()


def check_stores(index: Index) -> None:
    """List the stores and read what changed since the index's last look; what changed is said once, by
    the page's ``data_status``."""
    before = request_states(index)
    stats = index.refresh()
    note = describe_refresh(stats, before, request_states(index))
    if note:
        st.session_state["_refresh_note"] = note


FULL_RUN_KEY = "_page_full_run"


def mark_full_run() -> None:
    """Called at a page's top level, which runs on a page load, a reload or a navigation but not when a
    control reruns only a fragment: ``full_run`` then says which kind of run a fragment is in."""
    st.session_state[FULL_RUN_KEY] = True


def full_run() -> bool:
    """Whether this fragment runs as part of a whole page run (once per ``mark_full_run``).

    A fragment's controls pass it as ``app_index(check=...)``: the stores are listed on a page load or
    reload, which is when a person expects new results, not on each click of a control (a listing is
    0.2-0.7 s at 10,000 files, and a person pauses more than ``LOCAL_CHECK_S`` between clicks)."""
    return bool(st.session_state.pop(FULL_RUN_KEY, False))


def progress_done() -> None:
    """Remove the loading bar that ``app_index(..., hold_progress=True)`` left (if any); list the stores
    now when that call left it for after the table: a restart drawn from the persisted index
    (``verify_snapshot``), or a page load or reload whose check was due (``check_after_draw``)."""
    slot = st.session_state.pop(PROGRESS_KEY, None)
    if slot is not None:
        slot.empty()
    verify = st.session_state.pop(VERIFY_KEY, None)
    if verify is not None:
        verify_snapshot(*verify)
    due = st.session_state.pop(CHECK_KEY, None)
    if due is not None:
        check_after_draw(*due)


def check_after_draw(index: Index, drawn: int) -> None:
    """A page load or reload of a page drawn with ``hold_progress``: the stores are listed after its table
    is drawn from what the index holds, not before (a listing is 0.2-1 s at 10,000 files, a Hub store's
    an HTTP call), and the page is drawn again when anything changed, with a toast saying what.

    ``drawn``: the index's generation when ``app_index`` returned it, the one the page was drawn from (not
    read here: another session's refresh may have moved it on while this run drew the table). The listing
    runs off the script thread (``lib.ui.store_check``): the run ends with the table drawn, and a small
    fragment asks every ``POLL_S`` whether the check is done; it reruns the page when the index changed
    since this run drew it (by this check or another session's), and stops asking when not."""
    from lib.ui import store_check

    def listing() -> str:  # on the check's thread: no Streamlit calls here
        before = request_states(index)
        stats = index.refresh()
        return describe_refresh(stats, before, request_states(index))

    check = store_check.prepare(index, listing)
    _poll_check(index, drawn, check, lambda: "Checking the stores for new results…")


def verify_snapshot(index: Index, drawn: int, check: Check) -> None:
    """The page was drawn from the persisted index (``Index.open_snapshot``): the check (``snapshot_check``)
    lists the stores, reads what changed since the snapshot and the whole snapshot once (one found damaged
    is dropped and the index built from the files), off the script thread like ``check_after_draw``: the
    page's run ends with the table drawn while "Checking the stores for changes since the saved index…"
    is shown under it, and the page is drawn again when the index's generation moved on from ``drawn``,
    with a toast saying what (``data_status``)."""
    if index.verified:  # checked by another session's run since this run's app_index
        if index.generation != drawn:
            st.rerun(scope="app")
        return

    def caption() -> str:
        text = "Checking the stores for changes since the saved index"
        return f"{text}: {check.text}" if check.text else f"{text}…"

    st.session_state[SNAPSHOT_DRAWN_KEY] = (check, drawn)
    _poll_check(index, drawn, check, caption)


def _poll_check(index: Index, drawn: int, check: Check, caption: Callable[[], str]) -> None:
    """A small fragment that asks every ``POLL_S`` whether ``check`` is done: its first poll by the browser
    (after the run that drew the table ended and the browser drew it) starts it; while it runs the fragment
    shows ``caption()``; once it is done the page is drawn again when the index's generation moved on from
    ``drawn`` (with the check's note as the toast), and the polling stops when not."""
    from lib.ui import store_check

    polls = [0]

    def wait_for_check() -> None:
        polls[0] += 1
        if polls[0] > 1:  # the browser's first poll, after it drew the table: the listing starts now
            store_check.launch(check)
        if not check.done.is_set():
            st.caption(plain(caption()))
            return
        st.session_state.pop(SNAPSHOT_DRAWN_KEY, None)  # the outcome is said here
        if check.error:
            st.error(plain(check.error))
        if index.generation != drawn:
            if check.note:
                st.session_state["_refresh_note"] = check.note
            st.rerun(scope="app")
        store_check.stop_polling()

    st.fragment(wait_for_check, run_every=store_check.POLL_S)()


LIVE_S = float(os.environ.get("LEADERBOARD_LIVE_S", "3"))


def live(draw: Callable[[], bool], running: bool) -> None:
    """Draw a part of a page that follows running jobs: while ``running``, the part alone reruns every
    few seconds (``st.fragment(run_every=...)``), reading the stores again through ``app_index``.
    ``draw`` returns whether jobs are still running; when the last one settled, the whole page reruns
    once so every part of it shows the outcome."""

    def part() -> None:
        still = draw()
        if running and not still:
            st.rerun(scope="app")

    st.fragment(part, run_every=LIVE_S if running else None)()


def check_interval(index: Index) -> float:
    """Seconds between the listing checks of a rerun: short for local folders, longer for the Hub."""
    from lib.stores.local import LocalFileStore

    local = isinstance(index.results, LocalFileStore) and isinstance(index.requests, LocalFileStore)
    return LOCAL_CHECK_S if local else REFRESH_TTL_S


def request_states(index: Index) -> dict[str, str]:
    """Each request's status, to count what a refresh changed."""
    return {r.path: str(r.status) for r in index.requests_list}


def describe_refresh(stats: RefreshStats, before: dict[str, str], after: dict[str, str]) -> str:
    """'Refreshed: 2 result file(s) read, 1 removed, 3 request(s) changed ...', or '' when nothing changed."""
    changed = sum(1 for path, state in after.items() if before.get(path) != state)
    gone = sum(1 for path in before if path not in after)
    parts = []
    if stats.parsed:
        parts.append(f"{stats.parsed} result file(s) read")
    if stats.removed:
        parts.append(f"{stats.removed} removed")
    if changed:
        parts.append(f"{changed} request(s) new or changed")
    if gone:
        parts.append(f"{gone} request(s) removed")
    if not parts:
        return ""
    return f"Refreshed: {', '.join(parts)} in {stats.seconds:.2f}s"


def data_status(index: Index) -> None:
    """'Data as of' with a refresh button, and the ingest report when a file could not be read."""
    left, right = st.columns([4, 1])
    # through plain: "12:34:56" reads as an emoji shortcode (":34:") to Streamlit's Markdown, which then
    # downloads and compiles its emoji plugin (265 KB of JavaScript) on every first load
    stamp = plain(
        datetime.fromtimestamp(index.loaded_at or time.time(), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    )
    counts = index.memo("counts", index.counts)
    left.caption(
        f"{counts['evaluations']:,} evaluations · {counts['requests']:,} requests · data as of {stamp}"
    )
    note = st.session_state.pop("_refresh_note", None)
    if note:
        st.toast(plain(note))
    if index.take_rebuilt_notes():  # a read found the saved index damaged (Index.guarded): one toast
        st.toast("The saved index could not be read: the data was rebuilt from the stores")
    if right.button("↻ Refresh", help="Re-read new and changed files from the stores", key="refresh_data"):
        generation = index.generation
        before = request_states(index)
        stats = index.refresh()
        st.session_state["_refresh_note"] = describe_refresh(stats, before, request_states(index)) or (
            f"Nothing changed ({stats.listed:,} result files listed in {stats.seconds:.2f}s)"
        )
        if index.generation != generation:
            st.rerun()  # draw the page again from the new data
        st.toast(st.session_state.pop("_refresh_note"))
    from lib.ui.hub import store_notices  # Hub stores: their own "data as of" and offline notice

    store_notices(index)
    problems = index.memo("problems", index.problems)
    if problems.empty:
        return
    errors = int((problems["level"] == "error").sum())
    warnings = len(problems) - errors
    label = f"Ingest report: {errors} file(s) not loaded, {warnings} warning(s)"
    with st.expander(("⚠️ " if errors else "ℹ️ ") + label):
        st.caption("Each file that could not be read is listed with the reason; everything else loaded.")
        show_table(problems, hide_index=True, width="stretch")
