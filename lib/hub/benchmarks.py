"""Tables of the Benchmarks page: self-reported Hub results ranked per benchmark task, and ours beside them.

Pure functions from ``HubResult`` records (and our index) to DataFrames. Authors' text (notes, source
names) stays plain text; only http(s) URLs become link columns. This module draws nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from lib.core.config import Benchmark, Definition
from lib.hub.results import HubResult, is_http_url

BADGE_LABELS = {
    "verified": "✔ verified",
    "community": "👥 community",
    "leaderboard": "🏆 leaderboard",
    "source": "🔗 source",
}
BADGE_HELP = {
    "verified": "The entry carries a verifyToken. It cannot be validated offline: 'verify token present'.",
    "community": "The result is only in an open pull request on the model repo, not on its main branch.",
    "leaderboard": "The entry names a Hub benchmark dataset, whose leaderboard lists it.",
    "source": "The entry links to evaluation logs or an external source.",
}


def task_options(results: Sequence[HubResult]) -> pd.DataFrame:
    """One row per (benchmark, task, metric) with how many entries and models report it."""
    if not results:
        return pd.DataFrame(columns=["benchmark", "task_id", "metric", "entries", "models"])
    frame = pd.DataFrame([{"benchmark": r.benchmark, "task_id": r.task_id, "metric": r.metric,
                           "model": r.model} for r in results])  # fmt: skip
    grouped = frame.groupby(["benchmark", "task_id", "metric"], sort=True)
    return grouped.agg(entries=("model", "size"), models=("model", "nunique")).reset_index()


def task_label(benchmark: str, task_id: str, metric: str = "") -> str:
    """How a benchmark task is named in menus: ``cais/hle · default`` (``· metric`` for model-index)."""
    return " · ".join(p for p in (benchmark, task_id, metric) if p)


def ranked_frame(
    results: Sequence[HubResult],
    benchmark: str,
    task_id: str,
    metric: str = "",
    hub_url: str = "https://huggingface.co",
    higher_is_better: bool = True,
) -> pd.DataFrame:
    """Entries of one benchmark task ranked by value; each setup variant (notes) is its own row."""
    rows = [r for r in results if (r.benchmark, r.task_id, r.metric) == (benchmark, task_id, metric)]
    columns = ["Rank", "Model", "Value", "Setup", "Badges", "Source", "Source name", "Date", "Origin",
               "Model page", "Benchmark page", "Pull request"]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(
        {
            "Model": [r.model for r in rows],
            "Value": [r.value for r in rows],
            "Setup": [r.notes for r in rows],
            "Badges": [badge_text(r.badges) for r in rows],
            "Source": [r.source_url if is_http_url(r.source_url) else None for r in rows],
            "Source name": [_source_name(r) for r in rows],
            "Date": [r.date for r in rows],
            "Origin": [f"{r.file} ({'pull request' if r.community else 'main'})" for r in rows],
            "Model page": [f"{hub_url}/{r.model}" for r in rows],
            "Benchmark page": [
                f"{hub_url}/datasets/{r.benchmark}" if "leaderboard" in r.badges else None for r in rows
            ],
            "Pull request": [r.pr_url if is_http_url(r.pr_url) else None for r in rows],
        }
    )
    frame["Rank"] = frame["Value"].rank(ascending=not higher_is_better, method="min").astype(int)
    frame = frame.sort_values(["Rank", "Model", "Setup"], kind="stable").reset_index(drop=True)
    return frame[columns]


def badge_text(badges: Sequence[str]) -> str:
    return " · ".join(BADGE_LABELS[b] for b in badges if b in BADGE_LABELS)


def _source_name(result: HubResult) -> str:
    parts = [result.source_name, result.source_org or result.source_user]
    text = " — ".join(p for p in parts if p)
    if result.source_url and not is_http_url(result.source_url):
        text = f"{text} ({result.source_url})" if text else result.source_url
    return text


def mapped_benchmark(definition: Definition, benchmark: str, task_id: str) -> Benchmark | None:
    """Our benchmark that the definition maps to this Hub benchmark and task (``hub_benchmark``/``hub_task``)."""
    for bench in definition.benchmarks:
        if bench.hub_benchmark == benchmark and (bench.hub_task or "default") == task_id:
            return bench
    return None


def our_scores(index: Any, bench: Benchmark) -> dict[str, float]:
    """Our raw score per model on ``bench`` (the best complete row of each model), as lm-eval reports it."""
    from lib.analysis.ranking import leaderboard_frame

    frame = leaderboard_frame(index, [bench])
    column = f"{bench.id}_raw"
    if frame.empty or column not in frame.columns:
        return {}
    frame = frame[frame[column].notna()]
    best = (
        frame.groupby("model")[column].max()
        if bench.higher_is_better
        else frame.groupby("model")[column].min()
    )
    return {str(model): float(value) for model, value in best.items()}


def comparison_frame(ranked: pd.DataFrame, ours: dict[str, float]) -> pd.DataFrame:
    """Self-reported value beside our own evaluation, on the self-reported scale, with the difference.

    Our raw scores are fractions; when the reported values of this task look like percentages (any above
    1), ours are multiplied by 100 to match. The difference is self-reported minus ours.
    """
    columns = ["Model", "Setup", "Self-reported", "Our evaluation", "Difference", "Badges"]
    if ranked.empty or not ours:
        return pd.DataFrame(columns=columns)
    scale = 100.0 if (ranked["Value"].abs() > 1.0).any() else 1.0
    out = ranked[["Model", "Setup", "Value", "Badges"]].rename(columns={"Value": "Self-reported"})
    out["Our evaluation"] = [ours.get(m, np.nan) * scale if m in ours else np.nan for m in out["Model"]]
    out = out[out["Our evaluation"].notna()].copy()
    out["Difference"] = out["Self-reported"] - out["Our evaluation"]
    return out[columns].reset_index(drop=True)


def problems_frame(problems: Sequence[Any]) -> pd.DataFrame:
    """The ingest report of the Hub results: one row per bad entry (error) or caveat (warning)."""
    return pd.DataFrame(
        [{"level": p.level, "where": p.path, "reason": p.reason} for p in problems],
        columns=["level", "where", "reason"],
    )
