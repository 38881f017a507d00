"""The persisted index (lib.index.cache): a new process opens it instead of parsing, re-reads only what
changed, and never trusts a snapshot that is corrupt, foreign, of another code version, or racing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from lib.core.config import load_definition
from lib.index import Index, cache
from tests.factories import request_file, result_file

ROOT = Path(__file__).resolve().parents[1]


def _store(tmp_path: Path, n: int = 4) -> None:
    for i in range(n):
        result_file(tmp_path / "results", f"org/m{i}", {"leaderboard_gpqa": {"acc_norm": 0.1 * i}})
        request_file(tmp_path / "requests", f"org/m{i}", params=float(i + 1))
    (tmp_path / "results" / "broken.json").write_text("{not json")
    (tmp_path / "requests" / "org" / "weird.json").write_text('{"model": "org/x", "status": "EXPLODED"}')
    _age(tmp_path)


def _age(tmp_path: Path) -> None:
    """Files written a while ago, as in a real store (a file written this instant is re-read: racy)."""
    old = time.time() - 600
    for path in tmp_path.rglob("*.json"):
        os.utime(path, (old, old))


def _open(tmp_path: Path) -> tuple[Index, object]:
    index = Index(
        load_definition("demo"),
        str(tmp_path / "results"),
        str(tmp_path / "requests"),
        cache=tmp_path / "cache",
    )
    return index, index.refresh()


def _content(index: Index) -> tuple:
    evaluations = index.con.execute(
        "SELECT eval_id, model, eval_no, base_no FROM evaluations ORDER BY eval_id"
    ).fetchall()
    scores = index.con.execute(
        "SELECT * EXCLUDE (eval_no), eval_no IS NOT NULL FROM scores ORDER BY eval_id, task, metric"
    ).fetchall()
    requests = index.con.execute("SELECT * FROM requests ORDER BY path").fetchall()
    problems = index.problems().values.tolist()
    return evaluations, scores, requests, problems, index.requests_list


def test_unchanged_store_is_opened_not_parsed(tmp_path):
    _store(tmp_path)
    first, stats = _open(tmp_path)
    assert stats.parsed == 5 and stats.cached == 0
    again, stats = _open(tmp_path)
    assert stats.parsed == 0 and not stats.requests_changed
    assert stats.cached == 10  # 5 results files + 5 request files, from the snapshot
    assert again.counts() == first.counts()  # asked first, as each page's data status line does
    assert _content(again) == _content(first)
    report = again.problems()
    assert set(report["path"]) == {"broken.json", "org/weird.json"}  # the ingest report persists


def test_changed_added_removed_files_are_the_only_ones_read(tmp_path):
    _store(tmp_path)
    _open(tmp_path)
    changed = result_file(tmp_path / "results", "org/m1", {"leaderboard_gpqa": {"acc_norm": 0.99}})
    added = result_file(tmp_path / "results", "org/new", {"leaderboard_gpqa": {"acc_norm": 0.5}})
    removed = tmp_path / "results" / "org__m2"
    for path in removed.iterdir():
        path.unlink()
    request_file(tmp_path / "requests", "org/m3", params=99.0)
    for path in (changed, added):
        os.utime(path, (time.time() - 100, time.time() - 100))
    index, stats = _open(tmp_path)
    assert (stats.parsed, stats.removed) == (2, 1)
    values = dict(
        index.con.execute(
            "SELECT e.model, s.value FROM scores s JOIN evaluations e USING (eval_id)"
        ).fetchall()
    )
    assert values == {"org/m0": 0.0, "org/m1": 0.99, "org/m3": pytest.approx(0.3), "org/new": 0.5}
    params = {r.model: r.params for r in index.requests_list}
    assert params["org/m3"] == 99.0
    assert len(set(index.con.execute("SELECT eval_no FROM evaluations").fetchall())) == 4  # ids stay unique
    fresh = Index(load_definition("demo"), str(tmp_path / "results"), str(tmp_path / "requests"), cache=False)
    fresh.refresh()
    assert _content(index)[1:] == _content(fresh)[1:]  # the same as a build from the files


def test_failed_file_is_retried_when_it_changes(tmp_path):
    _store(tmp_path)
    _open(tmp_path)
    result_file(tmp_path / "results", "org/fixed", {"leaderboard_gpqa": {"acc_norm": 0.7}})
    fixed = tmp_path / "results" / "org__fixed"
    (tmp_path / "results" / "broken.json").write_bytes(next(fixed.iterdir()).read_bytes())
    for path in fixed.iterdir():
        path.unlink()
    index, stats = _open(tmp_path)
    assert stats.parsed == 1
    assert "broken.json" not in set(index.problems()["path"])
    assert index.con.execute("SELECT count(*) FROM evaluations WHERE eval_id = 'broken.json'").fetchall() == [
        (1,)
    ]


def test_file_rewritten_right_after_the_snapshot_is_read_again(tmp_path):
    """Same size, same clock tick: only the racy rule tells; such files are never trusted from the cache."""
    result_file(tmp_path / "results", "org/a", {"t": {"acc": 0.25}})
    first, _ = _open(tmp_path)
    path = next((tmp_path / "results" / "org__a").iterdir())
    stamp = path.stat().st_mtime_ns
    path.write_text(path.read_text().replace("0.25", "0.75"))
    os.utime(path, ns=(stamp, stamp))  # the same version as cached
    index, stats = _open(tmp_path)
    assert stats.parsed == 1
    assert index.con.execute("SELECT value FROM scores").fetchall() == [(0.75,)]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign", "other stores"])
def test_corrupt_or_foreign_snapshot_is_rebuilt_never_trusted(tmp_path, damage):
    _store(tmp_path)
    first, _ = _open(tmp_path)
    snapshot = first.cache.path
    if damage == "garbage":
        snapshot.write_bytes(os.urandom(5000))
    elif damage == "truncated":
        snapshot.write_bytes(snapshot.read_bytes()[:20000])
    elif damage == "foreign":
        snapshot.unlink()
        con = duckdb.connect(str(snapshot))
        con.execute("CREATE TABLE evaluations AS SELECT 1 AS x")
        con.close()
    else:  # a snapshot of other stores copied over this one's name
        other = tmp_path / "other"
        result_file(other / "results", "org/z", {"t": {"acc": 0.1}})
        _age(other)
        alien = Index(load_definition("demo"), str(other / "results"), "", cache=tmp_path / "cache")
        alien.refresh()
        snapshot.write_bytes(alien.cache.path.read_bytes())
    index, stats = _open(tmp_path)
    assert index.cache.status.startswith("discarded")
    assert stats.cached == 0 and stats.parsed == 5
    assert _content(index) == _content(first)
    again, stats = _open(tmp_path)  # and the rebuilt snapshot is good again
    assert stats.parsed == 0 and _content(again) == _content(first)


def test_schema_or_parser_change_invalidates(tmp_path, monkeypatch):
    code = tmp_path / "code"
    for name in cache._CODE_FILES:
        (code / name).parent.mkdir(parents=True, exist_ok=True)
        (code / name).write_bytes((ROOT / name).read_bytes())
    (code / "lib/ingest").mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "lib/ingest").glob("*.py"):
        (code / "lib/ingest" / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(cache, "_ROOT", code)
    versions = []
    for edit in ("lib/index/sql/schema.sql", "lib/ingest/lm_eval_v04.py"):
        monkeypatch.setattr(cache, "_schema_version", None)
        versions.append(cache.schema_version())
        with (code / edit).open("a") as handle:
            handle.write("\n-- changed\n" if edit.endswith(".sql") else "\n# changed\n")
    monkeypatch.setattr(cache, "_schema_version", None)
    versions.append(cache.schema_version())
    assert len(set(versions)) == 3

    _store(tmp_path / "store")
    monkeypatch.setattr(cache, "_schema_version", versions[0])
    _open(tmp_path / "store")
    monkeypatch.setattr(cache, "_schema_version", versions[1])  # a new release of the code
    index, stats = _open(tmp_path / "store")
    assert index.cache.status == "discarded: was written by another code version"
    assert stats.parsed == 5


def test_off_switch_and_unwritable_folder(tmp_path, monkeypatch):
    _store(tmp_path)
    monkeypatch.setenv("LEADERBOARD_CACHE", "off")
    index = Index(load_definition("demo"), str(tmp_path / "results"), str(tmp_path / "requests"))
    assert index.cache is None
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    index = Index(
        load_definition("demo"), str(tmp_path / "results"), str(tmp_path / "requests"), cache=blocker
    )
    assert index.refresh().parsed == 5 and index.counts()["evaluations"] == 4  # works, uncached


_WORKER = """
import sys, time
from lib.core.config import load_definition
from lib.index import Index
root, cache, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(rounds):
    index = Index(load_definition("demo"), root + "/results", root + "/requests", cache=cache)
    index.refresh()
    n = index.counts()["evaluations"]
    assert n == 30, n
    assert len(index.requests_list) == 30
print("ok", index.cache.status)
"""


def test_two_processes_at_once_neither_corrupt_nor_block(tmp_path):
    """Both write the snapshot over and over (their files are new, hence re-read) while the other
    reads it; both finish with the right rows, and the snapshot left is valid."""
    for i in range(30):
        result_file(tmp_path / "results", f"org/m{i}", {"leaderboard_gpqa": {"acc_norm": i / 30}})
        request_file(tmp_path / "requests", f"org/m{i}")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-c", _WORKER, str(tmp_path), str(tmp_path / "cache"), "8"]
    workers = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    holder = Index(
        load_definition("demo"),
        str(tmp_path / "results"),
        str(tmp_path / "requests"),
        cache=tmp_path / "cache",
    )
    for _ in range(4):  # this process too, while they run
        holder.refresh()
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-2000:]
        assert "ok" in out
    _age(tmp_path)
    _open(tmp_path)
    index, stats = _open(tmp_path)
    assert stats.parsed == 0 and index.counts()["evaluations"] == 30
    assert not list((tmp_path / "cache").glob("*.tmp"))  # no writer left a temporary file


# ----------------------------------------------------------------- derived results (the score matrix)
def _ranked(index: Index) -> pd.DataFrame:
    """The leaderboard table of the default view, every column."""
    from lib.analysis.leaderboard import LeaderboardView, build_table

    return build_table(index, index.definition, LeaderboardView()).frame


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(a, b)
    except AssertionError:
        return False
    return True


def _no_sql(monkeypatch) -> None:
    """From here on, computing the score matrix fails the test: it must come from beside the snapshot."""
    from lib.analysis import ranking

    def fail(*args, **kwargs):
        raise AssertionError("the score matrix was computed again")

    monkeypatch.setattr(ranking, "_matrix_table", fail)


def _derived(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("*.derived-*.arrow"))


def test_unchanged_store_ranks_from_the_kept_score_matrix(tmp_path, monkeypatch):
    _store(tmp_path)
    first, _ = _open(tmp_path)
    expected = _ranked(first)  # computed, and kept beside the snapshot
    assert len(_derived(tmp_path)) == 1
    with monkeypatch.context() as patch:
        _no_sql(patch)
        again, stats = _open(tmp_path)
        assert stats.cached and not stats.parsed
        assert _same(_ranked(again), expected)
    fresh = Index(load_definition("demo"), str(tmp_path / "results"), str(tmp_path / "requests"), cache=False)
    fresh.refresh()
    assert _same(_ranked(fresh), expected)  # the same as a ranking from the files


@pytest.mark.parametrize("change", ["changed", "added", "removed", "request"])
def test_kept_score_matrix_is_never_used_for_other_data(tmp_path, change):
    _store(tmp_path)
    first, _ = _open(tmp_path)
    _ranked(first)
    old = _derived(tmp_path)
    if change == "changed":
        result_file(tmp_path / "results", "org/m1", {"leaderboard_gpqa": {"acc_norm": 0.99}})
    elif change == "added":
        result_file(tmp_path / "results", "org/new", {"leaderboard_gpqa": {"acc_norm": 0.5}})
    elif change == "removed":
        for path in (tmp_path / "results" / "org__m2").iterdir():
            path.unlink()
    else:  # a request's metadata is part of every ranked row
        request_file(tmp_path / "requests", "org/m3", params=99.0)
    _age(tmp_path)
    index, stats = _open(tmp_path)
    fresh = Index(load_definition("demo"), str(tmp_path / "results"), str(tmp_path / "requests"), cache=False)
    fresh.refresh()
    assert _same(_ranked(index), _ranked(fresh))
    assert not _same(_ranked(index), _ranked(first))
    assert not set(old) & set(_derived(tmp_path))  # the old snapshot's file is gone with its token
    # and the new snapshot's matrix is kept: a third process ranks without SQL
    again, _ = _open(tmp_path)
    assert _same(_ranked(again), _ranked(fresh))


def test_refresh_in_the_same_process_drops_the_kept_matrix(tmp_path):
    """A long-running app: once a refresh changed the data, neither the memo nor the kept file serves."""
    _store(tmp_path)
    index, _ = _open(tmp_path)
    before = _ranked(index)
    result_file(tmp_path / "results", "org/m0", {"leaderboard_gpqa": {"acc_norm": 0.77}})
    index.cache.saved_at = time.time()  # not due: the change stays unsaved, the snapshot is older
    index.refresh()
    after = _ranked(index)
    assert not _same(after, before)
    gpqa = after.set_index("model")["gpqa_norm"]
    assert gpqa["org/m0"] == pytest.approx(100 * (0.77 - 0.25) / 0.75)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other token"])
def test_damaged_kept_matrix_is_computed_again(tmp_path, damage):
    _store(tmp_path)
    first, _ = _open(tmp_path)
    expected = _ranked(first)
    (kept,) = _derived(tmp_path)
    if damage == "garbage":
        kept.write_bytes(os.urandom(3000))
    elif damage == "truncated":
        kept.write_bytes(kept.read_bytes()[:-200])
    else:  # a file of another snapshot put under this one's name
        first.cache.save_derived("f" * 32, "other", first.cache.load_derived(first.cache.token, _name(first)))
        other = next(p for p in _derived(tmp_path) if "ffff" in p.name)
        kept.write_bytes(other.read_bytes())
    again, _ = _open(tmp_path)
    assert _same(_ranked(again), expected)
    assert again.cache.load_derived(again.cache.token, _name(again)) is not None  # written again, good


def _name(index: Index) -> str:
    """The name the score matrix of the default view is kept under."""
    (path,) = [p for p in _derived(index.cache.folder.parent) if index.cache.token in p.name]
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).schema.metadata[b"name"].decode()


def test_a_flipped_byte_anywhere_in_the_kept_matrix_is_never_used(tmp_path):
    """An Arrow file has no checksum of its own: a byte flipped in a score or a model's path read as
    another value (or crashed the page). Each of 40 seeded spots over the whole file, one at a time."""
    import random
    import zlib

    _store(tmp_path, n=12)
    first, _ = _open(tmp_path)
    expected = _ranked(first)
    (kept,) = _derived(tmp_path)
    good = kept.read_bytes()
    rnd = random.Random(14)
    for spot in sorted(rnd.sample(range(len(good)), 40)):
        for path in _derived(tmp_path):
            path.unlink()
        damaged = bytearray(good)
        damaged[spot] ^= 1 << rnd.randrange(8)
        kept.write_bytes(bytes(damaged))
        again, _ = _open(tmp_path)
        assert _same(_ranked(again), expected), f"byte {spot} of {len(good)}"
        (kept_again,) = _derived(tmp_path)  # computed again and kept again, named with its own checksum
        assert kept_again.read_bytes() != bytes(damaged)
        assert kept_again.name.endswith(f"-{zlib.crc32(kept_again.read_bytes()):08x}.arrow")


def test_schema_bump_drops_the_kept_matrix(tmp_path, monkeypatch):
    _store(tmp_path)
    first, _ = _open(tmp_path)
    expected = _ranked(first)
    monkeypatch.setattr(cache, "_schema_version", "another release")
    index, stats = _open(tmp_path)
    assert index.cache.status == "discarded: was written by another code version"
    assert _same(_ranked(index), expected)
    assert len(_derived(tmp_path)) == 1  # the old snapshot's matrix was deleted with its token


def test_kept_results_are_bounded_per_snapshot(tmp_path, monkeypatch):
    """One file per benchmark selection, at most MAX_DERIVED of them: the least recently used go."""
    from lib.analysis.ranking import score_matrix

    monkeypatch.setattr(cache, "MAX_DERIVED", 2)
    _store(tmp_path)
    index, _ = _open(tmp_path)
    benchmarks = index.definition.benchmarks
    for selection in (benchmarks[:1], benchmarks[:2], benchmarks[:3]):
        score_matrix(index, selection)
        time.sleep(0.01)  # distinct modification times
    assert len(_derived(tmp_path)) == 2
    again, _ = _open(tmp_path)
    with monkeypatch.context() as patch:
        _no_sql(patch)
        score_matrix(again, benchmarks[:3])  # the newest two are kept
        score_matrix(again, benchmarks[:2])
