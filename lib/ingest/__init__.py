"""Ingest: turn result files of any known format into ``Evaluation`` records.

One parser per format, each registered in ``PARSERS`` with a ``detect`` test; ``parse_result_file``
picks the first parser whose test accepts the decoded JSON. A file no parser accepts, or one a parser
rejects, raises ``IngestError`` with a reason the ingest report shows; callers never crash on a bad
file. This package reads bytes it is given: it does not list stores or touch DuckDB (see lib.index).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from lib.core.records import Evaluation
from lib.ingest import lm_eval_v03, lm_eval_v04, template
from lib.ingest.common import IngestError

try:  # three to five times faster than json on results files; optional
    import orjson
except ImportError:  # pragma: no cover - orjson is in requirements.txt
    orjson = None  # type: ignore[assignment]

MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Parser:
    """A registered format: a name, a cheap detection test and the parser itself."""

    name: str
    detect: Callable[[dict[str, Any]], bool]
    parse: Callable[[str, dict[str, Any]], Evaluation]


# Order matters: the template's files are lm-eval output plus ``config.model_name``, which no lm-eval
# release writes; they may carry any 0.4 key, so the template is tried first.
PARSERS: tuple[Parser, ...] = (
    Parser("template", template.detect, template.parse),
    Parser("lm-eval 0.4", lm_eval_v04.detect, lm_eval_v04.parse),
    Parser("lm-eval 0.3", lm_eval_v03.detect, lm_eval_v03.parse),
)


def decode_json(path: str, data: bytes, notes: list[str] | None = None) -> Any:
    """JSON from bytes, or IngestError with a reason a user can act on.

    orjson reads the common case. What it refuses goes to the standard library, which also reads NaN
    literals, integers beyond 64 bits and lone surrogates; there deep nesting (RecursionError) and
    integers of thousands of digits (ValueError) become IngestError too, and lone surrogates are
    replaced so that every string can be stored, and ``notes`` (when given) says so.
    """
    if len(data) > MAX_FILE_BYTES:
        raise IngestError(
            f"file is {len(data) / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MiB limit for a results file"
        )
    if not data.strip():
        raise IngestError("file is empty")
    if orjson is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            if "depth limit" in str(exc):
                raise IngestError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
            # json below accepts what orjson refuses (NaN literals) and words its errors better
    try:
        value = json.loads(data)
    except UnicodeDecodeError as exc:
        raise IngestError(f"not UTF-8 text: {exc}") from None
    except json.JSONDecodeError as exc:
        raise IngestError(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise IngestError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise IngestError(
            f"a number has more than {sys.get_int_max_str_digits() or 4300} digits: not a score"
        ) from None
    if _ESCAPED_SURROGATE.search(data):
        replaced: list[bool] = []
        value = _replace_lone_surrogates(value, 0, replaced)
        if replaced and notes is not None:
            notes.append(LONE_SURROGATE_NOTE)
    return value


MAX_DEPTH = 1024  # orjson's limit; the standard library's recursion limit is about the same
LONE_SURROGATE_NOTE = "text held lone UTF-16 surrogates (\\ud800-\\udfff escapes); replaced by U+FFFD"
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _clean_text(text: str, replaced: list[bool]) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        replaced.append(True)
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _replace_lone_surrogates(value: Any, depth: int, replaced: list[bool]) -> Any:
    """``value`` with every string's lone surrogates replaced (only run when the file has such escapes)."""
    if isinstance(value, str):
        return _clean_text(value, replaced)
    if depth > MAX_DEPTH:
        raise IngestError(f"JSON nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {
            _clean_text(k, replaced): _replace_lone_surrogates(v, depth + 1, replaced)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_replace_lone_surrogates(v, depth + 1, replaced) for v in value]
    return value


def parse_result_file(path: str, data: Any) -> list[Evaluation]:
    """The evaluations a decoded results file holds (one per file today); IngestError otherwise."""
    if not isinstance(data, dict):
        raise IngestError(f"expected a JSON object with 'results', got {type(data).__name__}")
    for parser in PARSERS:
        if parser.detect(data):
            return [parser.parse(path, data)]
    keys = ", ".join(sorted(map(str, data))[:8]) or "none"
    raise IngestError(
        f"unknown layout (top-level keys: {keys}); expected lm-eval results with 'results' and 'config'"
    )


def parse_result_bytes(path: str, raw: bytes) -> list[Evaluation]:
    """Decode and parse one file's bytes; what decoding had to repair is added to the warnings."""
    notes: list[str] = []
    evaluations = parse_result_file(path, decode_json(path, raw, notes))
    if notes:
        evaluations = [replace(ev, warnings=(*ev.warnings, *notes)) for ev in evaluations]
    return evaluations


__all__ = ["IngestError", "PARSERS", "Parser", "decode_json", "parse_result_bytes", "parse_result_file"]
