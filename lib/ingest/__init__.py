"""Ingest: turn result files of any known format into ``Evaluation`` records.

One parser per format, each registered in ``PARSERS`` with a ``detect`` test; ``parse_result_file``
picks the first parser whose test accepts the decoded JSON. A file no parser accepts, or one a parser
rejects, raises ``IngestError`` with a reason the ingest report shows; callers never crash on a bad
file. This package reads bytes it is given: it does not list stores or touch DuckDB (see lib.index).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lib.core.records import Evaluation
from lib.ingest import lm_eval_v03, lm_eval_v04, template
from lib.ingest.common import IngestError

try:  # three to five times faster than json on results files; optional
    import orjson
except ImportError:  # pragma: no cover - orjson is in requirements.txt
    orjson = None

MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Parser:
    """A registered format: a name, a cheap detection test and the parser itself."""

    name: str
    detect: Callable[[dict[str, Any]], bool]
    parse: Callable[[str, dict[str, Any]], Evaluation]


PARSERS: tuple[Parser, ...] = (
    Parser("lm-eval 0.4", lm_eval_v04.detect, lm_eval_v04.parse),
    Parser("lm-eval 0.3", lm_eval_v03.detect, lm_eval_v03.parse),
    Parser("template", template.detect, template.parse),
)


def decode_json(path: str, data: bytes) -> Any:
    """JSON from bytes, or IngestError with a reason a user can act on."""
    if len(data) > MAX_FILE_BYTES:
        raise IngestError(
            f"file is {len(data) / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MiB limit for a results file"
        )
    if not data.strip():
        raise IngestError("file is empty")
    if orjson is not None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # json below accepts what orjson refuses (NaN literals) and words its errors better
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise IngestError(f"not UTF-8 text: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise IngestError(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc


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
    """Decode and parse one file's bytes."""
    return parse_result_file(path, decode_json(path, raw))


__all__ = ["IngestError", "PARSERS", "Parser", "decode_json", "parse_result_bytes", "parse_result_file"]
