"""The one gate for showing untrusted text (from a file, a request, a Hub card or the URL) on a page.

Streamlit renders labels, captions, alerts, expander titles and progress texts as Markdown: a model name
such as ``[click](https://evil)`` or ``![x](https://evil/pixel.png)`` would become a link or a remote
image, a bare URL would become a link, ``:red[...]`` a colour directive and ``$...$`` a formula. Every
such text goes through ``plain`` (one line, every Markdown character escaped, bare URLs broken with an
invisible word joiner so they are not auto-linked) or ``plain_block`` (keeps line breaks) before it is handed to an ``st.*`` element that renders Markdown; long free text is better
shown with ``st.text`` or ``st.code``. Streamlit itself never renders raw HTML here (no
``unsafe_allow_html`` anywhere), so escaping Markdown is what is left to do. This module holds no
business rules.
"""

from __future__ import annotations

import re

# Every character Markdown (CommonMark + GFM + Streamlit's directives) gives a meaning; ":" and "." break
# bare-URL autolinks ("https://", "www.") and emoji/material shortcodes, "$" formulas.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&\"'@])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")
# Streamlit's Markdown (remark-gfm) turns bare URLs, "www." names and e-mail addresses into links after
# escapes are decoded, so escaping cannot stop it: an invisible word joiner (U+2060) inside "://",
# after "www" and after "@" breaks the pattern and leaves the text as it reads.
_WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(:)(?=//)|(?i:(www))(?=\.)|(@)")
MAX_LABEL_CHARS = 300


def plain(text: object, limit: int = MAX_LABEL_CHARS) -> str:
    """One line of untrusted text, safe for any Markdown-rendering element: control characters and line
    breaks become spaces, every Markdown character is escaped, and the text is cut at ``limit``."""
    value = _SPACES.sub(" ", _CONTROL.sub(" ", "" if text is None else str(text))).strip()
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    value = _AUTOLINK.sub(lambda m: m.group(0) + _WORD_JOINER, value)
    return _MD_SPECIAL.sub(r"\\\1", value)


def plain_block(text: object, limit: int = 4000) -> str:
    """Several lines of untrusted text, escaped like ``plain`` line by line (hard line breaks kept)."""
    value = "" if text is None else str(text)
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    lines = [plain(line, limit) for line in value.splitlines()]
    return "  \n".join(line for line in lines)
