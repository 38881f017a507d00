"""The results tables' one declaration (lib/ingest/columns.py) is what ingest builds and DuckDB holds."""

from __future__ import annotations

import dataclasses

from lib.core.config import load_definition
from lib.core.records import Evaluation, Score
from lib.core.request import Request
from lib.index import Index
from lib.ingest.columns import EVALUATIONS, REQUESTS, SCORES, arrow_schema, ingest_columns
from lib.ingest.tables import to_tables


def test_the_index_tables_are_the_declared_columns(tmp_path):
    index = Index(load_definition("demo"), str(tmp_path / "none"), "")
    for table, columns in (("evaluations", EVALUATIONS), ("scores", SCORES), ("requests", REQUESTS)):
        described = index.con.execute(f"DESCRIBE {table}").fetchall()  # noqa: S608 - fixed names
        assert [(row[0], row[1]) for row in described] == [(c.name, c.sql_type) for c in columns]


def test_every_column_filled_from_a_record_names_an_attribute_of_it():
    fields = {f.name for f in dataclasses.fields(Evaluation)}
    for column in ingest_columns(EVALUATIONS):
        assert column.attribute is None or column.attribute in fields, column
    assert tuple(c.name for c in ingest_columns(SCORES)[1:]) == Score._fields
    request_fields = set(Request.model_fields)
    for column in REQUESTS:
        assert column.attribute is None or column.attribute in request_fields, column


def test_parsed_files_become_tables_with_the_declared_schema():
    score = Score("gpqa", "acc_norm", "none", 0.4, 0.01, 0, True, 100, "1.0")
    evaluation = Evaluation(
        "org/model", "main", "bfloat16", (score,), backend="hf", setting="add_bos_token=True", limit=10.0
    )
    evaluations, scores = to_tables([("org__model/results.json", evaluation)])
    assert evaluations.schema.equals(arrow_schema(EVALUATIONS))
    assert scores.schema.equals(arrow_schema(SCORES))
    row = evaluations.to_pylist()[0]
    assert row["eval_id"] == "org__model/results.json" and row["model_written"] == "org/model"
    assert (row["backend"], row["setting"], row["limit_n"]) == ("hf", "add_bos_token=True", 10.0)
    assert scores.to_pylist()[0]["version"] == "1.0"
