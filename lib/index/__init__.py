"""The DuckDB index over a store of results and requests files (``db``) and its named queries (``sql/``).

Layer: above ``lib.core``, ``lib.stores`` and ``lib.ingest``; below ``lib.analysis``, ``lib.views`` and
``lib.ui``. It must not write to a store.
"""

from lib.index.db import Index, RefreshStats, build_index, sql

__all__ = ["Index", "RefreshStats", "build_index", "sql"]
