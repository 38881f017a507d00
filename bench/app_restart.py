"""The app's side of a server restart: a new process to a ranked leaderboard table, as the page's first run
does it after ``streamlit run`` (``lib.ui.data.app_index`` with a persisted index present).

Run as ``python bench/app_restart.py DEFINITION`` with ``LEADERBOARD_CACHE`` set; prints one JSON object
of seconds. Streamlit itself is imported first and not timed: a restarted server imports it before any
visitor arrives. Then, timed from there: the app's own modules, ``Index.open_snapshot`` (the persisted
index opened in place, the stores not listed yet), the default view ranked (``build_table``) and its first
``LEADERBOARD_TABLE_ROWS`` rows shaped for the grid by the page's own function (``_shaped_head`` of
``lib.ui.leaderboard``: display columns, links, Arrow; only those rows, as the page does).
That is the moment the table can be drawn. After it, the listing that checks the stores for changes since
the snapshot (the page runs it under the drawn table) is timed on its own.

Bench code, not a test: ``bench/run.py`` calls it in a fresh process per repeat.
"""

from __future__ import annotations

import json
import sys
import time


def main(definition_path: str) -> dict[str, float]:
    import streamlit  # noqa: F401 - a restarted server has imported it before the first visitor

    t0 = time.perf_counter()
    import pyarrow as pa

    from lib.analysis.leaderboard import LeaderboardView, build_table
    from lib.core.config import load_definition
    from lib.index import Index
    from lib.ui.leaderboard import PAGE_ROWS, _shaped_head

    t1 = time.perf_counter()
    definition = load_definition(definition_path)
    index = Index(definition)
    if not index.open_snapshot():
        raise SystemExit("no usable persisted index in LEADERBOARD_CACHE: run python -m lib rank once first")
    t2 = time.perf_counter()
    table = build_table(index, definition, LeaderboardView(hide=("flagged",)))  # the page's default
    head, _, arrow = _shaped_head(table, False, PAGE_ROWS)  # the grid's rows, shaped and as Arrow
    if arrow is None:  # the page then hands Streamlit the frame, which converts it
        pa.Table.from_pandas(head, preserve_index=False)
    t3 = time.perf_counter()
    stats = index.refresh()
    t4 = time.perf_counter()
    return {
        "imports": t1 - t0,
        "open_snapshot": t2 - t1,
        "ranked_and_shaped": t3 - t2,
        "to_table": t3 - t0,
        "check_after": t4 - t3,
        "rows": float(table.rows),
        "changed_files": float(stats.parsed + stats.removed),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
