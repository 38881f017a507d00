"""Widgets of the Queue page: the model filter (URL ``?model=``), the groups, failures, progress, admin actions.

Rows come from ``lib.views.queue``; admin actions call ``lib.queue.admin`` (which checks the admin list
again) and refresh the index. Only this module and the other ``lib.ui`` modules touch ``st.*``.
"""

from __future__ import annotations

import streamlit as st

from lib.core.config import Definition
from lib.core.records import IngestProblem, Status
from lib.core.request import Request
from lib.index import Index
from lib.queue.admin import AdminError, approve, cancel, requeue, set_flag
from lib.queue.requests import RequestConflict
from lib.ui.identity import Identity
from lib.ui.state import Setting
from lib.ui.tables import show_table
from lib.ui.text import plain, plain_block
from lib.views.queue import (
    GROUPS,
    failure_reason,
    grouped,
    log_tail,
    malformed_frame,
    progress_of,
    queue_frame,
    slurm_job_text,
)

MODEL_FILTER = Setting("model", "str", "")
_SHOWN = ["Model", "Revision", "Precision", "Weight type", "Type", "Sender", "Age", "In status for", "Status"]
_EXTRA = {
    "running": ["Progress"],
    "failed": ["Attempts", "Error"],
    "finished": ["Flagged"],
    "pending": ["Flagged"],
}


def model_filter() -> str:
    """The model filter box, seeded from and written back to the URL's ``?model=``."""
    return st.text_input(
        "Filter by model",
        key=MODEL_FILTER.widget_key,
        placeholder="org/model (a tracking link fills this in)",
        help="Shows only requests whose model id contains this text.",
    ).strip()


def summary(requests: list[Request]) -> None:
    """One metric per group."""
    groups = grouped(requests)
    cols = st.columns(len(GROUPS))
    for col, (key, label) in zip(cols, GROUPS, strict=True):
        col.metric(label, len(groups.get(key, [])))


def groups(requests: list[Request]) -> None:
    """Each non-empty group: a table, then the running jobs' progress or the failures' reasons and logs."""
    by_group = grouped(requests)
    for key, label in GROUPS:
        items = by_group.get(key, [])
        if not items:
            continue
        st.subheader(f"{label} ({len(items)})")
        frame = queue_frame(items)
        shown = _SHOWN + _EXTRA.get(key, [])
        if frame["Slurm job"].astype(bool).any():  # only where the evaluator runs on Slurm
            shown = [*shown, "Slurm job"]
        if "Attempts" in shown:  # 0 attempts: it failed before any evaluation started (not "Attempts 0")
            frame["Attempts"] = [str(n) if n else "none" for n in frame["Attempts"]]
        show_table(
            frame[shown], hide_index=True, width="stretch",
            column_config={"Attempts": st.column_config.TextColumn(
                "Attempts", help="Evaluation runs started; none: refused or failed before a run started")},
        )  # fmt: skip
        if key == "running":
            _progress(items)
        if key == "failed":
            _failures(items)


def any_running(requests: list[Request]) -> bool:
    """Whether a job of these requests is running (its progress changes while one looks)."""
    return any(r.status == Status.RUNNING for r in requests)


def malformed(problems: list[IngestProblem]) -> None:
    """Request files that do not validate: path and reason as plain text (the evaluator marks them FAILED)."""
    if not problems:
        return
    st.subheader(f"⚠️ Malformed request files ({len(problems)})")
    st.caption(
        "These files are not valid requests. An evaluator marks each one FAILED with the reason (keeping its "
        "text) when it next looks at the queue; an admin can then fix the file or remove it."
    )
    show_table(malformed_frame(problems), hide_index=True, width="stretch")


def _progress(items: list[Request]) -> None:
    for request in items:
        progress = progress_of(request)
        if progress is None:
            st.caption(f"{plain(request.model)}: no progress reported yet")
            continue
        slurm = slurm_job_text(request)
        where = f" · Slurm job {plain(slurm)}" if slurm else ""
        st.progress(progress.fraction, text=f"{plain(request.model)} · {plain(progress.text)}{where}")


def _failures(items: list[Request]) -> None:
    for request in items:
        with st.expander(f"Why {plain(request.model)} ({plain(request.precision)}) failed"):
            st.markdown(f"**Reason:** {plain_block(failure_reason(request))}")
            tail = log_tail(request)
            if tail:
                st.caption("End of the log")
                st.code(tail, language="text")
            else:
                st.caption("No log was recorded.")


def admin_actions(
    definition: Definition, index: Index, requests: list[Request], identity: Identity, model_filter: str = ""
) -> None:
    """Approve, re-queue, cancel and flag, for admins only (the flag form starts on the filtered model)."""
    if not identity.is_admin:
        return
    st.header("Admin")
    by_group = grouped(requests)
    waiting, failed = by_group.get("approval", []), by_group.get("failed", [])
    if waiting:
        _request_action(
            "Approve", waiting, lambda path: approve(index.requests, definition, path, identity.name), index
        )
    running = by_group.get("running", [])
    if failed or running:  # a RUNNING request's job is stopped (a Slurm job is scancelled)
        _request_action(
            "Re-queue",
            failed + running,
            lambda path: requeue(index.requests, definition, path, identity.name),
            index,
        )
    if running:  # RUNNING -> FAILED "cancelled by <admin>" (the status machine's fail edge)
        _request_action(
            "Cancel", running, lambda path: cancel(index.requests, definition, path, identity.name), index
        )
    flag_form(definition, index, requests, identity, current=model_in_view(requests, model_filter))


def model_in_view(requests: list[Request], model_filter: str) -> str | None:
    """The model the Queue page shows: the one the filter names exactly, or the only one it leaves."""
    models = {r.model for r in requests}
    if model_filter in models:
        return model_filter
    return next(iter(models)) if model_filter and len(models) == 1 else None


def _label(request: Request) -> str:
    return f"{request.model} · {request.precision} · {request.weight_type} · {request.revision[:8]}"


def _request_action(verb: str, items: list[Request], action, index: Index) -> None:
    labels = {r.path: _label(r) for r in items}
    left, right = st.columns([4, 1])
    path = left.selectbox(
        f"{verb} a request",
        list(labels),
        format_func=lambda k: str(labels.get(k, k)),
        key=f"admin_{verb}_pick",
    )
    if right.button(verb, key=f"admin_{verb}", width="stretch") and path:
        try:
            action(path)
        except (AdminError, RequestConflict, FileNotFoundError) as exc:
            st.error(f"{verb} failed: {plain(exc)}")
            return
        index.refresh()
        st.toast(f"{verb}: {plain(labels[path])}")
        st.rerun()


def flag_form(
    definition: Definition,
    index: Index,
    requests: list[Request],
    identity: Identity,
    current: str | None = None,
) -> None:
    """An admin's form to flag a model with a reason, or unflag it (Queue, leaderboard and Model pages).

    ``current`` is the model the user is looking at (the selected leaderboard row, the Model page's model,
    the Queue's filter): the form starts on it, and follows it when it changes; a model picked in the form
    stays picked while the row in view does not change.
    """
    models = sorted({r.model for r in requests})
    if not models:
        return
    if current in models and st.session_state.get("_admin_flag_for") != current:
        st.session_state["admin_flag_model"] = current  # the row in view changed: the form follows it
    st.session_state["_admin_flag_for"] = current
    if st.session_state.get("admin_flag_model") not in models:
        st.session_state.pop("admin_flag_model", None)
    with st.form("admin_flag", border=True):
        st.markdown("**Flag or unflag a model** (flagged models are hidden from the leaderboard by default)")
        model = st.selectbox("Model", models, key="admin_flag_model")
        reason = st.text_input("Reason", key="admin_flag_reason", placeholder="e.g. contaminated on GPQA")
        left, right = st.columns(2)
        flag = left.form_submit_button("Flag")
        unflag = right.form_submit_button("Unflag")
    if not (flag or unflag):
        return
    if flag and not reason.strip():
        st.error("Give a reason to flag a model.")
        return
    try:
        changed = set_flag(index.requests, definition, model, reason if flag else "", identity.name)
    except AdminError as exc:
        st.error(plain(exc))
        return
    index.refresh()
    st.toast(f"{'Flagged' if flag else 'Unflagged'} {plain(model)} ({changed} request(s))")
    st.rerun()
