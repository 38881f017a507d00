"""lib.ui.memo: views shared across sessions are bounded, keyed exactly, and never keep a failure."""

from __future__ import annotations

import pandas as pd
import pytest

from lib.ui import memo


@pytest.fixture(autouse=True)
def _empty():
    memo.clear()
    yield
    memo.clear()


def test_an_equal_key_is_answered_without_computing_again_and_a_different_one_is_not():
    calls: list[int] = []

    def compute(n: int):
        calls.append(n)
        return pd.DataFrame({"x": range(n)})

    first = memo.remember(("view", 1, "gen", 1), lambda: compute(3))
    again = memo.remember(("view", 1, "gen", 1), lambda: compute(3))
    newer = memo.remember(("view", 1, "gen", 2), lambda: compute(4))  # the data moved on: computed afresh
    assert again is first and len(newer) == 4 and calls == [3, 4]


def test_a_failure_is_not_remembered():
    def fail():
        raise ValueError("bad view")

    with pytest.raises(ValueError):
        memo.remember("k", fail)
    assert memo.remember("k", lambda: 5) == 5


def test_the_store_is_bounded_by_entries_and_by_cells(monkeypatch):
    for i in range(memo.MAX_ENTRIES + 5):
        memo.remember(("n", i), lambda i=i: i)
    calls = []
    memo.remember(("n", 0), lambda: calls.append(0) or 0)  # the oldest was dropped
    assert calls == [0]

    monkeypatch.setattr(memo, "MAX_CELLS", 100)
    memo.clear()
    memo.remember("a", lambda: pd.DataFrame({"x": range(60)}))
    memo.remember("b", lambda: pd.DataFrame({"x": range(60)}))  # 120 cells: "a" goes
    recomputed = []
    memo.remember("a", lambda: recomputed.append(1) or pd.DataFrame({"x": range(60)}))
    assert recomputed == [1]
    huge = memo.remember("c", lambda: pd.DataFrame({"x": range(500)}))  # over the budget: not kept
    assert len(huge) == 500
    memo.remember("c", lambda: recomputed.append(2) or huge)
    assert recomputed == [1, 2]


def test_an_arrow_table_beside_a_frame_counts_its_cells():
    """A view kept with its Arrow table (the grid's rows) counts both, so the cell bound holds."""
    import pandas as pd
    import pyarrow as pa

    from lib.ui import memo

    frame = pd.DataFrame({"a": range(1000), "b": range(1000), "c": range(1000)})
    assert memo._cells((frame, True, pa.Table.from_pandas(frame, preserve_index=False))) == 6000
