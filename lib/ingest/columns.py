"""The index's two results tables, declared once: every column's name, types and meaning.

``EVALUATIONS`` and ``SCORES`` are the contract between ingest (which builds Arrow tables of parsed
files, here and in worker processes) and the index (which creates the DuckDB tables and inserts the
Arrow tables by column name). The Arrow schemas and the ``CREATE TABLE`` statements are derived from
these tuples, so adding a column to what a results file yields touches this file and the record that
carries the value (``lib.core.records.Evaluation`` or ``Score``), nothing else: a column whose
``source`` names an attribute of the record is filled from it by name.

Columns marked ``index_only`` are assigned by the index at insert time (integer ids, the row-identity
hash) and are not part of the Arrow tables. No DuckDB here: the statements are text.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from lib.core.records import Score

_ARROW = {
    "VARCHAR": pa.string(),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(),
    "UBIGINT": pa.uint64(),
}


@dataclass(frozen=True)
class Column:
    """One column: its name, its DuckDB type, what it means, and where its value comes from."""

    name: str
    sql_type: str
    doc: str = ""
    source: str | None = ""  # the record attribute it is read from ('' = its own name; None = computed)
    index_only: bool = False  # filled by the index when it inserts, not by ingest

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW[self.sql_type]

    @property
    def attribute(self) -> str | None:
        return self.name if self.source == "" else self.source


EVALUATIONS: tuple[Column, ...] = (
    Column("eval_id", "VARCHAR", "the results file's path in the results store", source=None),
    Column("model", "VARCHAR", "the model id, in the casing shown (see canonical_models.sql)"),
    Column("revision", "VARCHAR", "branch, tag or commit the evaluation used"),
    Column("sha", "VARCHAR", "the resolved commit, when known"),
    Column("precision", "VARCHAR"),
    Column("weight_type", "VARCHAR", "Original, Delta or Adapter"),
    Column("chat_template", "BOOLEAN"),
    Column("limit_n", "DOUBLE", "lm-eval's --limit: set means a partial run", source=None),
    Column("lm_eval_version", "VARCHAR"),
    Column("git_hash", "VARCHAR"),
    Column("date", "DOUBLE", "UNIX seconds", source=None),
    Column("duration_s", "DOUBLE", "total evaluation time", source=None),
    Column("model_args", "VARCHAR"),
    Column("batch_size", "VARCHAR"),
    Column("source_format", "VARCHAR", "the parser that read the file"),
    Column("training", "VARCHAR", "the training a checkpoint belongs to", source=None),
    Column("step", "BIGINT", "the checkpoint's step", source=None),
    Column("tokens", "DOUBLE", "tokens seen at the checkpoint", source=None),
    Column("request_file", "VARCHAR"),
    Column("n_warnings", "INTEGER", "ingest warnings of the file", source=None),
    Column("base_model", "VARCHAR", "the base of an adapter (peft=) or delta weights"),
    Column("backend", "VARCHAR", "lm-eval's model type (hf, vllm, local-completions, ...)"),
    Column("setting", "VARCHAR", "model arguments that may change scores, k=v,... (docs/formats.md)"),
    Column(
        "model_written",
        "VARCHAR",
        "the model id as the file spells it; `model` is the shown casing",
        source="model",
    ),  # fmt: skip
    Column("eval_no", "INTEGER", "a small integer id, for fast joins and groupings", index_only=True),
    Column(
        "base_no",
        "UBIGINT",
        "hash of (model key, sha or revision, precision, chat template, limit, setting)",
        index_only=True,
    ),  # fmt: skip
)

SCORES: tuple[Column, ...] = (
    Column("eval_id", "VARCHAR", "evaluations.eval_id", source=None),
    Column("task", "VARCHAR"),
    Column("metric", "VARCHAR"),
    Column("filter", "VARCHAR", "lm-eval's filter (none, strict-match, ...)"),
    Column("value", "DOUBLE"),
    Column("stderr", "DOUBLE"),
    Column("n_shot", "INTEGER"),
    Column("higher_is_better", "BOOLEAN"),
    Column("n_samples", "BIGINT"),
    Column("version", "VARCHAR", "lm-eval's task version (the file's `versions` block), NULL when unknown"),
    Column("eval_no", "INTEGER", "evaluations.eval_no of eval_id", index_only=True),
)

# The requests table: one row per request file (and per model of a table source's metadata). Filled
# by the index from lib.core.request.Request records, by attribute name.
REQUESTS: tuple[Column, ...] = (
    Column("path", "VARCHAR", "the request file's path in the requests store"),
    Column("model", "VARCHAR"),
    Column("revision", "VARCHAR"),
    Column("precision", "VARCHAR"),
    Column("weight_type", "VARCHAR"),
    Column("status", "VARCHAR", "PENDING, RUNNING, FINISHED or FAILED", source=None),
    Column("submitted_time", "VARCHAR"),
    Column("base_model", "VARCHAR"),
    Column("model_type", "VARCHAR", "the category as submitted"),
    Column("private", "BOOLEAN"),
    Column("params", "DOUBLE", "parameters, in billions"),
    Column("license", "VARCHAR"),
    Column("likes", "BIGINT"),
    Column("architecture", "VARCHAR", "the first of the model's architectures", source=None),
    Column("use_chat_template", "BOOLEAN"),
    Column("sender", "VARCHAR"),
    Column("error", "VARCHAR", "why a FAILED request failed"),
    Column("flagged", "VARCHAR", "an admin's reason, empty when not flagged"),
    Column("merged", "BOOLEAN"),
    Column("moe", "BOOLEAN"),
    Column("on_hub", "BOOLEAN"),
    Column("training", "VARCHAR"),
    Column("step", "BIGINT"),
    Column("tokens", "DOUBLE"),
)


def ingest_columns(columns: tuple[Column, ...]) -> tuple[Column, ...]:
    """The columns ingest fills (the Arrow table's), in order."""
    return tuple(c for c in columns if not c.index_only)


def arrow_schema(columns: tuple[Column, ...]) -> pa.Schema:
    """The Arrow schema of the columns ingest fills."""
    return pa.schema([(c.name, c.arrow_type) for c in ingest_columns(columns)])


def create_table(name: str, columns: tuple[Column, ...]) -> str:
    """``CREATE TABLE name (...)`` with every column, its type and its meaning as a comment."""
    lines = []
    for i, c in enumerate(columns):
        line = f"    {c.name} {c.sql_type}{',' if i < len(columns) - 1 else ''}"
        lines.append(f"{line:<30}-- {c.doc}" if c.doc else line)
    return f"CREATE TABLE {name} (\n" + "\n".join(lines) + "\n);"


# A score row is (eval_id, *Score): the named tuple's fields must be the score columns, in order.
if tuple(c.name for c in ingest_columns(SCORES)[1:]) != Score._fields:  # pragma: no cover - a dev error
    raise ImportError(f"lib.core.records.Score fields {Score._fields} differ from lib.ingest.columns.SCORES")
