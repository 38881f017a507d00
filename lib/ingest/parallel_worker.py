"""The entry point of an ingest worker process: ``python -m lib.ingest.parallel_worker``.

It keeps pandas and numpy out of the worker before anything imports pyarrow, then runs
``lib.ingest.parallel.main``. A worker only parses: ``import pyarrow`` imports numpy (about 0.1 s of
CPU, a third of a worker's imports) and pyarrow's first ``pa.array`` imports pandas to check its
argument (0.3 s); neither is needed to build arrays from Python lists or to pickle tables, and pyarrow
runs without them. This module must import nothing that imports pyarrow at its top.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

NOT_IN_WORKERS = frozenset({"pandas", "numpy"})


class NoPandasNoNumpy:
    """An import hook: ``import pandas`` or ``import numpy`` (or any of their modules) raises ImportError."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] in NOT_IN_WORKERS:
            raise ImportError(f"{name} is not imported in an ingest worker")


def run() -> None:
    sys.meta_path.insert(0, NoPandasNoNumpy())
    importlib.import_module("lib.ingest.parallel").main()


if __name__ == "__main__":
    run()
