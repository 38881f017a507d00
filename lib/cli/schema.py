"""``python -m lib schema``: the definition file's JSON Schema, and the generated part of its docs.

Without options it prints the schema. ``--write`` rewrites docs/definition.schema.json and the field
tables of docs/definition.md from ``lib.core.schema`` (tests/test_definition_docs.py fails when they
are stale); ``--check`` exits 1 when either is out of date.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lib.core.schema import json_schema
from lib.core.schema_docs import reference_markdown, splice_reference

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMA_FILE = DOCS / "definition.schema.json"
PAGE_FILE = DOCS / "definition.md"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "schema", help="print the definition file's JSON Schema, or refresh the docs from it"
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--write", action="store_true", help="rewrite docs/definition.schema.json and definition.md"
    )
    group.add_argument("--check", action="store_true", help="exit 1 when those files are out of date")
    parser.set_defaults(func=run)


def expected_files() -> dict[Path, str]:
    """What the two generated files must contain."""
    schema = json_schema()
    page = splice_reference(PAGE_FILE.read_text(encoding="utf-8"), reference_markdown(schema))
    return {SCHEMA_FILE: json.dumps(schema, indent=2, ensure_ascii=False) + "\n", PAGE_FILE: page}


def run(args: argparse.Namespace) -> int:
    if not (args.write or args.check):
        print(json.dumps(json_schema(), indent=2, ensure_ascii=False))
        return 0
    stale = [
        path
        for path, text in expected_files().items()
        if not path.is_file() or path.read_text(encoding="utf-8") != text
    ]
    if args.check:
        for path in stale:
            print(f"out of date: {path} (run python -m lib schema --write)")
        return 1 if stale else 0
    for path, text in expected_files().items():
        if path in stale:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0
