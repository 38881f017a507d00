"""``python -m lib queue``: list the requests of a requests store with their status.

Prints a table (or JSON lines with ``--format json``) of the rows the Queue page shows.
"""

from __future__ import annotations

import argparse
import json
import sys

from lib.cli import add_store_options
from lib.core.config import load_definition
from lib.queue.requests import read_requests
from lib.stores import open_store
from lib.views.queue import GROUPS, filter_requests, grouped, queue_frame

_TEXT_COLUMNS = [
    "Status",
    "Model",
    "Revision",
    "Precision",
    "Weight type",
    "Sender",
    "Age",
    "Progress",
    "Error",
]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "queue", help="list evaluation requests", description="List the requests store's requests by status."
    )
    add_store_options(parser, results=False)
    parser.add_argument("--model", default="", help="only requests whose model id contains this text")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    location = args.requests or load_definition(args.config).requests_store
    requests, problems = read_requests(open_store(location))
    requests = filter_requests(requests, args.model)
    ordered = [r for key, _ in GROUPS for r in grouped(requests).get(key, [])]
    frame = queue_frame(ordered)
    if args.format == "json":
        for row in frame.to_dict(orient="records"):
            print(json.dumps(row, ensure_ascii=False))
    elif frame.empty:
        print("no requests")
    else:
        print(frame[_TEXT_COLUMNS].to_string(index=False))
    for problem in problems:
        reason = problem.reason.removeprefix("request file: ")
        if args.format == "json":
            print(
                json.dumps({"Status": "MALFORMED", "path": problem.path, "Error": reason}, ensure_ascii=False)
            )
        else:
            print(f"malformed: {problem.path}: {reason}", file=sys.stderr)
    return 0
