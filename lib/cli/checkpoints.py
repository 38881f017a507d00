"""``python -m lib checkpoints``: the best and final checkpoint of every training.

Builds the index over a results store and prints the best-versus-final table as a table or JSON: for
one task and metric straight from the index (``lib.checkpoints.checkpoint_table``, one row per series
leaves DuckDB), for one benchmark of the definition or the average from the long frame of
``lib.checkpoint_scores.load_benchmark_series`` through ``lib.checkpoints.best_checkpoints``. The same
functions feed the Checkpoints page.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import pandas as pd

from lib.analysis.checkpoint_scores import UnknownBenchmarkError, benchmark_options, load_benchmark_series
from lib.analysis.checkpoints import best_checkpoints, checkpoint_table
from lib.cli import add_store_options
from lib.core.config import load_definition
from lib.index import build_index

JSON_COLUMNS = (
    "training",
    "num_fewshot",
    "chat_template",
    "limit",
    "higher_is_better",
    "n_checkpoints",
    "best_revision",
    "best_step",
    "best_tokens",
    "best_value",
    "best_stderr",
    "best_smoothed",
    "final_revision",
    "final_step",
    "final_tokens",
    "final_value",
    "final_stderr",
    "delta",
    "rule",
)
TABLE_COLUMNS = (
    "training",
    "num_fewshot",
    "n_checkpoints",
    "best_revision",
    "best_value",
    "final_revision",
    "final_value",
    "delta",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "checkpoints",
        help="best versus final checkpoint of every training for one task and metric",
        description=(
            "Best and final checkpoint of every training (one row per training and evaluation setting: "
            "n-shot, chat template, limit). A tie goes to the earliest checkpoint. With --results and no "
            "--requests, only the results store is read."
        ),
    )
    add_store_options(parser)
    parser.add_argument("--task", help="lm-eval task name, e.g. lambada_openai (with --metric)")
    parser.add_argument("--metric", help="metric, optionally with its filter: acc or acc,none")
    parser.add_argument(
        "--benchmark",
        metavar="ID",
        help="instead of --task/--metric: a benchmark id of the definition, or 'average'",
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="with --benchmark: raw scores (x 100) instead of normalized ones",
    )
    parser.add_argument(
        "--smooth",
        type=int,
        default=0,
        metavar="K",
        help="pick the best on the mean of K neighbouring checkpoints (default 0: each checkpoint on its own)",
    )
    parser.add_argument("--training", action="append", default=None, help="only this training (repeatable)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.smooth < 0:
        raise ValueError("--smooth must be 0 or a positive number of checkpoints")
    if bool(args.benchmark) == bool(args.task or args.metric) or (args.task is None) != (args.metric is None):
        print("error: give either --task and --metric, or --benchmark ID|average", file=sys.stderr)
        return 2
    definition = load_definition(args.config)
    requests = args.requests if args.requests is not None else ("" if args.results else None)
    index = build_index(definition, args.results, requests)
    for message in index.store_errors:
        print(f"warning: {message}", file=sys.stderr)
    if args.benchmark:
        try:
            frame, _ = load_benchmark_series(index, definition, args.benchmark, args.raw, args.training)
        except UnknownBenchmarkError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if frame.empty:
            print(_no_benchmark_scores(definition, args.benchmark), file=sys.stderr)
            return 1
        table = best_checkpoints(frame, smooth=args.smooth)
    else:
        table = checkpoint_table(index, args.task, args.metric, args.training, smooth=args.smooth)
        if table.empty:
            print(_nothing_found(index, args.task, args.metric), file=sys.stderr)
            return 1
    if args.format == "json":
        print(json.dumps(table_records(table), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(format_table(table))
    return 0


def table_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The best-checkpoint table as JSON-ready dicts (NaN and missing values become None)."""
    columns = [c for c in JSON_COLUMNS if c in table.columns]
    return [{c: _plain(row[c]) for c in columns} for row in table.to_dict("records")]


def format_table(table: pd.DataFrame) -> str:
    """A plain-text table for a terminal, with the rule that picked the best point underneath."""
    shown = table.loc[:, list(TABLE_COLUMNS)].copy()
    shown["num_fewshot"] = shown["num_fewshot"].map(lambda v: "" if pd.isna(v) else int(v))
    text = shown.to_string(index=False, float_format=lambda v: f"{v:.4g}")
    rules = sorted(set(table["rule"]))
    return text + "\n\nbest = " + "; ".join(rules) + "; a tie goes to the earliest checkpoint"


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _no_benchmark_scores(definition: Any, by: str) -> str:
    choices = ", ".join(benchmark_options(definition))
    return (
        f"error: no checkpoint has a complete {by!r} score (every subtask, at the definition's n-shot); "
        f"choices: {choices}"
    )


def _nothing_found(index: Any, task: str, metric: str) -> str:
    known = index.query("checkpoint_metrics")
    if known.empty:
        return "error: no evaluation of a checkpoint found (no revision names a step, no request gives one)"
    tasks = known[known["task"] == task]
    if tasks.empty:
        sample = ", ".join(sorted(known["task"].unique())[:10])
        return f"error: no checkpoint was evaluated on task {task!r}; tasks found: {sample}"
    metrics = ", ".join(sorted({f"{m},{f}" for m, f in zip(tasks["metric"], tasks["filter"], strict=True)}))
    return f"error: task {task!r} has no metric {metric!r} on checkpoints; metrics found: {metrics}"
