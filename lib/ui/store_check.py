"""The check of the stores that a page load or reload runs after its table is drawn, off the script thread.

A listing of the stores is 0.2-1 s at 10,000 files (a Hub store's an HTTP call). Run on the script thread
under the drawn table, it held the run open (Streamlit's ``script_finished``) for that long on every first
visit and reload whose check was due, while the browser drew the table. Here it runs in a background
thread (the index is shared by every session: a session whose check is due while another session's has not
started listing yet shares that one instead of listing again). The page polls it
with a small fragment (``st.fragment(run_every=POLL_S)``) whose first poll starts the listing (the browser
has drawn the table by then), which reruns the whole page when the index changed and stops polling when not.

This module must not call Streamlit from the background thread: the thread only refreshes the index (which
takes its own lock) and says what changed; what is drawn is drawn by the polling fragment, on the script
thread of the session that waits.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# How often a page waiting for its check asks whether the check is done.
POLL_S = float(os.environ.get("LEADERBOARD_CHECK_POLL_S", "0.5"))


@dataclass
class Check:
    """One listing of an index's stores: made, started (``launch``), then ``done`` with its outcome."""

    listing: Callable[[], str]  # refreshes the index; returns what changed ('Refreshed: ...') or ''
    done: threading.Event = field(default_factory=threading.Event)
    started: bool = False
    note: str = ""  # what changed, '' when nothing did
    text: str = ""  # how far it got, set by the listing as it goes (a snapshot's check: files read again)
    error: str | None = None  # the listing failed: said as text by the page


# index -> its latest check; weak: an index let go (a cleared cache, another store) takes its check with it
_checks: weakref.WeakKeyDictionary[Any, Check] = weakref.WeakKeyDictionary()
_snapshot_checks: weakref.WeakKeyDictionary[Any, Check] = weakref.WeakKeyDictionary()
_guard = threading.Lock()


def prepare(index: Any, listing: Callable[[], str]) -> Check:
    """The check of ``index`` that another session prepared and that has not started listing yet, or a
    new one that will run ``listing``; ``launch`` starts it. A check already listing is not shared: it
    may have listed a folder before this page load, and a result written in between would be missed (a
    new check waits for the index's lock and lists again). The page launches it on the browser's first
    poll, after the run that drew the table ended and the browser drew it: a listing holds the index's
    lock, which the rest of that run would wait for, and it would take the cores the browser draws with."""
    with _guard:
        held = _checks.get(index)
        if held is not None and not held.started:
            return held
        check = Check(listing)
        _checks[index] = check
        return check


def prepare_snapshot_check(index: Any, listing: Callable[[], str]) -> Check:
    """The check of ``index`` opened from its persisted snapshot (``Index.open_snapshot``) that has not
    finished, started or not, or a new one that will run ``listing``. Unlike ``prepare``, a check already
    listing is shared: it is the one check of the snapshot (it lists the stores after the snapshot was
    written, and reads every block of it), and every session drawn from the snapshot waits for it, none
    starts a second."""
    with _guard:
        held = _snapshot_checks.get(index)
        if held is not None and not held.done.is_set():
            return held
        check = Check(listing)
        _snapshot_checks[index] = check
        return check


def launch(check: Check) -> None:
    """Start ``check`` in a daemon thread, unless it was started already."""
    with _guard:
        if check.started:
            return
        check.started = True
    threading.Thread(target=_run, args=(check,), name="leaderboard-store-check", daemon=True).start()


def _run(check: Check) -> None:
    try:
        check.note = check.listing()
    except Exception as exc:  # noqa: BLE001 - any failure is said on the page, never lost in a thread
        check.error = f"The stores could not be checked: {type(exc).__name__}: {exc}"
    finally:
        # the listing holds its index: a check kept (weakly keyed by that index) must not keep it alive
        check.listing = _listed
        check.done.set()


def _listed() -> str:
    """What a finished check holds in place of its listing."""
    return ""


def stop_polling() -> None:
    """Tell the browser to stop rerunning the fragment this is called in (its ``run_every``): its check is
    done and nothing changed. Streamlit has no public call for it; it sends the same message it sends for a
    ``run_every`` fragment that is no longer drawn."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState, get_script_run_ctx

    ctx = get_script_run_ctx()
    fragment_id = ThreadState.get().fragment_id
    if ctx is None or not fragment_id:
        return
    msg = ForwardMsg()
    msg.stop_auto_rerun.fragment_ids.append(fragment_id)
    ctx.enqueue(msg)
