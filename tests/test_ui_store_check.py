"""The check of the stores after a page's table is drawn runs off the script thread (lib.ui.store_check):
one listing at a time per index, shared by the sessions whose check is due, and a failure said as text."""

from __future__ import annotations

import gc
import threading
import weakref

from lib.ui import store_check


class _Index:
    """Any object stands for an index: the checks are keyed by identity."""


def test_sessions_due_at_once_share_one_listing_and_its_note():
    index, gate, calls = _Index(), threading.Event(), []

    def listing() -> str:
        calls.append(1)
        gate.wait(10)
        return "Refreshed: 1 result file(s) read in 0.01s"

    first = store_check.prepare(index, listing)
    second = store_check.prepare(index, lambda: "never run")
    assert second is first  # a session due before the check started listing shares it
    store_check.launch(first)
    store_check.launch(second)  # a second launch of the same check starts nothing
    gate.set()
    assert first.done.wait(10)
    assert calls == [1]
    assert first.note == "Refreshed: 1 result file(s) read in 0.01s" and first.error is None


def test_a_session_due_while_a_check_lists_gets_a_check_of_its_own_that_lists_again():
    """A listing already under way may have passed a folder before this page load: a result written in
    between must not be missed, so the later session's check lists once more."""
    index, gate = _Index(), threading.Event()
    seen: list[str] = []

    def listing(name: str) -> str:
        seen.append(name)
        gate.wait(10)
        return ""

    running = store_check.prepare(index, lambda: listing("first"))
    store_check.launch(running)
    later = store_check.prepare(index, lambda: listing("later"))
    assert later is not running and not later.started
    assert store_check.prepare(index, lambda: "never run") is later  # shared until it starts
    store_check.launch(later)
    gate.set()
    assert running.done.wait(10) and later.done.wait(10)
    assert sorted(seen) == ["first", "later"]


def test_an_index_let_go_takes_its_check_with_it():
    index = _Index()
    store_check.prepare(index, lambda: "")
    assert len(store_check._checks) >= 1
    before = len(store_check._checks)
    del index
    gc.collect()
    assert len(store_check._checks) == before - 1


def test_a_finished_check_is_not_reused_and_another_index_has_its_own():
    index, other = _Index(), _Index()
    first = store_check.prepare(index, lambda: "")
    store_check.launch(first)
    assert first.done.wait(10)
    again = store_check.prepare(index, lambda: "")
    assert again is not first and not again.started
    assert store_check.prepare(other, lambda: "") is not again


def test_a_listing_that_fails_is_said_as_text_and_the_check_ends():
    def listing() -> str:
        raise OSError("permission denied: results/")

    check = store_check.prepare(_Index(), listing)
    store_check.launch(check)
    assert check.done.wait(10)
    assert check.error is not None and "permission denied: results/" in check.error
    assert check.note == ""


def test_an_index_whose_check_ran_is_let_go_with_it():
    """A check's listing refers to its index (it refreshes it): once the check ran, the registry, keyed
    weakly by the index, no longer keeps the index alive through it."""

    def checked() -> tuple[weakref.ref[_Index], list[store_check.Check]]:
        index = _Index()
        checks = [
            store_check.prepare(index, lambda: str(index)),
            store_check.prepare_snapshot_check(index, lambda: str(index)),
        ]
        for check in checks:
            store_check.launch(check)
        return weakref.ref(index), checks

    ref, checks = checked()
    assert all(check.done.wait(10) for check in checks)
    gc.collect()
    assert ref() is None
