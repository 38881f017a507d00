"""A snapshot damaged in place AFTER the check passed (a disk error, an edit of the cache file): the index
still reads it in place (views, ``Index._on_snapshot``) and a later read of a block DuckDB let go fails
in DuckDB. Every read path goes through ``Index.guarded``: the damage is never shown as a DuckDB error,
the index is built again from the files with one note, and the read runs again on it.

Each block of the snapshot is damaged in turn at several spots (tests/test_index_cache_first_draw.py's
``_damaged``) after the check, DuckDB is made to let its blocks go (``_let_blocks_go``), and each read
path must then give what a build from the files gives, with at most one note (exactly one when the
damage was met)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from lib.analysis.leaderboard import LeaderboardView, build_table
from lib.core.config import load_definition
from lib.index import Index
from lib.views.provenance import evaluation_scores, model_evaluations
from tests.factories import age_files, gpqa_store
from tests.indexes import index_content, ranked_csv
from tests.test_index_cache_first_draw import _damaged

REBUILT = "the index was rebuilt from the files"


def _index(tmp_path: Path, cache: bool = True) -> Index:
    return Index(load_definition("demo"), str(tmp_path / "results"), str(tmp_path / "requests"),
                 cache=tmp_path / "cache" if cache else False)  # fmt: skip


def _snapshot_and_build(tmp_path: Path, models: int) -> tuple[Path, bytes, Index]:
    """A store of ``models`` results written long enough ago, its snapshot (path and bytes) and the index a
    build from the files gives, which every damaged read must equal."""
    gpqa_store(tmp_path, models, 0.01)
    age_files(tmp_path)
    writer = _index(tmp_path)
    writer.refresh()
    built = _index(tmp_path, cache=False)
    built.refresh()
    return writer.cache.path, writer.cache.path.read_bytes(), built


def _frame(frame: pd.DataFrame) -> list:
    return frame.astype(str).values.tolist()


def _model(index: Index) -> list:
    evaluations = model_evaluations(index, "org/m03")
    return [_frame(evaluations), _frame(evaluation_scores(index, list(evaluations["eval_id"])))]


def _let_blocks_go(index: Index) -> None:
    """DuckDB lets go every block it can (as under memory pressure): asked for a memory limit of 0 it
    evicts every unpinned block, then refuses the limit itself. The index's own small tables (the ingest
    report) stay in memory; the snapshot's blocks go, so the next read of them goes to the file (each
    read path below must meet the damage at least once)."""
    with contextlib.suppress(duckdb.Error):
        index.con.execute("SET memory_limit = '0B'")
    index.con.execute("RESET memory_limit")


READS: dict[str, Callable[[Index], object]] = {
    "ranking": ranked_csv,  # the leaderboard, its downloads and search, `python -m lib rank`
    "partial ranking": lambda index: build_table(
        index, index.definition, LeaderboardView(include_partial=True)
    ).frame.to_csv(),
    "model page": _model,
    "compare settings": lambda index: _frame(
        index.query(
            "compare_settings",
            {
                "eval_ids": sorted(model_evaluations(index, "org/m03")["eval_id"]),
                "tasks": ["leaderboard_gpqa"],
            },
        )
    ),
    "checkpoints": lambda index: [
        _frame(index.query(n)) for n in ("checkpoint_metrics", "checkpoint_trainings")
    ],
    "counts": lambda index: index.counts(),
    "ingest report": lambda index: [r for r in _frame(index.problems()) if REBUILT not in r[3]],  # + the note
    "queue": lambda index: [r.path for r in index.requests_list],
}


@pytest.mark.parametrize("read", list(READS))
def test_a_snapshot_damaged_after_the_check_is_rebuilt_on_any_read(tmp_path, read):
    snapshot, data, built = _snapshot_and_build(tmp_path, 60)
    expected, wanted = index_content(built), READS[read](built)
    met = 0
    for at, damaged in _damaged(data):
        for path in (tmp_path / "cache").glob("*.derived-*"):  # no kept matrix: the ranking reads the tables
            path.unlink()
        snapshot.write_bytes(data)
        index = _index(tmp_path)
        assert index.open_snapshot()
        index.refresh()  # the check under the drawn table: passes (the snapshot is whole)
        assert index.verified and index._on_snapshot and not index.cache.status.startswith("discarded")
        generation = index.generation
        _let_blocks_go(index)
        with snapshot.open("r+b") as f:  # damaged in place, after the check
            f.write(damaged)
        got = READS[read](index)  # never a DuckDB error
        assert got == wanted, at
        notes = [n for n in index.store_notes if REBUILT in n]
        rebuilt = index.take_rebuilt_notes()
        assert len(notes) == len(rebuilt) <= 1, (at, notes, rebuilt)
        if notes:
            met += 1
            assert "\n" not in notes[0] and str(snapshot) in notes[0]
            assert index.generation != generation and not index._on_snapshot  # pages drawn again
            assert index.take_rebuilt_notes() == []  # one note, once
        # everything read once more (through the guard, as the pages do): equal to the build from the files
        content = list(index.guarded(lambda index=index: index_content(index)))
        notes = [n for n in index.store_notes if REBUILT in n]
        assert len(notes) <= 1 and len(index.take_rebuilt_notes()) + len(rebuilt) == len(notes), at
        report = [row for row in content[3] if REBUILT not in row[3]]
        assert len(content[3]) - len(report) == len(notes), at  # the note, in the ingest report
        content[3] = report
        assert tuple(content) == expected, at
    if read in MEETS:
        assert met, "no damage was met by this read"


# The reads that read the snapshot's rows (the others read counts from its metadata, or what the check
# put in memory: the requests, the ingest report); each of them must have met some damage.
MEETS = ("ranking", "partial ranking", "model page", "compare settings")


def test_a_read_that_is_no_damage_still_raises(tmp_path):
    """The guard only takes the snapshot's failures: a query's own error is raised, the snapshot kept."""
    gpqa_store(tmp_path, 5, 0.01)
    age_files(tmp_path)
    _index(tmp_path).refresh()
    index = _index(tmp_path)
    assert index.open_snapshot()
    index.refresh()
    with pytest.raises(duckdb.Error):
        index.guarded(lambda: index.con.execute("SELECT * FROM no_such_table").fetchall())
    assert index._on_snapshot and index.cache.path.is_file() and index.take_rebuilt_notes() == []


def test_requests_before_the_check_are_the_snapshots(tmp_path):
    """Between open_snapshot and the check the requests are the snapshot's, not none."""
    gpqa_store(tmp_path, 12, 0.01)
    age_files(tmp_path)
    built = _index(tmp_path)
    built.refresh()
    index = _index(tmp_path)
    assert index.open_snapshot() and not index.verified
    assert [r.path for r in index.requests_list] == [r.path for r in built.requests_list] != []
    assert [r.status for r in index.requests_list] == [r.status for r in built.requests_list]
    index.refresh()
    assert index_content(index) == index_content(built)


def test_the_pages_read_a_snapshot_damaged_after_the_check_without_an_error(tmp_path, monkeypatch):
    """AppTest, the real entry script and pages: the leaderboard drawn from the snapshot after a restart,
    the check under it passes; then the snapshot is damaged in place and DuckDB lets its blocks go. The
    Model page (whose queries meet the damage) is drawn without an error, from the files, with one toast
    saying so; the other pages follow without an error or another toast."""
    import shutil

    from tests.apptest import ROOT, run_entry_on_stores

    model = "meridian-ai/Cirrus-7B"
    shutil.copytree(ROOT / "demo" / "results", tmp_path / "results")
    shutil.copytree(ROOT / "demo" / "requests", tmp_path / "requests")
    age_files(tmp_path)

    def index() -> Index:
        return Index(load_definition(None), str(tmp_path / "results"), str(tmp_path / "requests"),
                     cache=tmp_path / "cache")  # fmt: skip

    saved = index()
    saved.refresh()
    snapshot, data = saved.cache.path, saved.cache.path.read_bytes()
    for _, damaged in _damaged(data):  # a damage the Model page's queries meet
        snapshot.write_bytes(data)
        probe = index()
        probe.refresh()
        _let_blocks_go(probe)
        snapshot.write_bytes(damaged)
        try:
            probe.con.execute("SELECT * FROM evaluations WHERE model = ?", [model]).fetchall()
        except duckdb.Error:
            break
    else:
        pytest.fail("no damage is met by the Model page's query")
    snapshot.write_bytes(data)
    for path in (tmp_path / "cache").glob("*.derived-*"):
        path.unlink()
    at, app = run_entry_on_stores(monkeypatch, tmp_path)
    from lib.ui import store_check
    from lib.ui.data import snapshot_check

    check = snapshot_check(app)  # the run ended with the table drawn; the browser's first poll checks
    store_check.launch(check)
    assert check.done.wait(60) and check.error is None
    assert app.verified and app._on_snapshot  # drawn from the snapshot, checked, still read in place
    _let_blocks_go(app)
    with snapshot.open("r+b") as f:
        f.write(damaged)
    at.query_params["model"] = model
    at.switch_page(str(ROOT / "pages/model.py")).run()
    assert not at.exception, [e.value for e in at.exception]
    toasts = [t.value for t in at.toast if "rebuilt from the stores" in t.value]
    assert len(toasts) == 1, [t.value for t in at.toast]
    assert not app._on_snapshot and at.selectbox[0].value == model
    for page in ("pages/queue.py", "pages/checkpoints.py", "pages/leaderboard.py"):
        at.switch_page(str(ROOT / page)).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not [t.value for t in at.toast if "rebuilt" in t.value], page
    built = Index(load_definition(None), str(tmp_path / "results"), str(tmp_path / "requests"), cache=False)
    built.refresh()
    content = list(index_content(app))
    content[3] = [row for row in content[3] if REBUILT not in row[3]]
    assert tuple(content) == index_content(built)


def test_requests_read_first_from_a_snapshot_damaged_before_the_check_are_the_files(tmp_path):
    """The Queue is the first to read a snapshot damaged while the server was down: the check runs then
    (and rebuilds from the files), and the requests are the files' — never a DuckDB error, never the
    damaged snapshot's rows written over what the check read."""
    snapshot, data, built = _snapshot_and_build(tmp_path, 30)
    wanted = [(r.path, r.status) for r in built.requests_list]
    for at, damaged in _damaged(data):
        for path in (tmp_path / "cache").glob("*.derived-*"):
            path.unlink()
        snapshot.write_bytes(damaged)
        index = _index(tmp_path)
        if not index.open_snapshot():
            continue  # refused at open: built from the files, nothing read in place
        assert [(r.path, r.status) for r in index.requests_list] == wanted, at
        assert len([n for n in index.store_notes if REBUILT in n]) <= 1, at


def test_the_check_reads_every_table_the_snapshot_holds(tmp_path):
    """The check's pass over every block (``sql/cache_check.sql``, run before the snapshot is trusted and
    when a read fails on it) reads every table the snapshot holds, not only the three the index shows:
    each block damaged in turn, whenever any table of the snapshot cannot be read whole, the check fails
    too; and some damage reaches only the tables of what the index remembers per file (versions, ingest
    report rows, requests as text, folder memos), which the check must still find."""
    from lib.index.db import sql
    from tests.test_index_cache_first_draw import _damaged

    snapshot, data, _ = _snapshot_and_build(tmp_path, 200)
    shown = {"evaluations", "scores", "requests"}
    only_remembered: set[str] = set()
    for _, damaged in _damaged(data):
        snapshot.write_bytes(damaged)
        con = duckdb.connect(":memory:")
        try:
            try:
                con.execute("ATTACH ? AS index_snapshot (READ_ONLY)", [str(snapshot)])
                tables = [r[0] for r in con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = 'index_snapshot'"
                ).fetchall()]  # fmt: skip
            except duckdb.Error:
                continue  # refused when opened: never trusted
            assert shown < set(tables), tables
            unreadable: set[str] = set()
            for table in tables:
                try:
                    con.table(f"index_snapshot.{table}").fetchall()  # every column of every row
                except duckdb.Error:
                    unreadable.add(table)
            if not unreadable:
                continue
            if not unreadable & shown:
                only_remembered |= unreadable
            with pytest.raises(duckdb.Error):
                con.execute(sql("cache_check")).fetchall()
        finally:
            con.close()
    # (the folder memos are too small here to hold a block of their own: the check reads them all the same)
    assert {"cache_versions", "cache_problems"} <= only_remembered, only_remembered
