"""``python -m lib demo``: regenerate the demo store (requests and results of fictional models).

Thin: parses the options and calls ``lib.demo.generator.generate_demo_store``; prints a one-line summary.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "demo"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="regenerate the demo store",
        description="Write the deterministic demo store (requests/ and results/ of fictional models).",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"folder to write (default: {DEFAULT_OUT})"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: the demo's own)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: the generator is not part of the runtime core (docs/architecture.md).
    from lib.demo.generator import DEFAULT_SEED, generate_demo_store

    summary = generate_demo_store(args.out, seed=DEFAULT_SEED if args.seed is None else args.seed)
    statuses = ", ".join(f"{count} {status}" for status, count in summary.statuses)
    print(
        f"demo store written to {summary.out_dir}: {summary.requests} requests ({statuses}), "
        f"{summary.results} results, {summary.models} models, {summary.trainings} trainings with "
        f"{summary.checkpoints} checkpoints, {summary.total_bytes / 1e6:.2f} MB"
    )
    return 0
