"""Page state kept in the URL, so that a link reproduces the view.

A page declares its settings as ``Setting`` objects; ``bind`` seeds each widget's session-state key
from the query string once per page visit, and ``publish`` writes the current values back, leaving
out the ones at their default so links stay short. Only this module and the other ``lib.ui`` modules
touch ``st.*``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

_LIST_SEP = ","


@dataclass(frozen=True)
class Setting:
    """One URL-backed widget value: its query key, kind ('str', 'list', 'bool', 'float', 'int') and default."""

    key: str
    kind: str
    default: Any
    choices: tuple[str, ...] | None = None

    @property
    def widget_key(self) -> str:
        return f"url_{self.key}"

    def decode(self, text: str) -> Any:
        """The value from its query-string text; the default when the text is not valid."""
        try:
            if self.kind == "list":
                values = [v for v in text.split(_LIST_SEP) if v]
                if self.choices is not None:
                    values = [v for v in values if v in self.choices]
                return values
            if self.kind == "bool":
                return text.lower() in ("1", "true", "yes", "on")
            if self.kind == "float":
                return float(text)
            if self.kind == "int":
                return int(text)
        except ValueError:
            return self.default
        if self.choices is not None and text not in self.choices:
            return self.default
        return text

    def encode(self, value: Any) -> str:
        if self.kind == "list":
            return _LIST_SEP.join(str(v) for v in value)
        if self.kind == "bool":
            return "1" if value else "0"
        return str(value)


def bind(settings: Sequence[Setting], page: str) -> None:
    """Seed the widgets' session state from the URL when the user arrives on ``page``."""
    if st.session_state.get("_url_page") == page:
        return
    st.session_state["_url_page"] = page
    params = st.query_params
    for setting in settings:
        if setting.key in params:
            st.session_state[setting.widget_key] = setting.decode(params[setting.key])
        elif setting.widget_key not in st.session_state:
            st.session_state[setting.widget_key] = setting.default


def value(setting: Setting) -> Any:
    """The setting's current value (after ``bind``)."""
    return st.session_state.get(setting.widget_key, setting.default)


def publish(settings: Sequence[Setting], keep: Sequence[str] = ()) -> None:
    """Write non-default values into the URL and drop the rest (except the keys in ``keep``)."""
    wanted: dict[str, str] = {}
    for setting in settings:
        current = value(setting)
        if _differs(current, setting.default):
            wanted[setting.key] = setting.encode(current)
    for key in list(st.query_params.keys()):
        if key not in wanted and key not in keep:
            del st.query_params[key]
    for key, text in wanted.items():
        if st.query_params.get(key) != text:
            st.query_params[key] = text


def _differs(current: Any, default: Any) -> bool:
    if isinstance(default, (list, tuple)):
        return list(current or []) != list(default)
    return current != default
