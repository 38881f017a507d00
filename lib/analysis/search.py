"""The leaderboard's search-box grammar: parse what a user types and turn it into a row mask.

The grammar follows the Open LLM Leaderboard's search box (see ``describe_syntax`` for the user-facing
summary):

* ``;`` separates alternatives; a row is kept when any alternative matches it (OR).
* Inside one alternative every term must match (AND):

  - ``@field:value`` filters one field (``@license:mit @precision:bfloat16 @type:chat``); multi-word field
    names are typed as is (``@weight type:delta``) or with ``_``/``-`` (``@weight_type:delta``);
  - ``Field Name: value`` (``Hub License: mit``, ``license:mit``) is the older spelling, recognised only
    when the text before ``:`` is a known field name, so a model id containing ``:`` stays free text;
  - any other word is free text, searched in the default columns (any of them may match);
  - a leading ``-`` negates a term (``-@type:merge``, ``-gguf``); quote a value to search a leading dash.

* Values may be quoted (``"..."``) to hold spaces or ``;``. Matching is case-insensitive substring, unless
  the value contains regular-expression metacharacters, in which case it is a case-insensitive RE2 search.
  RE2 (through ``pyarrow.compute``) runs in time linear in the text, so no pattern (``(a+)+$``) can stall
  the server; what RE2 refuses (look-arounds, back-references, an invalid or oversized expression) is
  searched as plain text and a notice says so.

This module is pure: no Streamlit, no I/O, no ``eval``. A user's pattern never reaches Python's ``re`` or any
other backtracking engine. It never raises on user input: problems become notices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Field names recognised by ``parse_query`` when the caller gives none (the leaderboard's usual columns).
DEFAULT_FIELD_NAMES: tuple[str, ...] = (
    "model",
    "type",
    "license",
    "hub license",
    "precision",
    "architecture",
    "weight type",
    "sha",
    "model sha",
    "base model",
)

# Characters that make a value a regular expression. A lone '.' is deliberately absent: model names such as
# "llama-3.1" are full of dots and are meant literally.
_REGEX_META = re.compile(r"[\^$*+?\[\](){}|\\]")
_GENERIC_FIELD = re.compile(r"([^\s:;\"]+)\s*:")
_SPACE = re.compile(r"\s+")
# The longest search text considered; the rest is cut with a notice (a URL can carry megabytes).
MAX_QUERY_CHARS = 500


@dataclass(frozen=True)
class Term:
    """One condition of an alternative.

    ``field`` is the normalised field name the user typed (``None`` for free text); ``source`` is the term as
    typed, for messages; ``quoted`` says the value was written in double quotes.
    """

    value: str
    field: str | None = None
    negated: bool = False
    quoted: bool = False
    source: str = ""

    @property
    def looks_like_regex(self) -> bool:
        """Whether the value contains regular-expression metacharacters."""
        return bool(_REGEX_META.search(self.value))


@dataclass(frozen=True)
class Alternative:
    """Terms that must all match (one ``;``-separated part of the query)."""

    terms: tuple[Term, ...]


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query: alternatives OR-ed together. No alternatives means "everything"."""

    text: str
    alternatives: tuple[Alternative, ...]

    @property
    def is_empty(self) -> bool:
        """True when the query filters nothing."""
        return not self.alternatives


@dataclass(frozen=True)
class SearchResult:
    """A boolean mask aligned to the searched frame's index, and messages for the user."""

    mask: pd.Series
    notices: tuple[str, ...] = ()


def normalize_field_name(name: str) -> str:
    """Lowercase a field name and turn ``_``, ``-`` and runs of spaces into one space."""
    return _SPACE.sub(" ", name.replace("_", " ").replace("-", " ")).strip().lower()


def parse_query(text: str, field_names: Iterable[str] | None = None) -> SearchQuery:
    """Parse search-box text into alternatives of terms.

    ``field_names`` are the names the older ``Field Name: value`` spelling recognises (and the multi-word
    names ``@field:`` recognises); ``DEFAULT_FIELD_NAMES`` when omitted. Never raises.
    """
    names = DEFAULT_FIELD_NAMES if field_names is None else tuple(field_names)
    known = sorted({normalize_field_name(n) for n in names if n.strip()}, key=len, reverse=True)
    scanner = _Scanner(text or "", known)
    return SearchQuery(text=text or "", alternatives=scanner.alternatives())


class _Scanner:
    """Hand-written scanner over the query text; one instance per parse."""

    def __init__(self, text: str, known_fields: list[str]) -> None:
        self.text = text
        self.pos = 0
        self.known_patterns = [
            (name, re.compile(r"\s+".join(re.escape(w) for w in name.split()) + r"\s*:", re.IGNORECASE))
            for name in known_fields
        ]

    def alternatives(self) -> tuple[Alternative, ...]:
        parts: list[Alternative] = []
        terms: list[Term] = []
        while True:
            self._skip_spaces()
            if self.pos >= len(self.text) or self.text[self.pos] == ";":
                if terms:
                    parts.append(Alternative(tuple(terms)))
                terms = []
                if self.pos >= len(self.text):
                    return tuple(parts)
                self.pos += 1
                continue
            term = self._term()
            if term is not None:
                terms.append(term)

    def _skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _term(self) -> Term | None:
        start = self.pos
        negated = self._negation()
        field = self._field()
        if field is not None:
            self._skip_spaces_before_value()
        value, quoted = self._value()
        source = self.text[start : self.pos]
        if not value:
            return None  # "@license:" or "-" alone: the user is still typing
        return Term(value=value, field=field, negated=negated, quoted=quoted, source=source)

    def _negation(self) -> bool:
        # A dash alone (followed by nothing, a space or ';') is consumed as an unfinished negation.
        if self.text.startswith("-", self.pos):
            self.pos += 1
            return True
        return False

    def _field(self) -> str | None:
        at = self.text.startswith("@", self.pos)
        start = self.pos + 1 if at else self.pos
        for name, pattern in self.known_patterns:
            match = pattern.match(self.text, start)
            if match:
                self.pos = match.end()
                return name
        if at:
            match = _GENERIC_FIELD.match(self.text, start)
            if match:
                self.pos = match.end()
                return normalize_field_name(match.group(1))
        return None

    def _skip_spaces_before_value(self) -> None:
        # "license: mit" but not "license:" followed by the end or by another alternative
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def _value(self) -> tuple[str, bool]:
        text = self.text
        if text.startswith('"', self.pos):
            end = text.find('"', self.pos + 1)
            end = len(text) if end < 0 else end  # an unclosed quote runs to the end
            value = text[self.pos + 1 : end]
            self.pos = min(end + 1, len(text))
            return value, True
        start = self.pos
        while self.pos < len(text) and not text[self.pos].isspace() and text[self.pos] != ";":
            self.pos += 1
        return text[start : self.pos], False


def search_mask(
    frame: pd.DataFrame,
    text: str,
    fields: Mapping[str, str],
    default_columns: tuple[str, ...],
) -> SearchResult:
    """Rows of ``frame`` that match the search text.

    ``fields`` maps the lowercase field names users type to column names of ``frame``; ``default_columns``
    are the columns free text searches. Returns an all-True mask for an empty query; a term that cannot be
    applied (unknown field, missing column) is ignored and explained in ``notices``. Never raises on user
    input.
    """
    resolved = {normalize_field_name(name): column for name, column in fields.items()}
    cut = len(text) > MAX_QUERY_CHARS
    query = parse_query(text[:MAX_QUERY_CHARS], resolved.keys())
    matcher = _Matcher(frame, resolved, default_columns)
    if cut:
        matcher.notices.append(
            f"The search is longer than {MAX_QUERY_CHARS} characters; the rest was ignored."
        )
    mask: pd.Series | None = None
    for alternative in query.alternatives:
        part = matcher.alternative_mask(alternative)
        if part is not None:
            mask = part if mask is None else mask | part
    if mask is None:
        mask = pd.Series(True, index=frame.index, dtype=bool)
    return SearchResult(mask=mask, notices=tuple(dict.fromkeys(matcher.notices)))


def re2_error(pattern: str) -> str | None:
    """Why RE2 refuses ``pattern`` (look-around, back-reference, syntax, size), or None when it accepts it."""
    try:
        pc.match_substring_regex(pa.array([""], pa.string()), pattern, ignore_case=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        return str(error).removeprefix("Invalid regular expression: ")
    return None


class _Matcher:
    """Turns terms into column masks, caching each column's text form for one search."""

    def __init__(self, frame: pd.DataFrame, fields: dict[str, str], default_columns: tuple[str, ...]) -> None:
        self.frame = frame
        self.fields = fields
        self.default_columns = tuple(c for c in default_columns if c in frame.columns)
        self.notices: list[str] = []
        self._texts: dict[str, pa.Array] = {}

    def alternative_mask(self, alternative: Alternative) -> pd.Series | None:
        """AND of the alternative's usable terms, or ``None`` when none of them could be applied."""
        mask: pd.Series | None = None
        for term in alternative.terms:
            part = self.term_mask(term)
            if part is not None:
                mask = part if mask is None else mask & part
        return mask

    def term_mask(self, term: Term) -> pd.Series | None:
        columns = self._columns(term)
        if columns is None:
            return None
        pattern, regex = self._pattern(term.value)
        hits = pd.Series(False, index=self.frame.index, dtype=bool)
        for column in columns:
            hits |= self._contains(column, pattern, regex)
        return ~hits if term.negated else hits

    def _columns(self, term: Term) -> tuple[str, ...] | None:
        if term.field is None:
            if not self.default_columns:
                self.notices.append("Free-text search is unavailable here: no column is searched by default.")
                return None
            return self.default_columns
        column = self.fields.get(term.field)
        if column is None:
            known = ", ".join(sorted(self.fields)) or "none"
            self.notices.append(
                f"Unknown field '{term.field}' in '{term.source}'; known fields: {known}. Ignored."
            )
            return None
        if column not in self.frame.columns:
            self.notices.append(
                f"Field '{term.field}' has no column in this table; '{term.source}' was ignored."
            )
            return None
        return (column,)

    def _pattern(self, value: str) -> tuple[str, bool]:
        if not _REGEX_META.search(value):
            return value, False
        error = re2_error(value)
        if error is not None:
            self.notices.append(
                f"'{value[:80]}' is not a valid regular expression ({error[:120]}); searched it as plain text. "
                "Look-arounds and back-references are not supported."
            )
            return value, False
        return value, True

    def _contains(self, column: str, pattern: str, regex: bool) -> pd.Series:
        values = self._text(column)
        if regex:
            found = pc.match_substring_regex(values, pattern, ignore_case=True)
        else:
            found = pc.match_substring(values, pattern, ignore_case=True)
        mask = found.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
        return pd.Series(mask, index=self.frame.index, dtype=bool)

    def _text(self, column: str) -> pa.Array:
        cached = self._texts.get(column)
        if cached is None:
            # The nullable string dtype keeps missing values missing (they never match) instead of turning
            # them into the text "nan", and stringifies numbers and booleans.
            strings = self.frame[column].astype("string")
            cached = pa.array(strings.to_numpy(dtype=object, na_value=None), type=pa.large_string())
            self._texts[column] = cached
        return cached


def describe_syntax() -> str:
    """A short Markdown help text for the search box."""
    return (
        "**Search syntax**\n\n"
        "- Words search model names, case-insensitively; several words must all match: `llama 7b`.\n"
        "- `;` separates alternatives, any of which may match: `llama; mistral`.\n"
        "- `@field:value` filters one column, combined with the rest: "
        "`@license:mit @precision:bfloat16 @type:chat`. "
        "The older `Field Name: value` spelling works too: `Hub License: mit`.\n"
        '- Quote values that contain spaces: `@license:"apache 2.0"`, `"meta llama"`.\n'
        "- Values with `^ $ * + ? [ ] ( ) { } | \\` are regular expressions (RE2 syntax, without "
        "look-arounds or back-references): `^meridian`, `7b|8b`.\n"
        '- A leading `-` excludes: `-@type:merge`, `-gguf`. Quote a value to search a leading dash: `"-7b"`.\n'
    )
