"""The app's restart reads only what the first draw needs (``Index.open_snapshot``, issue 14): the
snapshot's tables in place and its ingest report. Everything only the check of the stores needs (the
files' versions, the requests as text, the folder memos, the pass that reads every block) is read by
the refresh that follows. These tests hold that split to what the page relies on: a snapshot damaged
anywhere is caught (up front or by the check) and what was drawn from it is drawn again from the files;
a rank that reads a damaged block is never an error on the page; what the page shows before the check
(counts) is right; a file rewritten right after the snapshot is still read again."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lib.analysis.leaderboard import LeaderboardView, build_table
from lib.core.config import load_definition
from lib.index import Index
from tests.factories import age_files, gpqa_store, request_file, result_file
from tests.indexes import index_content, ranked_csv

BLOCK = 256 * 1024  # DuckDB's block size: the unit each checksum covers
HEADERS = 3 * 4096  # DuckDB's file header and its two database headers come before the first block
SPOTS = (16, 200, 3000, 40_000)  # where in a block bytes are damaged (a small table fills only its start)


def _store(tmp_path: Path, n: int = 60) -> None:
    gpqa_store(tmp_path, n, 0.01)


def _index(tmp_path: Path, cache: bool = True) -> Index:
    return Index(
        load_definition("demo"),
        str(tmp_path / "results"),
        str(tmp_path / "requests"),
        cache=tmp_path / "cache" if cache else False,
    )


def _from_files(tmp_path: Path) -> tuple:
    index = _index(tmp_path, cache=False)
    index.refresh()
    return index_content(index)


def _snapshot(tmp_path: Path) -> bytes:
    """Write the snapshot (and its kept score matrix) as a server that ran before the restart did."""
    index = _index(tmp_path)
    index.refresh()
    ranked_csv(index)
    return index.cache.path.read_bytes()


def _restore(tmp_path: Path, snapshot: Path, data: bytes, kept: dict[Path, bytes]) -> None:
    """Put back the snapshot as ``data`` and its kept score matrix (a rebuild replaced both)."""
    for path in (tmp_path / "cache").glob("*.derived-*"):
        path.unlink()
    for path, content in kept.items():
        path.write_bytes(content)
    snapshot.write_bytes(data)


def _kept(tmp_path: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in (tmp_path / "cache").glob("*.derived-*")}


def _damaged(data: bytes) -> list[tuple[int, bytes]]:
    """The snapshot with 32 bytes flipped at each spot of each block in turn (its checksum no longer
    holds where that part of the block is used)."""
    out = []
    for block in range((len(data) - HEADERS) // BLOCK):
        for spot in SPOTS:
            at = HEADERS + block * BLOCK + spot
            out.append((at, data[:at] + bytes(b ^ 0xFF for b in data[at : at + 32]) + data[at + 32 :]))
    return out


def test_every_damaged_block_is_caught_and_what_was_drawn_is_drawn_again(tmp_path):
    """Each block of the snapshot damaged in turn, with a file changed while the server was down: the
    first draw either refuses the snapshot (built from the files) or shows it; then the check either
    finds the damage (the index is built from the files and its generation moves on, so the page is
    drawn again) or the block was never read by anything (unused space). Never an error, never a page
    left showing rows the files do not hold."""
    _store(tmp_path)
    data = _snapshot(tmp_path)
    late = result_file(tmp_path / "results", "org/late", {"leaderboard_gpqa": {"acc_norm": 0.33}})
    os.utime(late, (time.time() - 300, time.time() - 300))
    expected = _from_files(tmp_path)
    snapshot, kept = _index(tmp_path).cache.path, _kept(tmp_path)
    assert kept
    outcomes = set()
    for block, damaged in _damaged(data):
        _restore(tmp_path, snapshot, damaged, kept)
        index = _index(tmp_path)
        if not index.open_snapshot():
            outcomes.add("refused up front")
            index.refresh()
            assert index_content(index) == expected, block
            continue
        generation = index.generation
        drawn = ranked_csv(index)  # the page's first draw, from the kept score matrix
        assert not index.verified  # drawn without reading the snapshot's tables
        index.refresh()  # the check under the drawn table
        assert index.verified
        assert index_content(index) == expected, block
        assert index.generation != generation  # the late file at least: the page is drawn again
        assert ranked_csv(index) != drawn or drawn == expected[-1]
        if index.cache.status.startswith("discarded"):
            outcomes.add("caught by the check")
        else:
            outcomes.add("never read")
    assert "caught by the check" in outcomes, outcomes  # the split is exercised, not only the old path


def test_damage_found_by_the_check_rebuilds_even_when_the_files_did_not_change(tmp_path):
    """No file changed while down: the check alone moves the generation on (the page is drawn again from
    the files), and a fresh snapshot is written in place of the damaged one."""
    _store(tmp_path)
    data = _snapshot(tmp_path)
    expected = _from_files(tmp_path)
    snapshot, kept = _index(tmp_path).cache.path, _kept(tmp_path)
    caught = 0
    for block, damaged in _damaged(data):
        _restore(tmp_path, snapshot, damaged, kept)
        index = _index(tmp_path)
        if not index.open_snapshot():
            continue
        generation = index.generation
        ranked_csv(index)
        assert not index.verified
        stats = index.refresh()
        assert index_content(index) == expected, block
        if index.cache.status.startswith("discarded"):
            caught += 1
            assert index.generation != generation and stats.parsed == 61
            again = _index(tmp_path)  # the next restart opens the rewritten snapshot
            assert again.open_snapshot()
            again.refresh()
            assert again.cache.status.startswith("loaded") and index_content(again) == expected
    assert caught


def test_a_first_rank_that_reads_a_damaged_block_checks_at_once(tmp_path):
    """Without the kept score matrix the first rank reads the snapshot's tables: where it meets a
    damaged block, the check runs then and the rank comes from the files, never an error."""
    _store(tmp_path)
    data = _snapshot(tmp_path)
    expected = _from_files(tmp_path)
    snapshot = _index(tmp_path).cache.path
    checked_early = 0
    for block, damaged in _damaged(data):
        for kept in (tmp_path / "cache").glob("*.derived-*"):
            kept.unlink()
        snapshot.write_bytes(damaged)
        index = _index(tmp_path)
        if not index.open_snapshot():
            continue
        ranked = ranked_csv(index)
        assert ranked == expected[-1], block
        if index.verified:  # the rank met the damage and the check ran
            checked_early += 1
            assert index.cache.status.startswith("discarded")
        index.refresh()
        assert index_content(index) == expected, block
    assert checked_early


def test_counts_before_the_check_are_the_snapshots(tmp_path):
    """The page may show counts before the check: right for what is drawn (the snapshot), requests
    included, though the requests are read into Python only by the check."""
    _store(tmp_path)
    _snapshot(tmp_path)
    index = _index(tmp_path)
    assert index.open_snapshot()
    before = index.counts()
    index.refresh()
    assert before == index.counts() and before["requests"] == 60 and before["evaluations"] == 60


def test_a_file_rewritten_right_after_the_snapshot_is_read_again_after_a_first_draw(tmp_path):
    """The racy rule holds on the app's path too: same size, same mtime as the snapshot recorded, but
    within the clock tick of its listing: re-read by the check."""
    result_file(tmp_path / "results", "org/a", {"t": {"acc": 0.25}})
    index = _index(tmp_path)
    index.refresh()
    path = next((tmp_path / "results" / "org__a").iterdir())
    stamp = path.stat().st_mtime_ns
    path.write_text(path.read_text().replace("0.25", "0.75"))
    os.utime(path, ns=(stamp, stamp))
    again = _index(tmp_path)
    assert again.open_snapshot()
    stats = again.refresh()
    assert stats.parsed == 1
    assert again.con.execute("SELECT value FROM scores").fetchall() == [(0.75,)]


@pytest.mark.parametrize("change", ["request added", "request removed", "result removed"])
def test_a_store_changed_while_down_updates_after_the_first_draw(tmp_path, change):
    _store(tmp_path, 8)
    _snapshot(tmp_path)
    if change == "request added":
        request_file(tmp_path / "requests", "org/new", params=3.0)
    elif change == "request removed":
        next((tmp_path / "requests" / "org").glob("m3*.json")).unlink()
    else:
        for path in (tmp_path / "results" / "org__m2").iterdir():
            path.unlink()
    age_files(tmp_path)
    index = _index(tmp_path)
    assert index.open_snapshot()
    generation = index.generation
    index.refresh()
    assert index.generation != generation
    assert index_content(index) == _from_files(tmp_path)


def test_the_page_drawn_from_a_damaged_snapshot_is_drawn_again_from_the_files(tmp_path, monkeypatch):
    """The leaderboard's first run after a restart (AppTest, the real entry script): the snapshot's
    table is drawn, the check under it finds the snapshot damaged, and the page is drawn again from the
    files (here with a model added while the server was down) with a toast saying so."""
    import shutil

    from tests.apptest import run_entry
    from tests.browser import ROOT, add_demo_model

    shutil.copytree(ROOT / "demo" / "results", tmp_path / "results")
    shutil.copytree(ROOT / "demo" / "requests", tmp_path / "requests")
    age_files(tmp_path)
    saved = Index(
        load_definition(None), str(tmp_path / "results"), str(tmp_path / "requests"), cache=tmp_path / "cache"
    )
    saved.refresh()
    build_table(saved, saved.definition, LeaderboardView(hide=("flagged",)))  # its score matrix kept
    snapshot, data, kept = saved.cache.path, saved.cache.path.read_bytes(), _kept(tmp_path)
    total = saved.counts()["evaluations"]
    for _, damaged in _damaged(data):  # a damage the first draw does not meet and the check does
        _restore(tmp_path, snapshot, damaged, kept)
        probe = Index(
            load_definition(None),
            str(tmp_path / "results"),
            str(tmp_path / "requests"),
            cache=tmp_path / "cache",
        )
        if probe.open_snapshot():
            probe.refresh()
            if probe.cache.status.startswith("discarded"):
                _restore(tmp_path, snapshot, damaged, kept)
                break
    else:
        pytest.fail("no block of the snapshot is read by the check alone")
    add_demo_model(tmp_path, "Kestrel-Damaged-1B")
    age_files(tmp_path)
    monkeypatch.setenv("LEADERBOARD_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("LEADERBOARD_REQUESTS", str(tmp_path / "requests"))
    monkeypatch.setenv("LEADERBOARD_CACHE", str(tmp_path / "cache"))
    at = run_entry()
    from lib.ui import store_check
    from lib.ui.data import _index, snapshot_check

    index = _index(str(load_definition(None).path), str(tmp_path / "results"), str(tmp_path / "requests"))
    check = snapshot_check(index)  # drawn from the snapshot; the browser's first poll starts its check
    store_check.launch(check)
    assert check.done.wait(60) and check.error is None
    at.run()  # drawn again (the poll's rerun; AppTest does not poll)
    assert not at.exception, [e.value for e in at.exception]
    assert any("rebuilt from the stores" in t.value for t in at.toast), [t.value for t in at.toast]
    shown = " ".join(str(c.value) for c in at.caption)
    assert f"of {total + 1:,} rows" in shown, shown
    assert any("Kestrel-Damaged-1B" in str(m) for m in at.dataframe[0].value["Model"])
