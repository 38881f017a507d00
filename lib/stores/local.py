"""A store that is a folder on this machine. Writes go to a temporary file and are renamed in place.

The compare-and-swap (``replace_if_unchanged``) holds a kernel lock (``flock``) on a hidden lock file
beside the target while it compares the version and renames: the kernel releases the lock when its holder
dies, so a writer killed mid-swap never blocks the next status change. The lock files stay (hidden,
never listed); they hold no state.

A listing checks each file's version (mtime and size, one ``lstat`` per file) every time; which files
exist it reads from the folders with ``os.scandir``, except in a folder that did not change since the
last listing: one whose ``st_ctime`` is the one recorded then (the folder memo; the persisted index
keeps it for the next process). POSIX updates a folder's ``st_ctime`` whenever an entry is created,
removed or renamed in it, and no program can set it back (``utime`` sets it to now), so an equal value
means the same names of the same kinds; a folder with an entry the listing reports as a problem, or
changed within ``RACY_NS`` of the listing, is read every time. At 100,000 folders of one file this
halves the listing: two ``lstat`` calls instead of opening and reading each folder.
"""

from __future__ import annotations

import errno
import fcntl
import itertools
import os
import stat
import tempfile
import time
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from lib.stores.base import (
    HIDDEN,
    KNOWN_SIDE_FILES,
    NOT_RESULTS,
    TEMP_FILE_RE,
    FileInfo,
    StoreMissingError,
    StoreWriteError,
    UnsafePathError,
    is_sanitized_path_folder,
)

# How long a compare-and-swap waits for another writer's lock (held for one small write) before giving
# up with False; the caller treats that as a lost race.
LOCK_WAIT_S = 10.0
# A folder whose st_ctime is this close to (or after) the start of a listing is not memoized: a change
# in the same clock tick would leave st_ctime as it is (the "racy clean" rule of git, lib.index.cache).
# Seconds, not a tick: the clock that stamps st_ctime may be another machine's (a shared file system
# written from cluster nodes), a little behind this one. Not more: a folder changed this close to the
# listing that the persisted index saves is memoized only by a later save.
RACY_NS = 5_000_000_000
# How long a folder's memo stands before the folder is read again anyway (0: never memoized). It bounds
# how stale a listing can be on a file system that does not move a folder's st_ctime when an entry is
# created or removed in it (some FUSE and object-store mounts), across processes too.
MEMO_MAX_AGE_NS = int(float(os.environ.get("LEADERBOARD_LISTING_MEMO_S", "3600")) * 1e9)


def _now_ns() -> int:
    return time.time_ns()


class FolderMemo(NamedTuple):
    """What a folder held when its ``st_ctime`` was ``ctime_ns``: its subfolders and files by name."""

    ctime_ns: int
    folders: tuple[str, ...]
    files: tuple[str, ...]  # regular files named *<suffix>, the ones list_files reports with a version
    node: str = ""  # "st_dev:st_ino": another folder renamed into its place is not it
    scanned_ns: int = 0  # when the folder was last read (time.time_ns()): see MEMO_MAX_AGE_NS


def _node(st: os.stat_result) -> str:
    return f"{st.st_dev}:{st.st_ino}"


def _is_name(name: str) -> bool:
    """A folder memo's name is one plain entry name (the memo may come from a damaged cache file)."""
    return (
        bool(name) and name not in (".", "..") and "/" not in name and os.sep not in name and "\0" not in name
    )


def _all_names(texts: list[str], sep: str | None = None) -> bool:
    """Whether each text is one plain entry name (``_is_name``), or with ``sep`` one or more joined by
    ``sep``: checked on one joined string (a memo of 100,000 folders has 400,000 names; a call per name
    costs 0.4 s)."""
    if not texts:
        return True
    joined = "\0".join(texts)
    if joined.count("\0") != len(texts) - 1:
        return False  # a NUL inside a text
    if any(bad in joined for bad in {"/", os.sep} - {sep}):
        return False  # a separator inside a name
    parts = "\0" + (joined.replace(sep, "\0") if sep else joined) + "\0"  # each name between two NULs
    return "\0\0" not in parts and "\0.\0" not in parts and "\0..\0" not in parts


class LocalFileStore:
    """Files below ``root``. Relative paths use '/', whatever the platform."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()
        self.location = str(self.root)
        self._listed: set[str] = set()  # paths the last listing found: real files inside the root
        self._memo: dict[str, FolderMemo] = {}  # folder -> what it held at its st_ctime (list_files)
        self._memo_key: tuple[tuple[str, ...], bool] | None = None  # the list_files arguments of _memo

    def _abs(self, path: str) -> Path:
        if path in self._listed:
            return self.root / path  # found by list_files, which follows no symlink: no need to resolve
        target = (self.root / path).resolve()
        if target != self.root and self.root not in target.parents:
            raise UnsafePathError(f"path {path!r} leaves the store")
        return target

    def list_files(self, suffixes: tuple[str, ...] = (".json",), irregular: bool = False) -> list[FileInfo]:
        """Every entry named ``*<suffix>`` below the root (see ``FileStore.list_files``), sorted by path.

        A folder whose ``st_ctime`` equals the one the folder memo recorded for it is not read again:
        its entries are the memo's (see the module's docstring), and each of its files is still
        ``lstat``-ed for its version (mtime and size). Any other folder is read with ``os.scandir``."""
        if not self.root.is_dir():
            raise StoreMissingError(
                f"store folder {self.root} does not exist yet (the first write creates it)"
            )
        key = (tuple(suffixes), irregular)
        memo = self._memo if self._memo_key == key else {}
        fresh: dict[str, FolderMemo] = {}
        now = _now_ns()
        trusted_before = now - RACY_NS  # a folder changed after this may change again unseen
        scanned_after = now - MEMO_MAX_AGE_NS  # a memo older than this is read again anyway
        found: list[FileInfo] = []
        stack = [str(self.root)]
        root_len = len(stack[0]) + 1
        while stack:
            folder = stack.pop()
            try:
                st = os.lstat(folder)  # before reading it: a change while it is read moves st_ctime on
            except OSError:
                continue
            if not stat.S_ISDIR(st.st_mode):
                continue  # replaced (by a link, a file) since its parent was read: never followed
            known = memo.get(folder)
            if (
                known is not None
                and known.ctime_ns == st.st_ctime_ns
                and known.node == _node(st)
                and known.scanned_ns > scanned_after
            ):
                files = self._known_files(folder, known.files, root_len) if known.files else []
                if files is not None:
                    found += files
                    prefix = folder + os.sep
                    for name in known.folders:
                        stack.append(prefix + name)
                    fresh[folder] = known
                    continue
            plain = self._scan(folder, suffixes, irregular, root_len, found, stack)
            if (
                plain is not None
                and MEMO_MAX_AGE_NS > 0
                and st.st_ctime_ns < trusted_before
                and (folder.isascii() or _is_utf8(folder))
            ):
                fresh[folder] = FolderMemo(st.st_ctime_ns, *plain, node=_node(st), scanned_ns=now)
        found.sort(key=itemgetter(0))  # by path (a sort on str keys has CPython's fast comparison)
        self._listed = {f.path for f in found if not f.problem and not f.version.startswith("link:")}
        self._memo, self._memo_key = fresh, key
        return found

    def listing_memo(self, suffixes: tuple[str, ...], irregular: bool) -> dict[str, FolderMemo]:
        """The folder memo of the last listing made with these arguments (empty when none was)."""
        return dict(self._memo) if self._memo_key == (tuple(suffixes), irregular) else {}

    def use_listing_memo(
        self, suffixes: tuple[str, ...], irregular: bool, memo: dict[str, FolderMemo]
    ) -> None:
        """Start from ``memo`` (kept by an earlier process: ``lib.index.cache``) for such listings.

        A memo naming a folder outside the root or an entry that is no plain name is not used at all
        (it came from a damaged or foreign cache file): the next listing reads every folder."""
        root = str(self.root)
        inside = root + os.sep
        below = [folder for folder in memo if folder != root]
        names = [name for known in memo.values() for part in (known.folders, known.files) for name in part]
        if not (
            all(map(str.startswith, below, itertools.repeat(inside)))
            and _all_names([folder[len(inside) :] for folder in below], os.sep)
            and _all_names(names)
        ):
            self._memo, self._memo_key = {}, None
            return
        self._memo, self._memo_key = dict(memo), (tuple(suffixes), irregular)

    def _known_files(self, folder: str, names: tuple[str, ...], root_len: int) -> list[FileInfo] | None:
        """The files of an unchanged folder with their versions; None when one is no longer a regular
        file (it changed since the folder's ``st_ctime`` was read: the folder is read again)."""
        out = []
        prefix = folder + os.sep
        rel_prefix = prefix[root_len:].replace(os.sep, "/")
        lstat, regular = os.lstat, stat.S_ISREG
        for name in names:
            try:
                st = lstat(prefix + name)
            except OSError:
                return None
            if not regular(st.st_mode):
                return None
            size = st.st_size
            out.append(FileInfo(rel_prefix + name, size, f"{st.st_mtime_ns}:{size}"))
        return out

    def _scan(
        self,
        folder: str,
        suffixes: tuple[str, ...],
        irregular: bool,
        root_len: int,
        found: list[FileInfo],
        stack: list[str],
    ) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """Read one folder: its entries into ``found``, its subfolders onto ``stack``. Returns the names
        of its subfolders and files when that is all it holds besides entries never listed (temporary
        and side files), so that the memo can stand for it; None otherwise (it is read every time)."""
        # the loop runs once per entry (200,000 at the largest stores): plain strings, few calls
        folders: list[str] = []
        files: list[str] = []
        plain = True
        slash = os.sep != "/"
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    name = entry.name
                    if name[0] == "." and not is_sanitized_path_folder(name, entry):
                        if irregular and not TEMP_FILE_RE.match(name):
                            found.append(self._skipped(entry, root_len, HIDDEN))
                            plain = False
                        continue  # .git, caches; temporary files of atomic writes: not even reported
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                        folders.append(name)
                        if irregular and name.endswith(suffixes):
                            found.append(self._irregular(entry, root_len, "is a folder, not a file"))
                            plain = False
                        elif not name.isascii() and not _is_utf8(name):
                            plain = False  # the memo is kept as text
                    elif (
                        irregular
                        and not name.endswith(suffixes)
                        and not name.endswith(KNOWN_SIDE_FILES)
                        and not entry.is_symlink()
                    ):
                        found.append(self._skipped(entry, root_len, NOT_RESULTS))
                        plain = False
                    elif name.endswith(suffixes) and entry.is_file(follow_symlinks=False):
                        rel = entry.path[root_len:]
                        if slash:
                            rel = rel.replace(os.sep, "/")
                        if not rel.isascii() and not _is_utf8(rel):
                            if irregular:
                                found.append(self._irregular(entry, root_len, _NOT_UTF8))
                            plain = False
                            continue
                        st = entry.stat(follow_symlinks=False)
                        size = st.st_size
                        found.append(FileInfo(rel, size, f"{st.st_mtime_ns}:{size}"))
                        files.append(name)
                    elif irregular and name.endswith(suffixes):
                        found.append(self._other(entry, root_len))
                        plain = False
        except OSError:
            return None
        return (tuple(folders), tuple(files)) if plain else None

    def _irregular(self, entry: os.DirEntry[str], root_len: int, problem: str) -> FileInfo:
        """An entry that is reported, not read: its path made printable, its problem said."""
        rel = entry.path[root_len:].replace(os.sep, "/")
        if not _is_utf8(rel):
            problem = _NOT_UTF8
        try:
            stamp = entry.stat(follow_symlinks=False).st_mtime_ns
        except OSError:
            stamp = 0
        return FileInfo(_printable(rel), 0, f"irregular:{stamp}:{problem}", problem)

    def _skipped(self, entry: os.DirEntry[str], root_len: int, why: str) -> FileInfo:
        """An entry deliberately not read, listed so that the report says so (nothing skipped silently)."""
        info = self._irregular(entry, root_len, why)
        return FileInfo(info.path, 0, info.version, why, skipped=True)

    def _other(self, entry: os.DirEntry[str], root_len: int) -> FileInfo:
        """A symbolic link (read when it names a regular file inside the store) or a special file."""
        if not entry.is_symlink():
            return self._irregular(entry, root_len, "is not a regular file (a pipe, socket or device)")
        rel = entry.path[root_len:].replace(os.sep, "/")
        try:
            target = Path(entry.path).resolve(strict=True)
            st = target.stat()
        except RuntimeError:  # Python 3.11 reports a loop so
            return self._irregular(entry, root_len, "is a symbolic link loop")
        except FileNotFoundError:
            return self._irregular(entry, root_len, "is a dangling symbolic link (its target does not exist)")
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return self._irregular(entry, root_len, "is a symbolic link loop")
            return self._irregular(
                entry, root_len, f"is a symbolic link that cannot be followed: {exc.strerror}"
            )
        if self.root not in target.parents:
            return self._irregular(
                entry, root_len, "is a symbolic link to a file outside the store: not read"
            )
        if not stat.S_ISREG(st.st_mode):
            return self._irregular(
                entry, root_len, "is a symbolic link to something that is not a regular file"
            )
        if not _is_utf8(rel):
            return self._irregular(entry, root_len, _NOT_UTF8)
        return FileInfo(rel, st.st_size, f"link:{st.st_mtime_ns}:{st.st_size}:{st.st_ino}")

    def read_bytes(self, path: str) -> bytes:
        return self._abs(path).read_bytes()

    def version(self, path: str) -> str | None:
        """The file's current version, or None when it does not exist."""
        try:
            st = self._abs(path).stat()
        except FileNotFoundError:
            return None
        return f"{st.st_mtime_ns}:{st.st_size}"

    def _write_temp(self, target: Path, data: bytes) -> str:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            os.unlink(tmp)
            raise
        return tmp

    def write_bytes(self, path: str, data: bytes, message: str = "") -> None:
        target = self._abs(path)
        try:
            tmp = self._write_temp(target, data)
            os.replace(tmp, target)
        except OSError as exc:
            raise StoreWriteError(f"cannot write {path} in {self.root}: {exc}") from exc

    def create_exclusive(self, path: str, data: bytes, message: str = "") -> bool:
        target = self._abs(path)
        try:
            tmp = self._write_temp(target, data)
        except OSError as exc:
            raise StoreWriteError(f"cannot write {path} in {self.root}: {exc}") from exc
        try:
            os.link(tmp, target)  # atomic: fails when the target exists
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            raise StoreWriteError(f"cannot create {path} in {self.root}: {exc}") from exc
        finally:
            os.unlink(tmp)

    def replace_if_unchanged(self, path: str, data: bytes, version: str, message: str = "") -> bool:
        """Compare-and-swap under a kernel lock, so two writers cannot both win and a dead one blocks nobody."""
        target = self._abs(path)
        lock = target.with_name(f".{target.name}.lock")
        try:
            fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
        except FileNotFoundError:
            return False  # the folder is gone, so is the file
        except OSError as exc:
            raise StoreWriteError(f"cannot lock {path} in {self.root}: {exc}") from exc
        try:
            if not _flock(fd, LOCK_WAIT_S):
                return False
            if self.version(path) != version:
                return False
            self.write_bytes(path, data, message)
            return True
        finally:
            os.close(fd)  # closing releases the lock

    def delete(self, path: str, message: str = "") -> None:
        try:
            self._abs(path).unlink()
        except FileNotFoundError:
            pass

    def local_path(self, path: str) -> str | None:
        return str(self._abs(path))


_NOT_UTF8 = "the file name is not UTF-8: rename the file to read it"


def _is_utf8(text: str) -> bool:
    """False for a name os.scandir decoded with surrogate escapes (bytes that are not UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(text: str) -> str:
    """A path as text that can be stored and shown: undecodable bytes as \\xNN escapes."""
    return os.fsencode(text).decode("utf-8", "backslashreplace")


class EmptyStore(LocalFileStore):
    """No store at all: lists nothing and refuses writes (a results folder read without a queue)."""

    def __init__(self) -> None:
        self.root = Path("/nonexistent-empty-store")
        self.location = ""
        self._listed = set()
        self._memo = {}
        self._memo_key = None

    def list_files(self, suffixes: tuple[str, ...] = (".json",), irregular: bool = False) -> list[FileInfo]:
        return []

    def _write_temp(self, target: Path, data: bytes) -> str:
        raise StoreWriteError("no store is configured for writing")


def _flock(fd: int, wait_s: float) -> bool:
    """Take an exclusive ``flock`` on ``fd``, waiting up to ``wait_s``; False when another holder kept it."""
    deadline = time.monotonic() + wait_s
    pause = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
