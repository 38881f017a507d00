"""What an index holds, as one comparable value: for tests that compare an index opened from the persisted
snapshot with one built from the files."""

from __future__ import annotations

from lib.analysis.leaderboard import LeaderboardView, build_table
from lib.index import Index


def ranked_csv(index: Index) -> str:
    """The default view's ranked table, every column, as CSV (NaN as text, so equal tables compare equal)."""
    return build_table(index, index.definition, LeaderboardView()).frame.to_csv()


def index_content(index: Index, parsed_requests: bool = True) -> tuple:
    """Evaluations, scores, requests, the ingest report, with ``parsed_requests`` the parsed requests'
    paths (the snapshot's between ``Index.open_snapshot`` and the check that follows it), and (last) the ranked
    table."""
    con = index.con
    paths = [r.path for r in index.requests_list] if parsed_requests else None
    return (
        con.execute("SELECT eval_id, model FROM evaluations ORDER BY eval_id").fetchall(),
        con.execute("SELECT * EXCLUDE (eval_no) FROM scores ORDER BY ALL").fetchall(),
        con.execute("SELECT * FROM requests ORDER BY path").fetchall(),
        index.problems().values.tolist(),
        *([paths] if paths is not None else []),
        ranked_csv(index),
    )
