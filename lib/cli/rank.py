"""``python -m lib rank``: the leaderboard in the terminal, as a table, CSV or JSON."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import pandas as pd

from lib.analysis.leaderboard import LeaderboardView, build_table
from lib.analysis.ranking import split_benchmark_list
from lib.cli import add_store_options
from lib.cli._common import clean, dumps, open_index, print_frame, text_or_none


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("rank", help="rank models like the leaderboard page does")
    add_store_options(parser)
    parser.add_argument(
        "--benchmarks",
        default="",
        help="comma-separated benchmark ids or task:metric pairs; a filtered metric is written as lm-eval "
        "spells it: gsm8k:exact_match,strict-match",
    )
    parser.add_argument("--by", default="average", help="'average' or a benchmark id (default: average)")
    parser.add_argument("--raw", action="store_true", help="rank on raw instead of normalized scores")
    parser.add_argument("--weights", default="", help="custom weights for the average, e.g. bbh=2,math=1")
    parser.add_argument("--search", default="", help="the search box's syntax, e.g. '@precision:bfloat16'")
    parser.add_argument(
        "--best-checkpoint", action="store_true", help="keep each training's best checkpoint only"
    )
    parser.add_argument("--include-partial", action="store_true", help="include runs made with --limit")
    parser.add_argument("--show-flagged", action="store_true", help="keep flagged models (hidden by default)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.set_defaults(func=run, ends_process=True)  # lib.cli.entry: read-only, prints


def _weights(text: str) -> dict[str, float] | None:
    if not text.strip():
        return None
    weights: dict[str, float] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"weight {part!r} must look like id=number")
        weights[key.strip()] = float(value)
    return weights


def run(args: argparse.Namespace) -> int:
    definition, index = open_index(args)
    view = LeaderboardView(
        benchmarks=tuple(split_benchmark_list(args.benchmarks, [b.id for b in definition.benchmarks])),
        by=args.by,
        raw=args.raw,
        weights=_weights(args.weights),
        hide=() if args.show_flagged else ("flagged",),
        best_checkpoint_only=args.best_checkpoint,
        include_partial=args.include_partial,
        search=args.search,
    )
    table = build_table(index, definition, view)
    if args.format == "json":
        print(dumps([rank_record(row, table.benchmarks) for row in table.frame.to_dict(orient="records")]))
    else:
        print_frame(flat_frame(table.frame, table.benchmarks, args.raw), args.format, index.con)
    for notice in table.notices:
        print(f"note: {notice}", file=sys.stderr)
    failed = index.counts()["errors"]
    if failed:  # a table or results file that could not be read is not silently missing from the ranking
        print(f"note: {failed} file(s) could not be read and are not ranked; "
              "`python -m lib check` lists each with the reason", file=sys.stderr)  # fmt: skip
    return 0


def flat_frame(frame: pd.DataFrame, benchmarks, raw: bool) -> pd.DataFrame:
    """The table and CSV output: ``rank_record``'s fields without the nesting, built column by column
    (a row at a time costs seconds at 100,000 rows)."""

    def text(column: str) -> list[Any]:  # lists, so pandas infers the dtypes as it does for records
        if column not in frame.columns:
            return [None] * len(frame)
        values = frame[column].astype(object)
        return values.where(values.notna() & (values != ""), None).tolist()

    out: dict[str, Any] = {
        "rank": frame["rank"].to_numpy(),
        "stat_rank": frame["stat_rank"].to_numpy(),
        "model": frame["model"].to_numpy(),
        **{name: text(name) for name in ("revision", "sha", "precision", "base_model", "backend", "setting")},
        "chat_template": frame["chat_template"].astype(bool).tolist(),
        "split_by": text("setting_label"),
        "average": frame["average"].to_numpy(),
        "average_stderr": frame["average_se"].to_numpy(),
        "training": text("training"),
        "step": frame["step"].to_numpy(),
    }
    for b in benchmarks:
        out[b.key] = frame[f"{b.id}_raw" if raw else f"{b.id}_norm"].to_numpy()
    flat = pd.DataFrame(out)
    columns = ["rank", "stat_rank", "model", "revision", "sha", "precision", "chat_template", "base_model"]
    columns += ["backend", "setting", "split_by", "average", "average_stderr", "training", "step"]
    return flat[columns + [b.key for b in benchmarks]].reset_index(drop=True)


def rank_record(row: dict, benchmarks) -> dict:
    """One ranked row as the JSON output spells it."""
    return {
        "rank": clean(row["rank"]),
        "stat_rank": clean(row["stat_rank"]),
        "model": row["model"],
        "revision": text_or_none(row["revision"]),
        "sha": text_or_none(row["sha"]),
        "precision": text_or_none(row["precision"]),
        "chat_template": bool(row["chat_template"]),
        "base_model": text_or_none(row.get("base_model")),
        "backend": text_or_none(row.get("backend")),
        "setting": text_or_none(row.get("setting")),
        "split_by": text_or_none(row.get("setting_label")),
        "average": clean(row["average"]),
        "average_stderr": clean(row["average_se"]),
        "training": text_or_none(row["training"]),
        "step": clean(row["step"]),
        "benchmarks": {
            b.key: {
                "raw": clean(row[f"{b.id}_raw"]),
                "normalized": clean(row[f"{b.id}_norm"]),
                "stderr": clean(row[f"{b.id}_raw_se"]),
                "normalized_stderr": clean(row[f"{b.id}_se"]),
                "n_shot": clean(row[f"{b.id}_shots"]),
                "metric": b.components[0].metric,
                "filter": b.components[0].filter,  # null: 'none' when the file has it, else the first by name
            }
            for b in benchmarks
        },
    }
