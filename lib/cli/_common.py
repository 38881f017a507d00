"""What the subcommands share: opening the definition and index from the common options."""

from __future__ import annotations

import argparse
import csv
import json
import math
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

import duckdb
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


def print_frame(frame: pd.DataFrame, fmt: str, con: duckdb.DuckDBPyConnection | None = None) -> None:
    """A frame as a plain-text table, CSV or JSON records on stdout (``con``: see ``write_csv``)."""
    if fmt == "csv":
        write_csv(frame, sys.stdout, con)
    elif fmt == "json":
        records = [{k: clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
        print(dumps(records))
    else:
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200):
            print(frame.to_string(index=False) if not frame.empty else "(no rows)")


def write_csv(frame: pd.DataFrame, out: TextIO, con: duckdb.DuckDBPyConnection | None = None) -> None:
    """``frame`` as CSV, the text pandas' ``to_csv(index=False)`` writes, with infinities and NaN as
    empty fields (``null_non_finite``).

    DuckDB writes the rows: pandas formats each float in Python (seconds for the 100,000 rows of a
    large leaderboard). DuckDB spells floats as Python's ``repr`` does; booleans become ``True``/``False``
    and empty texts empty fields, as pandas writes them. A frame with other kinds of columns (dates,
    mixed objects) is written by pandas. ``con``: a DuckDB database already open (the index's), used
    through a cursor of its own; without one a database is opened for the rows (20-60 ms)."""
    kinds = [_csv_kind(frame[c]) for c in frame.columns]
    if None in kinds or frame.columns.has_duplicates:
        null_non_finite(frame).to_csv(out, index=False)
        return
    header = [str(c) for c in frame.columns]
    csv.writer(out, lineterminator="\n").writerow(header)
    if frame.empty:
        return
    # positional names: the frame's own column names never reach DuckDB's expressions
    data = frame.set_axis([f"c{i}" for i in range(len(header))], axis=1)
    cursor = con.cursor() if con is not None else duckdb.connect(":memory:")
    try:
        rows = cursor.from_df(data).project(
            ", ".join(_CSV_EXPRESSIONS[kind].format(f"c{i}") for i, kind in enumerate(kinds) if kind)
        )
        with tempfile.TemporaryDirectory(prefix="leaderboard-csv-") as folder:
            path = Path(folder) / "rows.csv"
            rows.write_csv(str(path), header=False)
            with path.open(encoding="utf-8", newline="") as text:
                shutil.copyfileobj(text, out, 1 << 20)
    finally:
        cursor.close()


# How each kind of column reaches the CSV (pandas' spelling); ``{}`` is the column.
_CSV_EXPRESSIONS = {
    "bool": "CASE WHEN {0} THEN 'True' WHEN NOT {0} THEN 'False' END",
    "int": "{0}",
    "float": "CASE WHEN isfinite({0}) THEN {0} END",
    "text": "nullif({0}, '')",
}


def _csv_kind(column: pd.Series) -> str | None:
    """How ``write_csv`` writes the column; None for a kind only pandas writes as pandas does."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype) and dtype == "float64":
        return "float"
    if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype):
        if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty"):
            return "text"
    return None
