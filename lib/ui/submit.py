"""The sidebar submission form, reachable on every page: fields, the benchmarks' fixed settings, the answer.

The sidebar shows a "Submit a model" switch (``OPEN_KEY`` in session state, so it stays open across pages
and reruns; a link with ``?submit=1`` and the Queue page's "Submit a model" button switch it on); the form's widgets are built only once it is on, so a page's first load or reload sends and
mounts none of them (issue 14: the browser's drawing after the script is most of a reload). Switching it
on reruns the page like any widget outside a fragment, and a submission's run draws the page after the
form, so the page already shows the new request.

The form gathers a ``SubmissionForm`` and hands it to ``lib.submissions.submit``; the answer is a refusal
that says what to fix or the request's place in the queue with a tracking link. All rules live in
``lib.queue.submissions``; this module only draws widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from lib.core.config import Definition
from lib.queue.submissions import SubmissionForm, SubmissionResult, submit, tracking_link
from lib.ui.data import app_index
from lib.ui.identity import Identity, account_widget, current_identity
from lib.ui.pages import page
from lib.ui.text import plain, plain_block

FORM_KEY = "submit_model"
RESULT_KEY = "submit_result"
OPEN_KEY = "submit_open"
OPEN_LABEL = "🚀 Submit a model"
OPEN_PARAM = "submit"  # a link with ``?submit=1`` opens the form


def sidebar_form(definition: Definition) -> None:
    """The sign-in controls and the 'Submit a model' switch in the sidebar; the form once it is on, with
    the last submission's answer below it."""
    if OPEN_PARAM in st.query_params:  # a link that opens the form: taken once, then out of the URL
        if st.query_params.get(OPEN_PARAM, "").strip().lower() in ("1", "true", "yes", "on"):
            st.session_state[OPEN_KEY] = True  # before the switch is drawn in this run
        del st.query_params[OPEN_PARAM]
    identity = current_identity(definition)
    with st.sidebar:
        account_widget(identity, key="sidebar_identity")  # sign-in stays visible: admins need it too
        if st.toggle(OPEN_LABEL, key=OPEN_KEY):  # no help icon: its button would be one more "Submit"
            _form(definition, identity)
        _answer()


def open_button(key: str) -> None:
    """A button that switches the sidebar form on (for a page that points to it: the Queue page)."""
    st.button(OPEN_LABEL, key=key, on_click=_open)


def _open() -> None:
    st.session_state[OPEN_KEY] = True  # a callback runs before the script, so before the switch is drawn


def _form(definition: Definition, identity: Identity) -> None:
    categories = {c.id: f"{c.symbol} {c.name}" for c in definition.categories}
    local_hint = (
        " or a local model folder (local/<folder> or an absolute path)"
        if definition.allow_local_models
        else ""
    )
    closed = not identity.can_submit
    if closed:  # said before the fields, which are read-only until submitting is possible
        st.info(
            "Sign in above to submit a model; the form opens once you are signed in."
            if identity.auth_configured
            else "Submissions are closed on this leaderboard, so the form is read-only.",
            icon="🔒",
        )
    with st.form(FORM_KEY, clear_on_submit=False, border=False):
        model = st.text_input("Model", placeholder="org/model-name", help=f"The model's Hub id{local_hint}.",
                              disabled=closed)  # fmt: skip
        revision = st.text_input(
            "Revision",
            value="main",
            help="Branch, tag or commit sha; the request stores the sha.",
            disabled=closed,
        )
        left, right = st.columns(2)
        precision = left.selectbox("Precision", list(definition.precisions), disabled=closed)
        weight_type = right.selectbox(
            "Weight type",
            list(definition.weight_types),
            help="Delta and Adapter weights need the base model.",
            disabled=closed,
        )
        base_model = st.text_input(
            "Base model", placeholder="org/base-model (Delta and Adapter only)", disabled=closed
        )
        model_type = st.selectbox("Model type", list(categories), format_func=lambda k: str(categories.get(k, k)), index=None,
                                  placeholder="Choose a category", disabled=closed)  # fmt: skip
        chat = st.checkbox(
            "Use chat template", help="Evaluate with the tokenizer's chat template.", disabled=closed
        )
        st.caption(_settings_text(definition))
        pressed = st.form_submit_button("Submit", type="primary", disabled=closed)
    if closed and not identity.auth_configured:
        st.caption(
            "For the people who run it: configure a login (docs/hub.md) or set "
            "`submissions.anonymous_sender` in the definition file (docs/definition.md)."
        )
    if not pressed:
        return
    form = SubmissionForm(
        model=model or "",
        revision=revision or "main",
        precision=precision or "",
        weight_type=weight_type or "",
        base_model=base_model or "",
        model_type=model_type or "",
        use_chat_template=bool(chat),
        sender=identity.name,
    )
    index = app_index(definition)
    with st.spinner("Checking the model…"):
        result = submit(form, definition, index.requests, progress=_hashing_progress())
    if result.accepted:
        index.refresh()
    st.session_state[RESULT_KEY] = result


def _hashing_progress() -> Callable[[int, int], None]:
    """A progress bar for hashing a local model folder, drawn on its first call, moved per percent."""
    state: dict[str, Any] = {"bar": None, "shown": -1}

    def show(done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        if percent == state["shown"]:
            return
        state["shown"] = percent
        text = f"Hashing the model folder: {done / 1e9:.1f} of {total / 1e9:.1f} GB"
        if state["bar"] is None:
            state["bar"] = st.progress(percent, text=text)
        else:
            state["bar"].progress(percent, text=text)

    return show


def _settings_text(definition: Definition) -> str:
    shots = ", ".join(
        f"{b.name} {b.num_fewshot}-shot" if b.num_fewshot is not None else b.name
        for b in definition.benchmarks
    )
    return f"Fixed settings: {shots}."


def _answer() -> None:
    result: SubmissionResult | None = st.session_state.get(RESULT_KEY)
    if result is None:
        return
    if not result.accepted:
        assert result.refusal is not None
        icon = "🔁" if result.refusal.retry else "✋"
        st.error(plain_block(result.refusal.message), icon=icon)
        if result.refusal.model:  # a duplicate: a real link to the request's place in the queue
            st.page_link(page("queue"), label="Follow it on the Queue page", icon="📋",
                         query_params={"model": result.refusal.model})  # fmt: skip
        return
    link = tracking_link(result.request["model"]).lstrip("/")
    st.success(f"{plain(result.message)}. [Track it on the Queue page]({link})", icon="✅")
