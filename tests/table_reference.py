"""The per-row table reader as it was before the vectorised one (lib/index/table_sources.py): the oracle
of tests/test_table_sources.py, which checks that both read generated hostile tables alike. Not used by
lib/ (it builds a Python dict and records per row: 39 s for 100,000 rows).

Layouts and what a table becomes: lib/index/table_sources.py and docs/formats.md ("Table sources").
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from lib.core.config import Benchmark, Definition, split_metric
from lib.core.records import Evaluation, Score, as_float, default_higher_is_better
from lib.core.schema import TableSource
from lib.index.table_sources import (
    BENCHMARK_TASK_PREFIX,
    LONG_COLUMNS,
    MAX_REPORTED_ROWS,
    OLL_COLUMNS,
    TABLE_SUFFIXES,
    WIDE_COLUMNS,
    TableError,
)
from lib.ingest.common import model_key, normalize_precision

# The column maps and limits are the library's (declared once): this module keeps only the old per-row
# reading, which is what the oracle is for.
_HTML_LINK_RE = re.compile(r">([^<>]+)</a>")


@dataclass
class TableRead:
    """What one table gave: evaluations, metadata rows for the requests table, report rows."""

    evaluations: list[tuple[str, Evaluation]] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (path, level, reason)


def is_table_location(location: str) -> bool:
    """A store location that names one table file (``--results contents.parquet``)."""
    path = location.removeprefix("hub:")
    return path.lower().endswith(TABLE_SUFFIXES) and (location.startswith("hub:") or Path(path).is_file())


def fetch(location: str) -> Path:
    """The local file of a table: the path itself, or a Hub dataset file downloaded through huggingface_hub."""
    if not location.startswith("hub:"):
        return Path(location)
    parts = location.removeprefix("hub:").split("/")
    if len(parts) < 3 or not all(parts):
        raise TableError(f"{location}: a Hub table is hub:org/name/path/in/repo.parquet")
    from huggingface_hub import hf_hub_download  # imported here: only Hub tables need it

    try:
        path = hf_hub_download(
            "/".join(parts[:2]),
            "/".join(parts[2:]),
            repo_type="dataset",
            endpoint=os.environ.get("HF_ENDPOINT") or None,  # read now, not at import
            etag_timeout=10,
        )
        return Path(path)
    except Exception as exc:  # noqa: BLE001 - any failure is this table's report row
        raise TableError(
            f"{location}: cannot download it from the Hub ({type(exc).__name__}: {exc})"
        ) from exc


def version(path: Path) -> str:
    """What tells a change of a fetched table file: its path (a Hub download's names the commit),
    modification time and size."""
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    return f"{path}:{st.st_mtime_ns}:{st.st_size}"


def read_rows(path: Path, fmt: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Column names and rows of a table file, read with DuckDB's reader for its format."""
    kind = fmt if fmt != "auto" else _format_of(path)
    reader = {
        "csv": "SELECT * FROM read_csv(?, header = true)",
        "tsv": "SELECT * FROM read_csv(?, header = true, delim = '\t')",
        "parquet": "SELECT * FROM read_parquet(?)",
        "jsonl": "SELECT * FROM read_json_auto(?, format = 'newline_delimited')",
    }.get(kind)
    if reader is None:
        raise TableError(f"{path.name}: unknown table format; name it csv, parquet or jsonl")
    con = duckdb.connect(":memory:")
    try:
        relation = con.execute(reader, [str(path)])
        columns = [d[0] for d in relation.description]
        rows = [dict(zip(columns, row, strict=True)) for row in relation.fetchall()]
    except duckdb.Error as exc:
        raise TableError(f"{path.name}: DuckDB cannot read it as {kind}: {str(exc).splitlines()[0]}") from exc
    finally:
        con.close()
    return columns, rows


def read_source(source: TableSource, definition: Definition, path: Path | None = None) -> TableRead:
    """Every evaluation, metadata row and report row of one table source (``path``: its fetched file)."""
    label = source.location
    try:
        columns, rows = read_rows(path or fetch(source.location), source.format)
        layout = source.layout if source.layout != "auto" else detect_layout(columns, source)
    except TableError as exc:
        return TableRead(problems=[(label, "error", str(exc))])
    if layout == "long":
        return _read_long(label, columns, rows, source)
    return _read_wide(label, columns, rows, source, definition, layout == "open_llm_leaderboard")


def detect_layout(columns: Iterable[str], source: TableSource) -> str:
    """Which layout a table's columns say it has; TableError when they say none."""
    names = set(columns)
    lower = {c.lower() for c in names}
    if "fullname" in names and any(f"{c} Raw" in names for c in names):
        return "open_llm_leaderboard"
    if source.benchmarks or source.normalized:
        return "wide"
    mapped = {**{k: (v.lower(),) for k, v in source.columns.items()}}
    needed = ("model", "task", "metric", "value")
    if all(any(c in lower for c in mapped.get(k, LONG_COLUMNS[k])) for k in needed):
        return "long"
    raise TableError(
        "the columns match no known layout: not the Open LLM Leaderboard's contents (fullname and "
        "'<benchmark> Raw' columns), not a long table (model, task, metric, value); give a `layout` and "
        "a `columns` mapping in the definition's stores.tables entry"
    )


# ----------------------------------------------------------------------------- wide tables
def _read_wide(
    label: str,
    columns: list[str],
    rows: list[dict[str, Any]],
    source: TableSource,
    definition: Definition,
    oll: bool,
) -> TableRead:
    out = TableRead()
    pairs, unmatched = _benchmark_columns(columns, source, definition, oll)
    if not pairs:
        out.problems.append((label, "error", "no column of the table matches a benchmark of the definition"))
        return out
    if unmatched:
        out.problems.append(
            (
                label,
                "warning",
                "columns that match no benchmark of the definition: " + ", ".join(unmatched[:12]),
            )
        )
    pick = _picker(columns, source.columns, OLL_COLUMNS if oll else {})
    failures = 0
    for n, row in enumerate(rows, start=1):
        path = f"{label}#row {n}"
        model = _text(pick(row, "model")) or _model_from_html(_text(pick(row, "model_html")))
        if not model and not oll:
            model = _text(_first(row, columns, WIDE_COLUMNS["model"]))
        scores: list[Score] = []
        for bench, raw_col, norm_col in pairs:
            for metric, column in (("raw", raw_col), ("normalized", norm_col)):
                if column is None or row.get(column) is None:
                    continue
                value = as_float(row[column])
                if value is None:
                    continue
                hib = bench.higher_is_better
                scores.append(Score(BENCHMARK_TASK_PREFIX + bench.id, metric, "none", value, None, None, hib))
        if not model or not scores:
            failures += 1
            if failures <= MAX_REPORTED_ROWS:
                why = "no model name" if not model else "no numeric score in any benchmark column"
                out.problems.append((path, "error", f"table row: {why}"))
            continue
        sha = _text(pick(row, "sha")) or _text(_first(row, columns, WIDE_COLUMNS["revision"]))
        precision = normalize_precision(_text(pick(row, "precision")))
        evaluation = Evaluation(
            model=model,
            revision=sha or "main",
            precision=precision,
            scores=tuple(scores),
            sha=sha,
            chat_template=_bool(pick(row, "chat_template")),
            date=_date(pick(row, "date")),
            source_format="Open LLM Leaderboard table" if oll else "wide table",
            weight_type=_text(pick(row, "weight_type")),
            request_file=path,
            base_model=_text(pick(row, "base_model")),
        )
        out.evaluations.append((path, evaluation))
        out.metadata.append(
            {
                "path": path,
                "model": model,
                "revision": sha or "main",
                "precision": precision,
                "weight_type": _text(pick(row, "weight_type")),
                "status": "FINISHED",
                "submitted_time": _text(pick(row, "date")),
                "base_model": _text(pick(row, "base_model")),
                "model_type": _text(pick(row, "model_type")),
                "private": False,
                "params": as_float(pick(row, "params")),
                "license": _text(pick(row, "license")),
                "likes": _int(pick(row, "likes")),
                "architecture": _text(pick(row, "architecture")),
                "use_chat_template": _bool(pick(row, "chat_template")),
                "flagged": "flagged in the table" if _bool(pick(row, "flagged")) else "",
                "merged": _bool(pick(row, "merged")),
                "moe": _bool(pick(row, "moe")),
                "on_hub": pick(row, "on_hub") is None or _bool(pick(row, "on_hub")),
            }
        )
    if failures > MAX_REPORTED_ROWS:
        out.problems.append(
            (label, "error", f"{failures - MAX_REPORTED_ROWS} more table rows could not be read")
        )
    return out


def _benchmark_columns(
    columns: list[str], source: TableSource, definition: Definition, oll: bool
) -> tuple[list[tuple[Benchmark, str | None, str | None]], list[str]]:
    """(benchmark, raw column, normalized column) per benchmark the table has; the unmatched pairs."""
    by_id = {b.id: b for b in definition.benchmarks}
    found: dict[str, list[str | None]] = {}
    for bench_id, column in source.benchmarks.items():
        if bench_id in by_id and column in columns:
            found.setdefault(bench_id, [None, None])[0] = column
    for bench_id, column in source.normalized.items():
        if bench_id in by_id and column in columns:
            found.setdefault(bench_id, [None, None])[1] = column
    unmatched: list[str] = []
    if oll:
        names = {_norm(b.name): b.id for b in definition.benchmarks} | {
            _norm(b.id): b.id for b in definition.benchmarks
        }
        for column in columns:
            if f"{column} Raw" not in columns:
                continue
            matched = names.get(_norm(column))
            if matched is None:
                unmatched.append(column)
            elif matched not in found:
                found[matched] = [f"{column} Raw", column]
    return [(by_id[b], cols[0], cols[1]) for b, cols in found.items()], unmatched


# ----------------------------------------------------------------------------- long tables
def _read_long(label: str, columns: list[str], rows: list[dict[str, Any]], source: TableSource) -> TableRead:
    out = TableRead()
    lower = {c.lower(): c for c in columns}

    def column(name: str) -> str | None:
        if name in source.columns:
            return source.columns[name] if source.columns[name] in columns else None
        return next((lower[c] for c in LONG_COLUMNS[name] if c in lower), None)

    cols = {name: column(name) for name in LONG_COLUMNS}
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    failures = 0
    for n, row in enumerate(rows, start=1):

        def get(name: str, row: dict[str, Any] = row) -> Any:
            column = cols[name]
            return row.get(column) if column else None

        model = _text(get("model"))
        task = _text(get("task"))
        metric_text = _text(get("metric"))
        value = as_float(get("value"))
        why = (
            "no model name" if not model
            else "no task" if not task
            else "no metric" if not metric_text
            else f"value {str(get('value'))[:40]!r} is not a finite number" if value is None
            else ""
        )  # fmt: skip
        step = _int(get("step"))
        n_shot = _int(get("n_shot"))
        if not why and (step is not None and step < 0 or n_shot is not None and not 0 <= n_shot < 2**31):
            why = "step or n-shot out of range"
        if why or value is None:
            failures += 1
            if failures <= MAX_REPORTED_ROWS:
                out.problems.append((f"{label}#row {n}", "error", f"table row: {why}"))
            continue
        revision = _text(get("revision")) or (f"step{step}" if step is not None else "main")
        precision = normalize_precision(_text(get("precision")))
        key = (model, revision, precision)
        group = groups.setdefault(
            key,
            {"scores": {}, "step": step, "tokens": as_float(get("tokens")), "training": _text(get("training")),
             "date": _date(get("date")), "first_row": n},
        )  # fmt: skip
        metric, filt = split_metric(metric_text)
        filt = _text(get("filter")) or filt or "none"
        stderr = as_float(get("stderr"))
        score = Score(
            task, metric, filt, value, stderr if stderr is not None and stderr >= 0 else None, n_shot,
            default_higher_is_better(metric),
        )  # fmt: skip
        group["scores"][(task, metric, filt, n_shot)] = score  # a repeated score: the later row wins
    if failures > MAX_REPORTED_ROWS:
        out.problems.append(
            (label, "error", f"{failures - MAX_REPORTED_ROWS} more table rows could not be read")
        )
    for (model, revision, precision), group in groups.items():
        path = f"{label}#{model_key(model)}@{revision}" + (f"@{precision}" if precision else "")
        training = group["training"] if group["training"] and group["training"] != model else ""
        out.evaluations.append(
            (
                path,
                Evaluation(
                    model=model,
                    revision=revision,
                    precision=precision,
                    scores=tuple(group["scores"].values()),
                    date=group["date"],
                    source_format="long table",
                    training=training or (model if group["step"] is not None else ""),
                    step=group["step"],
                    tokens=group["tokens"],
                ),
            )
        )
    return out


# ----------------------------------------------------------------------------- values
def _picker(columns: list[str], mapping: dict[str, str], defaults: dict[str, str]):
    """A getter of our field from a row: the definition's mapping first, then the layout's own name."""
    present = set(columns)

    def pick(row: dict[str, Any], name: str) -> Any:
        column = mapping.get(name) or defaults.get(name)
        return row.get(column) if column in present else None

    return pick


def _first(row: dict[str, Any], columns: list[str], names: Iterable[str]) -> Any:
    lower = {c.lower(): c for c in columns}
    for name in names:
        if name in lower and row.get(lower[name]) is not None:
            return row[lower[name]]
    return None


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".ndjson": "jsonl"}.get(suffix, suffix.lstrip("."))


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _model_from_html(text: str) -> str:
    match = _HTML_LINK_RE.search(text)
    return (match.group(1) if match else text).strip()


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return _text(value).lower() in ("true", "1", "yes", "y")


def _int(value: Any) -> int | None:
    number = as_float(value)
    if number is None or number != int(number) or abs(number) >= 2**62:
        return None
    return int(number)


def _date(value: Any) -> float | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    number = as_float(value)
    if number is not None:
        return number
    text = _text(value)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
