"""The leaderboard's charts section: score versus size with the Pareto frontier, best score over time,
and a benchmark-by-model heatmap, all drawn from the filtered, ranked table of the current view.

Figures come from ``lib.views.charts``; this module only picks one (a URL-backed choice) and draws it. Only
the chosen chart is built, so the table's rerun time does not grow with charts nobody looks at.
"""

from __future__ import annotations

import streamlit as st

from lib.analysis.leaderboard import LeaderboardTable, LeaderboardView
from lib.analysis.ranking import rank_key
from lib.ui import state
from lib.ui.state import Setting
from lib.views.charts import best_over_time_figure, heatmap_figure, pareto_frontier, score_vs_params_figure

CHARTS = {
    "none": "No chart",
    "size": "Score vs size",
    "time": "Best over time",
    "heatmap": "Heatmap",
}


def setting() -> Setting:
    """The URL key of the chart choice."""
    return Setting("chart", "str", "none", tuple(CHARTS))


def section(table: LeaderboardTable, view: LeaderboardView, chart: Setting) -> None:
    """Draw the chart picker and the chosen chart for the rows of the current view."""
    st.segmented_control(
        "Charts of this view", list(CHARTS), format_func=lambda k: str(CHARTS.get(k, k)), key=chart.widget_key,
        help="Drawn from the rows the filters and search above keep, scored as the table ranks them.",
    )  # fmt: skip
    choice = state.value(chart) or "none"
    if choice == "none" or not table.rows:
        return
    frame = table.frame  # every row of the view, copied only when a chart is drawn
    key = rank_key(table.benchmarks, view.by, raw=view.raw)
    label = f"{key.label} ({'raw' if view.raw else 'normalized'})"
    if choice == "size":
        figure = score_vs_params_figure(frame, key.column, label, key.higher_is_better)
        front = pareto_frontier(frame, "params", key.column, key.higher_is_better)
        st.plotly_chart(figure, key="chart_size")
        st.caption(
            f"Pareto frontier: {len(front)} model(s) that no smaller (or equal-sized) model beats on "
            f"{key.label}. Rows without a parameter count are left out."
        )
    elif choice == "time":
        st.plotly_chart(
            best_over_time_figure(frame, key.column, label, key.higher_is_better), key="chart_time"
        )
    else:
        st.plotly_chart(heatmap_figure(frame, table.benchmarks, raw=view.raw), key="chart_heatmap")
