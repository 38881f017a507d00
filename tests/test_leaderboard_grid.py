"""The leaderboard grid's data: the rows shown go to the browser as Arrow converted once per view (a
rerun on a view already shown, such as a search set back, sends them without converting the frame
again), with the cells the display frame has; a frame Arrow refuses still reaches the grid, unchanged."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest

from lib.ui import leaderboard as ui
from lib.ui import memo
from tests.apptest import run_entry as _run


def _grid(at: AppTest) -> pd.DataFrame:
    return at.dataframe[0].value.reset_index(drop=True)


def test_a_view_already_shown_is_sent_without_converting_its_frame_again(monkeypatch):
    memo.clear()
    at = _run()
    first = _grid(at)
    converted: list[int] = []
    convert = dataframe_util.convert_pandas_df_to_arrow_bytes

    def counting(frame, *args, **kwargs):
        if "Model" in frame.columns and len(frame):  # the leaderboard's grid, not an empty placeholder
            converted.append(len(frame))
        return convert(frame, *args, **kwargs)

    monkeypatch.setattr(dataframe_util, "convert_pandas_df_to_arrow_bytes", counting)
    at.text_input[0].input("Bluefin").run()
    assert 0 < len(_grid(at)) < len(first)
    at.text_input[0].input("").run()  # set back: the view of the first run
    assert not at.exception
    assert converted == []  # every grid went as Arrow made once per view
    pd.testing.assert_frame_equal(_grid(at), first)


def test_a_frame_arrow_refuses_reaches_the_grid_with_the_same_cells(monkeypatch):
    memo.clear()
    expected = _grid(_run())

    class Refusing:
        """pyarrow as the leaderboard module sees it, refusing every frame (a column of mixed types)."""

        ArrowException = pa.ArrowException

        class Table:
            @staticmethod
            def from_pandas(*args, **kwargs):
                raise pa.ArrowInvalid("a column of mixed types")

    monkeypatch.setattr(ui, "pa", Refusing)
    memo.clear()
    pd.testing.assert_frame_equal(_grid(_run()), expected)
