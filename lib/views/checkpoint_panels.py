"""The Checkpoints figure: one panel per score (small multiples) on one shared x axis.

Every panel is a y axis of its own stacked on the same x axis, so zoom and pan move all panels together
and the unified hover (``hovermode='x unified'`` with ``hoversubplots='axis'``) lists every training's
value in every panel at the hovered step or token count. A training has one colour and one legend entry
across panels (its legend group): one click on it hides it everywhere. Trainings grouped by a field are
drawn as the group's mean line with a shaded band (``lib.analysis.checkpoint_groups.group_band``)
instead of the members' lines.

Pure: frames in, a plotly figure out. Nothing here reads widgets, queries the index or touches Streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from lib.analysis.checkpoint_groups import align_on_tokens, group_band, group_best
from lib.analysis.checkpoints import best_checkpoints
from lib.views.checkpoint_charts import (
    BEST_MARKER,
    curve_frame,
    palette,
    plot_text,
    robust_y_range,
    series_traces,
    suggest_log_y,
)

PANEL_HEIGHT = 300  # pixels per panel when there are several
SINGLE_HEIGHT = 520
_PANEL_GAP = 0.06  # fraction of the plot height between two panels
_GROUP_HOVER = (
    "<b>%{meta}</b>: %{y:.4g} (band %{customdata[0]:.4g} to %{customdata[1]:.4g}; "
    "%{customdata[2]} runs)<extra></extra>"
)


@dataclass(frozen=True)
class Panel:
    """One score's panel: its curves (``curve_frame``), best table (``best_checkpoints``), title, the
    random-baseline line, y scale and range; ``groups``/``group_best`` (``group_band``'s frame and
    ``group_best``) replace the members' lines by each group's mean and band when given."""

    curves: pd.DataFrame
    best: pd.DataFrame
    title: str
    baseline_line: float | None = None
    log_y: bool = False
    y_range: list[float] | None = None
    groups: pd.DataFrame | None = None
    group_best: pd.DataFrame | None = None


def checkpoints_figure(
    curves: pd.DataFrame,
    best: pd.DataFrame,
    x: str = "step",
    log_x: bool = False,
    baseline_line: float | None = None,
    y_title: str = "value",
    log_y: bool = False,
    y_range: list[float] | None = None,
) -> go.Figure:
    """The one-panel figure: one line per series, broken at gaps, with the best point starred."""
    return panels_figure([Panel(curves, best, y_title, baseline_line, log_y, y_range)], x, log_x)


def panels_figure(panels: Sequence[Panel], x: str = "step", log_x: bool = False) -> go.Figure:
    """Small multiples over ``x`` ('step' or 'tokens'): panel i (top to bottom) is y axis i."""
    fig = go.Figure()
    colors = _colors(panels)
    legend_shown: set[str] = set()
    n = len(panels)
    height = 1.0 / n
    for i, panel in enumerate(panels):
        axis = "y" if i == 0 else f"y{i + 1}"
        traces = (
            _group_traces(panel, colors, x) if panel.groups is not None else _line_traces(panel, colors, x)
        )
        for trace in traces:
            group = trace.legendgroup
            if trace.showlegend is not False:
                trace.showlegend = group not in legend_shown  # one legend entry per run, for all panels
                legend_shown.add(group)
            trace.update(xaxis="x", yaxis=axis)
            fig.add_trace(trace)
        top = 1.0 - i * height
        domain = [max(0.0, top - height + (_PANEL_GAP if i < n - 1 else 0.0)), top]
        fig.update_layout(
            {
                f"yaxis{'' if i == 0 else i + 1}": dict(
                    domain=domain,
                    type="log" if panel.log_y else "linear",
                    range=panel.y_range,
                    title=plot_text(panel.title) + (" (log scale)" if panel.log_y else "")
                    if n == 1
                    else None,
                )
            }
        )
        if n > 1:
            fig.add_annotation(
                text=f"<b>{plot_text(panel.title)}</b>" + (" (log y)" if panel.log_y else ""),
                xref="paper", yref="paper", x=0, y=top, xanchor="left", yanchor="bottom",
                showarrow=False,
            )  # fmt: skip
        if panel.baseline_line is not None:
            _baseline(fig, panel.baseline_line, axis)
    if any(len(p.best) or (p.group_best is not None and len(p.group_best)) for p in panels):
        fig.add_trace(
            go.Scatter(
                x=[None], y=[None], mode="markers", name="best checkpoint",
                marker=dict(color="white", **BEST_MARKER), hoverinfo="skip",
            )
        )  # fmt: skip
    fig.update_layout(
        xaxis=dict(
            title="training tokens" if x == "tokens" else "training step",
            type="log" if log_x else "linear",
            anchor="y" if n == 1 else f"y{n}",
        ),
        hovermode="x unified",  # one box listing every training's value at the hovered step or tokens
        hoversubplots="axis",  # ... in every panel on this x axis
        legend=dict(orientation="h", yanchor="top", y=-0.18 if n == 1 else -0.4 / n),
        margin=dict(l=10, r=10, t=30, b=10),
        height=SINGLE_HEIGHT if n == 1 else PANEL_HEIGHT * n + 120,
    )
    return fig


def _colors(panels: Sequence[Panel]) -> dict[str, str]:
    """One colour per legend name over all panels, in sorted order."""
    names: set[str] = set()
    for panel in panels:
        if panel.groups is not None:
            names.update(str(s) for s in panel.groups["series"].unique())
        else:
            names.update(str(s) for s in panel.curves["series"].unique())
    colours = palette()
    return {name: colours[i % len(colours)] for i, name in enumerate(sorted(names))}


def _line_traces(panel: Panel, colors: dict[str, str], x: str) -> list:
    traces: list = []
    for name, points in panel.curves.groupby("series", sort=True):
        traces += series_traces(points, panel.best, str(name), colors[str(name)], x)
    return traces


def _group_traces(panel: Panel, colors: dict[str, str], x: str) -> list:
    """Per group: the band (upper edge, then the lower edge filled up to it), the mean line, the star."""
    assert panel.groups is not None
    traces: list = []
    best = panel.group_best if panel.group_best is not None else pd.DataFrame(columns=["series"])
    for raw, points in panel.groups.groupby("series", sort=True):
        raw_name, color = str(raw), colors[str(raw)]
        name = plot_text(raw_name)
        xs = points["x"].tolist()
        custom = points[["low", "high", "n"]].to_numpy(dtype=object)
        traces += [
            go.Scatter(
                x=xs, y=points["high"].tolist(), mode="lines", name=f"band: {name}", legendgroup=raw_name,
                showlegend=False, line=dict(width=0, color=color), hoverinfo="skip",
            ),
            go.Scatter(
                x=xs, y=points["low"].tolist(), mode="lines", name=f"band: {name}", legendgroup=raw_name,
                showlegend=False, line=dict(width=0, color=color), fill="tonexty",
                fillcolor=_transparent(color), hoverinfo="skip",
            ),
            go.Scatter(
                x=xs, y=points["mean"].tolist(), mode="lines+markers", name=name, legendgroup=raw_name,
                line=dict(color=color, width=2), marker=dict(color=color, size=4), customdata=custom,
                meta=name, hovertemplate=_GROUP_HOVER,
            ),
        ]  # fmt: skip
        star = best[best["series"] == raw]
        if len(star):
            row = star.iloc[0]
            traces.append(
                go.Scatter(
                    x=[row["x"]], y=[row["mean"]], mode="markers", name=f"best: {name}", legendgroup=raw_name,
                    showlegend=False, marker=dict(color=color, **BEST_MARKER),
                    customdata=[[row["low"], row["high"], row["n"]]], meta=f"★ best mean of {name}",
                    hovertemplate=_GROUP_HOVER,
                )
            )  # fmt: skip
    return traces


def _transparent(color: str, alpha: float = 0.2) -> str:
    """'#636efa' -> 'rgba(99,110,250,0.2)' (the palette is hex)."""
    text = color.lstrip("#")
    if len(text) != 6:
        return color
    r, g, b = (int(text[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _baseline(fig: go.Figure, y: float, axis: str) -> None:
    fig.add_shape(
        type="line", xref="paper", x0=0, x1=1, yref=axis, y0=y, y1=y,
        line=dict(dash="dash", color="grey", width=1),
    )  # fmt: skip
    fig.add_annotation(
        text="random baseline", xref="paper", x=1, yref=axis, y=y, xanchor="right", yanchor="top",
        showarrow=False, font=dict(color="grey", size=11),
    )  # fmt: skip


@dataclass(frozen=True)
class PanelData:
    """A panel with what the page says about it: the best-versus-final ``table`` of its trainings,
    ``frame`` (the plotted checkpoints, on the token axis when x is tokens, for the value-at table),
    ``untimed`` (trainings left off a tokens axis), ``estimated``/``dropped`` (per training, checkpoints
    whose token count was estimated or that were left off), ``outside``/``extreme`` (points the robust
    y range leaves off), ``notes`` (group notes)."""

    panel: Panel
    table: pd.DataFrame
    frame: pd.DataFrame
    untimed: tuple[str, ...] = ()
    estimated: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    outside: int = 0
    extreme: float = float("nan")
    notes: tuple[str, ...] = ()


def build_panel(
    frame: pd.DataFrame,
    title: str,
    x: str = "step",
    smooth: int = 0,
    normalize_baseline: float | None = None,
    baseline_line: float | None = None,
    log_y: str = "auto",
    y_range: str = "robust",
    groups: dict[str, str] | None = None,
    band: str = "minmax",
) -> PanelData:
    """One score's panel from its long checkpoint frame (``load_series`` / ``benchmark_frame``).

    On a tokens axis the frame is aligned first (``align_on_tokens``), so the stars and the table
    follow the axis. ``log_y``: 'auto' (``suggest_log_y``), 'on' or 'off'; ``y_range``: 'robust'
    (``robust_y_range``) or 'full'. ``groups`` (training -> group name) draws each group's mean and
    band instead of its members (``group_band``); None draws every training's own line.
    """

    untimed: tuple[str, ...] = ()
    estimated: dict[str, int] = {}
    dropped: dict[str, int] = {}
    if x == "tokens":
        aligned = align_on_tokens(frame)
        frame, untimed, estimated, dropped = (
            aligned.frame,
            aligned.untimed,
            aligned.estimated,
            aligned.dropped,
        )
    table = best_checkpoints(frame, smooth=smooth)
    curves = curve_frame(frame, smooth, normalize_baseline)
    higher = bool(table["higher_is_better"].iloc[0]) if len(table) else True
    band_frame = best_frame = None
    notes: tuple[str, ...] = ()
    values = curves["shown"]
    if groups is not None:
        result = group_band(curves, groups, x, band)
        band_frame, notes = result.frame, result.notes
        best_frame = group_best(band_frame, higher)
        values = pd.concat([band_frame["mean"], band_frame["low"], band_frame["high"]], ignore_index=True)
    logged = log_y == "on" or (log_y == "auto" and suggest_log_y(values, higher))
    y_span, outside, extreme = (
        robust_y_range(values, logged) if y_range == "robust" else (None, 0, float("nan"))
    )
    panel = Panel(curves, table, title, baseline_line, logged, y_span, band_frame, best_frame)
    return PanelData(panel, table, frame, untimed, estimated, dropped, outside, extreme, notes)
