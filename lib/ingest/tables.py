"""Parsed results files as Arrow tables in the index's column order (see lib/index/sql/schema.sql).

``parse_batch`` reads, parses and tabulates a list of files and reports each failure as a row of
the ingest report; the index inserts the two tables in one go. It runs the same in the index's
process and in the worker processes of lib.ingest.parallel. No DuckDB here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lib.core.records import Evaluation
from lib.core.revisions import parse_checkpoint
from lib.ingest import IngestError, parse_result_bytes

EVAL_COLUMNS = (
    "eval_id model revision sha precision weight_type chat_template limit_n lm_eval_version git_hash date "
    "duration_s model_args batch_size source_format training step tokens request_file n_warnings"
).split()
SCORE_COLUMNS = "eval_id task metric filter value stderr n_shot higher_is_better n_samples".split()
EVAL_TYPES = {
    "chat_template": pa.bool_(),
    "limit_n": pa.float64(),
    "date": pa.float64(),
    "duration_s": pa.float64(),
    "step": pa.int64(),
    "tokens": pa.float64(),
    "n_warnings": pa.int32(),
}
SCORE_TYPES = {
    "value": pa.float64(),
    "stderr": pa.float64(),
    "n_shot": pa.int32(),
    "higher_is_better": pa.bool_(),
    "n_samples": pa.int64(),
}


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
) -> ParsedBatch:
    """Read and parse every path with ``read``; a file that cannot be parsed becomes an error row.

    ``progress`` gets the number of files read so far, every 250 files.
    """
    evaluations: list[tuple[str, Evaluation]] = []
    problems: list[tuple[str, str, str]] = []
    done: list[str] = []
    vanished: list[str] = []
    for i, path in enumerate(paths):
        if progress is not None and i % 250 == 0:
            progress(i)
        try:
            parsed = parse_result_bytes(path, read(path))
        except FileNotFoundError:
            vanished.append(path)
            continue
        except (IngestError, OSError) as exc:
            problems.append((path, "error", str(exc)))
            done.append(path)
            continue
        done.append(path)
        for evaluation in parsed:
            evaluations.append((path, evaluation))
            problems.extend((path, "warning", warning) for warning in evaluation.warnings)
    evals, scores = to_tables(evaluations, tuple(patterns))
    return ParsedBatch(evals, scores, problems, done, vanished)


def to_tables(
    evaluations: Sequence[tuple[str, Evaluation]], patterns: tuple[str, ...] = ()
) -> tuple[pa.Table, pa.Table]:
    """The evaluations and scores tables of (path, evaluation) pairs; checkpoints parsed from revisions."""
    erows: list[tuple[Any, ...]] = []
    srows: list[tuple[Any, ...]] = []
    for path, ev in evaluations:
        training, step, tokens = ev.training, ev.step, ev.tokens
        if step is None:
            checkpoint = parse_checkpoint(ev.model, ev.revision, patterns)
            if checkpoint is not None:
                training = training or checkpoint.training
                step, tokens = checkpoint.step, tokens if tokens is not None else checkpoint.tokens
        erows.append((
            path, ev.model, ev.revision, ev.sha, ev.precision, ev.weight_type, ev.chat_template, ev.limit,
            ev.lm_eval_version, ev.git_hash, ev.date, ev.duration_s, ev.model_args, ev.batch_size,
            ev.source_format, training or (ev.model if step is not None else ""), step, tokens,
            ev.request_file, len(ev.warnings),
        ))  # fmt: skip
        srows.extend((path, *score) for score in ev.scores)  # Score is a named tuple in column order
    return _table(EVAL_COLUMNS, erows, EVAL_TYPES), _table(SCORE_COLUMNS, srows, SCORE_TYPES)


def _table(columns: list[str], rows: list[tuple[Any, ...]], types: dict[str, pa.DataType]) -> pa.Table:
    values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return pa.table(
        {
            name: pa.array(list(col), type=types.get(name, pa.string()))
            for name, col in zip(columns, values, strict=True)
        }
    )
