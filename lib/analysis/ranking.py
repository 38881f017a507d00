"""Ranking: normalized scores, averages, 95% intervals and ranks, as pure functions over the index.

``normalized = max(0, raw - baseline) / (1 - baseline) * 100``; a benchmark with subtasks is the mean
of its normalized subtasks; the average is the (weighted) mean over the selected benchmarks. Standard
errors from lm-eval propagate through both means (independent errors assumed), and the 95% interval is
``score +/- 1.96 * se``. The statistical rank is 1 + the number of models whose interval lies wholly
above (for lower-is-better: below) this model's, so models that cannot be told apart share a rank.
Nothing here draws or reads widgets; the heavy lifting runs as SQL in lib/index/sql/leaderboard_*.sql.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from lib.core.config import Benchmark, Component, Definition, split_metric
from lib.core.records import default_higher_is_better
from lib.index import Index, sql

Z95 = 1.959963984540054
_AD_HOC_RE = re.compile(r"^(?P<task>[^:\s]+):(?P<metric>[^:\s]+)$")


class RankingError(ValueError):
    """A selection that cannot be ranked (unknown benchmark, bad weights)."""


def normalize(raw: float, baseline: float) -> float:
    """One raw score (a fraction) normalized against a random baseline, on a 0-100 scale."""
    if not 0 <= baseline < 1:
        raise ValueError(f"baseline must be in [0, 1), got {baseline}")
    return max(0.0, raw - baseline) / (1.0 - baseline) * 100.0


def normalize_subtasks(raws: Sequence[float], baselines: Sequence[float]) -> float:
    """A benchmark made of subtasks: the mean of the normalized subtasks."""
    if len(raws) != len(baselines) or not raws:
        raise ValueError("need one baseline per subtask score")
    return sum(normalize(r, b) for r, b in zip(raws, baselines, strict=True)) / len(raws)


def mean_stderr(stderrs: Sequence[float], weights: Sequence[float] | None = None) -> float:
    """Standard error of a (weighted) mean of independent estimates."""
    w = list(weights) if weights is not None else [1.0] * len(stderrs)
    return math.sqrt(sum((wi * s) ** 2 for wi, s in zip(w, stderrs, strict=True))) / sum(w)


def split_benchmark_list(text: str, known_ids: Sequence[str] = ()) -> list[str]:
    """A comma-separated selection as items, keeping lm-eval's filtered metric whole.

    ``gsm8k:exact_match,strict-match,gpqa`` is ``["gsm8k:exact_match,strict-match", "gpqa"]``: a part
    without ``:`` right after a ``task:metric`` part that has no filter yet is that metric's filter,
    unless it is one of ``known_ids`` (the definition's benchmark ids).
    """
    items: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        previous = items[-1] if items else ""
        if (
            ":" not in part
            and part not in known_ids
            and ":" in previous
            and "," not in previous.partition(":")[2]
        ):
            items[-1] = f"{previous},{part}"
        else:
            items.append(part)
    return items


def resolve_benchmarks(definition: Definition, spec: Sequence[str] | None = None) -> tuple[Benchmark, ...]:
    """The benchmarks to rank: the definition's ids, or ``task:metric`` for tasks it does not name.

    An ad-hoc ``task:metric`` is normalized with the baseline of the definition's component for that
    task and metric when there is one, else as raw x 100; its direction comes from the metric name.
    """
    if not spec:
        return definition.benchmarks
    chosen: list[Benchmark] = []
    for item in spec:
        item = item.strip()
        if not item:
            continue
        if item in {b.id for b in definition.benchmarks}:
            chosen.append(definition.benchmark(item))
            continue
        match = _AD_HOC_RE.match(item)
        if not match:
            known = ", ".join(b.id for b in definition.benchmarks)
            raise RankingError(f"unknown benchmark {item!r}: use one of {known}, or task:metric")
        chosen.append(_ad_hoc_benchmark(definition, match["task"], match["metric"]))
    ids = [b.id for b in chosen]
    if len(set(ids)) != len(ids):
        raise RankingError(f"a benchmark is selected twice: {ids}")
    if not chosen:
        raise RankingError("no benchmark selected")
    return tuple(chosen)


def _ad_hoc_benchmark(definition: Definition, task: str, metric_text: str) -> Benchmark:
    metric, filt = split_metric(metric_text)
    baseline = 0.0
    for bench in definition.benchmarks:
        for comp in bench.components:
            if comp.task == task and comp.metric == metric:
                baseline = comp.baseline
    hib = default_higher_is_better(metric)
    bench_id = re.sub(r"[^a-z0-9_]+", "_", f"{task}__{metric_text}".lower()).strip("_")[:60] or "custom"
    component = Component(task, metric, filt, baseline, None, hib)
    return Benchmark(
        id=bench_id,
        name=f"{task}:{metric_text}",
        task=task,
        metric=metric,
        components=(component,),
        higher_is_better=hib,
        ad_hoc=True,
    )


@dataclass(frozen=True)
class ScoreMatrix:
    """Every leaderboard row against every benchmark of a selection, before weights and ranks.

    ``rows`` holds one row of metadata per entry; each array is ``(len(rows), len(bench_ids))``.
    Built once per index generation and benchmark set (``Index.memo``), so re-weighting, re-ranking
    and filtering never go back to SQL.
    """

    rows: pd.DataFrame
    bench_ids: tuple[str, ...]
    raw: np.ndarray
    norm: np.ndarray
    se: np.ndarray
    raw_se: np.ndarray
    shots: np.ndarray
    complete: np.ndarray


def score_matrix(index: Index, benchmarks: Sequence[Benchmark], include_partial: bool = False) -> ScoreMatrix:
    """The matrix for ``benchmarks``, remembered on the index until its data changes, and kept beside
    the persisted index (``Index.persisted``), so a new process on an unchanged store skips the SQL."""
    selection = (tuple(benchmarks), bool(include_partial))
    name = f"score_matrix {_code_version()} {selection!r}"
    return index.memo(
        ("score_matrix", *selection),
        lambda: _matrix_from_table(
            index.persisted(name, lambda: _matrix_table(index, *selection)), selection[0]
        ),
    )


_MATRIX_FIELDS = ("raw", "norm", "se", "raw_se", "shots", "complete")
_MATRIX_PREFIX = "matrix:"  # no metadata column (an SQL name) has a colon


@functools.cache
def _code_version() -> str:
    """A hash of what computes the matrix (this module and its SQL), part of its persisted name."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for name in ("leaderboard_benchmarks", "leaderboard_rows", "leaderboard_cells", "leaderboard_meta"):
        digest.update(sql(name).encode())
    return digest.hexdigest()[:16]


def _matrix_table(index: Index, benchmarks: tuple[Benchmark, ...], include_partial: bool) -> pa.Table:
    """The matrix as one Arrow table: the rows' metadata columns, then one column per field and benchmark."""
    with index._lock:
        cursor = index.con.cursor()
        try:
            cursor.register("components", _components_frame(benchmarks))
            cursor.execute(sql("leaderboard_benchmarks"), {"include_partial": include_partial})
            cursor.execute(sql("leaderboard_rows"))
            cells = cursor.sql(sql("leaderboard_cells")).fetchnumpy()
            rows = cursor.sql(sql("leaderboard_meta")).to_arrow_table()
        finally:
            cursor.close()
    # rows arrive in tie-break order (oldest first, then row key); place each cell on its row
    n, k = rows.num_rows, len(benchmarks)
    position = np.empty(n, dtype=np.int64)
    position[rows.column("row_idx").to_numpy()] = np.arange(n)
    rows = rows.drop_columns(["row_idx"])
    # each cell's place in a (benchmark, row) array, once for the six fields: a flat index writes ~4x
    # faster than a (row, benchmark) pair, and each benchmark's column is then contiguous for Arrow
    at = (
        np.asarray(cells["bench_no"], dtype=np.int64) * n
        + position[np.asarray(cells["row_idx"], dtype=np.int64)]
    )

    def wide(column: str, fill: float | bool = np.nan, dtype: type = float) -> np.ndarray:
        out: np.ndarray = np.full((k, n), fill, dtype=dtype)
        values: typing.Any = cells[column]
        if np.ma.isMaskedArray(values):
            # cast first: an integer column (n-shot) with a missing value cannot hold NaN
            values = np.ma.filled(values.astype(dtype), fill)
        out.reshape(-1)[at] = np.asarray(values, dtype=dtype)
        return out

    arrays = {
        "raw": wide("raw"),
        "norm": wide("norm"),
        "se": wide("norm_se"),
        "raw_se": wide("raw_se"),
        "shots": wide("n_shot"),
        "complete": wide("complete", False, bool),
    }
    columns = {name: rows.column(name) for name in rows.column_names}
    for field in _MATRIX_FIELDS:
        for j in range(k):
            columns[f"{_MATRIX_PREFIX}{field}:{j}"] = pa.array(arrays[field][j])
    return pa.table(columns)


def _matrix_from_table(table: pa.Table, benchmarks: tuple[Benchmark, ...]) -> ScoreMatrix:
    k = len(benchmarks)
    names = [c for c in table.column_names if not c.startswith(_MATRIX_PREFIX)]

    def matrix(field: str, dtype: type) -> np.ndarray:
        # column-major: each column below is one contiguous write, and _base_frame's columns are views
        out = np.empty((table.num_rows, k), dtype=dtype, order="F")
        for j in range(k):
            out[:, j] = table.column(f"{_MATRIX_PREFIX}{field}:{j}").to_numpy()
        return out

    return ScoreMatrix(
        rows=table.select(names).to_pandas(),
        bench_ids=tuple(b.id for b in benchmarks),
        raw=matrix("raw", float),
        norm=matrix("norm", float),
        se=matrix("se", float),
        raw_se=matrix("raw_se", float),
        shots=matrix("shots", float),
        complete=matrix("complete", bool),
    )


def leaderboard_frame(
    index: Index,
    benchmarks: Sequence[Benchmark],
    weights: Mapping[str, float] | None = None,
    include_partial: bool = False,
) -> pd.DataFrame:
    """One row per leaderboard entry with raw, normalized and se per benchmark, and the average.

    Columns per benchmark id ``b``: ``b_raw`` (lm-eval's value), ``b_norm`` (0-100, or the raw value
    for a lower-is-better benchmark), ``b_se`` (se of b_norm), ``b_raw_se``, ``b_complete`` (every
    subtask present), ``b_shots``. ``average`` is over the selected higher-is-better benchmarks with
    ``weights`` (default 1 each); it is NaN unless each of them is complete. Rows without any score
    for the selection are left out. Rows come oldest first (the ranking's tie-break order).
    """
    weight_frame = _weights_frame(benchmarks, weights)
    matrix = score_matrix(index, benchmarks, include_partial)
    key = ("leaderboard_base", tuple(benchmarks), bool(include_partial))
    base, kept = index.memo(key, lambda: _base_frame(matrix, benchmarks))
    return base.assign(
        **{name: values[kept] for name, values in _averages(matrix, benchmarks, weight_frame).items()}
    )


def _base_frame(matrix: ScoreMatrix, benchmarks: Sequence[Benchmark]) -> tuple[pd.DataFrame, np.ndarray]:
    """Metadata and per-benchmark columns of the rows that have a score, and which rows those are.

    Each field's matrix becomes one block of the frame as it is (column-major: its transpose is the
    block), not one column per benchmark that pandas then stacks into a new block: at 1,000,000 rows x
    20 benchmarks that stacking copied 120 columns, 2.3 s of a page's first run. The matrices are made
    read-only first, so nothing can write into the remembered matrix through the frame."""
    kept = ~np.isnan(matrix.raw).all(axis=1) if matrix.raw.size else np.zeros(len(matrix.rows), bool)
    every = bool(kept.all())  # the usual case: no row copied, the matrices are column-major already
    rows = matrix.rows if every else matrix.rows[kept].reset_index(drop=True)
    blocks = []
    for name, values in _fields(matrix).items():
        block = np.asfortranarray(values if every else values[kept])  # one pass per field, not per column
        block.flags.writeable = False
        columns = [f"{bench.id}_{name}" for bench in benchmarks]
        blocks.append(pd.DataFrame(block, index=rows.index, columns=columns, copy=False))
    order = [f"{bench.id}_{name}" for bench in benchmarks for name in _FIELD_NAMES]
    return pd.concat([rows, *blocks], axis=1)[[*rows.columns, *order]], kept


_FIELD_NAMES = ("raw", "norm", "se", "raw_se", "complete", "shots")


def _fields(matrix: ScoreMatrix) -> dict[str, np.ndarray]:
    return {name: getattr(matrix, name) for name in _FIELD_NAMES}


def _averages(
    matrix: ScoreMatrix, benchmarks: Sequence[Benchmark], weight_frame: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Weighted mean and its standard error over the averaged benchmarks, NaN unless all are complete."""
    n = len(matrix.rows)
    if weight_frame.empty:
        nan = np.full(n, np.nan)
        return {
            "n_complete": np.zeros(n, np.int64),
            "average": nan,
            "average_se": nan,
            "average_raw": nan,
            "average_raw_se": nan,
        }
    position = {b.id: j for j, b in enumerate(benchmarks)}
    cols = np.array([position[b] for b in weight_frame["benchmark"]])
    w = weight_frame["weight"].to_numpy(dtype=float) / weight_frame["weight"].sum()
    complete = matrix.complete[:, cols]
    all_complete = complete.all(axis=1)
    with np.errstate(invalid="ignore"):  # incomplete rows hold NaN; they are masked below
        average = matrix.norm[:, cols] @ w
        average_raw = matrix.raw[:, cols] @ w * 100.0
        average_se = np.sqrt(matrix.se[:, cols] ** 2 @ (w**2))
        average_raw_se = np.sqrt(matrix.raw_se[:, cols] ** 2 @ (w**2)) * 100.0
    return {
        "n_complete": complete.sum(axis=1),
        "average": np.where(all_complete, average, np.nan),
        "average_se": np.where(all_complete, average_se, np.nan),
        "average_raw": np.where(all_complete, average_raw, np.nan),
        "average_raw_se": np.where(all_complete, average_raw_se, np.nan),
    }


def _components_frame(benchmarks: Sequence[Benchmark]) -> pd.DataFrame:
    rows = [
        {
            "bench_no": j,
            "task": c.task,
            "metric": c.metric,
            "filter": c.filter,
            "baseline": c.baseline,
            "num_fewshot": c.num_fewshot,
            "higher_is_better": c.higher_is_better,
            "n_components": len(b.components),
            "bench_key": f"benchmark:{b.id}",  # benchmark-level scores of table sources
        }
        for j, b in enumerate(benchmarks)
        for c in b.components
    ]
    frame = pd.DataFrame(rows)
    frame.insert(0, "comp_no", np.arange(len(frame)))
    return frame.astype({"num_fewshot": "Int64", "filter": "object"})


def _weights_frame(benchmarks: Sequence[Benchmark], weights: Mapping[str, float] | None) -> pd.DataFrame:
    rows = []
    for bench in benchmarks:
        if not bench.higher_is_better:
            continue  # an average across directions means nothing; lower-is-better ranks alone
        weight = 1.0 if weights is None else float(weights.get(bench.id, 0.0))
        if weight < 0 or not math.isfinite(weight):
            raise RankingError(f"weight of {bench.id} must be a non-negative number, got {weight}")
        if weight > 0:
            rows.append({"benchmark": bench.id, "weight": weight})
    if weights is not None and not rows:
        raise RankingError("every weight is zero: give at least one benchmark a positive weight")
    return pd.DataFrame(rows, columns=["benchmark", "weight"])


@dataclass(frozen=True)
class RankKey:
    """What a table is ranked by: a score column, its se column and its direction."""

    column: str
    se_column: str
    higher_is_better: bool
    label: str


def rank_key(benchmarks: Sequence[Benchmark], by: str = "average", raw: bool = False) -> RankKey:
    """The key for ``by`` ('average', a benchmark id or a ``task:metric`` name); raw ranks on raw values."""
    if by == "average":
        if raw:  # the raw average's own error (in points), never the normalized one
            return RankKey("average_raw", "average_raw_se", True, "Average")
        return RankKey("average", "average_se", True, "Average")
    for bench in benchmarks:
        if by in (bench.id, bench.name):
            if raw:
                return RankKey(f"{bench.id}_raw", f"{bench.id}_raw_se", bench.higher_is_better, bench.name)
            return RankKey(f"{bench.id}_norm", f"{bench.id}_se", bench.higher_is_better, bench.name)
    raise RankingError(f"cannot rank by {by!r}: it is not 'average' or a selected benchmark")


def stat_ranks(scores: np.ndarray, ses: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
    """1 + the number of entries whose 95% interval lies wholly on the better side of this one's.

    A missing se counts as an interval of zero width; a missing score gets no rank (NaN).
    """
    scores = np.asarray(scores, dtype=float)
    ses = np.nan_to_num(np.asarray(ses, dtype=float), nan=0.0)
    lo = scores - Z95 * ses
    hi = scores + Z95 * ses
    ok = ~np.isnan(scores)
    result = np.full(scores.shape, np.nan)
    if not ok.any():
        return result
    if higher_is_better:
        lo_sorted = np.sort(lo[ok])
        above = lo_sorted.size - _positions_in(lo_sorted, hi[ok], side="right")
        result[ok] = 1 + above
    else:
        hi_sorted = np.sort(hi[ok])
        below = _positions_in(hi_sorted, lo[ok], side="left")
        result[ok] = 1 + below
    return result


def _positions_in(
    ordered: np.ndarray, needles: np.ndarray, side: typing.Literal["left", "right"]
) -> np.ndarray:
    """``np.searchsorted(ordered, needles, side)``, with the needles looked up in sorted order: the same
    positions, 3-5x faster at 100,000 (each search starts where the last ended instead of a cold bisection
    of the whole array)."""
    order = np.argsort(needles)
    positions = np.empty(len(needles), dtype=np.intp)
    positions[order] = np.searchsorted(ordered, needles[order], side=side)
    return positions


def rank_frame(frame: pd.DataFrame, key: RankKey) -> pd.DataFrame:
    """Sort by the key (entries without a score last) and add ``rank``, ``stat_rank`` and the interval.

    ``rank`` is the plain competition rank (ties share the better place); among equal scores the
    frame's own order stands (``leaderboard_frame`` gives oldest first).
    """
    se = frame[key.se_column] if key.se_column in frame.columns else None
    order, columns = rank_positions(frame[key.column], se, key.higher_is_better)
    return frame.take(order).reset_index(drop=True).assign(**columns)


def rank_positions(
    scores: pd.Series | np.ndarray, ses: pd.Series | np.ndarray | None, higher_is_better: bool
) -> tuple[np.ndarray, dict[str, typing.Any]]:
    """The order ``rank_frame`` puts rows in (positions, best first) and its added columns in that order.

    Only the score and its se are read, so a caller can rank a view without copying its other columns
    (``lib.analysis.leaderboard.LeaderboardTable`` takes the rows it shows, not all of them).
    """
    values = _floats(scores)
    se = np.full(len(values), np.nan) if ses is None else _floats(ses)
    key = -values if higher_is_better else values
    order = np.argsort(key, kind="stable")  # best first, ties in the frame's order, missing scores last
    return order, {
        "rank": pd.array(_competition_ranks(key[order]), dtype="Int64"),
        "stat_rank": pd.array(stat_ranks(values, se, higher_is_better)[order], dtype="Int64"),
        "score_lo": (values - Z95 * se)[order],
        "score_hi": (values + Z95 * se)[order],
    }


def _competition_ranks(ordered: np.ndarray) -> np.ndarray:
    """Ranks of sorted keys (missing ones last), ties sharing the better place: 1, 2, 2, 4, then NaN."""
    ranks = np.full(len(ordered), np.nan)
    scored = int(np.count_nonzero(~np.isnan(ordered)))
    if scored:
        starts = np.empty(scored, dtype=bool)  # where a run of equal keys begins
        starts[0] = True
        np.not_equal(ordered[1:scored], ordered[: scored - 1], out=starts[1:])
        ranks[:scored] = np.maximum.accumulate(np.where(starts, np.arange(scored), 0)) + 1
    return ranks


def _floats(values: pd.Series | np.ndarray) -> np.ndarray:
    return values.to_numpy(dtype=float) if isinstance(values, pd.Series) else np.asarray(values, dtype=float)
