"""The command line, ``python -m lib``: one subcommand per module of this package.

Each module here defines ``register(subparsers)``, adds its subparser and sets ``func`` (taking the
parsed arguments, returning an exit code). The commands call the same functions the pages call.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import pkgutil
import sys
from typing import NoReturn


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
    """Run one command; its exit code (tests call this in their own process)."""
    return _run(_parse(argv))


def entry() -> NoReturn:
    """``python -m lib`` and the ``leaderboard`` console script: ``main`` in a process of its own.

    A command that only reads and prints (its parser sets ``ends_process``, as ``rank`` and ``check``
    do) ends the process once its output is flushed, without tearing the interpreter down: freeing
    the in-memory index and pandas', pyarrow's and DuckDB's modules takes 0.1-0.3 s that nothing waits
    for (every file such a command writes, the persisted index included, is closed and renamed before
    it returns, and its worker processes are stopped). Other commands exit as usual."""
    args = _parse(None)
    code = _run(args)
    if getattr(args, "ends_process", False):
        code = _flush_output(code)
        logging.shutdown()
        os._exit(code)
    sys.exit(code)


def _flush_output(code: int) -> int:
    """Flush stdout before ``os._exit``: the exit code, 2 when the output could not be written (a full
    disk, an I/O error), said on stderr. A reader that went away (``| head``) is not an error."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    except (OSError, ValueError) as exc:
        with contextlib.suppress(OSError, ValueError):
            print(f"error: the output could not be written ({exc})", file=sys.stderr)
        code = 2
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    return code


def _parse(argv: list[str] | None) -> argparse.Namespace:
    words = sys.argv[1:] if argv is None else argv
    command = next((word for word in words if not word.startswith("-")), None)  # -v is the only option
    return build_parser(command).parse_args(argv)


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        return 0
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
