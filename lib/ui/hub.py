"""Hub specifics of the app's Streamlit side: the token from Streamlit secrets and the stores' freshness.

The token is read here (and only here) from ``st.secrets["HF_TOKEN"]`` when ``$HF_TOKEN`` is not set, and
never shown. ``store_notices`` tells when a Hub store's data was last synced and why it is offline.
"""

from __future__ import annotations

import os
import time

import streamlit as st

from lib.ui.text import plain


def hub_token() -> str | None:
    """``$HF_TOKEN``, else ``HF_TOKEN`` from Streamlit secrets (exported so Hub stores pick it up)."""
    token = os.environ.get("HF_TOKEN")
    if token:
        return token
    try:
        token = st.secrets.get("HF_TOKEN")
    except Exception:  # noqa: BLE001 - no secrets file is the common case
        return None
    if token:
        os.environ["HF_TOKEN"] = str(token)
        return str(token)
    return None


def store_notices(index: object) -> None:
    """'Hub data as of' per Hub store, and a warning with the reason when one is served from its cache."""
    for role in ("results", "requests"):
        store = getattr(index, role, None)
        if not str(getattr(store, "location", "")).startswith("hub:"):
            continue
        as_of = getattr(store, "as_of", None)
        stamp = plain(time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(as_of))) if as_of else "never"
        if getattr(store, "offline", False):
            st.warning(f"{role} store offline — {plain(getattr(store, 'message', ''))}", icon="📴")
        else:
            st.caption(f"{role} store {plain(getattr(store, 'location', ''))}: Hub data as of {stamp}")
