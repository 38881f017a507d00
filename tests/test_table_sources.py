"""The vectorised table reader (lib/index/table_sources.py) against the per-row reader it replaced
(tests/table_reference.py), on seeded generated tables full of hostile values: absurd numbers, NaN and
infinities, text in numeric columns, hostile and huge model ids, HTML in the OLL `Model` column, dates
in many forms, repeated scores, rows without a model or a score, more failing rows than are reported.

Both must give the same evaluations, scores, metadata rows and report rows, in CSV, Parquet and JSON
lines. Known, deliberate differences are kept out of the generator and tested on their own below.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lib.core.config import load_definition
from lib.core.schema import TableSource
from lib.index import table_sources
from lib.ingest.tables import to_tables
from tests import table_reference

DEMO = load_definition("demo")  # the OLL v2 benchmarks: IFEval, BBH, MATH Lvl 5, GPQA, MUSR, MMLU-PRO
OLL_BENCHMARKS = ("IFEval", "BBH", "MATH Lvl 5", "GPQA", "MUSR", "MMLU-PRO")

NUMBERS: list[Any] = [
    0.5, 0.0, 1.0, 71.0, -3.5, 1e308, -1e308, 1e-320, 12345678901234.0, None, float("nan"), float("inf"),
    float("-inf"), "0.25", " 0.75 ", "n/a", "", "NaN", "inf", "-Infinity", "1e400", "abc", "12%", "0x10",
    "1e3", "+2.5", "\t3\n", 7, -1, 10**15, True, False,
]  # fmt: skip
MODELS: list[Any] = [
    "org/model", "Org/Model-7B", "org/model", "../../etc/passwd", "/data/runs/exp1/checkpoint-500",
    "./local/model", "C:\\models\\m", "~/m", "<script>alert(1)</script>", "' OR 1=1 --", "模型/名字",
    "org/x\u202eevil", "  spaced/model  ", "", None, "a" * 5000, "org/m" + "/x" * 300, "null", "0",
    "org/model@main", "org/step100", "runs/a/step2000", 42, 3.5,
]  # fmt: skip
TEXTS: list[Any] = [
    "bfloat16", "float16", "FP16", "torch.float32", "8bit", "load_in_4bit", "", None, "main",
    "stage1-step1000-tokens4B", "step143000", "global_step500", "checkpoint-12", "<b>x</b>", "x" * 3000,
    "True", "false", "yes", "Y", "1", "0", "apache-2.0", 7, True,
]  # fmt: skip
DATES: list[Any] = [
    "2024-06-20", "2024-06-20T10:00:00Z", "2024-06-20T10:00:00+02:00", "2024-06-20 10:00:00", "not a date",
    "", None, 1718841600, 1718841600.5, -5.0, 1e12, "1718841600", "2262-01-01", "1969-12-31",
]  # fmt: skip
HTML = [
    '<a target="_blank" href="https://huggingface.co/{m}" style="color: red">{m}</a>',
    "<a href='x'>{m}</a> and <a href='y'>other/model</a>",
    "{m}",
    "<a>no closing",
    "<img src=x onerror=alert(1)>",
]


def _pick(rng: random.Random, pool: list[Any]) -> Any:
    return pool[rng.randrange(len(pool))]


def _oll_rows(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows = []
    for _ in range(n):
        model = _pick(rng, MODELS)
        row: dict[str, Any] = {
            "eval_name": "x",
            "Precision": _pick(rng, TEXTS),
            "Type": _pick(rng, TEXTS),
            "Weight type": _pick(rng, TEXTS),
            "Architecture": _pick(rng, TEXTS),
            "Model": _pick(rng, HTML).format(m=model if isinstance(model, str) else "org/m"),
            "fullname": model if rng.random() < 0.7 else None,
            "Model sha": _pick(rng, TEXTS),
            "Hub License": _pick(rng, TEXTS),
            "Hub ❤️": _pick(rng, NUMBERS),
            "#Params (B)": _pick(rng, NUMBERS),
            "Available on the hub": _pick(rng, TEXTS),
            "MoE": _pick(rng, TEXTS),
            "Flagged": _pick(rng, TEXTS),
            "Chat Template": _pick(rng, TEXTS),
            "Merged": _pick(rng, TEXTS),
            "Submission Date": _pick(rng, DATES),
            "Base Model": _pick(rng, TEXTS),
            "Unknown Bench": _pick(rng, NUMBERS),
            "Unknown Bench Raw": _pick(rng, NUMBERS),
        }
        empty = rng.random() < 0.3  # a row without any numeric score
        for name in OLL_BENCHMARKS:
            row[name] = _pick(rng, NUMBERS) if not empty and rng.random() < 0.9 else _pick(rng, [None, "n/a"])
            row[f"{name} Raw"] = _pick(rng, NUMBERS) if not empty and rng.random() < 0.9 else None
        if rng.random() < 0.15:  # no model: neither a full name nor a link
            row["fullname"], row["Model"] = None, _pick(rng, ["", None, "<a href='x'></a>"])
        rows.append(row)
    return rows


def _long_rows(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows = []
    for _ in range(n):
        rows.append(
            {
                "model": _pick(rng, MODELS[:12]) if rng.random() < 0.95 else "",
                "training": _pick(rng, ["", "org/model", "run-a", None]),
                "revision": _pick(rng, ["", "main", "step100", "stage1-step1000-tokens4B", None, "v1.0"]),
                "step": _pick(rng, [None, 0, 100, 2000, -1, 1.5, "300", "x", 2**63, 1e30]),
                "tokens": _pick(rng, [None, 4e9, -1.0, 1e30, "8e9", "x"]),
                "task": _pick(rng, ["hellaswag", "arc_easy", "", None, "mmlu", " gsm8k "]),
                "metric": _pick(
                    rng,
                    [
                        "acc",
                        "acc_norm,none",
                        "exact_match,strict-match",
                        "perplexity",
                        " ",
                        "word_perplexity",
                    ],
                ),
                "filter": _pick(rng, [None, "", "flexible-extract"]),
                "value": _pick(rng, NUMBERS),
                "stderr": _pick(rng, [None, 0.01, -0.5, "x", float("nan")]),
                "n_shot": _pick(rng, [None, 0, 5, -1, 2**31, 2.5, "3"]),
                "precision": _pick(rng, TEXTS),
                "date": _pick(rng, DATES),
            }
        )
    return rows


def _write(rows: list[dict[str, Any]], path: Path) -> None:
    """The rows as CSV (every value as text), JSON lines or Parquet (each column as strings when its
    values are of mixed types, which Parquet cannot hold otherwise)."""
    names = list(rows[0])
    if path.suffix == ".csv":
        import csv

        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(names)
            for row in rows:
                writer.writerow(["" if row[c] is None else row[c] for c in names])
    elif path.suffix == ".jsonl":
        with path.open("w", encoding="utf-8") as handle:
            for row in rows:
                clean = {
                    k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()
                }
                handle.write(json.dumps(clean) + "\n")
    else:
        columns = {}
        for c in names:
            values = [row[c] for row in rows]
            kinds = {type(v) for v in values if v is not None}
            if kinds <= {float} or kinds <= {int} or kinds <= {bool}:
                columns[c] = pa.array(values)
            else:
                columns[c] = pa.array([None if v is None else str(v) for v in values], type=pa.string())
        pq.write_table(pa.table(columns), path)


def _old(source: TableSource, definition, path: Path) -> dict[str, Any]:
    read = table_reference.read_source(source, definition, path)
    evaluations, scores = to_tables(read.evaluations, definition.revision_patterns)
    metadata = [{c: row.get(c) for c in table_sources.REQUEST_TYPES.names} for row in read.metadata]
    return {"evaluations": evaluations, "scores": scores, "metadata": metadata, "problems": read.problems}


def _new(source: TableSource, definition, path: Path) -> dict[str, Any]:
    read = table_sources.read_source(source, definition, path)
    return {
        "evaluations": read.evaluations,
        "scores": read.scores,
        "metadata": read.metadata.to_pylist(),
        "problems": read.problems,
    }


def _same_rows(old: list[dict[str, Any]], new: list[dict[str, Any]], key: tuple[str, ...]) -> None:
    def order(row: dict[str, Any]) -> tuple[str, ...]:
        return tuple(str(row[k]) for k in key)

    old, new = sorted(old, key=order), sorted(new, key=order)
    assert len(old) == len(new)
    for a, b in zip(old, new, strict=True):
        assert a.keys() == b.keys()
        for name in a:
            if isinstance(a[name], float) and isinstance(b[name], float):
                assert a[name] == pytest.approx(b[name], rel=1e-12, abs=1e-6), (name, a, b)
            else:
                assert a[name] == b[name], (name, a, b)


def _assert_alike(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert new["problems"] == old["problems"]
    assert new["evaluations"].schema == old["evaluations"].schema
    assert new["scores"].schema == old["scores"].schema
    _same_rows(old["evaluations"].to_pylist(), new["evaluations"].to_pylist(), ("eval_id",))
    _same_rows(
        old["scores"].to_pylist(),
        new["scores"].to_pylist(),
        ("eval_id", "task", "metric", "filter", "n_shot"),
    )
    _same_rows(old["metadata"], new["metadata"], ("path",))


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
@pytest.mark.parametrize("seed", [1, 2])
def test_open_llm_leaderboard_tables_read_as_the_per_row_reader_did(tmp_path, suffix, seed):
    rng = random.Random(seed)
    path = tmp_path / f"contents{suffix}"
    _write(_oll_rows(rng, 800), path)
    source = TableSource(location=str(path))
    old, new = _old(source, DEMO, path), _new(source, DEMO, path)
    _assert_alike(old, new)
    assert new["evaluations"].num_rows > 300  # and many rows fail: more than are reported one by one
    assert new["problems"][-1][2].endswith("more table rows could not be read")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
@pytest.mark.parametrize("seed", [1, 2])
def test_long_tables_read_as_the_per_row_reader_did(tmp_path, suffix, seed):
    rng = random.Random(seed)
    path = tmp_path / f"scores{suffix}"
    _write(_long_rows(rng, 1500), path)
    definition = load_definition(Path(__file__).parent / "data" / "corpus" / "definitions" / "tables.yaml")
    source = TableSource(location=str(path), layout="long")
    old, new = _old(source, definition, path), _new(source, definition, path)
    _assert_alike(old, new)
    assert new["scores"].num_rows > 100  # and many rows fail: more than are reported one by one
    assert new["problems"][-1][2].endswith("more table rows could not be read")


def test_a_wide_table_through_a_mapping_reads_as_before(tmp_path):
    rng = random.Random(3)
    rows = [
        {
            "name": _pick(rng, MODELS),
            "sha": _pick(rng, TEXTS),
            "a": _pick(rng, NUMBERS),
            "b": _pick(rng, NUMBERS),
        }
        for _ in range(300)
    ]
    path = tmp_path / "wide.parquet"
    _write(rows, path)
    source = TableSource(
        location=str(path), layout="wide", benchmarks={"ifeval": "a"}, normalized={"bbh": "b"},
        columns={"model": "name"},
    )  # fmt: skip
    _assert_alike(_old(source, DEMO, path), _new(source, DEMO, path))


def test_typed_parquet_columns_read_as_before(tmp_path):
    """Native Parquet types: floats with NaN and infinities, integers, booleans, timestamps, a dictionary."""
    from datetime import UTC, datetime

    rng = random.Random(4)
    n = 500
    floats = [0.5, 1e308, -1e308, float("nan"), float("inf"), float("-inf"), None, 0.0, 71.25]
    columns: dict[str, Any] = {
        "fullname": pa.array([_pick(rng, MODELS[:14] + [None]) for _ in range(n)], type=pa.string()),
        "Precision": pa.array(
            [_pick(rng, ["bfloat16", "float16", None]) for _ in range(n)]
        ).dictionary_encode(),
        "Hub ❤️": pa.array(
            [_pick(rng, [0, 1, -5, 2**62, None, 2**63 - 1]) for _ in range(n)], type=pa.int64()
        ),
        "#Params (B)": pa.array([_pick(rng, floats) for _ in range(n)], type=pa.float64()),
        "MoE": pa.array([_pick(rng, [True, False, None]) for _ in range(n)]),
        "Flagged": pa.array([_pick(rng, [1, 0, None, 2]) for _ in range(n)], type=pa.int8()),
        "Available on the hub": pa.array([_pick(rng, [True, False, None]) for _ in range(n)]),
        "Submission Date": pa.array(
            [_pick(rng, [datetime(2024, 6, 20, 10, 30), None, datetime(1999, 1, 1)]) for _ in range(n)],
            type=pa.timestamp("us"),
        ),
        "Upload To Hub Date": pa.array(
            [_pick(rng, [datetime(2024, 6, 20, tzinfo=UTC), None]) for _ in range(n)],
            type=pa.timestamp("ms", "UTC"),
        ),
    }
    for name in OLL_BENCHMARKS:
        columns[name] = pa.array([_pick(rng, floats) for _ in range(n)], type=pa.float64())
        columns[f"{name} Raw"] = pa.array([_pick(rng, floats) for _ in range(n)], type=pa.float32())
    path = tmp_path / "typed.parquet"
    pq.write_table(pa.table(columns), path)
    source = TableSource(location=str(path))
    old, new = _old(source, DEMO, path), _new(source, DEMO, path)
    _assert_alike(old, new)
    assert {row["likes"] for row in new["metadata"]} >= {0, 1, None}


def test_where_the_vectorised_reader_differs_from_the_per_row_one(tmp_path):
    """The one known edge (docs/formats.md): a float column read as text (a `Model sha` of numbers) shows
    '1' for 1.0 where Python's str() gave '1.0'. Numbers with underscores read as Python read them."""
    path = tmp_path / "edges.parquet"
    pq.write_table(
        pa.table(
            {
                "fullname": ["org/a", "org/b"],
                "Model sha": pa.array([1.0, 2.5]),
                "IFEval": ["1_000", "50"],
                "IFEval Raw": ["0.5", "0.5"],
            }
        ),
        path,
    )
    read = table_sources.read_source(TableSource(location=str(path)), DEMO, path)
    scores = {(r["eval_id"][-5:], r["metric"]): r["value"] for r in read.scores.to_pylist()}
    assert scores[("row 1", "normalized")] == 1000.0 and scores[("row 2", "normalized")] == 50.0
    assert read.evaluations.column("sha").to_pylist() == ["1", "2.5"]
