"""Page state kept in the URL, so that a link reproduces the view.

A page declares its settings as ``Setting`` objects; ``bind`` seeds each widget's session-state key
from the query string once per page visit, and ``publish`` writes the current values back, leaving
out the ones at their default so links stay short. Every value read from the URL is validated against
its setting (kind, choices, the range its widget accepts, length) and replaced or clamped with a notice,
so no link can make a widget raise. Only this module and the other ``lib.ui`` modules touch ``st.*``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from lib.ui.text import plain

_LIST_SEP = ","
MAX_TEXT_CHARS = 500  # the longest value any key takes from the URL (a search box holds less)
MAX_LIST_ITEMS = 200
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class Setting:
    """One URL-backed widget value: its query key, kind ('str', 'list', 'bool', 'float', 'int'), default,
    the choices it may take, and for numbers the range its widget accepts."""

    key: str
    kind: str
    default: Any
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    @property
    def widget_key(self) -> str:
        return f"url_{self.key}"

    def decode(self, text: str) -> Any:
        """The value from its query-string text; the default when the text is not valid."""
        return self.read(text)[0]

    def read(self, text: str) -> tuple[Any, str | None]:
        """The value from its query-string text, and a notice for the user when the text had to be
        replaced (not valid: the default) or changed (out of range: clamped; too long: cut). Never raises."""
        text = str(text)
        shown = f"?{self.key}={_short(text)}"
        if len(text) > MAX_TEXT_CHARS:
            if self.kind != "str" or self.choices is not None:
                return self.default, f"{shown} is too long to be a value of this page; it was ignored."
            return text[:MAX_TEXT_CHARS], f"{shown} was cut to its first {MAX_TEXT_CHARS} characters."
        if self.kind == "list":
            return self._list(text, shown)
        if self.kind == "bool":
            lowered = text.strip().lower()
            if lowered in _TRUE or lowered in _FALSE:
                return lowered in _TRUE, None
            return self.default, f"{shown} is not on or off (1 or 0); using {self.encode(self.default)}."
        if self.kind in ("float", "int"):
            return self._number(text, shown)
        if self.choices is not None and text not in self.choices:
            return (
                self.default,
                f"{shown} is not one of {_short(', '.join(self.choices))}; using {self.default}.",
            )
        return text, None

    def _list(self, text: str, shown: str) -> tuple[list[str], str | None]:
        values = list(dict.fromkeys(v for v in text.split(_LIST_SEP) if v))  # a repeated item once
        notice = None
        if self.choices is not None:
            unknown = [v for v in values if v not in self.choices]
            values = [v for v in values if v in self.choices]
            if unknown:
                notice = f"{shown}: {_short(', '.join(unknown))} not known here, left out."
        if len(values) > MAX_LIST_ITEMS:
            values, notice = (
                values[:MAX_LIST_ITEMS],
                f"{shown}: only the first {MAX_LIST_ITEMS} items are used.",
            )
        return values, notice

    def _number(self, text: str, shown: str) -> tuple[Any, str | None]:
        try:
            number = float(text.strip())
        except ValueError:
            return self.default, f"{shown} is not a number; using {self.default}."
        if not math.isfinite(number):
            return self.default, f"{shown} is not a finite number; using {self.default}."
        if self.kind == "int" and not number.is_integer():
            return self.default, f"{shown} is not a whole number; using {self.default}."
        low = -math.inf if self.minimum is None else self.minimum
        high = math.inf if self.maximum is None else self.maximum
        clamped = min(max(number, low), high)
        value: Any = int(clamped) if self.kind == "int" else float(clamped)
        if clamped != number:
            return value, f"{shown} is outside {_fmt(low)} to {_fmt(high)}; using {_fmt(clamped)}."
        return value, None

    def encode(self, value: Any) -> str:
        if self.kind == "list":
            return _LIST_SEP.join(str(v) for v in value)
        if self.kind == "bool":
            return "1" if value else "0"
        return str(value)


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _fmt(number: float) -> str:
    return f"{number:g}"


_SAVED = "_url_saved_state"  # page -> {key: value}: each page's settings, kept across page changes


def bind(settings: Sequence[Setting], page: str) -> None:
    """Seed the widgets' session state when the user arrives on ``page``; keep it valid on every run.

    On arrival each value comes from the URL when the link has it, else from what the page showed when
    the user last left it in this session (``publish`` keeps that, outside the widgets' own state, which
    Streamlit drops when a page is left), else the default. Every URL value is validated
    (``Setting.read``); what had to be replaced or clamped is shown once, as plain text, in a notice
    above the page. On later runs a choice the widget left empty (a segmented control clicked off)
    goes back to the last value shown, so the page and its URL never read ``None``.
    """
    saved = st.session_state.get(_SAVED, {}).get(page, {})
    if st.session_state.get("_url_page") == page:
        for setting in settings:
            if (
                setting.kind == "str"
                and setting.choices is not None
                and value(setting) not in setting.choices
            ):
                st.session_state[setting.widget_key] = saved.get(setting.key, setting.default)
        return
    st.session_state["_url_page"] = page
    st.session_state["_url_arrivals"] = st.session_state.get("_url_arrivals", 0) + 1
    params = st.query_params
    notices: list[str] = []
    for setting in settings:
        if setting.key in params:
            decoded, notice = setting.read(params[setting.key])
            st.session_state[setting.widget_key] = decoded
            if notice:
                notices.append(notice)
        elif setting.key in saved:
            st.session_state[setting.widget_key] = saved[setting.key]
        else:
            st.session_state[setting.widget_key] = setting.default
    show_url_notices(notices)


def arrivals() -> int:
    """How many times this session arrived on a page; part of the key of a widget that must be drawn
    afresh from its setting on each arrival (one in a popover, whose state the browser only keeps once
    it was opened)."""
    return int(st.session_state.get("_url_arrivals", 0))


def redraw_detached() -> None:
    """Give the widgets keyed by ``arrivals`` new keys, so they are drawn afresh from their settings
    (after a callback changed the settings behind them)."""
    st.session_state["_url_arrivals"] = arrivals() + 1


def page_changed(url_path: str) -> None:
    """Called by the app's runner with the page about to run: leaving a page makes the next visit an
    arrival (``bind`` then restores it), whichever pages were seen in between."""
    if st.session_state.get("_url_page") != url_path:
        st.session_state.pop("_url_page", None)


def show_url_notices(notices: Sequence[str]) -> None:
    """One warning listing values of the link that were not used as given (escaped: they echo the URL)."""
    if notices:
        lines = "  \n".join(plain(n) for n in notices[:10])
        st.warning(f"Some values in the link were changed:  \n{lines}", icon="🔗")


def keep_undrawn(settings: Sequence[Setting]) -> None:
    """Keep the values of widgets this run does not draw (the contents of a closed lazy expander):
    Streamlit drops an undrawn widget's value at the end of a run; set again, it is the app's own state
    and stays, so the setting still applies, stays in the URL, and the widget starts on it when drawn."""
    for setting in settings:
        if setting.widget_key in st.session_state:
            st.session_state[setting.widget_key] = st.session_state[setting.widget_key]


def value(setting: Setting) -> Any:
    """The setting's current value (after ``bind``)."""
    return st.session_state.get(setting.widget_key, setting.default)


def publish(settings: Sequence[Setting], keep: Sequence[str] = ()) -> None:
    """Write non-default values into the URL and drop the rest (except the keys in ``keep``), and keep
    every value for the next visit of this page in the session."""
    wanted: dict[str, str] = {}
    page = st.session_state.get("_url_page")
    if page is not None:
        st.session_state.setdefault(_SAVED, {})[page] = {s.key: value(s) for s in settings}
    for setting in settings:
        current = value(setting)
        if current is not None and _differs(current, setting.default):  # None: nothing chosen
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
