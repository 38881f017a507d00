"""What the subcommands share: opening the definition and index from the common options."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import pandas as pd

from lib.analysis.leaderboard import null_non_finite
from lib.core.config import Definition, load_definition
from lib.index import Index, build_index


def open_index(args: argparse.Namespace) -> tuple[Definition, Index]:
    """The definition and a loaded index for ``--config``, ``--results`` and ``--requests``.

    Given ``--results`` alone, no requests store is read (a folder of results without a queue).
    """
    definition = load_definition(getattr(args, "config", None))
    results = getattr(args, "results", None)
    requests = getattr(args, "requests", None)
    if results and requests is None:
        requests = ""
    progress = None
    if getattr(args, "verbose", False):
        progress = lambda fraction, text: print(f"\r{text}", end="", file=sys.stderr)  # noqa: E731
    index = build_index(definition, results, requests, progress=progress)
    if progress:
        print(file=sys.stderr)
    for message in index.store_errors:
        print(f"warning: {message}", file=sys.stderr)
    return definition, index


def clean(value: Any) -> Any:
    """JSON-safe scalars: NaN, infinities, NA and NaT become None, numpy numbers plain numbers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):
        return clean(value.item())
    return value


def text_or_none(value: Any) -> str | None:
    """A text field for JSON: an empty, missing or NaN value is None (NaN is truthy, so ``or`` fails)."""
    value = clean(value)
    return str(value) if value not in (None, "") else None


def dumps(data: Any) -> str:
    """Strict JSON (RFC 8259): a NaN or infinity left anywhere is an error here, never in a reader."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)


def print_frame(frame: pd.DataFrame, fmt: str) -> None:
    """A frame as a plain-text table, CSV or JSON records on stdout."""
    if fmt == "csv":
        null_non_finite(frame).to_csv(sys.stdout, index=False)
    elif fmt == "json":
        records = [{k: clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        print(dumps(records))
    else:
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
            print(frame.to_string(index=False) if not frame.empty else "(no rows)")
