"""The folder memo of a local store's listing (lib.stores.local): a folder whose st_ctime did not move is
not read again, yet the listing always equals a full walk of the store, also in a new process that takes
the memo from the persisted index; each file's version (mtime and size) is still checked every time."""

from __future__ import annotations

import os
import random
import stat
import time
from pathlib import Path

import pytest

from lib.core.config import load_definition
from lib.index import Index
from lib.stores import local
from lib.stores.local import LocalFileStore
from tests.factories import request_file, result_file

LISTING = ((".json",), True)


@pytest.fixture
def trusted(monkeypatch):
    """Folders count as changed long ago (the racy rule would otherwise keep fresh folders out of the
    memo); each step of a test then waits past the file system's clock tick, so a change moves st_ctime."""
    monkeypatch.setattr(local, "_now_ns", lambda: time.time_ns() + 3600 * 10**9)


def _tick() -> None:
    time.sleep(0.02)  # longer than a coarse kernel clock tick (1-10 ms)


def _full(root: Path) -> list:
    return LocalFileStore(root).list_files(*LISTING)  # a new store: no memo, every folder read


def _mutate(root: Path, rng: random.Random, step: int) -> str:
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    folders = sorted(p for p in root.rglob("*") if p.is_dir() and not p.is_symlink())
    op = rng.choice(
        [
            "add",
            "add_deep",
            "remove",
            "rename",
            "edit_same_size",
            "edit_other_size",
            "file_to_folder",
            "remove_folder",
            "hidden",
            "not_json",
            "temp",
            "side_file",
            "symlink",
            "dangling",
            "json_folder",
            "touch_folder",
        ]
    )
    json_files = [p for p in files if p.suffix == ".json"]
    if op == "add":
        folder = rng.choice([root, *folders])
        (folder / f"new{step}.json").write_text('{"a": 1}')
    elif op == "add_deep":
        (root / f"org{step}" / "sub" / "deeper").mkdir(parents=True)
        (root / f"org{step}" / "sub" / "deeper" / "r.json").write_text("{}")
    elif op == "remove" and files:
        rng.choice(files).unlink()
    elif op == "rename" and json_files:
        source = rng.choice(json_files)
        source.rename(source.with_name(f"renamed{step}.json"))
    elif op in ("edit_same_size", "edit_other_size") and json_files:
        target = rng.choice(json_files)
        data = target.read_bytes()
        target.write_bytes(bytes(reversed(data)) if op == "edit_same_size" else data + b" ")
    elif op == "file_to_folder" and json_files:
        target = rng.choice(json_files)
        target.unlink()
        target.mkdir()
        (target / "inner.json").write_text("{}")
    elif op == "remove_folder" and len(folders) > 1:
        folder = rng.choice(folders[1:])
        for path in sorted(folder.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
        folder.rmdir()
    elif op == "hidden":
        (rng.choice([root, *folders]) / f".hidden{step}.json").write_text("{}")
    elif op == "not_json":
        (rng.choice([root, *folders]) / f"notes{step}.txt").write_text("x")
    elif op == "temp":
        (rng.choice([root, *folders]) / f".r{step}.json.abc.tmp").write_text("x")
    elif op == "side_file":
        (rng.choice([root, *folders]) / f"samples{step}.jsonl").write_text("x")
    elif op == "symlink" and json_files:
        (rng.choice([root, *folders]) / f"link{step}.json").symlink_to(rng.choice(json_files))
    elif op == "dangling":
        (rng.choice([root, *folders]) / f"dangling{step}.json").symlink_to(root / "nowhere")
    elif op == "json_folder":
        (rng.choice([root, *folders]) / f"folder{step}.json").mkdir()
    elif op == "touch_folder":
        os.utime(rng.choice(folders), (1, 1))  # a program setting a folder's times back
    return op


@pytest.mark.parametrize("seed", range(6))
def test_listing_with_the_memo_equals_a_full_walk_after_random_changes(tmp_path, trusted, seed):
    rng = random.Random(seed)
    root = tmp_path / "store"
    for i in range(6):
        (root / f"org{i % 3}__m{i}").mkdir(parents=True, exist_ok=True)
        (root / f"org{i % 3}__m{i}" / f"results_{i}.json").write_text(f'{{"i": {i}}}')
    store = LocalFileStore(root)  # keeps its memo from one listing to the next, as the app's index does
    assert store.list_files(*LISTING) == _full(root)
    assert store.listing_memo(*LISTING)  # the plain folders are memoized
    done = []
    for step in range(40):
        _tick()
        done.append(_mutate(root, rng, step))
        _tick()
        assert store.list_files(*LISTING) == _full(root), f"after {done}"
        again = LocalFileStore(root)  # a new process with the memo kept by the persisted index
        again.use_listing_memo(*LISTING, store.listing_memo(*LISTING))
        assert again.list_files(*LISTING) == _full(root), f"after {done} (memo from another store object)"


def test_unchanged_folders_are_not_read_but_their_files_are_checked(tmp_path, trusted, monkeypatch):
    root = tmp_path / "store"
    for i in range(5):
        (root / f"m{i}").mkdir(parents=True)
        (root / f"m{i}" / "r.json").write_text('{"a": 1}')
    store = LocalFileStore(root)
    store.list_files(*LISTING)
    read = []
    scandir = os.scandir
    monkeypatch.setattr(local.os, "scandir", lambda path: read.append(path) or scandir(path))
    _tick()
    edited = root / "m3" / "r.json"
    edited.write_text('{"a": 2}')  # in place, same size: the folder's st_ctime stays
    listed = {f.path: f.version for f in store.list_files(*LISTING)}
    assert read == []  # no folder was read
    st = edited.stat()
    assert listed["m3/r.json"] == f"{st.st_mtime_ns}:{st.st_size}"  # the new version all the same
    (root / "m1" / "second.json").write_text("{}")
    assert "m1/second.json" in {f.path for f in store.list_files(*LISTING)}
    assert read == [str(root / "m1")]  # only the folder that changed


def test_folder_changed_within_the_racy_window_is_read_every_time(tmp_path):
    root = tmp_path / "store"
    (root / "m").mkdir(parents=True)
    (root / "m" / "a.json").write_text("{}")
    store = LocalFileStore(root)
    store.list_files(*LISTING)
    assert store.listing_memo(*LISTING) == {}  # just written: a change in the same clock tick is possible
    (root / "m" / "b.json").write_text("{}")  # no pause: possibly the same tick as the listing
    assert [f.path for f in store.list_files(*LISTING)] == ["m/a.json", "m/b.json"]


def _index(tmp_path: Path) -> Index:
    index = Index(
        load_definition("demo"),
        str(tmp_path / "results"),
        str(tmp_path / "requests"),
        cache=tmp_path / "cache",
    )
    index.refresh()
    return index


def _rows(index: Index) -> list:
    evaluations = index.con.execute("SELECT eval_id, model FROM evaluations ORDER BY eval_id").fetchall()
    scores = index.con.execute("SELECT eval_id, task, metric, value FROM scores ORDER BY ALL").fetchall()
    return [evaluations, scores, sorted((r.path, r.params) for r in index.requests_list)]


@pytest.mark.parametrize(
    "change", ["in place, same size", "added beside", "added in a new folder", "removed"]
)
def test_new_process_with_the_kept_memo_sees_every_change(tmp_path, trusted, change):
    for i in range(4):
        result_file(tmp_path / "results", f"org/m{i}", {"leaderboard_gpqa": {"acc_norm": 0.1 * i}})
        request_file(tmp_path / "requests", f"org/m{i}", params=float(i + 1))
    old = time.time() - 600
    for path in tmp_path.rglob("*.json"):
        os.utime(path, (old, old))
    first = _index(tmp_path)
    assert first.listing_memos()["results"]  # kept in the snapshot with the index
    _tick()
    folder = tmp_path / "results" / "org__m1"
    target = next(folder.iterdir())
    if change == "in place, same size":
        target.write_bytes(target.read_bytes().replace(b"0.1", b"0.7"))
        request = next((tmp_path / "requests" / "org").glob("m2_*.json"))
        request.write_bytes(request.read_bytes().replace(b"3.0", b"9.0"))
    elif change == "added beside":
        result_file(
            tmp_path / "results",
            "org/m1",
            {"leaderboard_gpqa": {"acc_norm": 0.9}},
            stamp="2030-01-01T00-00-00.000000",
        )
    elif change == "added in a new folder":
        result_file(tmp_path / "results", "org/new", {"leaderboard_gpqa": {"acc_norm": 0.5}})
    else:
        target.unlink()
    _tick()
    again = _index(tmp_path)
    assert again.cache is not None and again.cache.status.startswith("loaded")
    fresh = Index(load_definition("demo"), str(tmp_path / "results"), str(tmp_path / "requests"), cache=False)
    fresh.refresh()
    assert _rows(again) == _rows(fresh)
    assert _rows(again) != _rows(first)


def test_a_memo_naming_anything_but_plain_entries_is_not_used(tmp_path, trusted):
    """A memo from a damaged or foreign cache file that names '..', a path or a folder outside the store
    never leads the listing out of the store: the whole memo is dropped and every folder is read."""
    root = tmp_path / "store"
    (root / "m").mkdir(parents=True)
    (root / "m" / "1.json").write_text("{}")
    (tmp_path / "not_in_store.json").write_text('{"secret": 1}')
    honest = LocalFileStore(root)
    honest.list_files(*LISTING)
    memo = honest.listing_memo(*LISTING)
    top = memo[str(root)]
    forged_memos = [
        {**memo, str(root): top._replace(folders=(*top.folders, ".."))},
        {**memo, str(root): top._replace(files=("../not_in_store.json",))},
        {**memo, str(tmp_path): top._replace(files=("not_in_store.json",))},
        {**memo, str(root / ".." / "store"): top},
    ]
    for forged in forged_memos:
        store = LocalFileStore(root)
        store.use_listing_memo(*LISTING, forged)
        assert store.listing_memo(*LISTING) == {}
        assert [f.path for f in store.list_files(*LISTING)] == ["m/1.json"]
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the refusal, nothing is read
            store.read_bytes("../not_in_store.json")


class _FrozenFolders:
    """``os.lstat`` of a file system that never moves a folder's st_ctime (some FUSE mounts)."""

    def __init__(self, real):
        self.real = real

    def __call__(self, path, *args, **kwargs):
        st = self.real(path, *args, **kwargs)
        if not stat.S_ISDIR(st.st_mode):
            return st
        return type(
            "Stat", (), {"st_mode": st.st_mode, "st_ctime_ns": 1, "st_dev": st.st_dev, "st_ino": st.st_ino}
        )


def test_the_memo_is_read_again_after_its_age_on_a_file_system_that_never_moves_ctime(tmp_path, monkeypatch):
    """Where a new entry does not move its folder's st_ctime, the memo would hide it forever (also in a
    new process, from the persisted index): each folder is read again once its memo is older than
    LEADERBOARD_LISTING_MEMO_S, and with 0 it is never memoized."""
    root = tmp_path / "store"
    (root / "m").mkdir(parents=True)
    (root / "m" / "1.json").write_text("{}")
    monkeypatch.setattr(local.os, "lstat", _FrozenFolders(os.lstat))
    clock = [time.time_ns() + 3600 * 10**9]
    monkeypatch.setattr(local, "_now_ns", lambda: clock[0])
    store = LocalFileStore(root)
    store.list_files(*LISTING)
    (root / "m" / "2.json").write_text("{}")
    assert len(store.list_files(*LISTING)) == 1  # the memo cannot see it: ctime never moved
    clock[0] += local.MEMO_MAX_AGE_NS + 1
    assert [f.path for f in store.list_files(*LISTING)] == ["m/1.json", "m/2.json"]
    monkeypatch.setattr(local, "MEMO_MAX_AGE_NS", 0)
    (root / "m" / "3.json").write_text("{}")
    assert len(store.list_files(*LISTING)) == 3
    assert store.listing_memo(*LISTING) == {}


def test_another_folder_in_the_place_of_a_memoized_one_is_read(tmp_path, trusted):
    """The memo knows a folder by its device and inode too: another folder renamed into its place (even
    one whose st_ctime happened to be equal) is read, not taken for the one it replaced."""
    root = tmp_path / "store"
    (root / "m").mkdir(parents=True)
    (root / "m" / "1.json").write_text("{}")
    store = LocalFileStore(root)
    store.list_files(*LISTING)
    memo = store.listing_memo(*LISTING)
    folder = str(root / "m")
    memo[folder] = memo[folder]._replace(files=(), node="0:0")  # same ctime, another node, other content
    again = LocalFileStore(root)
    again.use_listing_memo(*LISTING, memo)
    assert [f.path for f in again.list_files(*LISTING)] == ["m/1.json"]


def test_the_memo_check_on_joined_names_agrees_with_the_check_of_each_name():
    """``use_listing_memo`` checks 400,000 names at once on a joined string: generated names made of the
    parts that matter (separators, dots, NULs, empty) get the same verdict as ``_is_name`` one by one."""
    import random

    from lib.stores.local import _all_names, _is_name

    rng = random.Random(14)
    pieces = ["a", "b.json", ".", "..", "/", os.sep, "\0", "", "\\", " "]
    for _ in range(20_000):
        texts = [
            "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4))) for _ in range(rng.randint(0, 4))
        ]
        assert _all_names(texts) == all(_is_name(t) for t in texts), texts
        assert _all_names(texts, os.sep) == all(all(_is_name(p) for p in t.split(os.sep)) for t in texts), (
            texts
        )
