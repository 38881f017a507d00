"""The Benchmarks page's Streamlit side: loading Hub results (cached) and drawing ranked entries with badges.

Which loader: a local Hub mirror when the definition's ``hub.mirror`` (or ``$LEADERBOARD_HUB_MIRROR``)
names one, else the Hub through huggingface_hub with its cache. Authors' text is drawn as plain text or
dataframe cells, never as Markdown; links come only from http(s) URLs, in link columns.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from lib.core.config import Definition
from lib.hub.benchmarks import (
    BADGE_HELP,
    BADGE_LABELS,
    comparison_frame,
    mapped_benchmark,
    our_scores,
    problems_frame,
    ranked_frame,
    task_label,
    task_options,
)
from lib.hub.loader import HubResultsLoader, HubResultsSet, MirrorLoader, models_to_read
from lib.index import Index
from lib.ui.data import REFRESH_TTL_S
from lib.ui.hub import hub_token
from lib.ui.tables import show_table
from lib.ui.text import plain

HUB_URL = "https://huggingface.co"
_LINKS = {
    "Source": st.column_config.LinkColumn(
        "Source", help="Evaluation logs or external source", display_text="source ↗"
    ),
    "Model page": st.column_config.LinkColumn("Model page", display_text="model ↗"),
    "Benchmark page": st.column_config.LinkColumn("Benchmark page", display_text="leaderboard ↗"),
    "Pull request": st.column_config.LinkColumn("Pull request", display_text="PR ↗"),
    "Value": st.column_config.NumberColumn("Value", format="%.4g"),
}


def mirror_folder(definition: Definition) -> Path | None:
    """The local Hub mirror the definition (or ``$LEADERBOARD_HUB_MIRROR``) names, or None."""
    text = os.environ.get("LEADERBOARD_HUB_MIRROR") or definition.hub_mirror
    return definition.relative_path(text) if text else None


@st.cache_data(ttl=REFRESH_TTL_S, show_spinner="Reading self-reported results from the Hub…")
def _load(mirror: str | None, models: tuple[str, ...], _token: str | None) -> HubResultsSet:
    if mirror:
        return MirrorLoader(mirror).load()
    return HubResultsLoader(token=_token).load(models)


def hub_results(definition: Definition, index: Index) -> HubResultsSet:
    """Self-reported results of the requests' models plus ``hub.models`` (cached for the refresh TTL)."""
    mirror = mirror_folder(definition)
    models = tuple(models_to_read(definition, index.requests_list))
    return _load(str(mirror) if mirror else None, models, hub_token())


def benchmarks_page(definition: Definition, index: Index, data: HubResultsSet) -> None:
    """Pick a Hub benchmark task, show its ranked entries, ours beside them, and the ingest report."""
    st.title("Hub benchmarks")
    st.caption(
        "Scores that model authors publish themselves in `.eval_results/*.yaml` files or the model card's "
        "`model-index`. They are self-reported: the badges say what backs each one."
    )
    for note in data.notes:
        (st.warning if data.offline else st.caption)(plain(note))
    options = task_options(data.results)
    if options.empty:
        st.info("No self-reported results found for the models of this leaderboard.")
        _problems(data)
        return
    labels = [task_label(r.benchmark, r.task_id, r.metric) for r in options.itertuples()]
    chosen = _choose(labels)
    row = options.iloc[labels.index(chosen)]
    _benchmark_header(data, row.benchmark, row.task_id)
    _legend()
    ranked = ranked_frame(data.results, row.benchmark, row.task_id, row.metric, HUB_URL)
    st.caption(f"{len(ranked)} entries from {ranked['Model'].nunique()} models; each setup is its own row.")
    show_table(ranked, hide_index=True, width="stretch", column_config=_LINKS, key="hub_ranked")
    _comparison(definition, index, ranked, row.benchmark, row.task_id)
    _problems(data)


def _choose(labels: list[str]) -> str:
    wanted = st.query_params.get("task")
    default = labels.index(wanted) if wanted in labels else 0
    chosen = st.selectbox("Benchmark and task", labels, index=default, key="hub_task")
    st.query_params["task"] = chosen
    return chosen


def _benchmark_header(data: HubResultsSet, benchmark: str, task_id: str) -> None:
    meta = data.benchmarks.get(benchmark) or {}
    st.subheader(plain(meta.get("name") or benchmark))  # from the dataset's card: text, never Markdown
    if meta.get("description"):
        st.text(str(meta["description"]))  # the dataset author's text: never Markdown


def _legend() -> None:
    columns = st.columns(len(BADGE_LABELS))
    for column, (badge, label) in zip(columns, BADGE_LABELS.items(), strict=True):
        column.badge(label, color="gray", help=BADGE_HELP[badge])


def _comparison(
    definition: Definition, index: Index, ranked: pd.DataFrame, benchmark: str, task_id: str
) -> None:
    bench = mapped_benchmark(definition, benchmark, task_id)
    if bench is None:
        return
    st.subheader(f"Self-reported vs. our evaluation ({bench.name})")
    frame = comparison_frame(ranked, our_scores(index, bench))
    if frame.empty:
        st.caption("None of these models has been evaluated here yet.")
        return
    st.caption(
        f"Our value is the raw {bench.metric} of our {bench.name} benchmark (best run per model), on the "
        "self-reported scale; difference = self-reported − ours."
    )
    fmt = {c: st.column_config.NumberColumn(c, format="%.2f") for c in ("Self-reported", "Our evaluation")}
    fmt["Difference"] = st.column_config.NumberColumn("Difference", format="%+.2f")
    show_table(frame, hide_index=True, width="stretch", column_config=fmt, key="hub_compare")


def _problems(data: HubResultsSet) -> None:
    if not data.problems:
        return
    frame = problems_frame(data.problems)
    errors = int((frame["level"] == "error").sum())
    with st.expander(f"⚠️ Ingest report: {errors} entries not loaded, {len(frame) - errors} warning(s)"):
        show_table(frame, hide_index=True, width="stretch")
