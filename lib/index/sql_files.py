"""The SQL of ``lib/index/sql/*.sql``, read once per process: every query of the index lives in a file
there (values reach it only as parameters). This module reads text; it runs nothing."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"


@cache
def sql(name: str) -> str:
    """The text of ``lib/index/sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
