"""The model page's tables: one model's leaderboard rows, per-benchmark and per-subtask scores with
95% intervals and ranks, and its requests' status history.

Pure functions over ``lib.ranking.leaderboard_frame`` (with partial runs included) and the index's
score and request rows; nothing here draws or reads widgets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lib.analysis.ranking import Z95, stat_ranks
from lib.core.config import Benchmark
from lib.core.request import HistoryEntry, Request

ROW_COLUMNS = ("row_key", "revision", "sha", "precision", "chat_template", "limit_n", "average", "eval_ids")


def model_rows(frame: pd.DataFrame, model: str) -> pd.DataFrame:
    """The leaderboard rows of ``model`` (one per revision, precision, chat template, limit), newest first."""
    rows = frame[frame["model"] == model]
    return rows.sort_values(["date", "row_key"], ascending=[False, True], na_position="last")


def pick_row(rows: pd.DataFrame, revision: str = "", precision: str = "") -> str | None:
    """The row key a deep link names: matching revision (or sha) and precision, full runs first."""
    if rows.empty:
        return None
    mask = pd.Series(True, index=rows.index)
    if revision:
        mask &= (rows["revision"] == revision) | (rows["sha"] == revision)
    if precision:
        mask &= rows["precision"] == precision
    chosen = rows[mask] if mask.any() else rows
    chosen = chosen.sort_values("limit_n", na_position="first", kind="stable")
    return str(chosen["row_key"].iloc[0])


def row_label(row: pd.Series) -> str:
    """A short label of a leaderboard row: revision, precision, chat template, limit, setting."""
    revision = str(row["sha"] or row["revision"])
    revision = revision[:12] if len(revision) == 40 else revision
    parts = [revision, str(row["precision"] or "precision ?")]
    if bool(row["chat_template"]):
        parts.append("chat template")
    if pd.notna(row["limit_n"]):
        parts.append(f"limit {row['limit_n']:g}")
    for key in ("setting", "setting_label"):  # what else sets the row apart (docs/formats.md)
        value = row.get(key)
        if isinstance(value, str) and value:
            parts.append(value)
    return " · ".join(parts)


def benchmark_ranks(frame: pd.DataFrame, benchmarks: Sequence[Benchmark]) -> pd.DataFrame:
    """Rank and statistical rank of every full-run row on each benchmark (normalized scores).

    Partial runs (``limit`` set) get no rank. Columns ``<id>_rank``, ``<id>_stat_rank``, ``<id>_of``
    (how many rows were ranked), indexed by row key.
    """
    full = frame[frame["limit_n"].isna()]
    out = pd.DataFrame(index=frame["row_key"])
    for bench in benchmarks:
        values = full[f"{bench.id}_norm"].astype(float)
        ses = full[f"{bench.id}_se"].astype(float)
        ranks = values.rank(method="min", ascending=not bench.higher_is_better, na_option="keep")
        stat = stat_ranks(values.to_numpy(), ses.to_numpy(), bench.higher_is_better)
        out[f"{bench.id}_rank"] = pd.Series(ranks.to_numpy(), index=full["row_key"])
        out[f"{bench.id}_stat_rank"] = pd.Series(stat, index=full["row_key"])
        out[f"{bench.id}_of"] = int(values.notna().sum())
    return out


def benchmark_table(row: pd.Series, ranks: pd.DataFrame, benchmarks: Sequence[Benchmark]) -> pd.DataFrame:
    """One line per benchmark of a leaderboard row: raw and normalized scores with 95% intervals, ranks."""
    key = row["row_key"]
    lines = []
    for bench in benchmarks:
        raw, norm = row[f"{bench.id}_raw"], row[f"{bench.id}_norm"]
        raw_se, se = row[f"{bench.id}_raw_se"], row[f"{bench.id}_se"]
        scale = 100.0 if bench.higher_is_better else 1.0
        rank = ranks.at[key, f"{bench.id}_rank"] if key in ranks.index else np.nan
        stat = ranks.at[key, f"{bench.id}_stat_rank"] if key in ranks.index else np.nan
        lines.append(
            {
                "Benchmark": bench.name,
                "Raw": raw * scale if pd.notna(raw) else np.nan,
                "Raw ± 95%": Z95 * raw_se * scale if pd.notna(raw_se) else np.nan,
                "Normalized": norm,
                **_normalized_interval(norm, se, bench.higher_is_better),
                "Rank": rank,
                "Stat. rank": stat,
                "Of": ranks[f"{bench.id}_of"].iloc[0] if len(ranks) else 0,
                "n-shot": row.get(f"{bench.id}_shots"),
                "Complete": _flag(row.get(f"{bench.id}_complete")),
            }
        )
    out = pd.DataFrame(lines)
    for column in ("Rank", "Stat. rank"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("Int64")
    return out


def _normalized_interval(norm: float, se: float, bounded: bool) -> dict[str, float]:
    """The 95% interval of a normalized score; clipped to 0-100 where the score is bounded there.

    A normalized score is max(0, raw - baseline) / (1 - baseline) x 100, so it cannot leave 0-100; a
    symmetric interval around a score near the baseline would otherwise read like "-2.74" (a value the
    score cannot take). Lower-is-better benchmarks stay raw and unclipped.
    """
    if pd.isna(se) or pd.isna(norm):
        return {"Normalized 95% low": np.nan, "Normalized 95% high": np.nan}
    low, high = norm - Z95 * se, norm + Z95 * se
    if bounded:
        low, high = min(max(low, 0.0), 100.0), min(max(high, 0.0), 100.0)
    return {"Normalized 95% low": low, "Normalized 95% high": high}


def _flag(value: object) -> bool:
    """A boolean cell that may be missing (NA counts as False)."""
    return bool(value) if value is not None and not pd.isna(value) else False


def subtask_table(scores: pd.DataFrame, dates: pd.DataFrame, benchmarks: Sequence[Benchmark]) -> pd.DataFrame:
    """One line per component (subtask) of each benchmark, from the newest evaluation that scored it.

    ``scores`` are ``lib/index/sql/model_scores.sql`` rows of one leaderboard row's evaluations; ``dates``
    has ``eval_id`` and ``date``. Normalized = max(0, raw - baseline) / (1 - baseline) x 100 with its
    95% interval; lower-is-better components stay raw.
    """
    data = scores.merge(dates[["eval_id", "date"]], on="eval_id", how="left")
    data = data.sort_values(["date", "eval_id"], ascending=False, na_position="last", kind="stable")
    lines = []
    for bench in benchmarks:
        for comp in bench.components:
            hit = data[(data["task"] == comp.task) & (data["metric"] == comp.metric)]
            if comp.filter is not None:
                hit = hit[hit["filter"] == comp.filter]
            if comp.num_fewshot is not None:
                hit = hit[hit["n_shot"] == comp.num_fewshot]
            hit = hit.sort_values("filter", key=lambda f: f != "none", kind="stable")
            lines.append(_subtask_line(bench, comp, hit.iloc[0] if len(hit) else None))
    return pd.DataFrame(lines)


def _subtask_line(bench: Benchmark, comp, score: pd.Series | None) -> dict:
    line = {"Benchmark": bench.name, "Task": comp.task, "Metric": comp.metric, "Baseline": comp.baseline}
    if score is None:
        return {**line, "Raw": np.nan, "± 95%": np.nan, "Normalized": np.nan, "Norm. ± 95%": np.nan,
                "n-shot": None, "Samples": None}  # fmt: skip
    raw, stderr = float(score["value"]), score["stderr"]
    if comp.higher_is_better:
        norm = max(0.0, raw - comp.baseline) / (1.0 - comp.baseline) * 100.0
        norm_half = Z95 * stderr / (1.0 - comp.baseline) * 100.0 if pd.notna(stderr) else np.nan
        raw_shown, raw_half = raw * 100.0, Z95 * stderr * 100.0 if pd.notna(stderr) else np.nan
    else:
        norm, norm_half = raw, Z95 * stderr if pd.notna(stderr) else np.nan
        raw_shown, raw_half = raw, norm_half
    return {**line, "Raw": raw_shown, "± 95%": raw_half, "Normalized": norm, "Norm. ± 95%": norm_half,
            "n-shot": score["n_shot"], "Samples": score["n_samples"]}  # fmt: skip


def status_history(requests: Sequence[Request], model: str) -> pd.DataFrame:
    """Every status change of the model's requests (from ``status_history``), newest first."""
    rows = []
    for request in requests:
        if request.model != model:
            continue
        for entry in request.status_history or [
            HistoryEntry(status=request.status.value, time=request.submitted_time)
        ]:
            rows.append(
                {
                    "Time": entry.time,
                    "Status": entry.status,
                    "Revision": request.revision,
                    "Precision": request.precision,
                    "Note": entry.error or entry.note or entry.by,
                    "Request file": request.path,
                }
            )
    frame = pd.DataFrame(rows, columns=["Time", "Status", "Revision", "Precision", "Note", "Request file"])
    return frame.sort_values("Time", ascending=False, kind="stable").reset_index(drop=True)


def hub_metadata(row: pd.Series) -> dict[str, str]:
    """License, parameters, architecture, base model and likes as plain text ('unknown' when absent)."""

    def text(value, fmt: str = "{}") -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
            return "unknown"
        return fmt.format(value)

    return {
        "License": text(row.get("license")),
        "Parameters": text(row.get("params"), "{:g} B"),
        "Architecture": text(row.get("architecture")),
        "Base model": text(row.get("base_model")),
        "Likes": text(row.get("likes"), "{:,.0f}"),
        "Type": text(row.get("type") or row.get("model_type")),
        "Weight type": text(row.get("weight_type")),
    }


def flags(row: pd.Series) -> list[str]:
    """Plain-text notes on a row: flagged (with its reason), merged, MoE, deleted from the Hub."""
    notes = []
    reason = str(row.get("flagged") or "")
    if reason:
        notes.append(f"Flagged: {reason}")
    if bool(row.get("merged")):
        notes.append("Merged model")
    if bool(row.get("moe")):
        notes.append("Mixture of experts")
    if not bool(row.get("on_hub", True)):
        notes.append("Deleted from the Hub (or made private)")
    return notes
