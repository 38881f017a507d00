"""The command line, ``python -m lib``: one subcommand per module of this package.

Each module here defines ``register(subparsers)``, adds its subparser and sets ``func`` (taking the
parsed arguments, returning an exit code). The commands call the same functions the pages call.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand found in this package; with ``command`` naming one of its
    modules, that module's only (each imports what its command needs: a ``rank`` need not import the
    queue's or the Hub's modules)."""
    # ``leaderboard`` when started by the console script, ``python -m lib`` otherwise.
    prog = "python -m lib" if sys.argv[0].endswith("__main__.py") else "leaderboard"
    parser = argparse.ArgumentParser(prog=prog, description="Leaderboard command line.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    for name in [command] if command in names else names:
        module = importlib.import_module(f"{__name__}.{name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def add_store_options(parser: argparse.ArgumentParser, results: bool = True, requests: bool = True) -> None:
    """The options every command shares: the definition and the stores it overrides."""
    parser.add_argument(
        "--config",
        default=None,
        help="definition file path or bundled name (default: demo, or $LEADERBOARD_CONFIG)",
    )
    if results:
        parser.add_argument("--results", default=None, help="results store: a folder or hub:org/name")
    if requests:
        parser.add_argument("--requests", default=None, help="requests store: a folder or hub:org/name")


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    command = next((word for word in words if not word.startswith("-")), None)  # -v is the only option
    parser = build_parser(command)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        return 0
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
