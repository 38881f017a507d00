"""The one way every page draws a table: ``st.dataframe`` with a blank for a missing value.

Streamlit's grid draws a missing value (None, NaN, NA) as a grey "None", which reads as a value: "None"
parameters, a "None" source. Turning such a column into text would blank the cell but sort numbers as
text ("10" before "9"). The grid's own ``placeholder`` option (Streamlit >= 1.50) draws any text for a
missing cell and leaves the column's values, type and sort alone, at no cost (it is one field of the
element; no Styler, no per-cell work). Every table of the app goes through :func:`show_table` so that a blank
means "unknown" everywhere; ``tests/test_tables.py`` keeps ``st.dataframe`` out of other modules.
This module must not change what a table holds: only how a missing cell is drawn.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

MISSING = ""  # what a missing cell reads in every table


def show_table(data: Any, **kwargs: Any) -> Any:
    """``st.dataframe(data, **kwargs)`` with missing values drawn blank; returns what it returns."""
    kwargs.setdefault("placeholder", MISSING)
    return st.dataframe(data, **kwargs)
