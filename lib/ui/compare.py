"""Widgets of the compare page: the URL-backed pick of 2-4 leaderboard rows, charts, deltas, settings check.

Logic lives in ``lib.analysis.compare`` and figures in ``lib.views.charts``; this module only reads widgets and draws.
The URL holds ``m=<key>,<key>``: each key a ``model|revision|precision`` triple when that names the
row unambiguously, else the full row key.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.analysis.compare import (
    MAX_MODELS,
    column_name,
    compare_settings,
    delta_table,
    paired_errors,
    select_rows,
    settings_check,
    triple_key,
)
from lib.core.config import Definition
from lib.index import Index
from lib.ui.state import MAX_TEXT_CHARS, show_url_notices
from lib.ui.tables import show_table
from lib.ui.text import plain
from lib.views.charts import benchmark_bars_figure, radar_figure
from lib.views.model import row_label

PICK_KEY = "compare_rows"
URL_KEY = "m"
URL_SEP = ","


def url_values() -> list[str]:
    """The row keys or triples the URL names (``m=a,b`` or repeated ``m=a&m=b``), at most
    ``2 * MAX_MODELS`` of them, each at most ``MAX_TEXT_CHARS`` long (a notice says what was dropped)."""
    values: list[str] = []
    for text in st.query_params.get_all(URL_KEY):
        values.extend(v[:MAX_TEXT_CHARS] for v in text.split(URL_SEP) if v)
    if len(values) > 2 * MAX_MODELS:
        show_url_notices([f"?m= names {len(values)} rows; only the first {2 * MAX_MODELS} are read."])
        values = values[: 2 * MAX_MODELS]
    return values


def pick(frame: pd.DataFrame) -> pd.DataFrame:
    """Draw the row picker (seeded from the URL on arrival) and return the chosen rows in order."""
    arriving = st.session_state.get("_url_page") != "compare"
    st.session_state["_url_page"] = "compare"
    if arriving or PICK_KEY not in st.session_state:
        rows, missing = select_rows(frame, url_values())
        for value in missing:
            st.warning("No leaderboard row matches this key from the link:")
            st.code(value, language=None)
        st.session_state[PICK_KEY] = list(rows["row_key"])[:MAX_MODELS]
    labels = {r["row_key"]: f"{r['model']} · {row_label(r)}" for _, r in frame.iterrows()}
    keys = sorted(labels, key=lambda k: labels[k].lower())
    chosen = st.multiselect(
        f"Models to compare (2 to {MAX_MODELS}; the first is the reference)", keys, key=PICK_KEY,
        format_func=lambda k: labels.get(k, k), max_selections=MAX_MODELS,
    )  # fmt: skip
    rows = frame.set_index("row_key").loc[chosen].reset_index()
    publish(frame, rows)
    return rows


def publish(frame: pd.DataFrame, rows: pd.DataFrame) -> None:
    """Write the chosen rows to the URL, as triples where a triple names exactly that row."""
    values = []
    for _, row in rows.iterrows():
        triple = triple_key(row)
        found, _ = select_rows(frame, [triple])
        values.append(triple if len(found) and found["row_key"].iloc[0] == row["row_key"] else row["row_key"])
    for key in list(st.query_params.keys()):
        if key != URL_KEY:
            del st.query_params[key]
    text = URL_SEP.join(values)
    if not values:
        st.query_params.pop(URL_KEY, None)
    elif st.query_params.get(URL_KEY) != text:
        st.query_params[URL_KEY] = text


def charts(rows: pd.DataFrame, definition: Definition) -> None:
    """Bars with 95% intervals and a radar, side by side."""
    names = [column_name(rows, i) for i in range(len(rows))]
    left, right = st.columns([3, 2])
    left.plotly_chart(benchmark_bars_figure(rows, definition.benchmarks, names), key="compare_bars")
    right.plotly_chart(radar_figure(rows, definition.benchmarks, names), key="compare_radar")


def deltas(rows: pd.DataFrame, definition: Definition, index: Index) -> None:
    """The table of deltas against the reference, paired over samples where both sides have them."""
    st.subheader(f"Differences from {plain(rows.iloc[0]['model'])}")
    paired = paired_errors(index.results, rows, definition.benchmarks)
    table = delta_table(rows, definition.benchmarks, paired)
    show_table(
        table, hide_index=True, width="stretch", key="compare_deltas",
        column_config={c: st.column_config.NumberColumn(format="%+.2f") for c in ("Delta", "95% low", "95% high")},
    )  # fmt: skip
    st.caption(
        "Delta = normalized score minus the reference's. Significant when its 95% interval excludes zero: "
        "se = sqrt(se₁² + se₂²) from lm-eval's standard errors, or, when both sides have samples files, "
        "the standard error of the per-sample differences (paired), which is usually much smaller."
    )


def apples(rows: pd.DataFrame, definition: Definition, index: Index) -> None:
    """The settings check: n-shot, chat template, lm-eval version, limit and precision side by side."""
    st.subheader("Settings check (apples to apples)")
    check = settings_check(rows, compare_settings(index, rows, definition.benchmarks), definition.benchmarks)
    differs = check[check["Same"].str.contains("differs")]
    if len(differs):
        st.warning(
            f"{len(differs)} setting(s) differ: " + ", ".join(differs["Setting"]) + ". Differences in "
            "scores may come from the settings rather than the models.",
            icon="⚠️",
        )
    else:
        st.success("Same n-shot, chat template, lm-eval version, limit and precision.", icon="✅")
    show_table(check, hide_index=True, width="stretch", key="compare_settings")
