"""Widgets of the model page: the URL-backed model and evaluation pickers and every section drawn.

Logic lives in ``lib.views.model`` (score tables, ranks, status history), ``lib.views.provenance`` and
``lib.analysis.samples``; this module only reads widgets and draws. Text from files (model names, licenses,
flag reasons, file provenance) is shown through dataframes or escaped, never as Markdown or HTML.
"""

from __future__ import annotations

import difflib

import pandas as pd
import streamlit as st

from lib.analysis.samples import filter_samples, find_samples, read_samples
from lib.core.config import Definition
from lib.core.records import Status
from lib.index import Index
from lib.ui import state
from lib.ui.leaderboard import cached_frame
from lib.ui.state import Setting
from lib.ui.tables import show_table
from lib.ui.text import plain
from lib.views.model import (
    benchmark_ranks,
    benchmark_table,
    flags,
    hub_metadata,
    model_rows,
    pick_row,
    row_label,
    status_history,
    subtask_table,
)
from lib.views.provenance import (
    evaluation_scores,
    model_evaluations,
    provenance_frame,
    provenance_of,
    read_file_provenance,
    reference_version,
    setting_warnings,
)
from lib.views.queue import progress_of

ROW_KEY = "model_row"
CLIPPED = "Clipped to 0-100, the range a normalized score can take (lower-is-better benchmarks stay raw)"


def settings() -> list[Setting]:
    """The page's URL keys: model, revision (or sha) and precision."""
    return [Setting("model", "str", ""), Setting("revision", "str", ""), Setting("precision", "str", "")]


def full_frame(index: Index, definition: Definition) -> pd.DataFrame:
    """Every leaderboard row on every benchmark, partial runs included (cached with the leaderboard's)."""
    bench_ids = tuple(b.id for b in definition.benchmarks)
    return cached_frame(index, index.generation, str(definition.path), bench_ids, None, True)


def pick(frame: pd.DataFrame, url: list[Setting], arriving: bool) -> pd.Series | None:
    """Draw the model and evaluation pickers; returns the chosen leaderboard row (None: no model)."""
    by_key = {s.key: s for s in url}
    names = sorted(frame["model"].dropna().unique(), key=str.lower)
    model_key = by_key["model"].widget_key
    wanted = st.session_state.get(model_key) or ""
    if wanted and wanted not in names:
        st.error("No evaluation of this model is in the index:")
        st.code(wanted, language=None)
        lowered = {n.lower(): n for n in names}
        close = [
            lowered[n] for n in difflib.get_close_matches(wanted.lower(), list(lowered), n=5, cutoff=0.6)
        ]
        if close:
            st.caption("Models with a similar name: " + plain(", ".join(close)))
        # no unrelated model under the error: the picker waits for a choice
        st.session_state[model_key] = None
    elif st.session_state.get(model_key) not in names:
        st.session_state[model_key] = names[0] if names else None
    left, right = st.columns([3, 2])
    model = left.selectbox("Model", names, key=model_key, placeholder="Choose a model")
    if model is None:
        return None
    rows = model_rows(frame, model)
    keys = list(rows["row_key"])
    if arriving or st.session_state.get(ROW_KEY) not in keys:
        revision = state.value(by_key["revision"]) or ""
        st.session_state[ROW_KEY] = pick_row(rows, revision, state.value(by_key["precision"]) or "")
    labels = {r["row_key"]: row_label(r) for _, r in rows.iterrows()}
    chosen = right.selectbox(
        f"Evaluation ({len(keys)} of this model)", keys, key=ROW_KEY, format_func=lambda k: labels.get(k, k),
        help="Each revision, precision, chat-template and limit setting is its own leaderboard row.",
    )  # fmt: skip
    row = rows[rows["row_key"] == chosen].iloc[0]
    st.session_state[by_key["revision"].widget_key] = str(row["sha"] or row["revision"])
    st.session_state[by_key["precision"].widget_key] = str(row["precision"] or "")
    return row


def overview(row: pd.Series) -> None:
    """Hub metadata, the average and flags with their reasons."""
    meta = hub_metadata(row)
    show_table(pd.DataFrame([meta]), hide_index=True, width="stretch", key="hub_metadata")
    for note in flags(row):
        st.warning(plain(note), icon="🚩")


def scores(row: pd.Series, frame: pd.DataFrame, definition: Definition, index: Index) -> None:
    """Per-benchmark scores with intervals and ranks; per-subtask scores in an expander."""
    st.subheader("Scores")
    ranks = benchmark_ranks(frame, definition.benchmarks)
    table = benchmark_table(row, ranks, definition.benchmarks)
    average = row.get("average")
    if pd.notna(average):
        half = 1.959963984540054 * row["average_se"] if pd.notna(row.get("average_se")) else float("nan")
        shown = f"{average:.2f}" + (f" ± {half:.2f}" if half == half else "")
        st.metric("Average (normalized, 95% interval)", shown, border=False)
    show_table(
        table, hide_index=True, width="stretch", key="benchmark_scores",
        column_config={
            "Raw": st.column_config.NumberColumn(format="%.2f", help="lm-eval's score (% for accuracies)"),
            "Raw ± 95%": st.column_config.NumberColumn(format="± %.2f"),
            "Normalized": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.2f"),
            "Normalized 95% low": st.column_config.NumberColumn(format="%.2f", help=CLIPPED),
            "Normalized 95% high": st.column_config.NumberColumn(format="%.2f", help=CLIPPED),
            "Rank": st.column_config.NumberColumn(help="Plain rank among full runs on this benchmark"),
            "Stat. rank": st.column_config.NumberColumn(
                help="1 + the number of rows whose 95% interval lies wholly above this one's"),
        },
    )  # fmt: skip
    if pd.notna(row["limit_n"]):
        st.caption("A partial run is not ranked: its scores are on a subset of each task.")
    eval_ids = [str(i) for i in row["eval_ids"]]
    with st.expander("Subtasks"):
        sub = subtask_table(evaluation_scores(index, eval_ids), _dates(index, row), definition.benchmarks)
        show_table(sub, hide_index=True, width="stretch", key="subtask_scores",
                     column_config={c: st.column_config.NumberColumn(format="%.2f")
                                    for c in ("Raw", "± 95%", "Normalized", "Norm. ± 95%")})  # fmt: skip


def _dates(index: Index, row: pd.Series) -> pd.DataFrame:
    return model_evaluations(index, str(row["model"]))[["eval_id", "date"]]


def provenance(row: pd.Series, index: Index, definition: Definition) -> None:
    """Every evaluation of the model with its provenance; warnings for the chosen row's files."""
    st.subheader("Provenance")
    evaluations = model_evaluations(index, str(row["model"]))
    mine = evaluations[evaluations["eval_id"].isin([str(i) for i in row["eval_ids"]])]
    reference = reference_version(index)
    all_scores = evaluation_scores(index, list(mine["eval_id"]))
    for record in mine.to_dict("records"):
        prov = provenance_of(record)
        for warning in setting_warnings(
            prov, all_scores[all_scores["eval_id"] == prov.eval_id], definition, reference
        ):
            st.warning(plain(warning), icon="⚠️")
    st.caption(
        f"Every evaluation of this model ({len(evaluations)}); the chosen evaluation's files come first."
    )
    ordered = pd.concat([mine, evaluations[~evaluations["eval_id"].isin(mine["eval_id"])]])
    show_table(provenance_frame(ordered), hide_index=True, width="stretch", key="provenance")
    with st.expander("Everything the results file records"):
        newest = str(row["eval_id"])
        details = read_file_provenance(index.results, newest)
        st.code(newest, language=None)
        frame = pd.DataFrame({"Key": list(details), "Value": list(details.values())})
        show_table(frame, hide_index=True, width="stretch", key="file_provenance")


def history(index: Index, model: str) -> bool:
    """The status history of the model's requests, with a running job's progress; returns whether one
    is running (the page then keeps this part live)."""
    st.subheader("Requests")
    frame = status_history(index.requests_list, model)
    if frame.empty:
        st.caption("No request file names this model (its results were added directly).")
        return False
    show_table(frame, hide_index=True, width="stretch", key="status_history")
    running = [r for r in index.requests_list if r.model == model and r.status == Status.RUNNING]
    for request in running:
        progress = progress_of(request)
        text = plain(progress.text) if progress else "no progress reported yet"
        st.progress(
            progress.fraction if progress else 0.0, text=f"Running ({plain(request.precision)}): {text}"
        )
    return bool(running)


def has_running(index: Index, model: str) -> bool:
    """Whether a request of this model is being evaluated now."""
    return any(r.model == model and r.status == Status.RUNNING for r in index.requests_list)


@st.cache_data(max_entries=8, show_spinner=False)
def _samples(_index: Index, generation: int, eval_ids: tuple[str, ...]) -> pd.DataFrame:
    files = [f for eval_id in eval_ids for f in find_samples(_index.results, eval_id)]
    return read_samples(_index.results, files)


def samples_browser(index: Index, row: pd.Series) -> None:
    """Per-sample predictions when samples files lie beside the results, filtered by task and correctness."""
    st.subheader("Samples")
    frame = _samples(index, index.generation, tuple(str(i) for i in row["eval_ids"]))
    if frame.empty:
        st.caption("No samples files (lm-eval --log_samples) lie beside this evaluation's results.")
        return
    cols = st.columns([3, 2, 2, 3])
    tasks = cols[0].multiselect("Tasks", sorted(frame["task"].unique()), key="samples_tasks", wrap=True)
    metrics = sorted(frame.loc[frame["task"].isin(tasks) if tasks else slice(None), "metric"].unique())
    if st.session_state.get("samples_metric") not in metrics:
        st.session_state["samples_metric"] = metrics[0] if metrics else None
    metric = cols[1].selectbox("Metric", metrics, key="samples_metric")
    correctness = cols[2].segmented_control(
        "Correctness", ["all", "correct", "wrong"], default="all", key="samples_correct"
    )
    text = cols[3].text_input("Contains", key="samples_text", placeholder="text in prompt, target or answer")
    shown = filter_samples(frame, tasks or None, metric, correctness or "all", text)
    total = len(filter_samples(frame, tasks or None, metric))
    st.caption(f"{len(shown):,} of {total:,} samples")
    show_table(
        shown.drop(columns=["metric"]).head(2000), hide_index=True, width="stretch", key="samples_table",
        column_config={"correct": st.column_config.CheckboxColumn("correct")},
    )  # fmt: skip
