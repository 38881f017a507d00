"""Comparing trainings as W&B users do: runs grouped by a field (mean with a band) and a common token axis.

- ``group_labels`` names each training's group by a field: its *recipe* (the name without a trailing
  seed or run number, so ``org/m-seed1`` and ``org/m-seed2`` are one recipe), its organization, or a
  metadata field of its evaluations (precision, architecture).
- ``group_band`` turns the plotted points of the members into one mean curve per group with a band
  (min–max or ± one sample standard deviation). The mean is drawn only where *every* member has a
  checkpoint at that x value; x values where only some members were evaluated are left out of the mean
  and counted (a mean over a changing set of runs would jump for no reason of the training's own).
- ``align_on_tokens`` places every checkpoint on a common token axis: invalid token counts are dropped,
  a training that names tokens for some checkpoints and a constant tokens-per-step fills the others
  (flagged as estimated), and trainings without any token count leave the axis (named for a note).

Pure: frames in, frames out. It must not query the index, draw or import Streamlit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

NO_GROUP = "none"
GROUP_FIELDS = {
    NO_GROUP: "no grouping",
    "recipe": "recipe (name without seed/run number)",
    "organization": "organization",
    "precision": "precision",
    "architecture": "architecture",
}
BANDS = {"minmax": "min–max", "std": "± 1 std"}
# A trailing seed or run number: '-seed3', '_seed_3', '.s3', '-run2', '-rep1', 'seed=3' (one fixed,
# linear pattern on names of at most a few hundred characters; never a user's regex).
_SEED_SUFFIX = re.compile(r"[-_.](?:seed|run|rep|s)[-_=]?\d{1,9}$", re.IGNORECASE)
# Known token counts within this relative distance of step x tokens-per-step count as a constant rate
# (revision names round tokens: 'tokens4B' at step 1000 of a 4.19M-tokens-per-step run).
TOKEN_RATE_TOLERANCE = 0.10


def recipe_name(training: str) -> str:
    """The training's name without a trailing seed or run number ('org/m-seed2' -> 'org/m')."""
    stripped = _SEED_SUFFIX.sub("", training)
    return stripped or training


def group_labels(trainings: pd.DataFrame, by: str) -> dict[str, str]:
    """Per training, the name of its group by the field ``by`` (one of GROUP_FIELDS).

    ``trainings`` has a ``training`` column and, for the metadata fields, a column of that name (the
    Checkpoints page's ``checkpoint_trainings`` query). A missing value groups as '<field> unknown'.
    ``none`` (or an unknown field) puts every training in a group of its own.
    """
    names = [str(t) for t in trainings["training"]]
    if by == "recipe":
        return {n: recipe_name(n) for n in names}
    if by == "organization":
        return {n: n.split("/", 1)[0] if "/" in n else f"{by} unknown" for n in names}
    if by in GROUP_FIELDS and by != NO_GROUP and by in trainings.columns:
        values = trainings[by].tolist()
        return {n: _text(v) or f"{by} unknown" for n, v in zip(names, values, strict=True)}
    return {n: n for n in names}


def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


@dataclass(frozen=True)
class GroupBand:
    """The groups' mean curves and bands, and what the reader must be told about them.

    ``frame``: one row per (group series, x value where every member has a point) with ``group``,
    ``series`` (the legend name: group, size, band), ``x``, ``mean``, ``low``, ``high``, ``n`` (members),
    ``members`` (their names, for the hover). ``notes``: per group, what was left out and why.
    """

    frame: pd.DataFrame
    notes: tuple[str, ...] = field(default=())


GROUP_COLUMNS = ["group", "series", "x", "mean", "low", "high", "n", "members"]


def group_band(
    curves: pd.DataFrame, groups: Mapping[str, str], x: str = "step", band: str = "minmax"
) -> GroupBand:
    """Mean and band of each group's members at the x values where all of them have a point.

    ``curves`` is ``lib.views.checkpoint_charts.curve_frame``'s output (``training``, ``series``, the
    setting columns, ``step``/``tokens`` and the plotted value ``shown``); ``groups`` maps a training to
    its group (trainings not in it are a group of their own). Members are the distinct series of a group
    at one evaluation setting, so a 0-shot and a 5-shot run are never averaged together. A member with
    two points at one x (two checkpoints with one token count) counts once, with their mean. Values that
    are not finite count as missing. ``band``: 'minmax' or 'std' (± one sample standard deviation; a
    group of one has no spread and its band is its line). Sums are scaled by the largest magnitude, so
    values near the float limit do not overflow.
    """
    if band not in BANDS:
        raise ValueError(f"band must be one of {', '.join(BANDS)}, got {band!r}")
    if curves.empty:
        return GroupBand(pd.DataFrame(columns=GROUP_COLUMNS))
    data = curves.assign(
        _group=[groups.get(str(t), str(t)) for t in curves["training"]],
        _x=pd.to_numeric(curves[x], errors="coerce"),
        _y=pd.to_numeric(curves["shown"], errors="coerce").replace([np.inf, -np.inf], np.nan),
    )
    # the series name is the training plus its setting when settings differ: ' (5-shot, chat)'
    names, trainings = data["series"].astype(str), data["training"].astype(str)
    data["_setting"] = [s[len(t) :] for s, t in zip(names, trainings, strict=True)]
    frames, notes = [], []
    for (group, suffix), rows in data.groupby(["_group", "_setting"], sort=True):
        members = sorted(rows["training"].astype(str).unique())
        n = len(members)
        name = f"{group}{suffix} (mean of {n}, {'no band' if n == 1 else BANDS[band]})"
        points = rows.dropna(subset=["_x"]).groupby(["_x", "training"])["_y"].mean().unstack("training")
        points = points.reindex(columns=members).sort_index()
        values = points.to_numpy(dtype=float)
        complete = ~np.isnan(values).any(axis=1) if values.size else np.zeros(0, dtype=bool)
        partial = int((~complete).sum())
        if partial:
            notes.append(
                f"{group}{suffix}: mean drawn at {int(complete.sum())} of {len(complete)} {x} values, where all "
                f"{n} members have a finite value; {partial} where only some do are left out, not "
                "interpolated."
            )
        kept = values[complete]
        mean, low, high = _mean_band(kept, band)
        frames.append(
            pd.DataFrame(
                {
                    "group": group,
                    "series": name,
                    "x": points.index.to_numpy(dtype=float)[complete],
                    "mean": mean,
                    "low": low,
                    "high": high,
                    "n": n,
                    "members": ", ".join(members),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=GROUP_COLUMNS)
    return GroupBand(out[GROUP_COLUMNS], tuple(notes))


def _mean_band(values: np.ndarray, band: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise mean and band of a (points x members) array without NaN, overflow-safe."""
    if not len(values):
        empty = np.zeros(0)
        return empty, empty, empty
    scale = np.abs(values).max(axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    unit = values / scale[:, None]
    mean = unit.mean(axis=1) * scale
    if band == "minmax":
        return mean, values.min(axis=1), values.max(axis=1)
    spread = unit.std(axis=1, ddof=1) if values.shape[1] > 1 else np.zeros(len(values))
    centre = unit.mean(axis=1)
    limit = np.finfo(float).max  # a band edge beyond the float range is drawn at its edge
    with np.errstate(over="ignore"):
        low = np.clip((centre - spread) * scale, -limit, limit)
        high = np.clip((centre + spread) * scale, -limit, limit)
    return mean, low, high


def group_best(band: pd.DataFrame, higher_is_better: bool) -> pd.DataFrame:
    """Per group series, the x of its best mean (first one on a tie, as for single trainings)."""
    rows = []
    for _, points in band.groupby("series", sort=True):
        ordered = points.sort_values("x", kind="stable")
        score = ordered["mean"] if higher_is_better else -ordered["mean"]
        if score.notna().any():
            rows.append(ordered.loc[score.idxmax()])
    return pd.DataFrame(rows, columns=GROUP_COLUMNS).reset_index(drop=True)


@dataclass(frozen=True)
class TokenAlignment:
    """A frame placed on the token axis and what changed: ``untimed`` trainings left off entirely,
    ``estimated`` (training -> how many checkpoints got a token count from its tokens-per-step),
    ``dropped`` (training -> checkpoints left off: no count and no constant rate to estimate one)."""

    frame: pd.DataFrame
    untimed: tuple[str, ...]
    estimated: dict[str, int]
    dropped: dict[str, int]


def align_on_tokens(frame: pd.DataFrame) -> TokenAlignment:
    """Every checkpoint of ``frame`` (long frame: ``training``, ``step``, ``tokens``) on a token axis.

    A token count that is not a finite number ≥ 0 is no count. Per training: when its known counts fit
    one tokens-per-step rate (each within TOKEN_RATE_TOLERANCE of step x the rate of its largest count),
    checkpoints without a count get step x rate and ``tokens_estimated`` True; otherwise they are left
    off. Trainings with no count at all leave the frame. Trainings at different rates thus meet on one
    axis: a point's x is the tokens it had seen, whatever its step.
    """
    data = frame.copy()
    tokens = pd.to_numeric(data["tokens"], errors="coerce").astype(float)
    tokens = tokens.where(np.isfinite(tokens) & (tokens >= 0))
    steps = pd.to_numeric(data["step"], errors="coerce").astype(float)
    data["tokens"] = tokens
    data["tokens_estimated"] = False
    untimed, estimated, dropped = [], {}, {}
    keep = pd.Series(True, index=data.index)
    for training, rows in data.groupby("training", sort=True):
        known = rows["tokens"].notna()
        if not known.any():
            untimed.append(str(training))
            keep[rows.index] = False
            continue
        missing = rows.index[~known]
        if not len(missing):
            continue
        rate = _token_rate(steps[rows.index[known]], rows.loc[known, "tokens"])
        fill = steps[missing] * rate if rate is not None else pd.Series(np.nan, index=missing)
        fill = fill.where(np.isfinite(fill) & (fill >= 0))
        data.loc[missing, "tokens"] = fill
        data.loc[fill.index[fill.notna()], "tokens_estimated"] = True
        if fill.notna().any():
            estimated[str(training)] = int(fill.notna().sum())
        if fill.isna().any():
            dropped[str(training)] = int(fill.isna().sum())
            keep[fill.index[fill.isna()]] = False
    return TokenAlignment(data[keep].reset_index(drop=True), tuple(untimed), estimated, dropped)


def _token_rate(steps: pd.Series, tokens: pd.Series) -> float | None:
    """The training's tokens per step when its known counts fit one rate, else None."""
    usable = (steps > 0) & (tokens > 0) & np.isfinite(steps)
    if not usable.any():
        return None
    s, t = steps[usable].to_numpy(dtype=float), tokens[usable].to_numpy(dtype=float)
    rate = float(t[np.argmax(t)] / s[np.argmax(t)])
    if not np.isfinite(rate) or rate <= 0:
        return None
    expected = s * rate
    return rate if bool(np.all(np.abs(t - expected) <= TOKEN_RATE_TOLERANCE * expected)) else None
