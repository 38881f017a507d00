"""Pure plotly pieces of the Checkpoints page: one line per training, the best point starred.

The figure itself (one or several panels) is built by ``lib.views.checkpoint_panels`` from these traces.

Each builder takes frames from ``lib.analysis.checkpoints`` and returns a figure; nothing here reads widgets,
queries the index or touches Streamlit. Lines break across gaps in a training's checkpoints
(``lib.checkpoints.find_gaps``) instead of interpolating over them.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lib.analysis.checkpoints import SETTING_COLUMNS, break_at_gaps, find_gaps, format_tokens, smoothed_values

Z95 = 1.959963984540054
BEST_MARKER = dict(symbol="star", size=16, line=dict(width=1, color="black"))
_HOVER = (  # one line per training in the unified hover box
    "<b>%{meta}</b>: %{y:.4g} (%{customdata[4]}) · step %{customdata[1]:,} · tokens %{customdata[2]}"
    " · %{customdata[0]} %{customdata[3]}<extra></extra>"
)


def normalize_values(values: pd.Series, baseline: float) -> pd.Series:
    """Raw fractions on the 0-100 scale above a random baseline: max(0, raw - b) / (1 - b) * 100."""
    return (values - baseline).clip(lower=0) / (1.0 - baseline) * 100.0


def suggest_log_y(values: pd.Series, higher_is_better: bool) -> bool:
    """A log y axis for a lower-is-better metric whose positive values span two orders of magnitude
    (perplexity from ~1e5 at step 0 down to ~5), where a linear axis flattens every curve but one."""
    shown = pd.to_numeric(values, errors="coerce").dropna()
    if higher_is_better or shown.empty or (shown <= 0).any():
        return False
    return bool(shown.max() / shown.min() >= 100)


def robust_y_range(values: pd.Series, log_y: bool) -> tuple[list[float] | None, int, float]:
    """A y range that keeps outliers from squashing every curve: Tukey's far fences (3 x IQR) around
    the points, in log10 units on a log axis (what plotly's range takes there).

    Returns (range or None when nothing lies outside the fences, how many points are left outside,
    the most extreme of them).
    """
    shown = pd.to_numeric(values, errors="coerce").replace([np.inf, -np.inf], np.nan).dropna()
    if log_y:
        shown = np.log10(shown[shown > 0])
    if len(shown) < 8:
        return None, 0, float("nan")
    q1, q3 = float(shown.quantile(0.25)), float(shown.quantile(0.75))
    spread = max(q3 - q1, 1e-12)
    low, high = q1 - 3 * spread, q3 + 3 * spread
    outside = shown[(shown < low) | (shown > high)]
    if outside.empty:
        return None, 0, float("nan")
    inside = shown[(shown >= low) & (shown <= high)]
    lo, hi = float(inside.min()), float(inside.max())
    pad = (hi - lo) * 0.08 or 1.0
    extreme = float(outside.loc[(outside - (lo + hi) / 2).abs().idxmax()])
    return [lo - pad, hi + pad], len(outside), 10**extreme if log_y else extreme


def best_vs_final(table: pd.DataFrame) -> list[str]:
    """Per row of ``best_checkpoints``: whether the best checkpoint is significantly better than the final
    one, from their standard errors (a two-sided z test at 95%: |best - final| / sqrt(se_b² + se_f²) ≥ 1.96)."""
    verdicts = []
    for row in table.itertuples(index=False):
        if row.best_step == row.final_step and row.best_revision == row.final_revision:
            verdicts.append("the final checkpoint is the best")
            continue
        se = (
            np.hypot(float(row.best_stderr), float(row.final_stderr))
            if pd.notna(row.best_stderr) and pd.notna(row.final_stderr)
            else np.nan
        )
        if not np.isfinite(se) or se <= 0:
            verdicts.append("no standard error to tell")
            continue
        z = abs(float(row.best_value) - float(row.final_value)) / se
        verdicts.append(f"significantly better (z = {z:.1f})" if z >= Z95 else f"within noise (z = {z:.1f})")
    return verdicts


def series_name(row: pd.Series | dict, several_settings: bool) -> str:
    """The legend name of one series: the training, with its setting when settings differ."""
    name = str(row["training"])
    if not several_settings:
        return name
    parts = [f"{int(row['n_shot'])}-shot" if pd.notna(row["n_shot"]) else "n-shot ?"]
    if bool(row["chat_template"]):
        parts.append("chat")
    if pd.notna(row["limit"]):
        parts.append(f"limit {row['limit']:g}")
    return f"{name} ({', '.join(parts)})"


def curve_frame(frame: pd.DataFrame, smooth: int = 0, baseline: float | None = None) -> pd.DataFrame:
    """The plotted points: the long frame sorted, with ``shown`` (smoothed or raw, normalized when a
    baseline is given), its 95% interval ``low``/``high`` and a ``series`` legend name."""
    data = frame.sort_values(["training", "step"], kind="stable").reset_index(drop=True)
    data["smoothed"] = smoothed_values(data, smooth) if smooth > 1 else data["value"]
    stderr = pd.to_numeric(data["stderr"], errors="coerce")
    low, high = data["value"] - Z95 * stderr, data["value"] + Z95 * stderr
    if baseline is not None:
        data["shown"] = normalize_values(data["smoothed"], baseline)
        data["value_shown"] = normalize_values(data["value"], baseline)
        low, high = normalize_values(low, baseline), normalize_values(high, baseline)
    else:
        data["shown"], data["value_shown"] = data["smoothed"], data["value"]
    data["low"], data["high"] = low, high
    settings = data[list(SETTING_COLUMNS)].astype(str).drop_duplicates()
    several = len(settings) > 1
    keys = data[["training", *SETTING_COLUMNS]].drop_duplicates()
    names = {tuple(map(str, k)): series_name(k, several) for _, k in keys.iterrows()}
    data["series"] = [
        names[tuple(map(str, k))] for k in data[["training", *SETTING_COLUMNS]].itertuples(index=False)
    ]
    return data


def plot_text(text: object) -> str:
    """Text from a file made inert for plotly, which renders ``<a href>``, ``<b>``, ``<br>`` and entities
    in names and hover texts and expands ``%{...}`` in templates."""
    return html.escape(str(text)).replace("%", "&#37;")


def series_traces(points: pd.DataFrame, best: pd.DataFrame, raw_name: str, color: str, x: str) -> list:
    """The line, the hoverable points, the dotted gap bridges and the star of one series (the line
    carries the legend entry; every trace is in the series' legend group)."""
    name = plot_text(raw_name)
    xs = points[x].tolist()
    ys = points["shown"].tolist()
    gaps = find_gaps(points["step"].tolist())
    gap_starts = {start for start, _ in gaps}
    x_gaps = [(xv, xv) for xv, s in zip(xs, points["step"], strict=True) if s in gap_starts]
    line_x, line_y = break_at_gaps(xs, ys, x_gaps)
    traces = [
        go.Scatter(
            x=line_x, y=line_y, mode="lines", name=name, legendgroup=raw_name,
            line=dict(color=color, width=2), hoverinfo="skip", connectgaps=False,
        ),
        go.Scatter(
            x=xs, y=points["value_shown"], mode="markers", name=name, legendgroup=raw_name,
            showlegend=False, marker=dict(color=color, size=5), customdata=_custom(points), meta=name,
            hovertemplate=_HOVER,
        ),
    ]  # fmt: skip
    traces += _gap_bridges(points, gaps, name, raw_name, color, x)
    star = _best_point(points, best)
    if star is not None:
        traces.append(
            go.Scatter(
                x=[star[x]], y=[star["value_shown"]], mode="markers", name=f"best: {name}",
                legendgroup=raw_name, showlegend=False, marker=dict(color=color, **BEST_MARKER),
                customdata=_custom(star.to_frame().T), meta=f"★ best of {name}", hovertemplate=_HOVER,
            )
        )  # fmt: skip
    return traces


def _gap_bridges(
    points: pd.DataFrame, gaps: list[tuple[int, int]], name: str, group: str, color: str, x: str
) -> list:
    bridges = []
    for start, end in gaps:
        ends = points[points["step"].isin((start, end))].drop_duplicates("step")
        text = f"{name}: no checkpoints between steps {start:,} and {end:,}"
        bridges.append(
            go.Scatter(
                x=ends[x].tolist(), y=ends["shown"].tolist(), mode="lines", name=f"gap: {name}",
                legendgroup=group, showlegend=False, line=dict(color=color, width=1, dash="dot"),
                opacity=0.6, hovertemplate=f"{text}<extra></extra>",
            )
        )  # fmt: skip
    return bridges


def _best_point(points: pd.DataFrame, best: pd.DataFrame) -> pd.Series | None:
    first = points.iloc[0]
    wanted = _key(first["training"], first["n_shot"], first["chat_template"], first["limit"])
    for row in best.itertuples(index=False):
        if _key(row.training, row.num_fewshot, row.chat_template, row.limit) != wanted:
            continue
        hit = points[(points["step"] == row.best_step) & (points["revision"] == row.best_revision)]
        return None if hit.empty else hit.iloc[0]
    return None


def _key(*values: object) -> tuple[str, ...]:
    """Comparable text of a series key: missing values alike, 0 and 0.0 alike."""
    out = []
    for v in values:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            out.append("")
        elif isinstance(v, (bool, np.bool_)):
            out.append(str(bool(v)))
        elif isinstance(v, (int, float, np.integer, np.floating)):
            out.append(f"{float(v):g}")
        else:
            out.append(str(v))
    return tuple(out)


def _custom(points: pd.DataFrame) -> np.ndarray:
    """Per point: revision, step, tokens text, the smoothed-value note and the 95% interval text."""
    tokens = [_tokens_text(t) for t in points["tokens"]]
    if "tokens_estimated" in points.columns:  # from lib.analysis.checkpoint_groups.align_on_tokens
        tokens = [
            f"{t} (estimated)" if bool(e) else t
            for t, e in zip(tokens, points["tokens_estimated"], strict=True)
        ]
    smoothed = points["shown"].astype(float).to_numpy()
    values = points["value_shown"].astype(float).to_numpy()
    notes = [
        "" if np.isclose(s, v, equal_nan=True) else f"curve (smoothed) {s:.4g}"
        for s, v in zip(smoothed, values, strict=True)
    ]
    intervals = [
        "no standard error" if np.isnan(lo) or np.isnan(hi) or lo == hi else f"95%: {lo:.4g} to {hi:.4g}"
        for lo, hi in zip(points["low"].astype(float), points["high"].astype(float), strict=True)
    ]
    return np.column_stack(
        [points["revision"].map(plot_text), points["step"].astype("int64"), tokens, notes, intervals]
    ).astype(object)


def _tokens_text(tokens: object) -> str:
    number = None if tokens is None or pd.isna(tokens) else float(tokens)  # type: ignore[arg-type]
    return format_tokens(number) or "–"


def palette() -> list[str]:
    import plotly.colors

    return list(plotly.colors.qualitative.Plotly) + list(plotly.colors.qualitative.Dark24)
