"""``python -m lib submit``: submit a model for evaluation from the command line.

Runs the same rules as the sidebar form (``lib.submissions.submit``), prints the request file's path and
its place in the queue, or the reason it was refused (exit code 1; 3 when trying again later may work).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from lib.cli import add_store_options
from lib.core.config import load_definition
from lib.queue.submissions import SubmissionForm, submit, tracking_link
from lib.stores import open_store

EXIT_REFUSED = 1
EXIT_RETRY = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "submit",
        help="submit a model for evaluation",
        description="Validate a model like the sidebar form does and write its request file.",
    )
    add_store_options(parser, results=False)
    parser.add_argument(
        "--model", required=True, help="Hub id org/name, local/<folder>, or a model folder path"
    )
    parser.add_argument("--revision", default="main", help="branch, tag or commit sha (default: main)")
    parser.add_argument("--precision", default="float16", help="float16, bfloat16, float32, 8bit, 4bit, GPTQ")
    parser.add_argument("--weight-type", default="Original", help="Original, Delta or Adapter")
    parser.add_argument("--base-model", default="", help="base model id (Delta and Adapter)")
    parser.add_argument("--model-type", default="pretrained", help="category id, e.g. pretrained, chat")
    parser.add_argument("--chat-template", action="store_true", help="evaluate with the chat template")
    parser.add_argument(
        "--sender", default=None, help="who submits (default: $LEADERBOARD_SENDER or your login)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    definition = load_definition(args.config)
    store = open_store(args.requests or definition.requests_store)
    form = SubmissionForm(
        model=_model_argument(args.model),
        revision=args.revision,
        precision=args.precision,
        weight_type=args.weight_type,
        base_model=_model_argument(args.base_model) if args.base_model else "",
        model_type=args.model_type,
        use_chat_template=bool(args.chat_template),
        sender=args.sender or os.environ.get("LEADERBOARD_SENDER") or _login_name(),
    )
    result = submit(form, definition, store)
    if result.refusal is not None:
        print(f"refused ({result.refusal.rule}): {result.refusal.message}", file=sys.stderr)
        return EXIT_RETRY if result.refusal.retry else EXIT_REFUSED
    print(result.path)
    print(f"{result.message}; track it at {tracking_link(result.request['model'])}", file=sys.stderr)
    return 0


def _model_argument(text: str) -> str:
    """A folder given by a relative path becomes absolute; anything else is passed as typed."""
    path = Path(text).expanduser()
    if text.startswith("local/") or path.is_absolute() or not ("/" in text or text == "."):
        return text
    try:
        is_folder = path.is_dir()
    except OSError:  # a name too long for the file system is no folder: the rules refuse it cleanly
        return text
    return str(path.resolve()) if is_folder else text


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
