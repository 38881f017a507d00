"""The persisted snapshot lost under a running process (lib.index.db.Index._own_tables): a process reads
the snapshot in place and copies it into memory only before its first write. When that copy fails (the
file truncated or overwritten in place, a disk error), the snapshot is only a cache: the index is built
again from the files, one note says so, nothing is lost, and the failure does not come back on the next
refresh. A file removed or renamed over is no failure at all (the process keeps its open file).

DuckDB keeps the blocks it read in memory; the copy reads the file again only for blocks it let go. The
tests let them go for real, as memory pressure does (``_let_blocks_go``), before the damage."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest

from lib.core.config import load_definition
from lib.core.schema import TableSource
from lib.index import Index
from lib.index.sql_files import sql
from tests.factories import request_file, result_file
from tests.test_index_cache_lazy import _content, _in_memory

DAMAGES = (
    "truncate:0",
    "truncate:0.1",
    "truncate:0.5",
    "truncate:0.9",
    "truncate:-1",  # one byte short
    "zeros:0.3",  # a run of zeros from 30% of the file on, in place
    "zeros:0.8",
    "random:1",  # random bytes over random blocks, in place (seeded)
    "random:2",
    "random:3",
    "overwrite:garbage",  # the whole file rewritten in place
    "remove",  # unlinked: the process keeps its open file
    "rename:garbage",  # another file renamed over the name
    "rename:valid",  # another process's valid snapshot renamed over the name
)


def _store(root: Path, n: int = 40) -> None:
    for i in range(n):
        scores = {"leaderboard_gpqa": {"acc_norm": 0.01 * i}, "leaderboard_math_hard": {"exact_match": 0.3}}
        result_file(root / "results", f"org/m{i:02d}", scores)
        request_file(root / "requests", f"org/m{i:02d}", params=float(i + 1))
    (root / "results" / "broken.json").write_text("{not json")
    old = time.time() - 600
    for path in root.rglob("*.json"):
        os.utime(path, (old, old))


def _index(root: Path, cache: bool = True) -> Index:
    return Index(load_definition("demo"), str(root / "results"), str(root / "requests"),
                 cache=root / "cache" if cache else False)  # fmt: skip


def _let_blocks_go(index: Index) -> None:
    """DuckDB evicts every block it holds of the attached snapshot (as under memory pressure): asked for
    a memory limit of 0 it lets every unpinned block go, then refuses the limit itself."""
    with contextlib.suppress(duckdb.Error):
        index.con.execute("SET memory_limit = '0B'")
    index.con.execute("RESET memory_limit")
    held = "SELECT memory_usage_bytes FROM duckdb_memory() WHERE tag = 'BASE_TABLE'"
    assert index.con.execute(held).fetchall() == [(0,)]  # none left: the next read goes to the file


def _unreadable(index: Index) -> bool:
    """Whether this process now fails to read the snapshot's tables (what the copy reads, every block).

    DuckDB reads again only the blocks it let go, and which it let go is its own business: the damage
    is a failure for this process exactly when reading every block fails. A read that fails keeps no
    block; one that succeeds leaves the blocks in memory, and the copy then succeeds as well."""
    try:
        index.con.cursor().execute(sql("cache_check")).fetchall()
    except duckdb.Error:
        return True
    return False


def _damage(path: Path, damage: str, root: Path) -> None:
    kind, _, arg = damage.partition(":")
    size = path.stat().st_size
    if kind == "truncate":
        os.truncate(path, size - 1 if arg == "-1" else int(size * float(arg)))
    elif kind == "zeros":
        start = int(size * float(arg))
        with path.open("r+b") as f:
            f.seek(start)
            f.write(bytes(size - start))
    elif kind == "random":
        rng = np.random.default_rng(int(arg))
        with path.open("r+b") as f:
            for offset in rng.integers(0, size - 512, 12):
                f.seek(int(offset))
                f.write(rng.bytes(512))
    elif kind == "overwrite":
        path.write_bytes(os.urandom(size))  # opened for writing: the same file, cut and refilled
    elif kind == "remove":
        path.unlink()
    elif damage == "rename:garbage":
        other = path.with_suffix(".other")
        other.write_bytes(os.urandom(size))
        os.replace(other, path)
    else:  # another process saw the store and wrote its own snapshot over the name
        writer = _index(root)
        writer.refresh()
        assert writer.cache is not None and writer.cache.path == path


@pytest.mark.parametrize("start", ["refresh", "open_snapshot"])
@pytest.mark.parametrize("damage", DAMAGES)
def test_a_snapshot_lost_before_the_first_write_is_rebuilt_from_the_files(tmp_path, damage, start, caplog):
    _store(tmp_path)
    _index(tmp_path).refresh()  # writes the snapshot
    reader = _index(tmp_path)
    if start == "refresh":
        assert reader.refresh().cached > 0
    else:  # the app after a restart: the snapshot alone first, the stores listed by the next refresh
        assert reader.open_snapshot()
    assert reader.cache is not None and _in_memory(reader) == set()  # read in place
    snapshot = reader.cache.path
    _let_blocks_go(reader)
    _damage(snapshot, damage, tmp_path)
    lost = _unreadable(reader)
    if damage.split(":")[0] in ("truncate", "overwrite"):
        assert lost  # the tables' blocks are cut off or rewritten, and none is held in memory
    # a write is due: one file new, one changed, one removed, one request changed
    result_file(tmp_path / "results", "org/new", {"leaderboard_gpqa": {"acc_norm": 0.5}})
    result_file(tmp_path / "results", "org/m03", {"leaderboard_gpqa": {"acc_norm": 0.99}},
                stamp="2026-02-01T00-00-00.000000")  # fmt: skip
    for path in (tmp_path / "results" / "org__m05").iterdir():
        path.unlink()
    request_file(tmp_path / "requests", "org/m07", params=70.0)
    with caplog.at_level(logging.WARNING, logger="lib.index.cache"):
        stats = reader.refresh()
    assert stats.errors == [] and reader.store_errors == []
    logged = [r.getMessage() for r in caplog.records if "cannot be read (" in r.getMessage()]
    assert len(logged) == lost, logged  # one line in the log, naming the file and why
    if lost:
        assert "\n" not in logged[0] and str(snapshot) in logged[0]
        assert stats.parsed == 42  # every file read again (the broken one included)
    notes = [n for n in reader.store_notes if "the index was rebuilt from the files" in n]
    if start == "refresh":  # found by the copy: the same line in the ingest report
        assert len(notes) == lost, reader.store_notes
    # (after open_snapshot the refresh's check reads every block first and finds the damage itself)
    if notes:
        assert "\n" not in notes[0] and str(snapshot) in notes[0] and "cannot be read (" in notes[0]
        assert notes[0] in reader.problems()["reason"].tolist()
    built = _index(tmp_path, cache=False)
    built.refresh()
    expected = _content(built)
    assert _without_notes(_content(reader)) == expected  # nothing lost, nothing stale
    again = reader.refresh()  # the failure does not come back, nor its note
    assert (again.parsed, again.removed, again.errors, reader.store_notes) == (0, 0, [], [])
    assert _content(reader) == expected
    later = _index(tmp_path)  # the next process: a good snapshot again
    assert later.refresh().cached > 0 and later.store_notes == []
    assert _content(later) == expected


def _without_notes(content: tuple) -> tuple:
    """The content with the ingest report's store notes left out (the one about the snapshot)."""
    problems = [row for row in content[3] if row[0] != "store"]
    return (*content[:3], problems, *content[4:])


OLL_CSV = Path(__file__).parent / "data" / "corpus" / "tables" / "open_llm_contents.csv"


@pytest.mark.parametrize("table", ["unchanged", "changed"])
@pytest.mark.parametrize("damage", ["truncate:0", "truncate:0.1", "overwrite:garbage", "zeros:0.5"])
def test_a_table_source_in_a_lost_snapshot_is_read_again(tmp_path, damage, table):
    """A table source's rows come from the snapshot (taken, not read again, when the table is unchanged):
    lost with it, the table is read again and the results files too. (A snapshot lost while nothing
    changes is met by the page's next query instead: not handled here.)"""
    _store(tmp_path, 10)
    contents = tmp_path / "contents.csv"
    contents.write_bytes(OLL_CSV.read_bytes())
    old = time.time() - 600
    os.utime(contents, (old, old))

    def index(cache: bool = True) -> Index:
        made = Index(load_definition("demo"), str(tmp_path / "results"), str(tmp_path / "requests"),
                     cache=tmp_path / "cache" if cache else False)  # fmt: skip
        made.table_sources.append(TableSource(location=str(contents)))
        return made

    index().refresh()
    reader = index()
    assert reader.refresh().cached > 0 and _in_memory(reader) == set()
    assert reader.cache is not None
    _let_blocks_go(reader)
    _damage(reader.cache.path, damage, tmp_path)
    lost = _unreadable(reader)
    if table == "changed":
        os.utime(contents, (old + 60, old + 60))  # a new version: its old rows are deleted, it is read
    else:  # taken from the snapshot again; a results file makes the write
        result_file(tmp_path / "results", "org/new", {"leaderboard_gpqa": {"acc_norm": 0.5}})
    stats = reader.refresh()
    assert stats.errors == [] and reader.store_errors == []
    built = index(cache=False)
    built.refresh()
    assert built.counts()["evaluations"] == (13 if table == "changed" else 14)  # files and the table's 3 rows
    assert _without_notes(_content(reader)) == _content(built)
    assert len([n for n in reader.store_notes if "rebuilt from the files" in n]) == lost
    again = reader.refresh()
    assert (again.parsed, again.errors, reader.store_notes) == (0, [], [])
