"""Every table of the app goes through ``lib.ui.tables.show_table`` (a missing value reads blank)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_module_draws_a_table_around_the_shared_helper():
    direct = re.compile(r"\bst\.(dataframe|data_editor)\(")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("lib", "pages")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != "tables.py" and direct.search(path.read_text(encoding="utf-8"))
    ] + (
        ["streamlit_app.py"] if direct.search((ROOT / "streamlit_app.py").read_text(encoding="utf-8")) else []
    )
    assert not offenders, f"draw tables with lib.ui.tables.show_table: {offenders}"
