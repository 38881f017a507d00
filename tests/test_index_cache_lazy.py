"""The persisted index read in place (lib.index.cache, Index._own_tables): a new process on an unchanged
store reads the snapshot through views instead of copying it, copies it only before its first write, and
stays right when another process replaces or deletes the snapshot file meanwhile, or the file is damaged."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lib.core.config import load_definition
from lib.index import Index
from tests.factories import gpqa_store, request_file, result_file
from tests.indexes import index_content


def _store(tmp_path: Path, n: int = 6) -> None:
    gpqa_store(tmp_path, n, 0.1)


def _open(tmp_path: Path, cache: bool = True) -> Index:
    index = Index(
        load_definition("demo"),
        str(tmp_path / "results"),
        str(tmp_path / "requests"),
        cache=tmp_path / "cache" if cache else False,
    )
    index.refresh()
    return index


def _in_memory(index: Index) -> set[str]:
    """The index's tables held in its own in-memory database (not views of the snapshot)."""
    rows = index.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'memory' AND NOT temporary"
    ).fetchall()
    return {name for (name,) in rows} & {"evaluations", "scores", "requests"}


def _content(index: Index) -> tuple:
    """What the index holds (``tests.indexes.index_content``), the parsed requests left out: they are
    parsed when asked for."""
    return index_content(index, parsed_requests=False)


def test_unchanged_store_is_read_in_place_not_copied(tmp_path):
    _store(tmp_path)
    first = _open(tmp_path)
    assert _in_memory(first) == {"evaluations", "scores", "requests"}  # built from the files
    again = _open(tmp_path)
    assert again.cache is not None and again.cache.status.startswith("loaded")
    assert _in_memory(again) == set()  # views of the snapshot
    assert _content(again) == _content(first)


def test_first_change_copies_the_snapshot_then_applies_it(tmp_path):
    _store(tmp_path)
    _open(tmp_path)
    index = _open(tmp_path)
    assert _in_memory(index) == set()
    changed = result_file(tmp_path / "results", "org/m1", {"leaderboard_gpqa": {"acc_norm": 0.99}})
    os.utime(changed, (time.time() - 100, time.time() - 100))
    result_file(tmp_path / "results", "org/new", {"leaderboard_gpqa": {"acc_norm": 0.5}})
    for path in (tmp_path / "results" / "org__m2").iterdir():
        path.unlink()
    request_file(tmp_path / "requests", "org/m3", params=99.0)
    stats = index.refresh()  # the same process: what it read in place is now copied and changed
    assert (stats.parsed, stats.removed) == (2, 1) and stats.requests_changed
    assert _in_memory(index) == {"evaluations", "scores", "requests"}
    assert _content(index) == _content(_open(tmp_path, cache=False))
    assert _content(_open(tmp_path)) == _content(index)  # and the next process sees it too


@pytest.mark.parametrize("other", ["replaces", "deletes"])
def test_snapshot_replaced_or_deleted_by_another_process_meanwhile(tmp_path, other):
    _store(tmp_path)
    first = _open(tmp_path)
    reader = _open(tmp_path)  # reads the snapshot in place
    expected = _content(first)
    snapshot = reader.cache.path
    if other == "replaces":  # another process saw a new file and wrote its snapshot over the name
        late = result_file(tmp_path / "results", "org/late", {"leaderboard_gpqa": {"acc_norm": 0.3}})
        os.utime(late, (time.time() - 600, time.time() - 600))
        writer = _open(tmp_path)
        assert writer.counts()["evaluations"] == 7
    else:
        snapshot.unlink()
    assert _content(reader) == expected  # its own open file: the store as it last saw it
    stats = reader.refresh()
    assert stats.parsed == (1 if other == "replaces" else 0)
    assert _content(reader)[:4] == _content(_open(tmp_path, cache=False))[:4]


@pytest.mark.parametrize("keep", [0.3, 0.5, 0.7, 0.9, 0.99])
def test_snapshot_cut_short_is_never_half_read(tmp_path, keep):
    """A snapshot cut at any point (a full disk, a copy interrupted) is discarded when opened, or (when
    what is left still opens) reads completely: never a page that fails later on a missing block."""
    _store(tmp_path, 40)
    first = _open(tmp_path)
    expected = _content(first)
    data = first.cache.path.read_bytes()
    first.cache.path.write_bytes(data[: int(len(data) * keep)])
    index = _open(tmp_path)
    assert _content(index) == expected


@pytest.mark.parametrize("change", [False, True])
def test_open_snapshot_first_then_the_refresh_reads_what_changed(tmp_path, change):
    """The app's restart (lib.ui.data): the snapshot alone first, unverified; the next refresh lists the
    stores and ends up where a build from the files does."""
    _store(tmp_path)
    first = _open(tmp_path)
    if change:
        late = result_file(tmp_path / "results", "org/late", {"leaderboard_gpqa": {"acc_norm": 0.3}})
        os.utime(late, (time.time() - 600, time.time() - 600))
    index = Index(
        load_definition("demo"),
        str(tmp_path / "results"),
        str(tmp_path / "requests"),
        cache=tmp_path / "cache",
    )
    assert index.open_snapshot() and not index.verified
    assert _content(index) == _content(first)  # the snapshot's content, listed or not
    generation = index.generation
    stats = index.refresh()
    assert index.verified and stats.parsed == (1 if change else 0)
    assert (index.generation != generation) == change
    assert _content(index) == _content(_open(tmp_path, cache=False))


@pytest.mark.parametrize("snapshot", ["none", "garbage"])
def test_open_snapshot_without_a_usable_snapshot_does_nothing(tmp_path, snapshot):
    _store(tmp_path)
    if snapshot == "garbage":
        _open(tmp_path).cache.path.write_bytes(os.urandom(5000))
    index = Index(
        load_definition("demo"),
        str(tmp_path / "results"),
        str(tmp_path / "requests"),
        cache=tmp_path / "cache",
    )
    assert not index.open_snapshot() and index.loaded_at is None
    stats = index.refresh()  # built from the files, as without a cache
    assert stats.parsed == 7 and index.verified
    assert _content(index) == _content(_open(tmp_path, cache=False))
