"""The package layers of ``lib/`` and ``evaluator/`` keep their direction (docs/architecture.md).

Each package may import only the packages listed for it; a new import that points upward fails here
with the file, the line and the rule it breaks.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> the lib packages it may import (itself included)
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "stores": {"core", "stores"},
    "ingest": {"core", "ingest"},
    "queue": {"core", "stores", "queue"},
    "index": {"core", "stores", "ingest", "queue", "index"},
    "analysis": {"core", "stores", "index", "analysis"},
    "hub": {"core", "stores", "analysis", "hub"},
    "views": {"core", "stores", "index", "analysis", "hub", "views"},
    "ui": {"core", "stores", "ingest", "queue", "index", "analysis", "hub", "views", "ui"},
    "cli": {"core", "stores", "ingest", "queue", "index", "analysis", "hub", "views", "cli", "demo"},
    "demo": {"core", "stores", "queue", "demo"},
    "evaluator": {"core", "stores", "queue"},
}
FORBIDDEN_THIRD_PARTY = {
    "core": {"streamlit", "pandas", "duckdb", "plotly"},
    "stores": {"streamlit", "duckdb", "plotly"},
    "ingest": {"streamlit", "duckdb", "plotly"},
    "queue": {"streamlit", "duckdb", "plotly"},
    "analysis": {"streamlit"},
    "hub": {"streamlit"},
    "views": {"streamlit"},
    "cli": {"streamlit"},
    "evaluator": {"streamlit", "plotly", "duckdb"},
}


def _package_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    if rel.parts[0] == "evaluator":
        return "evaluator"
    return rel.parts[1] if len(rel.parts) > 2 else ""


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _sources() -> list[Path]:
    files = [p for p in (ROOT / "lib").rglob("*.py") if _package_of(p)]
    return sorted(files + list((ROOT / "evaluator").rglob("*.py")))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_follow_the_layers(path: Path) -> None:
    package = _package_of(path)
    allowed = ALLOWED[package]
    forbidden = FORBIDDEN_THIRD_PARTY.get(package, set())
    broken = []
    for line, module in _imports(path):
        parts = module.split(".")
        if parts[0] == "lib" and len(parts) > 1 and parts[1] not in allowed and parts[1] != "__main__":
            broken.append(f"line {line}: {module} (lib/{package} may import only {sorted(allowed)})")
        if parts[0] in forbidden:
            broken.append(f"line {line}: {module} (lib/{package} must not import {parts[0]})")
    assert not broken, f"{path.relative_to(ROOT)} breaks the layering:\n" + "\n".join(broken)


def test_every_lib_package_has_a_rule() -> None:
    packages = {p.name for p in (ROOT / "lib").iterdir() if (p / "__init__.py").exists()}
    assert packages <= set(ALLOWED), f"no layering rule for {sorted(packages - set(ALLOWED))}"


def test_the_evaluator_starts_without_ui_streamlit_or_pandas() -> None:
    """``python -m evaluator`` imports none of the dashboard's stack at start (a GPU box may lack it)."""
    code = (
        "import sys, evaluator.cli, evaluator.worker, evaluator.jobs, evaluator.publish;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'streamlit', 'pandas', 'plotly'}"
        " or m.startswith('lib.ui'));"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at start: {out.stdout.strip()}"
