"""The persisted index: a snapshot of the DuckDB index on disk, so a new process need not parse the store.

One DuckDB file per (results store, requests store, revision patterns) in the cache folder
(``$LEADERBOARD_CACHE``, else the user's cache directory; ``LEADERBOARD_CACHE=off`` disables it). It holds
the index's tables plus what the index remembers about the files: each file's version (mtime and size
locally, blob id on the Hub), the ingest report rows of each file, and each request as read. A snapshot is
used only when its code version (``schema_version``: the schema and insert SQL, the parsers' source, the
DuckDB version) and its stores match; anything else (a corrupt file, another program's file, an older
code version) is discarded and the index is built from the files, never trusted.

Processes never share a writable database: a snapshot is written into a file of its own and renamed over
the old one atomically; readers attach it read-only. A reader keeps it attached and reads its tables
through views (``sql/cache_views.sql``) until its index must change: only then are they copied into
memory (``Index._own_tables``). An unchanged store at 100,000 evaluations is thus never copied (a
second of CPU beside the listing, and half the memory). A reader keeps its open file when a writer
renames a new snapshot over the name (POSIX), so the app and a command-line process at once neither
corrupt nor block each other; the last writer's snapshot wins, and both are valid snapshots of the store.

Beside a snapshot, results derived from exactly its content (the ranking's score matrix at 100,000
evaluations costs seconds to compute) may be kept as Arrow files (``load_derived``/``save_derived``),
named after the snapshot's token, a random id written with each snapshot: a new snapshot makes the old
token's files unreachable (and deletes them), so a derived file is never used for other data; each is
named with the CRC-32 of its bytes, checked when loaded (a damaged one is computed again). The index
decides when its content still equals its snapshot (``Index.persisted``).

``load`` reads everything at once, every block of the tables first (a damaged snapshot is discarded
before anything is shown). The app's restart splits it (``Index.open_snapshot``): ``load_tables`` before
the first draw (the tables as views, the ingest report), then ``give_memos`` and ``load_files`` in the
check of the stores right after (the folder memos, the pass over every block, the files' versions, the
requests as text); a snapshot ``load_files`` finds damaged is discarded and the index rebuilt.

A file changed within ``RACY_NS`` of the listing that produced a snapshot is re-read on load (the "racy
clean" rule of git): a rewrite in the same clock tick with the same size would otherwise look unchanged.

This module must not parse files or list stores: ``lib.index.db`` does that and calls ``load``/``save``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import time
import uuid
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from lib.core.records import IngestProblem
from lib.index.sql_files import sql
from lib.stores.local import FolderMemo

if TYPE_CHECKING:
    from lib.index.db import Index

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
APP_NAME = "open-eval-leaderboard"
RACY_NS = 2_000_000_000  # files modified this close to (or after) the snapshot's listing are re-read
SAVE_EVERY_S = float(os.environ.get("LEADERBOARD_CACHE_SAVE_S", "300"))
MAX_DERIVED = 4  # derived files kept per snapshot (one per benchmark selection; ~140 MB at 100,000 rows)
MAX_AGE_S = 30 * 86400  # snapshots not used for this long are deleted when another one is saved
_ROOT = Path(__file__).resolve().parents[2]
# What decides the index's content: the tables' SQL, the parsers, the request reader, this module.
_CODE_FILES = (
    "lib/index/sql/schema.sql",
    "lib/index/sql/evaluation_rows.sql",
    "lib/index/sql/insert_evaluations.sql",
    "lib/index/sql/insert_scores.sql",
    "lib/index/sql/canonical_models.sql",
    "lib/index/sql/cache_load.sql",
    "lib/index/sql/cache_views.sql",
    "lib/index/sql/cache_own.sql",
    "lib/index/sql/cache_check.sql",
    "lib/index/sql/cache_versions.sql",
    "lib/index/sql/cache_next_eval_no.sql",
    "lib/index/sql/cache_request_count.sql",
    "lib/index/sql/cache_folders.sql",
    "lib/index/sql/cache_save.sql",
    "lib/index/db.py",
    "lib/index/cache.py",
    "lib/index/table_sources.py",
    "lib/index/table_columns.py",
    "lib/queue/requests.py",
    "lib/core/records.py",
    "lib/core/request.py",
    "lib/core/revisions.py",
    "lib/stores/local.py",  # the folder memo's meaning (cache_folders)
    "lib/stores/base.py",
)
_CODE_DIRS = ("lib/ingest",)
_TABLES = ("evaluations", "scores", "requests")


def default_folder() -> Path | None:
    """``$LEADERBOARD_CACHE``, else the user's cache directory; None when caching is switched off."""
    text = os.environ.get("LEADERBOARD_CACHE", "").strip()
    if text.lower() in {"off", "0", "false", "none", "no"}:
        return None
    if text:
        return Path(text).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / APP_NAME / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / APP_NAME
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / APP_NAME


_schema_version: str | None = None


def schema_version() -> str:
    """A hash of everything that decides what the index holds for a given set of files."""
    global _schema_version
    if _schema_version is None:
        digest = hashlib.sha256(f"format {CACHE_FORMAT} duckdb {duckdb.__version__}\n".encode())
        files = [_ROOT / name for name in _CODE_FILES]
        for folder in _CODE_DIRS:
            files += sorted((_ROOT / folder).glob("*.py"))
        files += sorted((_ROOT / "lib/index/sql").glob("table_*.sql"))  # how table sources are read
        for path in files:
            digest.update(path.relative_to(_ROOT).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        _schema_version = digest.hexdigest()
    return _schema_version


class IndexCache:
    """The snapshot file of one index (see the module's docstring)."""

    def __init__(self, folder: Path, stores: dict[str, Any]) -> None:
        self.folder = folder
        self.stores = json.dumps(stores, sort_keys=True)
        name = hashlib.sha256(self.stores.encode()).hexdigest()[:24]
        self.path = folder / f"index-{name}.duckdb"
        self.status = "not used yet"  # what the last load did, for logs and tests
        self.saved_at: float | None = None
        self.token: str | None = None  # the token of the snapshot last loaded or saved (derived files)
        self._meta: dict[str, str] | None = None  # the attached snapshot's meta, between open and load
        self._opened = False  # open ran and load has not yet
        self._pending: dict[str, str] | None = None  # the meta of a snapshot load_tables showed, unchecked

    @classmethod
    def for_index(cls, index: Index, folder: Path | str | bool | None) -> IndexCache | None:
        """The cache of ``index``: ``folder`` when given, the default when None, none when False."""
        if folder is False:
            return None
        where = default_folder() if folder is None or folder is True else Path(folder).expanduser()
        if where is None:
            return None
        stores = {
            "results": index.results.location,
            "requests": index.requests.location,
            "revision_patterns": list(index.definition.revision_patterns),
        }
        if (
            not index.results.location and index.table_sources
        ):  # the tables are the store (--results x.parquet)
            stores["tables"] = [source.location for source in index.table_sources]
        return cls(where, stores)

    # ----------------------------------------------------------------- load
    def open(self, index: Index, memos: bool = True) -> bool:
        """Attach the snapshot and check that it is ours; with ``memos``, hand the stores their folder
        memos (see ``lib.stores.local``), so that the listing can start before ``load`` reads the rest.

        False (the snapshot discarded) on any doubt; ``load`` then leaves the index empty."""
        self.token = None
        self._meta = None
        self._opened = True
        if not self.path.is_file():
            self.status = "no snapshot"
            return False
        con = index.con
        try:
            con.execute("ATTACH ? AS index_snapshot (READ_ONLY)", [str(self.path)])
        except Exception as exc:  # noqa: BLE001 - not a DuckDB file, or a damaged one
            self._discard(f"cannot be opened ({type(exc).__name__}: {str(exc)[:200]})")
            return False
        try:
            meta = dict(con.table("index_snapshot.cache_meta").fetchall())
            if meta.get("schema_version") != schema_version():
                self._discard("was written by another code version", con)
                return False
            if meta.get("stores") != self.stores:
                self._discard("belongs to other stores", con)
                return False
            if memos:
                index.use_listing_memos(_read_memos(con))
        except Exception as exc:  # noqa: BLE001 - a damaged or foreign snapshot: build from the files
            self._discard(f"cannot be read ({type(exc).__name__}: {str(exc)[:200]})", con)
            return False
        self._meta = meta
        return True

    def load(self, index: Index) -> int:
        """Fill the (empty) ``index`` from the snapshot (``open``-ed first, here if it was not), every
        block of its tables read once first; the number of files it knows, 0 when none is used.

        On any doubt the snapshot is discarded and the index left empty, to be built from the files."""
        if not self._opened:
            self.open(index)
        meta, self._meta, self._opened = self._meta, None, False
        if meta is None:  # no snapshot, or discarded by open (its status says why)
            return 0
        con = index.con
        try:
            con.execute(sql("cache_check")).fetchall()  # every block read once: damage found now
            files = self._read_files(con, meta)
            self._show_tables(index, meta)
        except Exception as exc:  # noqa: BLE001 - a damaged or foreign snapshot: build from the files
            return self._discard(f"cannot be read ({type(exc).__name__}: {str(exc)[:200]})", con)
        return self._use_files(index, files)

    def load_tables(self, index: Index) -> bool:
        """The first half of ``load`` for a first draw (``Index.open_snapshot``): the snapshot's tables
        and ingest report, read in place, and nothing else; True when the index now shows them.

        What only the check of the stores needs (the files' versions, the requests as text, the folder
        memos) and the pass that reads every block are left to ``load_files``, which the check runs
        before it lists the stores. A block the first draw reads is checked by DuckDB as it reads it."""
        self.open(index, memos=False)
        meta, self._meta, self._opened = self._meta, None, False
        if meta is None:
            return False
        con = index.con
        try:
            self._show_tables(index, meta)
        except Exception as exc:  # noqa: BLE001 - a damaged or foreign snapshot: build from the files
            self._discard(f"cannot be read ({type(exc).__name__}: {str(exc)[:200]})", con)
            return False
        self._pending = meta
        self.status = "tables loaded; the files not checked yet"
        return True

    def give_memos(self, index: Index) -> bool:
        """After ``load_tables``: hand the stores the snapshot's folder memos (the listing uses them);
        False when they cannot be read: the snapshot is then discarded, as ``load_files`` would."""
        if self._pending is None:
            return True
        try:
            index.use_listing_memos(_read_memos(index.con))
        except Exception as exc:  # noqa: BLE001 - damaged: what the page showed is rebuilt from the files
            self._pending, self.token = None, None
            self._discard(f"cannot be read ({type(exc).__name__}: {str(exc)[:200]})", index.con)
            return False
        return True

    def load_files(self, index: Index) -> int | None:
        """The second half of ``load`` after ``load_tables`` (and ``give_memos``): every block read
        once, then what the index remembers about the files.

        None when the snapshot proves damaged or foreign: it is discarded (detached, deleted) and the
        caller must drop the views ``load_tables`` made (``Index``); else the number of files it knows."""
        meta, self._pending = self._pending, None
        if meta is None:
            return None
        con = index.con
        try:
            con.execute(sql("cache_check")).fetchall()  # every block read once: damage found now
            files = self._read_files(con, meta)
        except Exception as exc:  # noqa: BLE001 - damaged: what the page showed is rebuilt from the files
            self._discard(f"cannot be read ({type(exc).__name__}: {str(exc)[:200]})", con)
            self.token = None
            return None
        return self._use_files(index, files)

    @property
    def pending(self) -> bool:
        """Whether ``load_tables`` ran and ``load_files`` has not yet."""
        return self._pending is not None

    def _show_tables(self, index: Index, meta: dict[str, str]) -> None:
        """The index's tables become views of the snapshot; its ingest report and next eval_no are read."""
        con = index.con
        token = str(meta["token"])
        problem_rows = con.table("index_snapshot.cache_problems").order("seq").fetchall()
        next_eval_no = int(con.execute(sql("cache_next_eval_no")).fetchall()[0][0])
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql("cache_views"))  # kept attached: Index._own_tables copies it when it must
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        index._on_snapshot = True
        problems: dict[tuple[str, str], list[IngestProblem]] = {}
        for _, store, file, path, level, why in problem_rows:
            problems.setdefault((store, file), []).append(IngestProblem(path, why, level))
        index._problems = problems
        index._next_eval_no = next_eval_no
        self.token = token
        with contextlib.suppress(OSError):
            os.utime(self.path)  # recently used: not pruned

    def _read_files(self, con: Any, meta: dict[str, str]) -> dict[str, dict[str, str]]:
        """The files' versions by store (a file changed too close to the listing blanked: read again),
        and the requests as text by path (``request_text``)."""
        racy_from = int(meta["listed_ns"]) - RACY_NS
        versions = con.sql(sql("cache_versions"), params={"racy_from": racy_from}).to_arrow_table()
        by_store: dict[str, dict[str, str]] = {"results": {}, "requests": {}, "tables": {}}
        for store, path, version in zip(
            *(versions.column(n).to_pylist() for n in ("store", "path", "version")), strict=True
        ):
            by_store[store][path] = version
        by_store["request_text"] = self.request_text(con)
        return by_store

    def request_text(self, con: Any) -> dict[str, str]:
        """The requests the attached snapshot holds, as text by path (``Index.requests_list`` reads them
        before the check of the stores when a caller asks for them)."""
        requests = con.table("index_snapshot.cache_requests").to_arrow_table()
        return dict(zip(requests.column("path").to_pylist(), requests.column("raw").to_pylist(), strict=True))

    def _use_files(self, index: Index, by_store: dict[str, dict[str, str]]) -> int:
        index._versions = by_store["results"]
        index._request_versions = by_store["requests"]
        index._table_versions = by_store["tables"]  # table sources: checked (and kept or re-read) by db.py
        index._requests = {}
        index._requests_unparsed = by_store["request_text"]  # parsed when a caller asks for the records
        files = len(by_store["results"]) + len(by_store["requests"]) + len(by_store["tables"])
        racy = sum(1 for name in ("results", "requests", "tables") for v in by_store[name].values() if not v)
        self.status = f"loaded {files:,} files ({racy} changed too recently to trust)"
        return files

    def discard(self, why: str) -> None:
        """Give up the snapshot (``Index._own_tables`` could not copy it): logged, and the file removed."""
        self._discard(why)
        self._pending, self.token = None, None

    def _discard(self, why: str, con: Any = None) -> int:
        if con is not None:
            with contextlib.suppress(Exception):
                con.execute("DETACH index_snapshot")
        log.warning("index cache %s %s: building the index from the files", self.path, why)
        self.status = f"discarded: {why}"
        with contextlib.suppress(OSError):
            self.path.unlink()
        return 0

    # ----------------------------------------------------------------- save
    def due(self) -> bool:
        """Whether a later refresh's changes should be written now: at most every ``SAVE_EVERY_S``.

        A change not written yet costs the next process only the re-reading of those files."""
        return self.saved_at is None or time.time() - self.saved_at >= SAVE_EVERY_S

    def save(self, index: Index, listed_ns: int) -> bool:
        """Write the index's snapshot (atomically replacing the old one); False when it could not be."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("index cache folder %s cannot be created (%s): not cached", self.folder, exc)
            return False
        tmp = self.folder / f".{self.path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        token = uuid.uuid4().hex
        meta = {
            "schema_version": schema_version(),
            "stores": self.stores,
            "listed_ns": str(listed_ns),
            "token": token,
        }
        versions = [("results", p, v) for p, v in index._versions.items()]
        versions += [("requests", p, v) for p, v in index._request_versions.items()]
        versions += [("tables", p, v) for p, (v, _, _) in index._tables.items()]
        problems = [
            (str(seq), store, file, p.path, p.level, p.reason)
            for seq, (store, file, p) in enumerate(
                (store, file, p) for (store, file), rows in index._problems.items() for p in rows
            )
        ]
        tables = {
            "new_cache_meta": _strings(("key", "value"), list(meta.items())),
            "new_cache_versions": _strings(("store", "path", "version"), versions),
            "new_cache_problems": _strings(("seq", "store", "file", "path", "level", "reason"), problems),
            "new_cache_requests": _strings(
                ("path", "raw"),
                [(p, json.dumps(r.raw)) for p, r in index._requests.items()]
                + list(index._requests_unparsed.items()),
            ),
            "new_cache_folders": _strings(
                ("store", "folder", "ctime", "folders", "files", "node", "scanned"),
                [
                    (
                        store,
                        folder,
                        str(m.ctime_ns),
                        "/".join(m.folders),
                        "/".join(m.files),
                        m.node,
                        str(m.scanned_ns),
                    )  # fmt: skip
                    for store, memo in index.listing_memos().items()
                    for folder, m in memo.items()
                ],
            ),
        }
        con = index.con
        try:
            con.execute("ATTACH ? AS index_out", [str(tmp)])
            try:
                for name, table in tables.items():
                    con.register(name, table)
                con.execute(sql("cache_save"))
            finally:
                for name in tables:
                    con.unregister(name)
                con.execute("DETACH index_out")
            os.replace(tmp, self.path)
        except Exception as exc:  # noqa: BLE001 - a full disk or a read-only folder: run uncached
            log.warning("index cache %s could not be written (%s): not cached", self.path, exc)
            for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            return False
        self.saved_at = time.time()
        self.token = token
        self._prune()
        return True

    # ----------------------------------------------------------------- derived results
    def _derived_prefix(self, token: str, name: str) -> str:
        """A derived file's name up to its checksum: ``<snapshot>.derived-<token>-<key of name>``."""
        key = hashlib.sha256(name.encode()).hexdigest()[:24]
        return f"{self.path.stem}.derived-{token}-{key}"

    def load_derived(self, token: str, name: str) -> pa.Table | None:
        """The table saved for ``name`` beside the snapshot ``token``; None when there is none (or it
        is damaged: it is then deleted, and the caller computes it again).

        An Arrow file has no checksum of its own and a flipped byte in it reads as another score or
        model: its name ends with the CRC-32 of its bytes, checked on every load (0.04 s per 140 MB)."""
        prefix = self._derived_prefix(token, name)
        for path in sorted(self.folder.glob(f"{prefix}-*.arrow")):
            try:
                with pa.memory_map(str(path)) as source:
                    data = source.read_buffer()  # the mapped file: no copy
                if f"{zlib.crc32(data):08x}" != path.name[len(prefix) + 1 : -len(".arrow")]:
                    raise ValueError("its bytes do not match its checksum")
                table = pa.ipc.open_file(data).read_all()
                meta = table.schema.metadata or {}
                if meta.get(b"token") != token.encode() or meta.get(b"name") != name.encode():
                    raise ValueError("it belongs to another snapshot or name")
                with contextlib.suppress(OSError):
                    os.utime(path)  # recently used: kept (save_derived keeps the MAX_DERIVED newest)
            except FileNotFoundError:
                continue
            except Exception as exc:  # noqa: BLE001 - damaged: computed again, never trusted
                log.warning("index cache %s cannot be read (%s): computing it again", path, exc)
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            return table.replace_schema_metadata(None)
        return None

    def save_derived(self, token: str, name: str, table: pa.Table) -> bool:
        """Keep ``table`` beside the snapshot ``token`` (atomically, named with its CRC-32); False when
        it could not be."""
        prefix = self._derived_prefix(token, name)
        tmp = self.folder / f".{prefix}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        table = table.replace_schema_metadata({"token": token, "name": name})
        try:
            with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            with pa.memory_map(str(tmp)) as source:
                crc = zlib.crc32(source.read_buffer())  # what was written, read back from the page cache
            path = self.folder / f"{prefix}-{crc:08x}.arrow"
            os.replace(tmp, path)
        except Exception as exc:  # noqa: BLE001 - a full disk or a read-only folder: not kept
            log.warning("index cache %s could not be written (%s): not kept", tmp, exc)
            with contextlib.suppress(OSError):
                tmp.unlink()
            return False
        for older in self.folder.glob(f"{prefix}*.arrow"):  # the same name saved before, or unchecked
            if older != path:
                with contextlib.suppress(OSError):
                    older.unlink()
        kept = []
        for other in self.folder.glob(f"{self.path.stem}.derived-{token}-*.arrow"):
            with contextlib.suppress(OSError):
                kept.append((other.stat().st_mtime, other))
        for _, other in sorted(kept, reverse=True)[MAX_DERIVED:]:  # the least recently used go
            with contextlib.suppress(OSError):
                other.unlink()
        return True

    def _prune(self) -> None:
        """Delete other snapshots unused for ``MAX_AGE_S``, temporary files of crashed writers and the
        derived files of this snapshot's older tokens."""
        now = time.time()
        for path in self.folder.glob(f"{self.path.stem}.derived-*"):
            if f".derived-{self.token}-" not in path.name:
                with contextlib.suppress(OSError):
                    path.unlink()
        for path in self.folder.glob("*index-*.*"):
            if path == self.path or f".derived-{self.token}-" in path.name:
                continue
            with contextlib.suppress(OSError):
                age = now - path.stat().st_mtime
                if age > MAX_AGE_S or (path.name.endswith((".tmp", ".tmp.wal")) and age > 3600):
                    path.unlink()


def _strings(names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> pa.Table:
    """Rows of strings as an Arrow table (executemany is slow for many rows)."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table(
        {name: pa.array(list(values), type=pa.string()) for name, values in zip(names, columns, strict=True)}
    )


def _read_memos(con: Any) -> dict[str, dict[str, FolderMemo]]:
    """The stores' folder memos the snapshot keeps (``lib.stores.local``), by store and folder."""
    memos: dict[str, dict[str, FolderMemo]] = {}
    for store in ("results", "requests"):
        table = con.sql(sql("cache_folders"), params={"store": store}).to_arrow_table()
        folders = [_names(text) for text in table.column("folders").to_pylist()]
        files = [_names(text) for text in table.column("files").to_pylist()]
        columns = (table.column(name).to_pylist() for name in ("ctime", "node", "scanned"))
        ctimes, nodes, scanned = columns
        memo = map(FolderMemo._make, zip(ctimes, folders, files, nodes, scanned, strict=True))
        memos[store] = dict(zip(table.column("folder").to_pylist(), memo, strict=True))
    return memos


def _names(text: str) -> tuple[str, ...]:
    """A folder memo's names, kept joined by '/' (which no name holds)."""
    return tuple(text.split("/")) if text else ()
