"""Pure plotly builders of the leaderboard's charts and the compare page.

Every ``*_figure`` takes frames shaped by ``lib.ranking.leaderboard_frame`` (or a leaderboard table's
filtered ``frame``) and returns a figure; ``pareto_frontier`` is the pure function behind the frontier
line. Nothing here reads widgets, queries the index or touches Streamlit. Model names reach hover text
HTML-escaped, so a name from a file cannot inject markup.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lib.analysis.ranking import Z95
from lib.core.config import Benchmark

HEATMAP_MAX_MODELS = 40
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), hovermode="closest")


def pareto_frontier(frame: pd.DataFrame, x: str, y: str, higher_is_better: bool = True) -> pd.DataFrame:
    """The rows no other row beats: none has ``x`` as small (or smaller) and ``y`` better.

    Rows with a missing or non-positive ``x`` or a missing ``y`` are left out. Returned sorted by ``x``;
    on equal ``x`` only the best ``y`` can be on the frontier.
    """
    data = frame.assign(
        _x=pd.to_numeric(frame[x], errors="coerce"), _y=pd.to_numeric(frame[y], errors="coerce")
    )
    data = data[(data["_x"] > 0) & data["_y"].notna()]
    data = data.sort_values(["_x", "_y"], ascending=[True, not higher_is_better], kind="stable")
    keep, best = [], None
    for idx, value in zip(data.index, data["_y"], strict=True):
        if best is None or (value > best if higher_is_better else value < best):
            keep.append(idx)
            best = value
    return data.loc[keep].drop(columns=["_x", "_y"])


def hover_names(frame: pd.DataFrame) -> list[str]:
    """Model names (with precision) escaped for plotly's hover text."""
    precision = frame["precision"].fillna("").astype(str) if "precision" in frame else ""
    names = frame["model"].astype(str) + (" · " + precision if isinstance(precision, pd.Series) else "")
    return [html.escape(n) for n in names]


def score_vs_params_figure(
    frame: pd.DataFrame, score: str, label: str, higher_is_better: bool = True
) -> go.Figure:
    """Score over parameters (log x) for every row with both, and the Pareto frontier as a line."""
    data = frame[(pd.to_numeric(frame["params"], errors="coerce") > 0) & frame[score].notna()]
    front = pareto_frontier(data, "params", score, higher_is_better)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=data["params"], y=data[score], mode="markers", name="models", text=hover_names(data),
            marker=dict(size=8, opacity=0.75),
            hovertemplate="%{text}<br>%{x:.3g} B parameters<br>" + label + " %{y:.2f}<extra></extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=front["params"], y=front[score], mode="lines+markers", name="Pareto frontier",
            text=hover_names(front), line=dict(shape="hv", width=2, color="crimson"),
            marker=dict(size=10, symbol="diamond", color="crimson"),
            hovertemplate="<b>frontier</b> %{text}<br>%{x:.3g} B<br>" + label + " %{y:.2f}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        title="Score versus size", xaxis_title="parameters (billions, log scale)", yaxis_title=label,
        xaxis_type="log", height=460, **_LAYOUT,
    )  # fmt: skip
    return fig


def submission_dates(frame: pd.DataFrame) -> pd.Series:
    """When each row was submitted: its request's time, else its evaluation's date (UTC timestamps)."""
    submitted = pd.to_datetime(frame["submitted_time"], errors="coerce", utc=True, format="ISO8601")
    evaluated = pd.to_datetime(pd.to_numeric(frame["date"], errors="coerce"), unit="s", utc=True)
    return submitted.fillna(evaluated)


def best_over_time(frame: pd.DataFrame, score: str, higher_is_better: bool = True) -> pd.DataFrame:
    """The running best score by submission date: columns when, best, model (the record holder)."""
    data = frame.assign(when=submission_dates(frame))
    data = data[data["when"].notna() & data[score].notna()].sort_values("when", kind="stable")
    values = data[score].astype(float)
    best = values.cummax() if higher_is_better else values.cummin()
    holder = data["model"].where(values == best).ffill()
    return pd.DataFrame({"when": data["when"], "best": best, "model": holder, "score": values})


def best_over_time_figure(
    frame: pd.DataFrame, score: str, label: str, higher_is_better: bool = True
) -> go.Figure:
    """Every row's score by submission date, and the best score so far as a step line."""
    data = frame.assign(when=submission_dates(frame))
    data = data[data["when"].notna() & data[score].notna()]
    record = best_over_time(frame, score, higher_is_better)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=data["when"], y=data[score], mode="markers", name="submissions", text=hover_names(data),
            marker=dict(size=6, opacity=0.5), hovertemplate="%{text}<br>%{x|%Y-%m-%d}<br>%{y:.2f}<extra></extra>",
        )
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=record["when"], y=record["best"], mode="lines", name="best so far",
            text=[html.escape(str(m)) for m in record["model"]], line=dict(shape="hv", width=2),
            hovertemplate="best so far %{y:.2f}<br>held by %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        title="Best score over submission date",
        xaxis_title="submitted",
        yaxis_title=label,
        height=420,
        **_LAYOUT,
    )
    return fig


def heatmap_figure(
    frame: pd.DataFrame,
    benchmarks: Sequence[Benchmark],
    raw: bool = False,
    max_models: int = HEATMAP_MAX_MODELS,
) -> go.Figure:
    """Benchmark x model scores of the first ``max_models`` rows of the current view (in its order: the
    ranking's, or the one "Order all rows by" chose)."""
    data = frame.head(max_models)
    suffix = "raw" if raw else "norm"
    columns = [f"{b.id}_{suffix}" for b in benchmarks]
    z = data[columns].astype(float).to_numpy()
    if raw:
        z = z * np.array([100.0 if b.higher_is_better else 1.0 for b in benchmarks])
    names = hover_names(data)
    fig = go.Figure(
        go.Heatmap(
            z=z, x=[b.name for b in benchmarks], y=names, colorscale="Viridis",
            colorbar=dict(title="raw %" if raw else "normalized"),
            hovertemplate="%{y}<br>%{x}: %{z:.2f}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        title=f"Benchmarks x models (the first {len(data)} rows of the view)",
        yaxis=dict(autorange="reversed", tickfont=dict(size=10)),
        height=max(320, 22 * len(data) + 120),
        **_LAYOUT,
    )
    return fig


def benchmark_bars_figure(
    rows: pd.DataFrame, benchmarks: Sequence[Benchmark], names: Sequence[str]
) -> go.Figure:
    """Grouped bars: one group per benchmark, one bar per row, with 95% error bars (normalized)."""
    fig = go.Figure()
    for pos, name in enumerate(names):
        row = rows.iloc[pos]
        values = [row[f"{b.id}_norm"] for b in benchmarks]
        errors = [Z95 * row[f"{b.id}_se"] if pd.notna(row[f"{b.id}_se"]) else 0.0 for b in benchmarks]
        fig.add_trace(
            go.Bar(
                x=[b.name for b in benchmarks], y=values, name=html.escape(name),
                error_y=dict(type="data", array=errors, visible=True),
                hovertemplate="%{x}: %{y:.2f} ± %{error_y.array:.2f}<extra>" + html.escape(name) + "</extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        barmode="group", title="Normalized score per benchmark (95% intervals)", yaxis_title="normalized score",
        legend=dict(orientation="h", yanchor="top", y=-0.15), height=460, **_LAYOUT,
    )  # fmt: skip
    return fig


def radar_figure(rows: pd.DataFrame, benchmarks: Sequence[Benchmark], names: Sequence[str]) -> go.Figure:
    """One closed polygon per row over the benchmarks' normalized scores."""
    fig = go.Figure()
    labels = [b.name for b in benchmarks]
    for pos, name in enumerate(names):
        row = rows.iloc[pos]
        values = [float(row[f"{b.id}_norm"]) if pd.notna(row[f"{b.id}_norm"]) else 0.0 for b in benchmarks]
        fig.add_trace(
            go.Scatterpolar(
                r=values + values[:1],
                theta=labels + labels[:1],
                name=html.escape(name),
                fill="toself",
                opacity=0.6,
            )
        )
    top = max([1.0, *[t for tr in fig.data for t in tr.r]])
    fig.update_layout(
        title="Profile across benchmarks", polar=dict(radialaxis=dict(range=[0, top * 1.05])),
        legend=dict(orientation="h", yanchor="top", y=-0.1), height=460, **_LAYOUT,
    )  # fmt: skip
    return fig
