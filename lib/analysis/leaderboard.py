"""The leaderboard view: filters, size buckets, categories and the table a page shows.

Pure functions over the frame ``lib.ranking.leaderboard_frame`` returns; nothing here touches
Streamlit or SQL. ``LeaderboardView`` holds every setting a user can change on the page, so the
page, the command line and the tests build exactly the same table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from lib.analysis.ranking import (
    RankingError,
    leaderboard_frame,
    rank_key,
    rank_positions,
    resolve_benchmarks,
)
from lib.analysis.search import search_mask
from lib.core.config import Benchmark, Definition

# The Open LLM Leaderboard's size quick filters, in billions of parameters (lower bound excluded).
SIZE_BUCKETS: dict[str, tuple[float, float]] = {
    "Edge": (0.0, 3.0),
    "Consumer": (3.0, 7.0),
    "Mid-range": (7.0, 65.0),
    "GPU-rich": (65.0, 141.0),
}
SIZE_BUCKET_HELP = "Edge ≤3B · Consumer 3-7B · Mid-range 7-65B · GPU-rich 65-141B parameters"
SEARCH_FIELDS = {
    "model": "model",
    "name": "model",
    "license": "license",
    "hub license": "license",
    "type": "type",
    "category": "type",
    "precision": "precision",
    "architecture": "architecture",
    "weight type": "weight_type",
    "sha": "sha",
    "model sha": "sha",
    "revision": "revision",
    "base model": "base_model",
    "training": "training",
}
HIDE_OPTIONS = ("flagged", "merged", "moe", "deleted")
# What else than the ranking can order the whole view (a grid's header sorts only the rows it was sent):
# a key (the URL's) -> (the shown column's name, the frame's column). 'rank', 'average' and the benchmark
# ids are the other keys (``order_options``).
ORDER_COLUMNS: dict[str, tuple[str, str]] = {
    "model": ("Model", "model"),
    "params": ("#Params (B)", "params"),
    "submitted": ("Submitted", "submitted_time"),
    "likes": ("Hub ❤️", "likes"),
    "type": ("Type", "type"),
    "precision": ("Precision", "precision"),
    "weight_type": ("Weight type", "weight_type"),
    "architecture": ("Architecture", "architecture"),
    "license": ("Hub License", "license"),
    "training": ("Training", "training"),
    "step": ("Step", "step"),
    "base_model": ("Base model", "base_model"),
}


@dataclass(frozen=True)
class LeaderboardView:
    """Every user setting of the leaderboard table."""

    benchmarks: tuple[str, ...] = ()
    by: str = "average"
    raw: bool = False
    weights: dict[str, float] | None = field(default=None, hash=False)
    categories: tuple[str, ...] = ()
    precisions: tuple[str, ...] = ()
    weight_types: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    params_range: tuple[float, float] | None = None
    hide: tuple[str, ...] = ("flagged",)
    official_only: bool = False
    best_checkpoint_only: bool = False
    include_partial: bool = False
    search: str = ""
    order_by: str = "rank"  # a key of ORDER_COLUMNS, 'average' or a benchmark id: the whole view's order
    descending: bool = True


@dataclass(frozen=True)
class LeaderboardTable:
    """The ranked, filtered table and what a page says about it.

    Held as the unfiltered frame and the positions of the view's rows in it, best first: filtering and
    ranking read only the columns they test, and no row is copied until asked for. ``head(n)`` copies the
    first ``n`` rows (what a grid shows), ``frame`` every row (downloads, charts, the command line), both
    exactly as ranking a filtered copy of the frame would give them. ``source`` is shared: never modified.
    """

    source: pd.DataFrame  # every row before filtering
    positions: np.ndarray  # the view's rows, as positions in ``source``, in rank order
    ranked: dict[str, Any]  # rank, stat_rank, score_lo, score_hi of the view's rows, in the same order
    benchmarks: tuple[Benchmark, ...]
    notices: tuple[str, ...]
    total_rows: int
    rank_label: str
    rank_by: str = "average"  # 'average' or the id of the benchmark ranked on
    order_label: str = ""  # when the rows follow another order than the ranking: what orders them

    @property
    def rows(self) -> int:
        """How many rows the view has."""
        return len(self.positions)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """Every row of the view, ranked, with ``rank``, ``stat_rank``, ``score_lo`` and ``score_hi``."""
        return self.head(None)

    def head(self, n: int | None) -> pd.DataFrame:
        """The first ``n`` rows of ``frame`` (every row for None), copying only those."""
        if n is None or n >= self.rows:
            n = self.rows
            if "frame" in self.__dict__:
                return self.__dict__["frame"]
        return self.take(range(n))

    def take(self, rows: Sequence[int]) -> pd.DataFrame:
        """The rows at these positions of ``frame`` (a selection in the grid), index 0..len-1."""
        picked = np.asarray(rows, dtype=np.intp)
        ranked = {name: values[picked] for name, values in self.ranked.items()}
        return self.source.take(self.positions[picked]).reset_index(drop=True).assign(**ranked)

    def column(self, name: str) -> pd.Series:
        """One column of ``frame`` (every row of the view), copying only that column."""
        if name in self.ranked:
            return pd.Series(self.ranked[name], name=name)
        return self.source[name].take(self.positions).reset_index(drop=True)


def enrich(frame: pd.DataFrame, definition: Definition) -> pd.DataFrame:
    """Add category, symbol, type label, official flag and size bucket columns."""
    out = frame
    types = out["model_type"].fillna("").astype(str)
    lookup = {t: definition.category(t) for t in types.unique()}
    ids = {t: (c.id if c else "") for t, c in lookup.items()}
    symbols = {t: (c.symbol if c else "") for t, c in lookup.items()}
    labels = {t: (c.label if c else (t or "")) for t, c in lookup.items()}
    out["category"] = types.map(ids)
    out["symbol"] = types.map(symbols)
    out["type"] = types.map(labels)
    models = out["model"].fillna("").astype(str)
    providers = [p for p in definition.official_providers if "/" not in p]  # an org has no '/'
    # the org is the part before the first '/': no per-row split (0.1 s at 100,000 rows)
    out["official"] = models.isin(providers) | (
        models.str.startswith(tuple(f"{p}/" for p in providers)) if providers else False
    )
    params = pd.to_numeric(out["params"], errors="coerce")
    out["size"] = size_bucket(params)
    return out


def size_bucket(params: pd.Series) -> pd.Series:
    """The size quick-filter name for each parameter count in billions ('' when unknown or larger)."""
    values = pd.to_numeric(params, errors="coerce").to_numpy(dtype=float)
    names = np.full(values.shape, "", dtype=object)
    for name, (low, high) in SIZE_BUCKETS.items():
        inside = (values > low) & (values <= high) if low > 0 else (values >= low) & (values <= high)
        names[inside & (names == "")] = name
    return pd.Series(names, index=params.index)


def apply_filters(frame: pd.DataFrame, view: LeaderboardView) -> tuple[pd.DataFrame, list[str]]:
    """Rows that pass every filter of ``view``, and notices for the user."""
    mask, notices = filter_mask(frame, view)
    return frame[mask], notices


def filter_mask(frame: pd.DataFrame, view: LeaderboardView) -> tuple[pd.Series, list[str]]:
    """Which rows of ``frame`` pass every filter of ``view`` (nothing copied), and notices for the user."""
    notices: list[str] = []
    mask = pd.Series(True, index=frame.index)
    if view.categories:
        mask &= frame["category"].isin(view.categories)
    if view.precisions:
        mask &= frame["precision"].isin(view.precisions)
    if view.weight_types:
        mask &= frame["weight_type"].isin(view.weight_types)
    params = pd.to_numeric(frame["params"], errors="coerce")
    if view.sizes:
        mask &= frame["size"].isin(view.sizes)
    if view.params_range is not None:
        low, high = view.params_range
        mask &= params.between(low, high) | params.isna() & (low <= 0)
    hide = set(view.hide)
    if "flagged" in hide:
        mask &= frame["flagged"].fillna("").astype(str) == ""
    if "merged" in hide:
        mask &= ~frame["merged"].fillna(False).astype(bool)
    if "moe" in hide:
        mask &= ~frame["moe"].fillna(False).astype(bool)
    if "deleted" in hide:
        mask &= frame["on_hub"].fillna(True).astype(bool)
    if view.official_only:
        mask &= frame["official"]
    if view.search.strip():
        result = search_mask(frame, view.search, SEARCH_FIELDS, ("model",))
        mask &= result.mask
        notices.extend(result.notices)
    return mask, notices


def best_checkpoint_rows(frame: pd.DataFrame, column: str, higher_is_better: bool) -> pd.DataFrame:
    """Keep each training's best checkpoint by ``column`` (ties: earliest step); other rows stay.

    Rows without a training (ordinary models) pass through unchanged. A training with no score in
    ``column`` at all keeps its last checkpoint, so it does not vanish from the table.
    """
    has_training = frame["training"].fillna("").astype(str) != ""
    trainings = frame[has_training]
    if trainings.empty:
        return frame
    scored = trainings[column].notna()
    score_order = trainings[column].where(scored, np.nan) * (1 if higher_is_better else -1)
    # best first: scored before unscored, then by score, then earliest step (latest step if unscored)
    order = trainings.assign(
        _scored=scored, _score=score_order, _step=trainings["step"].where(scored, -trainings["step"])
    ).sort_values(
        ["training", "_scored", "_score", "_step"], ascending=[True, False, False, True], kind="stable"
    )
    keep = order.drop_duplicates(["training", "precision", "chat_template"], keep="first").index
    return frame[~has_training | frame.index.isin(keep)]


def build_table(
    index,  # lib.index.Index (not imported for typing to keep this module light)
    definition: Definition,
    view: LeaderboardView,
    base: pd.DataFrame | None = None,
) -> LeaderboardTable:
    """The ranked and filtered table for ``view``. ``base`` reuses an unfiltered frame already computed."""
    benchmarks = resolve_benchmarks(definition, list(view.benchmarks) or None)
    frame = base if base is not None else unfiltered_frame(index, definition, view)
    total = len(frame)
    mask, notices = filter_mask(frame, view)
    key = rank_key(benchmarks, view.by, raw=view.raw)
    kept = np.flatnonzero(mask.to_numpy(dtype=bool))
    if view.best_checkpoint_only:
        filtered = frame.take(kept).set_axis(kept)  # labelled by position, to map the best rows back
        kept = best_checkpoint_rows(filtered, key.column, key.higher_is_better).index.to_numpy(dtype=np.intp)
    scores = frame[key.column].take(kept)
    se = frame[key.se_column].take(kept) if key.se_column in frame.columns else None
    order, ranked = rank_positions(scores, se, key.higher_is_better)
    missing = int(scores.isna().sum())
    if missing:
        notices.append(
            f"{missing} row(s) have no {key.label} score (a benchmark or subtask is missing, or its n-shot "
            "differs from the definition's); they are listed last."
        )
    rank_by = next((b.id for b in benchmarks if view.by in (b.id, b.name)), "average")
    positions = kept[order]
    order_label = ""
    if view.order_by != "rank":
        values = order_values(frame, view.order_by, view.raw, benchmarks).take(positions)
        again = _stable_order(values, view.descending)
        positions = positions[again]
        ranked = {name: column[again] for name, column in ranked.items()}
        shown = order_options(benchmarks)[view.order_by]
        order_label = f"{shown}, {'descending' if view.descending else 'ascending'}"
    return LeaderboardTable(
        frame, positions, ranked, tuple(benchmarks), tuple(notices), total, key.label, rank_by, order_label
    )


def order_options(benchmarks: Sequence[Benchmark]) -> dict[str, str]:
    """What can order the whole view: key -> the shown column's name, the ranking first (a benchmark
    whose id is also a column's key keeps the key)."""
    scores = {"rank": "Rank", "average": "Average", **{b.id: b.name for b in benchmarks}}
    return scores | {key: shown for key, (shown, _) in ORDER_COLUMNS.items() if key not in scores}


def descending_first(key: str, benchmarks: Sequence[Benchmark]) -> bool:
    """The direction a new choice of order starts in: the best score, the largest number or the newest
    date first; text from A to Z."""
    for bench in benchmarks:
        if key == bench.id:
            return bench.higher_is_better
    return key not in ORDER_COLUMNS or key in ("params", "submitted", "likes", "step")


def order_values(frame: pd.DataFrame, key: str, raw: bool, benchmarks: Sequence[Benchmark]) -> pd.Series:
    """The values a view ordered by ``key`` follows, as the table shows them: a benchmark missing a
    subtask and empty text count as missing, sizes as numbers. Raises RankingError for an unknown key."""
    if key == "average":
        return frame["average_raw" if raw else "average"]
    for bench in benchmarks:
        if key == bench.id:
            return frame[f"{bench.id}_{'raw' if raw else 'norm'}"].where(
                frame[f"{bench.id}_complete"].astype(bool)
            )
    if key not in ORDER_COLUMNS:
        raise RankingError(
            f"cannot order the view by {key!r}: not one of {', '.join(order_options(benchmarks))}"
        )
    values = frame[ORDER_COLUMNS[key][1]]
    if key in ("params", "likes", "step"):
        return pd.to_numeric(values, errors="coerce")
    if key == "submitted":  # free text from request files: ordered as times, what does not read as one last
        times = pd.to_datetime(values.astype("string"), format="ISO8601", utc=True, errors="coerce")
        return pd.Series(times.to_numpy(dtype="datetime64[ns]").astype("int64"), index=values.index).where(
            times.notna()
        )
    text = values.astype("string")
    return text.where(text.str.len() > 0)  # '' and missing alike, listed last


def _stable_order(values: pd.Series, descending: bool) -> np.ndarray:
    """Positions that order ``values`` (missing last, ties in their current order: the ranking's)."""
    values = values.reset_index(drop=True)
    if values.dtype.kind in "iufb":
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        return np.argsort(-numbers if descending else numbers, kind="stable")  # NaN sorts last either way
    key = values.str.casefold()  # 'llama' beside 'Llama'
    ordered = key.sort_values(ascending=not descending, kind="stable", na_position="last")
    return ordered.index.to_numpy(dtype=np.intp)


def unfiltered_frame(index, definition: Definition, view: LeaderboardView) -> pd.DataFrame:
    """Every leaderboard row for the view's benchmark selection, weights and partial-run choice."""
    benchmarks = resolve_benchmarks(definition, list(view.benchmarks) or None)
    frame = leaderboard_frame(index, benchmarks, view.weights, view.include_partial)
    return enrich(frame, definition)


def display_frame(
    table: LeaderboardTable, raw: bool, hub_url: str = "https://huggingface.co", rows: int | None = None
) -> pd.DataFrame:
    """The table shaped for display: percentages, interval text, links; hostile text stays plain text.

    ``rows``: only the first that many (what a grid is sent), shaped without copying the others."""
    frame = table.head(rows)
    out: dict[str, object] = {}  # one frame built at the end: inserting ~40 columns one by one costs more
    out["Rank"] = frame["rank"]
    out["Stat. rank"] = frame["stat_rank"]
    out["T"] = frame["symbol"]
    out["Model"] = frame["model"]
    out["Hub"] = np.where(
        frame["model"].astype(str).str.match(r"local/|/|\.|~|[A-Za-z]:[\\/]"),  # a folder: no Hub page
        None,
        hub_url + "/" + frame["model"].astype(str),
    )
    average = frame["average_raw"] if raw else frame["average"]
    out["Average"] = average
    out["± 95%"] = interval_half_width(table, raw, frame)
    for bench in table.benchmarks:
        complete = frame[f"{bench.id}_complete"].astype(bool)  # a benchmark missing a subtask shows no score
        if raw and bench.higher_is_better:
            out[bench.name] = (frame[f"{bench.id}_raw"] * 100).where(complete)
        elif raw:
            out[bench.name] = frame[f"{bench.id}_raw"].where(complete)
        else:
            out[bench.name] = frame[f"{bench.id}_norm"].where(complete)
    out["Type"] = frame["type"]
    out["Precision"] = frame["precision"]
    out["Weight type"] = frame["weight_type"]
    out["Architecture"] = frame["architecture"]
    out["#Params (B)"] = pd.to_numeric(frame["params"], errors="coerce")
    out["Hub License"] = frame["license"]
    out["Hub ❤️"] = frame["likes"]
    out["Model sha"] = frame["sha"].where(frame["sha"].astype(str) != "", frame["revision"])
    out["Chat template"] = frame["chat_template"].astype(bool)
    out["Official"] = frame["official"].astype(bool)
    out["Merged"] = frame["merged"].astype(bool)
    out["MoE"] = frame["moe"].astype(bool)
    out["Flagged"] = frame["flagged"].fillna("")
    out["Available on the Hub"] = frame["on_hub"].astype(bool)
    out["Training"] = frame["training"].fillna("")
    out["Step"] = frame["step"]
    out["Submitted"] = frame["submitted_time"]
    out["Base model"] = frame["base_model"]
    out["Backend"] = frame["backend"].fillna("") if "backend" in frame else pd.Series("", index=frame.index)
    # what sets the row apart: score-changing model args, and the n-shot or task version of its group
    setting = frame["setting"].fillna("") if "setting" in frame else pd.Series("", index=frame.index)
    label = (
        frame["setting_label"].fillna("") if "setting_label" in frame else pd.Series("", index=frame.index)
    )
    out["Setting"] = (setting + " " + label).str.strip()
    return pd.DataFrame(out, index=frame.index)


def interval_half_width(table: LeaderboardTable, raw: bool, frame: pd.DataFrame | None = None) -> pd.Series:
    """Half the 95% interval of the score the table is ranked on, in the units it is shown in.

    The interval ``rank_frame`` put around the ranking score (the one the statistical rank compares),
    so the column and the statistical rank always describe the same number; missing where the score
    or its standard error is. ``frame``: rows of ``table.frame`` already taken (``table.head``).
    """
    frame = table.frame if frame is None else frame
    half = (frame["score_hi"] - frame["score_lo"]) / 2
    bench = next((b for b in table.benchmarks if b.id == table.rank_by), None)
    if raw and bench is not None and bench.higher_is_better:
        half = half * 100  # raw accuracies are shown in %, ranked as fractions
    return half.astype(float)


ALWAYS_SHOWN = ("Rank", "T", "Model", "Average")
DEFAULT_COLUMNS = (
    "Stat. rank",
    "± 95%",
    "Precision",
    "#Params (B)",
    "Hub License",
)
OPTIONAL_COLUMNS = (
    "Stat. rank",
    "Hub",
    "± 95%",
    "Type",
    "Precision",
    "Weight type",
    "Architecture",
    "#Params (B)",
    "Hub License",
    "Hub ❤️",
    "Model sha",
    "Chat template",
    "Official",
    "Merged",
    "MoE",
    "Flagged",
    "Available on the Hub",
    "Training",
    "Step",
    "Submitted",
    "Base model",
    "Backend",
    "Setting",
)


def null_non_finite(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with infinities as missing values, so CSV and Parquet carry nulls, never 'inf'."""
    numeric = frame.select_dtypes(include="number").columns
    if len(numeric) == 0:
        return frame
    out = frame.copy()
    out[numeric] = out[numeric].replace([math.inf, -math.inf], None)
    return out
