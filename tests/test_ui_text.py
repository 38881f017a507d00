"""``lib.ui.text.plain``: any text becomes one inert line of Markdown (checked on generated text; the
rendering itself is checked in Chromium by tests/test_browser_injection.py)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from lib.ui.text import MAX_LABEL_CHARS, plain, plain_block

PIECES = ["[", "]", "(", ")", "!", "<", ">", "https://", "www.", "@", ":red[", "$", "`", "*", "_", "#", "\n", "\\",
          "&lt;", "&#60;", "|", "~", "a", " ", "\u202e", "\x00"]  # fmt: skip
hostile = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=5)), max_size=40).map("".join)


def _unescaped(text: str, char: str) -> bool:
    """Whether ``char`` occurs in ``text`` without a backslash escaping it."""
    return re.search(rf"(?<!\\)(?:\\\\)*{re.escape(char)}", text) is not None


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(text=hostile)
def test_every_markdown_character_is_escaped_and_urls_are_broken(text):
    out = plain(text)
    assert "\n" not in out and "\x00" not in out and "\u202e" not in out
    for char in "[]()<>!`*_#$|~&:":
        assert not _unescaped(out, char), (text, out)
    assert "://" not in out.replace("\\", "") and not re.search(r"(?i)www\\?\.", out)
    assert len(out.replace("\\", "")) <= MAX_LABEL_CHARS + 2 * out.count("\u2060")


def test_the_text_reads_the_same_once_rendered():
    payload = "[x](https://evil.example/a) <img src=x> www.evil.example"
    rendered = re.sub(r"\\(.)", r"\1", plain(payload)).replace("\u2060", "")
    assert rendered == payload


def test_blocks_keep_their_lines():
    assert plain_block("a [b]\nc <d>").split("  \n") == ["a \\[b\\]", "c \\<d\\>"]
