"""Table sources: scores kept as tables (CSV, Parquet, JSON lines), read with DuckDB's own readers.

Layouts (docs/formats.md, "Table sources"):

- ``open_llm_leaderboard``: the Open LLM Leaderboard's ``contents`` dataset, one row per evaluated model,
  a normalized and a raw column per benchmark (``GPQA`` / ``GPQA Raw``) and the model's metadata;
- ``wide``: one row per model, the benchmarks' columns named in the definition (``benchmarks``,
  ``normalized``);
- ``long``: one row per score (model or training, revision, step, tokens, task, metric, value, stderr,
  n-shot), what W&B exports and evaluation scripts write.

Each table becomes ``Evaluation`` records (tabulated by lib.ingest.tables like results files), metadata
rows in the shape of the requests table (type, license, likes, params, flags...), and report rows for
the table rows that cannot be read (``<location>#row <n>``). Benchmark-level scores of wide tables are
kept as scores of the task ``benchmark:<id>`` with metrics ``raw`` and ``normalized``, which the
leaderboard query reads when a row has no task-level score for that benchmark. This module reads
tables; it never writes anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lib.core.config import Benchmark, Definition
from lib.core.records import default_higher_is_better
from lib.core.revisions import parse_checkpoint
from lib.core.schema import TableSource
from lib.index import table_columns as tc
from lib.index.sql_files import sql
from lib.ingest.columns import REQUESTS, arrow_schema
from lib.ingest.common import model_key, normalize_precision
from lib.ingest.tables import EVAL_TYPES, SCORE_TYPES

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".jsonl", ".ndjson")
BENCHMARK_TASK_PREFIX = "benchmark:"
MAX_REPORTED_ROWS = 200  # report rows per table; the rest are counted in one row

# The Open LLM Leaderboard's `contents` columns (formats.md §6) -> our fields.
OLL_COLUMNS = {
    "model": "fullname",
    "model_html": "Model",
    "sha": "Model sha",
    "precision": "Precision",
    "weight_type": "Weight type",
    "chat_template": "Chat Template",
    "date": "Submission Date",
    "model_type": "Type",
    "architecture": "Architecture",
    "license": "Hub License",
    "likes": "Hub ❤️",
    "params": "#Params (B)",
    "on_hub": "Available on the hub",
    "moe": "MoE",
    "flagged": "Flagged",
    "merged": "Merged",
    "base_model": "Base Model",
    "upload_date": "Upload To Hub Date",
}
# Long tables: our field -> the column names tried, in order (case-insensitive).
LONG_COLUMNS = {
    "model": ("model", "model_name", "model_id", "training", "run", "run_name"),
    "training": ("training", "run", "run_name"),
    "revision": ("revision", "branch", "checkpoint"),
    "step": ("step", "global_step", "train_step"),
    "tokens": ("tokens", "tokens_seen", "consumed_tokens"),
    "task": ("task", "benchmark", "dataset"),
    "metric": ("metric", "metric_name"),
    "filter": ("filter",),
    "value": ("value", "score", "result"),
    "stderr": ("stderr", "std_err", "se", "value_stderr"),
    "n_shot": ("n_shot", "num_fewshot", "shots", "n-shot", "fewshot"),
    "precision": ("precision", "dtype"),
    "date": ("date", "timestamp", "created_at"),
}
WIDE_COLUMNS = {"model": ("model", "model_name", "fullname", "model_id"), "revision": ("revision", "sha")}
_HTML_LINK = r">(?P<model>[^<>]+)</a>"  # the model id in the OLL's `Model` link (RE2: no backtracking)
_READERS = ("csv", "tsv", "parquet", "jsonl")  # lib/index/sql/table_read_<format>.sql
REQUEST_TYPES = arrow_schema(REQUESTS)
_BENCH_NAMES = ("col", "k", "task", "metric", "higher_is_better")
_BENCH_TYPES = (pa.string(), pa.int32(), pa.string(), pa.string(), pa.bool_())


class TableError(ValueError):
    """A table that cannot be read at all (its report row says why)."""


@dataclass
class TableRead:
    """What one table gave: the evaluations and scores tables (lib/ingest/columns.py), metadata rows in
    the requests table's shape, and report rows."""

    evaluations: pa.Table = field(default_factory=EVAL_TYPES.empty_table)
    scores: pa.Table = field(default_factory=SCORE_TYPES.empty_table)
    metadata: pa.Table = field(default_factory=REQUEST_TYPES.empty_table)
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


def version(path: Path, source: TableSource, definition: Definition) -> str:
    """What tells a change of a table: its file's modification time, size and path (a Hub download's path
    names the commit), and a digest of what decides how it is read (the entry, the definition's benchmarks
    and revision patterns). The time comes first, as in a results file's version: the persisted index
    re-reads a table changed too close to its snapshot (lib.index.cache, the "racy" rule)."""
    how = [
        source.model_dump(mode="json"),
        [(b.id, b.name, b.higher_is_better) for b in definition.benchmarks],
        list(definition.revision_patterns),
    ]
    digest = hashlib.sha256(json.dumps(how, sort_keys=True).encode()).hexdigest()[:16]
    try:
        st = os.stat(path)
    except OSError:
        return f"missing:{digest}"
    return f"{st.st_mtime_ns}:{st.st_size}:{digest}:{path}"


def read_arrow(path: Path, fmt: str, con: duckdb.DuckDBPyConnection) -> pa.Table:
    """A table file as an Arrow table, read by DuckDB's reader for its format (lib/index/sql/table_read_*)."""
    kind = fmt if fmt != "auto" else _format_of(path)
    if kind not in _READERS:
        raise TableError(f"{path.name}: unknown table format; name it csv, parquet or jsonl")
    try:
        return con.sql(sql(f"table_read_{kind}"), params={"path": str(path)}).to_arrow_table()
    except duckdb.Error as exc:
        raise TableError(f"{path.name}: DuckDB cannot read it as {kind}: {str(exc).splitlines()[0]}") from exc


Sink = Callable[[pa.Table, pa.RecordBatchReader], None]


def read_source(
    source: TableSource, definition: Definition, path: Path | None = None, sink: Sink | None = None
) -> TableRead:
    """Every evaluation, metadata row and report row of one table source (``path``: its fetched file).

    With a ``sink``, the scores are not returned: the sink gets the evaluations and a stream of the
    scores (Arrow record batches), to insert while they are made. A table of 1,000,000 rows x 20
    benchmarks has 20,000,000 scores; held whole as Arrow they would cost gigabytes more at the peak."""
    label = source.location
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")  # naive dates in a table are UTC, as in results files
        try:
            table = read_arrow(path or fetch(source.location), source.format, con)
            layout = source.layout if source.layout != "auto" else detect_layout(table.column_names, source)
        except TableError as exc:
            return TableRead(problems=[(label, "error", str(exc))])
        if layout == "long":
            return _read_long(con, label, table, source, definition, sink)
        return _read_wide(con, label, table, source, definition, layout == "open_llm_leaderboard", sink)
    finally:
        con.close()


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
    con: duckdb.DuckDBPyConnection,
    label: str,
    table: pa.Table,
    source: TableSource,
    definition: Definition,
    oll: bool,
    sink: Sink | None,
) -> TableRead:
    out = TableRead()
    columns = table.column_names
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
    n = table.num_rows
    by_name = _by_name(table)
    defaults = OLL_COLUMNS if oll else {}

    def pick(name: str) -> tc.Column | None:  # the definition's mapping first, then the layout's own name
        column = source.columns.get(name) or defaults.get(name)
        return by_name.get(column) if column else None

    lower = {c.lower(): c for c in columns}

    def first(names: Iterable[str]) -> list[tc.Column]:
        return [by_name[lower[c]] for c in names if c in lower]

    model = tc.texts(con, pick("model"), n)
    html = tc.texts(con, pick("model_html"), n)
    link = pc.struct_field(pc.extract_regex(html, _HTML_LINK), [0])
    from_html = pc.utf8_trim_whitespace(pc.if_else(pc.is_valid(link), link, html))
    model = pc.if_else(pc.not_equal(model, ""), model, from_html)
    if not oll:
        model = pc.if_else(
            pc.not_equal(model, ""), model, tc.first_present(con, first(WIDE_COLUMNS["model"]), n)
        )
    sha = tc.texts(con, pick("sha"), n)
    sha = pc.if_else(pc.not_equal(sha, ""), sha, tc.first_present(con, first(WIDE_COLUMNS["revision"]), n))
    rows: dict[str, Any] = {
        "row_n": pa.array(range(1, n + 1), type=pa.int64()),
        "model": model,
        "sha": sha,
        "precision": _precisions(con, pick("precision"), n),
        "weight_type": tc.texts(con, pick("weight_type"), n),
        "chat_template": tc.flags(con, pick("chat_template"), n),
        "date": tc.dates(con, pick("date"), n),
        "date_text": tc.texts(con, pick("date"), n),
        "base_model": tc.texts(con, pick("base_model"), n),
        "model_type": tc.texts(con, pick("model_type"), n),
        "params": tc.numbers(con, pick("params"), n),
        "license": tc.texts(con, pick("license"), n),
        "likes": tc.whole(con, pick("likes"), n),
        "architecture": tc.texts(con, pick("architecture"), n),
        "flagged": tc.flags(con, pick("flagged"), n),
        "merged": tc.flags(con, pick("merged"), n),
        "moe": tc.flags(con, pick("moe"), n),
        "on_hub": pc.or_(pc.invert(tc.present(pick("on_hub"), n)), tc.flags(con, pick("on_hub"), n)),
    }
    benchmarks: list[tuple[str, int, str, str, bool]] = []  # (column, k, task, metric, higher is better)
    has_score = pa.repeat(pa.scalar(False), n)
    for bench, raw_col, norm_col in pairs:
        for metric, name in (("raw", raw_col), ("normalized", norm_col)):
            if name is None:
                continue
            key = f"s{len(benchmarks)}"
            values = tc.numbers(con, by_name[name], n)
            rows[key] = values
            has_score = pc.or_(has_score, pc.is_valid(values))
            benchmarks.append(
                (key, len(benchmarks), BENCHMARK_TASK_PREFIX + bench.id, metric, bench.higher_is_better)
            )
    rows["has_score"] = has_score
    con.register("table_rows", pa.table(rows))
    con.register("table_benchmarks", _rows_table(_BENCH_NAMES, _BENCH_TYPES, benchmarks))
    params = {"label": label}
    con.execute(sql("table_wide_rows"), params)
    _report_failures(con, "table_wide_failures", label, out)
    fmt = "Open LLM Leaderboard table" if oll else "wide table"
    out.evaluations = _evaluations(con, fmt, definition)
    _scores(con, "table_wide_scores", params, out, sink)
    out.metadata = con.sql(sql("table_wide_metadata")).to_arrow_table().cast(REQUEST_TYPES)
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
def _read_long(
    con: duckdb.DuckDBPyConnection,
    label: str,
    table: pa.Table,
    source: TableSource,
    definition: Definition,
    sink: Sink | None,
) -> TableRead:
    out = TableRead()
    columns = table.column_names
    lower = {c.lower(): c for c in columns}
    by_name = _by_name(table)
    n = table.num_rows

    def get(name: str) -> tc.Column | None:
        if name in source.columns:
            return by_name.get(source.columns[name])
        return next((by_name[lower[c]] for c in LONG_COLUMNS[name] if c in lower), None)

    metric_text = tc.texts(con, get("metric"), n)
    split = pc.extract_regex(metric_text, r"(?s)^(?P<name>[^,]*)(?:,(?P<filter>.*))?$")
    value = get("value")
    value_text = _raw_text(con, value, n) if value is not None else pa.repeat(pa.scalar("None"), n)
    rows = {
        "row_n": pa.array(range(1, n + 1), type=pa.int64()),
        "model": tc.texts(con, get("model"), n),
        "training": tc.texts(con, get("training"), n),
        "revision_text": tc.texts(con, get("revision"), n),
        "step_number": tc.numbers(con, get("step"), n),
        "tokens": tc.numbers(con, get("tokens"), n),
        "task": tc.texts(con, get("task"), n),
        "metric_text": metric_text,
        "metric_name": pc.utf8_trim_whitespace(pc.fill_null(pc.struct_field(split, [0]), "")),
        "metric_filter": pc.utf8_trim_whitespace(pc.fill_null(pc.struct_field(split, [1]), "")),
        "filter_text": tc.texts(con, get("filter"), n),
        "value": tc.numbers(con, value, n),
        "value_text": value_text,
        "stderr": tc.numbers(con, get("stderr"), n),
        "n_shot_number": tc.numbers(con, get("n_shot"), n),
        "precision": _precisions(con, get("precision"), n),
        "date": tc.dates(con, get("date"), n),
    }
    con.register("table_rows", pa.table(rows))
    con.execute(sql("table_long_rows"))
    _report_failures(con, "table_long_failures", label, out)
    models = [m for (m,) in con.execute(sql("table_long_models")).fetchall()]
    con.register(
        "model_keys",
        _rows_table(("model", "key"), (pa.string(), pa.string()), [(m, model_key(m)) for m in models]),
    )
    metrics = [m for (m,) in con.execute(sql("table_long_metrics")).fetchall()]
    con.register(
        "metric_directions",
        _rows_table(
            ("metric", "higher_is_better"),
            (pa.string(), pa.bool_()),
            [(m, default_higher_is_better(m)) for m in metrics],
        ),
    )
    con.execute(sql("table_long_ok"))
    con.execute(sql("table_long_evals"), {"label": label})
    out.evaluations = _evaluations(con, "long table", definition)
    _scores(con, "table_long_scores", {}, out, sink)
    return out


# ----------------------------------------------------------------------------- shared
def _evaluations(con: duckdb.DuckDBPyConnection, source_format: str, definition: Definition) -> pa.Table:
    """The evaluations table of ``table_evals``, with checkpoints parsed from revisions (distinct pairs
    that may name one only, see table_checkpoint_candidates.sql)."""
    patterns = tuple(definition.revision_patterns)
    maybe = "[0-9]" if patterns else "step|checkpoint-"  # what any built-in scheme's name contains
    pairs = con.execute(sql("table_checkpoint_candidates"), {"maybe": maybe}).fetchall()
    found = []
    for model, revision in pairs:
        checkpoint = parse_checkpoint(model, revision, patterns)
        if checkpoint is not None:
            found.append((model, revision, checkpoint.training, checkpoint.step, checkpoint.tokens))
    con.register(
        "table_checkpoints",
        pa.table(
            {
                "model": pa.array([r[0] for r in found], pa.string()),
                "revision": pa.array([r[1] for r in found], pa.string()),
                "training": pa.array([r[2] for r in found], pa.string()),
                "step": pa.array([r[3] for r in found], pa.int64()),
                "tokens": pa.array([r[4] for r in found], pa.float64()),
            }
        ),
    )
    query = sql("table_evaluations")
    return con.sql(query, params={"source_format": source_format}).to_arrow_table().cast(EVAL_TYPES)


def _scores(
    con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any], out: TableRead, sink: Sink | None
) -> None:
    """The scores of ``out.evaluations``: into ``out.scores``, or streamed to the sink with them."""
    if not out.evaluations.num_rows:
        return
    relation = con.sql(sql(query), params=params or None)
    if sink is None:
        out.scores = relation.to_arrow_table().cast(SCORE_TYPES)
    else:
        sink(out.evaluations, relation.to_arrow_reader(100_000))


def _report_failures(con: duckdb.DuckDBPyConnection, query: str, label: str, out: TableRead) -> None:
    """Report rows ``<location>#row <n>`` for the first MAX_REPORTED_ROWS rows that cannot be stored,
    then one row counting the rest."""
    failures = con.execute(sql(query), {"limit": MAX_REPORTED_ROWS}).fetchall()
    for row_n, why, value_text, _ in failures:
        if why == "not finite":
            why = f"value {value_text[:40]!r} is not a finite number"
        out.problems.append((f"{label}#row {row_n}", "error", f"table row: {why}"))
    total = failures[0][3] if failures else 0
    if total > MAX_REPORTED_ROWS:
        out.problems.append(
            (label, "error", f"{total - MAX_REPORTED_ROWS} more table rows could not be read")
        )


def _precisions(con: duckdb.DuckDBPyConnection, column: tc.Column | None, n: int) -> pa.Array:
    """The leaderboard's precision names, normalised once per distinct value."""
    text = tc.texts(con, column, n)
    distinct = pc.unique(text)
    names = pa.array([normalize_precision(v) for v in distinct.to_pylist()], type=pa.string())
    return pc.take(names, pc.index_in(text, value_set=distinct))


def _raw_text(con: duckdb.DuckDBPyConnection, column: tc.Column, n: int) -> pa.Array:
    """A value column as the text a report shows ('None' for an empty cell), not stripped."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_floating(array.type) or pa.types.is_integer(array.type):
        text = array.cast(pa.string())
    elif pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        text = array.cast(pa.string())
    else:
        text = tc.texts(con, array, n)
    return pc.fill_null(text, "None")


def _by_name(table: pa.Table) -> dict[str, tc.Column]:
    """Columns by name; of two columns with one name, the later (as a row mapping would keep)."""
    return {name: table.column(i) for i, name in enumerate(table.column_names)}


def _rows_table(
    names: tuple[str, ...], types: tuple[pa.DataType, ...], rows: list[tuple[Any, ...]]
) -> pa.Table:
    """A few rows (one per distinct value, never per score) as an Arrow table to register."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table({n: pa.array(list(v), type=t) for n, t, v in zip(names, types, columns, strict=True)})


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".ndjson": "jsonl"}.get(suffix, suffix.lstrip("."))


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())
