"""Task suites on disk: the bundled offline suite and materializing any include folder for lm-eval.

lm-eval resolves ``dataset_kwargs.data_files`` against the process's working directory, so task YAML
that ships beside its data names the data as ``@TASKS_DIR@/file.jsonl``; ``materialize_include_dir``
copies a task folder to a temporary place with that token replaced by the source folder's absolute
path. This module never imports lm_eval and never runs an evaluation.
"""

from __future__ import annotations

import shutil
from pathlib import Path

BUNDLED_TASKS_DIR = Path(__file__).resolve().parent / "tasks"
TASKS_DIR_TOKEN = "@TASKS_DIR@"
_TEXT_SUFFIXES = (".yaml", ".yml")


def materialize_include_dir(source: str | Path, target: str | Path) -> Path:
    """Copy the task folder ``source`` into ``target`` with ``@TASKS_DIR@`` made absolute; returns target.

    Raises FileNotFoundError when ``source`` is not a folder.
    """
    src = Path(source).expanduser().resolve()
    if not src.is_dir():
        raise FileNotFoundError(f"task folder {src} does not exist")
    dst = Path(target)
    for path in sorted(src.rglob("*")):
        if "__pycache__" in path.parts or path.is_dir():
            continue
        out = dst / path.relative_to(src)
        out.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in _TEXT_SUFFIXES:
            folder = str(path.parent)
            out.write_text(
                path.read_text(encoding="utf-8").replace(TASKS_DIR_TOKEN, folder), encoding="utf-8"
            )
        elif path.suffix == ".py":
            shutil.copy2(path, out)  # task utilities next to their YAML (lm-eval imports them by path)
    return dst
