"""Comparing two to four leaderboard rows: per-benchmark deltas with significance, and a settings check.

A delta is the difference of normalized scores (a model minus the first, the reference). Its standard
error is, by default, that of two independent estimates, ``sqrt(se_a^2 + se_b^2)`` from lm-eval's
stderrs; when both sides have per-sample files (``--log_samples``) for every component of a benchmark,
the difference is paired over the shared documents instead: ``sd(a_i - b_i) / sqrt(n)`` per subtask,
scaled as the normalization scales it and combined like the benchmark's mean. A delta is significant
when its 95% interval ``delta +/- 1.96 se`` excludes zero. The settings check ("apples to apples") lists
n-shot, chat template, lm-eval version, ``limit`` and precision side by side and flags differences.
Nothing here draws or reads widgets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lib.analysis.ranking import Z95
from lib.analysis.samples import find_samples, per_doc_values, read_samples
from lib.core.config import Benchmark
from lib.stores.base import FileStore

MAX_MODELS = 4
KEY_SEP = "|"


class CompareError(ValueError):
    """A comparison that cannot be made (too few or too many rows, unknown keys)."""


@dataclass(frozen=True)
class Paired:
    """The paired standard error of one benchmark's delta and how many documents it rests on."""

    se: float
    n_docs: int


def parse_keys(values: Sequence[str]) -> list[tuple[str, ...]]:
    """URL values as key tuples: a full row key, or ``model|revision|precision`` (a prefix of one)."""
    keys = []
    for value in values:
        parts = tuple(str(value).split(KEY_SEP))
        if parts and parts[0]:
            keys.append(parts)
    return keys


def triple_key(row: Mapping) -> str:
    """The short URL key of a row: ``model|revision-or-sha|precision``."""
    revision = str(row.get("sha") or row.get("revision") or "")
    return KEY_SEP.join((str(row["model"]), revision, str(row.get("precision") or "")))


def select_rows(frame: pd.DataFrame, values: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """The rows the URL values name, in their order, and the values that matched no row.

    A triple matches the row whose model, revision (or sha) and precision agree, full runs first.
    """
    picked, missing = [], []
    for value, key in zip(values, parse_keys(values), strict=False):
        hit = frame[frame["row_key"] == value]
        if hit.empty:
            hit = _match_triple(frame, key)
        if hit.empty:
            missing.append(value)
        elif hit.index[0] not in picked:
            picked.append(hit.index[0])
    return frame.loc[picked].reset_index(drop=True), missing


def _match_triple(frame: pd.DataFrame, key: tuple[str, ...]) -> pd.DataFrame:
    mask = frame["model"] == key[0]
    if len(key) > 1 and key[1]:
        mask &= (frame["revision"] == key[1]) | (frame["sha"] == key[1])
    if len(key) > 2 and key[2]:
        mask &= frame["precision"] == key[2]
    return frame[mask].sort_values("limit_n", na_position="first", kind="stable")


def check_count(rows: pd.DataFrame) -> None:
    """Raise CompareError unless there are 2 to 4 rows."""
    if not 2 <= len(rows) <= MAX_MODELS:
        raise CompareError(f"pick 2 to {MAX_MODELS} models to compare (got {len(rows)})")


def significance(delta: float, se: float) -> str:
    """'significant', 'not significant', or 'unknown' (no standard error) at the 95% level."""
    if delta is None or se is None or math.isnan(delta) or math.isnan(se):
        return "unknown"
    return "significant" if abs(delta) > Z95 * se else "not significant"


def delta_table(
    rows: pd.DataFrame,
    benchmarks: Sequence[Benchmark],
    paired: Mapping[tuple[int, str], Paired] | None = None,
) -> pd.DataFrame:
    """Each row after the first against the first, per benchmark: delta, its 95% interval, significance.

    ``paired`` maps (row position, benchmark id) to a paired standard error that replaces the
    independent one for that cell.
    """
    reference = rows.iloc[0]
    lines = []
    for pos in range(1, len(rows)):
        other = rows.iloc[pos]
        for bench in benchmarks:
            a, b = other[f"{bench.id}_norm"], reference[f"{bench.id}_norm"]
            delta = float(a - b) if pd.notna(a) and pd.notna(b) else math.nan
            se, method = _independent_se(other, reference, bench.id), "independent"
            hit = (paired or {}).get((pos, bench.id))
            if hit is not None:
                se, method = hit.se, f"paired over {hit.n_docs:,} samples"
            lines.append(_delta_line(other, reference, bench, delta, se, method))
    return pd.DataFrame(lines)


def _independent_se(a: pd.Series, b: pd.Series, bench_id: str) -> float:
    se_a, se_b = a[f"{bench_id}_se"], b[f"{bench_id}_se"]
    return float(math.hypot(se_a, se_b)) if pd.notna(se_a) and pd.notna(se_b) else math.nan


def _delta_line(other, reference, bench: Benchmark, delta: float, se: float, method: str) -> dict:
    better = "higher" if bench.higher_is_better else "lower"
    verdict = significance(delta, se)
    return {
        "Model": str(other["model"]),
        "Versus": str(reference["model"]),
        "Benchmark": bench.name,
        "Delta": delta,
        "95% low": delta - Z95 * se if not math.isnan(se) else math.nan,
        "95% high": delta + Z95 * se if not math.isnan(se) else math.nan,
        "Significant": verdict,
        "Method": method,
        "Better is": better,
    }


def benchmark_samples(store: FileStore, eval_ids: Sequence[str], tasks: Sequence[str]) -> pd.DataFrame:
    """Per-sample rows of the given tasks from the samples files beside a row's results files.

    When several files of the row scored a task, the first in ``eval_ids`` order wins.
    """
    frames: list[pd.DataFrame] = []
    seen: set[str] = set()
    for eval_id in eval_ids:
        files = [f for f in find_samples(store, eval_id) if f.task in tasks and f.task not in seen]
        if files:
            seen.update(f.task for f in files)
            frames.append(read_samples(store, files))
    return pd.concat(frames, ignore_index=True) if frames else read_samples(store, [])


def paired_se(a: pd.DataFrame, b: pd.DataFrame, bench: Benchmark) -> Paired | None:
    """The paired standard error of the normalized delta of ``bench``; None unless every component
    has per-sample values on both sides for at least two shared documents."""
    parts, n_docs = [], 0
    for comp in bench.components:
        left = per_doc_values(a, comp.task, comp.metric, comp.filter)
        right = per_doc_values(b, comp.task, comp.metric, comp.filter)
        diff = (left - right).dropna()
        if len(diff) < 2:
            return None
        scale = 100.0 / (1.0 - comp.baseline) if comp.higher_is_better else 1.0
        parts.append(float(np.std(diff.to_numpy(), ddof=1)) / math.sqrt(len(diff)) * scale)
        n_docs += len(diff)
    if not parts:
        return None
    return Paired(math.sqrt(sum(p * p for p in parts)) / len(parts), n_docs)


def paired_errors(
    store: FileStore, rows: pd.DataFrame, benchmarks: Sequence[Benchmark]
) -> dict[tuple[int, str], Paired]:
    """Paired standard errors for every (row position, benchmark) where both sides have samples."""
    tasks = sorted({c.task for b in benchmarks for c in b.components})
    samples = [benchmark_samples(store, _newest_first(r), tasks) for _, r in rows.iterrows()]
    if samples[0].empty:
        return {}
    found = {}
    for pos in range(1, len(rows)):
        if samples[pos].empty:
            continue
        for bench in benchmarks:
            hit = paired_se(samples[pos], samples[0], bench)
            if hit is not None:
                found[(pos, bench.id)] = hit
    return found


def _newest_first(row: pd.Series) -> list[str]:
    ids = [str(i) for i in (row["eval_ids"] if row["eval_ids"] is not None else [])]
    newest = str(row["eval_id"])
    return [newest, *[i for i in ids if i != newest]]


def settings_check(
    rows: pd.DataFrame, settings: pd.DataFrame, benchmarks: Sequence[Benchmark]
) -> pd.DataFrame:
    """'Apples to apples': one line per setting with each row's value and whether they all agree.

    ``settings`` are ``lib/index/sql/compare_settings.sql`` rows of the rows' evaluations. Settings: n-shot of
    each benchmark, chat template, lm-eval version, limit, precision.
    """
    names = [column_name(rows, i) for i in range(len(rows))]
    lines = []
    for bench in benchmarks:
        tasks = {c.task for c in bench.components}
        values = [_shots(settings, r, tasks) for _, r in rows.iterrows()]
        lines.append(_setting_line(f"n-shot: {bench.name}", names, values))
    per_row = {
        "Chat template": lambda r: "yes" if bool(r["chat_template"]) else "no",
        "lm-eval version": lambda r: _versions(settings, r),
        "Limit": lambda r: "full run" if pd.isna(r["limit_n"]) else f"{r['limit_n']:g} (partial)",
        "Precision": lambda r: str(r["precision"] or "unknown"),
    }
    for label, get in per_row.items():
        lines.append(_setting_line(label, names, [get(r) for _, r in rows.iterrows()]))
    return pd.DataFrame(lines)


def column_name(rows: pd.DataFrame, pos: int) -> str:
    """A unique column label for row ``pos``: the model, with its precision when models repeat."""
    model = str(rows.iloc[pos]["model"])
    if (rows["model"] == model).sum() > 1:
        return f"{model} ({rows.iloc[pos]['precision']}, {str(rows.iloc[pos]['revision'])[:12]})"
    return model


def _setting_line(label: str, names: list[str], values: list[str]) -> dict:
    line = {"Setting": label, **dict(zip(names, values, strict=True))}
    known = {v for v in values if v != "unknown"}
    line["Same"] = (
        "✅ same"
        if len(known) <= 1 and "unknown" not in values
        else ("⚠️ differs" if len(known) > 1 else "❔ unknown")
    )
    return line


def _row_settings(settings: pd.DataFrame, row: pd.Series) -> pd.DataFrame:
    ids = set(_newest_first(row))
    return settings[settings["eval_id"].isin(ids)]


def _shots(settings: pd.DataFrame, row: pd.Series, tasks: set[str]) -> str:
    mine = _row_settings(settings, row)
    shots = sorted({int(s) for s in mine.loc[mine["task"].isin(tasks), "n_shot"].dropna()})
    return ", ".join(str(s) for s in shots) if shots else "unknown"


def _versions(settings: pd.DataFrame, row: pd.Series) -> str:
    mine = _row_settings(settings, row)
    versions = sorted({str(v) for v in mine["lm_eval_version"].dropna() if str(v)})
    return ", ".join(versions) if versions else "unknown"


def compare_settings(index, rows: pd.DataFrame, benchmarks: Sequence[Benchmark]) -> pd.DataFrame:
    """``lib/index/sql/compare_settings.sql`` for the rows' evaluations and the benchmarks' tasks."""
    eval_ids = sorted({i for _, r in rows.iterrows() for i in _newest_first(r)})
    tasks = sorted({c.task for b in benchmarks for c in b.components})
    return index.query("compare_settings", {"eval_ids": eval_ids, "tasks": tasks})
