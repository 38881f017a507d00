"""Who is using the app: Streamlit's OpenID Connect login when ``[auth]`` is configured, else anonymous.

With an ``[auth]`` section in ``.streamlit/secrets.toml`` (Hugging Face as the provider) submitting
requires a login and the user's Hub name becomes the request's ``sender``. Without one (a local or
offline deployment) submissions go under the definition's ``submissions.anonymous_sender``, and nobody
can submit when that is empty. Admins are the names listed in the definition's ``admins``. This module
never reads or logs tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from lib.core.config import Definition
from lib.ui.text import plain

_NAME_CLAIMS = ("preferred_username", "nickname", "name", "email")


@dataclass(frozen=True)
class Identity:
    """The current user: the name a request records, how it was established, and admin rights."""

    name: str
    auth_configured: bool
    logged_in: bool
    is_admin: bool

    @property
    def can_submit(self) -> bool:
        return bool(self.name)


def auth_section() -> Mapping[str, Any] | None:
    """The ``[auth]`` secrets section, or None when the deployment has no login configured."""
    try:
        if not st.secrets.load_if_toml_exists():
            return None
        section = st.secrets.get("auth")
    except (FileNotFoundError, KeyError, ValueError):
        return None
    return section if isinstance(section, Mapping) and section else None


def login_provider(section: Mapping[str, Any]) -> str | None:
    """The provider name for ``st.login``: None for a single flat provider, else the first named one."""
    if "client_id" in section:
        return None
    for key, value in section.items():
        if isinstance(value, Mapping):
            return str(key)
    return None


def current_identity(definition: Definition) -> Identity:
    """Who is submitting now, according to the deployment's settings."""
    section = auth_section()
    if section is None:
        name = str(definition.submissions.anonymous_sender).strip()
        return Identity(
            name, auth_configured=False, logged_in=False, is_admin=bool(name) and name in definition.admins
        )
    user = st.user
    if not user.get("is_logged_in"):
        return Identity("", auth_configured=True, logged_in=False, is_admin=False)
    name = next((str(user.get(c)) for c in _NAME_CLAIMS if user.get(c)), "")
    return Identity(
        name, auth_configured=True, logged_in=True, is_admin=bool(name) and name in definition.admins
    )


def account_widget(identity: Identity, key: str = "identity") -> None:
    """Sign-in / sign-out controls (only when a login is configured) and who is signed in."""
    if not identity.auth_configured:
        if identity.name:
            st.caption(f"Submitting as **{plain(identity.name)}** (local deployment)")
        return
    if identity.logged_in:
        left, right = st.columns([3, 1])
        left.caption(f"Signed in as **{plain(identity.name)}**" + (" · admin" if identity.is_admin else ""))
        if right.button("Sign out", key=f"{key}_logout"):
            st.logout()
        return
    if st.button("Sign in with Hugging Face", key=f"{key}_login", icon=":material/login:"):
        section = auth_section() or {}
        st.login(login_provider(section))
