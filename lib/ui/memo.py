"""Results remembered across sessions and reruns, bounded: the leaderboard's ranked view and the rows
of it the grid gets, keyed by the data's generation and every control that shapes them.

A new visitor on a warm server usually asks for the default view, which an earlier visitor already
ranked and shaped; a control set back (raw, then normalized again) asks for a view seen a moment ago.
Both are answered from here instead of filtering, ranking and shaping the whole frame again. The keys
carry the index's identity and generation, so new data is never answered with an old view.

Values are shared by every session: callers must not modify what they get. The store is bounded by
entries and by cells (rows x columns of the frames held), so a large store's views cannot pile up in
memory. This module draws nothing; it only remembers.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

from lib.analysis.leaderboard import LeaderboardTable

T = TypeVar("T")

MAX_ENTRIES = 24
# About 160 MB of 8-byte cells: a few views of 100,000 rows, dozens of 5,000-row views.
MAX_CELLS = int(os.environ.get("LEADERBOARD_VIEW_CACHE_CELLS", str(20_000_000)))

_lock = threading.Lock()
_store: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()


def _cells(value: Any) -> int:
    """Rows x columns of every DataFrame or Arrow table in ``value`` (a frame, a dataclass holding one,
    a tuple)."""
    if isinstance(value, pd.DataFrame):
        return int(value.size)
    if isinstance(value, pa.Table):
        return value.num_rows * value.num_columns
    if isinstance(value, tuple | list):
        return sum(_cells(v) for v in value)
    if isinstance(value, LeaderboardTable):  # counted as copied whole: ``frame`` copies it on first use
        return value.rows * (value.source.shape[1] + len(value.ranked))
    frame = getattr(value, "frame", None)
    return _cells(frame) if isinstance(frame, pd.DataFrame) else 0


def remember(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or what it returned for an equal ``key`` earlier (in any session).

    An exception is not remembered: the next call computes again. Two sessions asking for the same new
    key at once may both compute it; the first result stored is kept.
    """
    with _lock:
        hit = _store.get(key)
        if hit is not None:
            _store.move_to_end(key)
            return hit[0]
    value = compute()
    cells = _cells(value)
    if cells > MAX_CELLS:
        return value  # too large to keep: computed for this run only
    with _lock:
        if key not in _store:
            _store[key] = (value, cells)
        _store.move_to_end(key)
        total = sum(c for _, c in _store.values())
        while _store and (len(_store) > MAX_ENTRIES or total > MAX_CELLS):
            _, (_, dropped) = _store.popitem(last=False)
            total -= dropped
        return _store.get(key, (value, cells))[0]


def clear() -> None:
    """Forget everything (tests)."""
    with _lock:
        _store.clear()
