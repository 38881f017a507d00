"""Parsed results files as Arrow tables in the index's column order (see lib/index/sql/schema.sql).

``parse_batch`` reads, parses and tabulates a list of files and reports each failure, of any kind, as a
row of the ingest report naming the file; numbers outside a column's range are dropped with a warning
row. The index inserts the two tables in one go. It runs the same in the index's
process and in the worker processes of lib.ingest.parallel. No DuckDB here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lib.core.records import Evaluation, Score
from lib.core.revisions import parse_checkpoint
from lib.ingest import IngestError, parse_result_bytes
from lib.ingest.columns import EVALUATIONS, SCORES, arrow_schema, ingest_columns
from lib.ingest.common import brief

# Column names and Arrow types come from the one declaration (lib.ingest.columns).
EVAL_COLUMNS = [c.name for c in ingest_columns(EVALUATIONS)]
SCORE_COLUMNS = [c.name for c in ingest_columns(SCORES)]
EVAL_TYPES = arrow_schema(EVALUATIONS)
SCORE_TYPES = arrow_schema(SCORES)
# A score row as Arrow reads a ``Score`` named tuple: a struct of the score columns after eval_id.
_SCORE_STRUCT = pa.struct(list(SCORE_TYPES)[1:])
# (column, Evaluation attribute) of the columns read from the record by name, in column order.
_FROM_RECORD = [(c.name, c.attribute) for c in ingest_columns(EVALUATIONS) if c.attribute is not None]


# Ranges a value must lie in to be stored; outside them it is dropped with a warning row.
_INT32 = 2**31 - 1
_INT64 = 2**63 - 1
_MAX_DATE = 2.0**33  # UNIX seconds, year 2242: pandas' nanosecond timestamps end in 2262
_MAX_REASON = 500  # characters of one ingest-report reason


@dataclass
class _FileRows:
    """The rows of one file (or of several (path, evaluation) pairs): evaluation rows in column order,
    the scores, and each score's ``eval_id``."""

    path: str
    evaluations: list[tuple[Any, ...]] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    score_ids: list[str] = field(default_factory=list)


@dataclass
class ParsedBatch:
    """What parsing some files gave: rows to insert, ingest-report rows, and which files were read."""

    evaluations: pa.Table
    scores: pa.Table
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (path, level, reason)
    read: list[str] = field(default_factory=list)  # parsed or failed: their version is now known
    vanished: list[str] = field(default_factory=list)  # removed between the listing and the read

    @property
    def failed(self) -> int:
        return len({path for path, level, _ in self.problems if level == "error"})


def parse_batch(
    read: Callable[[str], bytes],
    paths: Sequence[str],
    patterns: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
    before: Callable[[int], None] | None = None,
) -> ParsedBatch:
    """Read and parse every path with ``read``; a file that fails in any way becomes an error row.

    Each file is parsed in isolation: whatever one file raises (the parsers' IngestError, a
    RecursionError, a MemoryError, a bug) is that file's report row and the others load.
    ``progress`` gets the number of files read so far, every 250 files; ``before`` gets the index of
    each file before it is read (a worker process names the file it died on with it).
    """
    pattern_tuple = tuple(patterns)
    per_file: list[_FileRows] = []
    problems: list[tuple[str, str, str]] = []
    done: list[str] = []
    vanished: list[str] = []
    for i, path in enumerate(paths):
        if progress is not None and i % 250 == 0:
            progress(i)
        if before is not None:
            before(i)
        try:
            raw = read(path)
        except FileNotFoundError:
            vanished.append(path)
            continue
        except Exception as exc:  # noqa: BLE001 - any failure is this file's report row
            problems.append((path, "error", reason(f"cannot read the file: {_describe(exc)}")))
            done.append(path)
            continue
        done.append(path)
        try:
            rows = _FileRows(path)
            warnings: list[str] = []
            for evaluation in parse_result_bytes(path, raw):
                _rows(path, evaluation, pattern_tuple, rows, warnings)
        except Exception as exc:  # noqa: BLE001 - IngestError and anything else: this file only
            problems.append((path, "error", reason(_describe(exc))))
            continue
        finally:
            del raw
        per_file.append(rows)
        problems.extend((path, "warning", reason(w)) for w in warnings)
    evals, scores = _tables_isolated(per_file, problems)
    return ParsedBatch(evals, scores, problems, done, vanished)


def reason(text: str) -> str:
    """A report reason: bounded in length and storable (no lone surrogates)."""
    if len(text) > _MAX_REASON:
        text = text[: _MAX_REASON - 3] + "..."
    return text.encode("utf-8", "replace").decode("utf-8")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, IngestError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    if isinstance(exc, MemoryError):
        return "too large to read in memory"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"unexpected {type(exc).__name__} while reading it: {str(exc)[:200]}"


def to_tables(
    evaluations: Sequence[tuple[str, Evaluation]], patterns: tuple[str, ...] = ()
) -> tuple[pa.Table, pa.Table]:
    """The evaluations and scores tables of (path, evaluation) pairs; checkpoints parsed from revisions.

    Values out of the columns' ranges are dropped (see ``_rows``); the warnings are not returned here.
    """
    rows = _FileRows("")
    for path, ev in evaluations:
        _rows(path, ev, patterns, rows, [])
    return _both([rows])


def _rows(
    path: str,
    ev: Evaluation,
    patterns: tuple[str, ...],
    rows: _FileRows,
    warnings: list[str],
) -> None:
    """Append one evaluation's rows; numbers outside their column's range are dropped with a warning."""
    warnings.extend(ev.warnings)
    training, step, tokens = ev.training, _int_in(ev.step, _INT64, "step", warnings), ev.tokens
    if step is None:
        checkpoint = parse_checkpoint(ev.model, ev.revision, patterns)
        if checkpoint is not None:
            training = training or checkpoint.training
            step, tokens = checkpoint.step, tokens if tokens is not None else checkpoint.tokens
    step = _int_in(step, _INT64, "step", warnings)
    tokens = _float_in(tokens, 2.0**63, "tokens", warnings)
    date = _float_in(ev.date, _MAX_DATE, "date", warnings)
    row = {name: getattr(ev, attribute) for name, attribute in _FROM_RECORD}
    row.update(
        eval_id=path,
        limit_n=_float_in(ev.limit, float(_INT64), "limit", warnings),
        date=date,
        duration_s=_float_in(ev.duration_s, float(_INT64), "total_evaluation_time_seconds", warnings),
        training=training or (ev.model if step is not None else ""),
        step=step,
        tokens=tokens,
    )
    row["n_warnings"] = len(warnings)
    rows.evaluations.append(tuple(row[name] for name in EVAL_COLUMNS))
    srows = rows.scores
    first = len(srows)
    for score in ev.scores:  # Score is a named tuple in column order
        n_shot, n_samples = score.n_shot, score.n_samples
        if (n_shot is None or 0 <= n_shot <= _INT32) and (n_samples is None or 0 <= n_samples <= _INT64):
            srows.append(score)
        elif n_shot is not None and not 0 <= n_shot <= _INT32:
            warnings.append(f"{score.task}: n-shot {brief(n_shot)} is out of range; score skipped")
        else:
            warnings.append(f"{score.task}: n-samples {brief(n_samples)} is out of range; ignored")
            srows.append(score._replace(n_samples=None))
    rows.score_ids.extend([path] * (len(srows) - first))


def _int_in(value: Any, high: int, name: str, warnings: list[str]) -> int | None:
    if value is None or (type(value) is int and 0 <= value <= high):
        return value
    warnings.append(f"{name} {brief(value)} is out of range; ignored")
    return None


def _float_in(value: Any, high: float, name: str, warnings: list[str]) -> float | None:
    if value is None or (isinstance(value, float) and 0.0 <= value <= high):
        return value
    if type(value) is int and 0 <= value <= high:
        return float(value)
    warnings.append(f"{name} {brief(value)} is out of range; ignored")
    return None


def _tables_isolated(
    per_file: list[_FileRows], problems: list[tuple[str, str, str]]
) -> tuple[pa.Table, pa.Table]:
    """All files' rows as two tables; if that fails, file by file, so one bad file is one error row."""
    try:
        return _both(per_file)
    except Exception:  # noqa: BLE001 - find the file that cannot be stored
        pass
    good: list[_FileRows] = []
    for rows in per_file:
        try:
            _both([rows])
        except Exception as exc:  # noqa: BLE001
            problems.append((rows.path, "error", reason(f"a value cannot be stored: {_describe(exc)}")))
        else:
            good.append(rows)
    return _both(good)


def _both(per_file: list[_FileRows]) -> tuple[pa.Table, pa.Table]:
    """The evaluations and scores tables of some files' rows, built column by column.

    Scores stay the ``Score`` named tuples the parsers made (their fields are the score columns after
    ``eval_id``): Arrow reads them as one struct array, whose fields are the columns (no per-column
    Python sequence is built: a ``zip(*scores)`` transposition cost as much as the arrays)."""
    erows = [row for rows in per_file for row in rows.evaluations]
    scores = [score for rows in per_file for score in rows.scores]
    ids = [eval_id for rows in per_file for eval_id in rows.score_ids]
    eval_columns = list(zip(*erows, strict=True)) if erows else [() for _ in EVAL_COLUMNS]
    score_columns = [ids, *pa.array(scores, type=_SCORE_STRUCT).flatten()]
    return _table(EVAL_COLUMNS, eval_columns, EVAL_TYPES), _table(SCORE_COLUMNS, score_columns, SCORE_TYPES)


def _table(columns: list[str], values: list[Any], schema: pa.Schema) -> pa.Table:
    """An Arrow table of ``values``, one sequence (or Arrow array of the column's type) per column."""
    return pa.Table.from_arrays(
        [
            col if isinstance(col, pa.Array) else pa.array(col, type=schema.field(name).type)
            for name, col in zip(columns, values, strict=True)
        ],
        schema=schema,
    )
