"""``python -m lib check``: the ingest report; exits 1 when any file failed to load."""

from __future__ import annotations

import argparse

from lib.cli import add_store_options
from lib.cli._common import open_index, print_frame


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("check", help="read the stores and report every file that cannot be loaded")
    add_store_options(parser)
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.set_defaults(func=run, ends_process=True)  # lib.cli.entry: read-only, prints


def run(args: argparse.Namespace) -> int:
    _, index = open_index(args)
    problems = index.problems()
    counts = index.counts()
    errors = int((problems["level"] == "error").sum()) if not problems.empty else 0
    print_frame(problems, args.format)
    if args.format == "table":
        print(
            f"\n{counts['evaluations']:,} evaluations and {counts['requests']:,} requests loaded; "
            f"{errors} file(s) failed, {len(problems) - errors} warning(s)."
        )
    return 1 if errors else 0
