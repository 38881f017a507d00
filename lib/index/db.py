"""The DuckDB index: a tidy long table of scores plus evaluations, requests and an ingest report.

Built in memory from the stores and refreshed incrementally: ``refresh`` lists the stores, parses only
files whose version changed, and replaces their rows. SQL lives in ``lib/index/sql/*.sql`` and receives
values only as bound parameters. The index never writes to a store.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import pandas as pd
import pyarrow as pa

from lib.core.config import Definition
from lib.core.records import IngestProblem
from lib.core.schema import TableSource
from lib.index import table_sources as tables_io
from lib.index.cache import IndexCache
from lib.index.sql_files import SQL_DIR, sql  # noqa: F401 - re-exported: lib.index.db.sql
from lib.ingest import MAX_FILE_BYTES
from lib.ingest.columns import EVALUATIONS, REQUESTS, SCORES, arrow_schema, create_table
from lib.ingest.parallel import (
    PARALLEL_MIN_FILES,
    parse_in_workers,
    start_workers,
    stop_workers,
    worker_count,
)
from lib.ingest.tables import EVAL_COLUMNS, EVAL_TYPES, ParsedBatch, parse_batch, reason
from lib.stores import FileStore, LocalFileStore, StoreError, open_store
from lib.stores.base import FileInfo, StoreMissingError
from lib.stores.local import FolderMemo

if TYPE_CHECKING:
    from lib.core.request import Request

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
T = TypeVar("T")

_REQUEST_COLUMNS = [c.name for c in REQUESTS]
_REQUEST_SCHEMA = arrow_schema(REQUESTS)
_REQUEST_FROM_RECORD = [(c.name, c.attribute) for c in REQUESTS if c.attribute is not None]


_PROBLEM_COLUMNS = ("store", "path", "level", "reason")
_LISTING = ((".json",), True)  # list_files arguments: the JSON files, and entries to report


@dataclass
class RefreshStats:
    """What one refresh did."""

    listed: int = 0
    parsed: int = 0
    removed: int = 0
    failed: int = 0
    requests: int = 0
    requests_changed: bool = False
    cached: int = 0  # files known from the persisted index (lib.index.cache) instead of parsed
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Listing:
    """Both stores listed by a steady refresh before it takes the index's lock (``Index.refresh``)."""

    refreshes: int  # the index's refresh count when listed: another refresh applied since makes it stale
    listed_ns: int  # when the listing started (what the persisted index may memoize, lib.index.cache)
    listed: dict[str, list[FileInfo] | None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # the changed results files, parsed without the lock too: their paths, and what parsing gave
    parsed_paths: list[str] | None = None
    batches: list[ParsedBatch] = field(default_factory=list)
    request_bytes: dict[str, bytes] = field(default_factory=dict)  # changed request files, read


class SnapshotUnreadable(Exception):
    """The persisted snapshot failed while its tables were copied into memory (``Index._own_tables``): a
    disk error, or the file damaged in place under this process. The index has forgotten everything it
    took from the snapshot; ``Index.refresh`` builds it again from the files."""


class Index:
    """An in-memory DuckDB index over one results store and one requests store."""

    def __init__(
        self,
        definition: Definition,
        results: FileStore | str | None = None,
        requests: FileStore | str | None = None,
        parallel: bool = True,
        cache: Path | str | bool | None = None,
    ) -> None:
        """``cache``: the folder of the persisted index (None: ``$LEADERBOARD_CACHE`` or the user's cache
        directory; False: none), see ``lib.index.cache``."""
        self.definition = definition
        self.parallel = parallel  # cold loads of many files may use worker processes
        results_location = results if results is not None else definition.results_store
        self.table_sources: list[TableSource] = list(definition.table_sources)
        if isinstance(results_location, str) and tables_io.is_table_location(results_location):
            # a results "store" that is one table file: `--results contents.parquet`
            self.table_sources.append(TableSource(location=results_location))
            results_location = ""
        self.results = _as_store(results_location)
        self.requests = _as_store(requests if requests is not None else definition.requests_store)
        self.con = duckdb.connect(":memory:")
        # The two results tables come from their one declaration (lib.ingest.columns); the rest from SQL.
        self.con.execute(create_table("evaluations", EVALUATIONS))
        self.con.execute(create_table("scores", SCORES))
        self.con.execute(create_table("requests", REQUESTS))
        self.con.execute(sql("schema"))
        self.con.execute(sql("evaluation_rows"))
        self._versions: dict[str, str] = {}
        self._next_eval_no = 0
        self._memo: dict[Any, Any] = {}
        self._memo_generation = -1
        self._snapshot_generation = -1  # the generation whose content is the cache's snapshot, if any
        self._request_versions: dict[str, str] = {}
        self._requests: dict[str, Request] = {}
        self._problems: dict[tuple[str, str], list[IngestProblem]] = {}
        self._lock = threading.RLock()  # every read and every change of the index's content
        # One refresh at a time (``refresh``): a steady one lists the stores without ``_lock``, so that
        # reads go on while a listing takes seconds (a Hub store's HTTP call, a big local store).
        self._refresh_lock = threading.Lock()
        # One listing of the stores at a time: listing a local store updates its folder memos.
        self._listing_lock = threading.RLock()
        self._refreshes = 0  # bumped by each refresh applied: a listing made before another is stale
        self.loaded_at: float | None = None
        self.generation = 0  # bumped whenever a refresh changed what the index holds
        self.store_errors: list[str] = []
        self.store_notes: list[str] = []  # not errors: a store folder that is not created yet
        self._store_state: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        # table sources: location -> (file version, its eval_ids, its metadata rows in the requests' shape)
        self._tables: dict[str, tuple[str, pa.ChunkedArray | pa.Array, pa.Table]] = {}
        self._requests_unparsed: dict[str, str] = {}  # path -> JSON, from the persisted index, parsed on use
        self._table_versions: dict[str, str] = {}  # table sources in the persisted index, not checked yet
        # evaluations, scores and requests are views of the attached snapshot (lib.index.cache) until the
        # first write copies them into memory (_own_tables)
        self._on_snapshot = False
        self.verified = True  # False between open_snapshot and the next refresh: the stores not listed yet
        self.rebuilt_notes: list[str] = []  # a damaged snapshot found by a read (guarded): for the UI to say
        self.cache = IndexCache.for_index(self, cache)  # the persisted index

    # ----------------------------------------------------------------- building
    def refresh(self, progress: Progress | None = None) -> RefreshStats:
        """Bring the index up to date with the stores, re-reading only changed files.

        Refreshes run one at a time. Once the index is loaded and checked (steady state), the stores
        are listed without the lock every read takes (``_lock``): queries, counts and page draws go on
        while a Hub store's listing (an HTTP call) or a big local store's runs; the lock is taken only
        to compare the listing with the index and apply what changed. The first load and the check of
        a snapshot (``open_snapshot``) list under the lock, beside the thread that reads the snapshot.

        The persisted snapshot is only a cache: when it cannot be read while this refresh copies it
        (``SnapshotUnreadable``), the index is built again from the files, saying so in one note."""
        with self._refresh_lock:
            listing = self._list_unlocked(progress)
            with self._lock:
                return self._refresh_locked(progress, listing)

    def _refresh_locked(self, progress: Progress | None, listing: _Listing | None = None) -> RefreshStats:
        """``refresh`` under ``_lock`` (a read that finds the snapshot unchecked runs it so: ``guarded``)."""
        with self._lock:
            try:
                return self._refresh(progress, listing=listing)
            except SnapshotUnreadable as exc:
                stats = self._refresh(progress, from_files=True)
                self.store_notes.append(str(exc))
                self._write_problems()
                return stats

    def _steady(self) -> bool:
        """Loaded and checked: a refresh compares a listing with what the index holds, nothing more."""
        return (
            self.loaded_at is not None
            and self.verified
            and not (self.cache is not None and self.cache.pending)
        )

    def _list_unlocked(self, progress: Progress | None = None) -> _Listing | None:
        """Both stores listed without ``_lock`` (the caller holds ``_refresh_lock``), when the index is
        steady; None otherwise (the refresh lists under the lock)."""
        with self._lock:
            if not self._steady():
                return None
            refreshes = self._refreshes
        listing = _Listing(refreshes=refreshes, listed_ns=time.time_ns())
        for name, store in (("results", self.results), ("requests", self.requests)):
            listing.listed[name] = self._list(store, name, listing.errors, listing.notes)
        self._read_unlocked(listing, progress)
        return listing

    def _read_unlocked(self, listing: _Listing, progress: Progress | None) -> None:
        """The changed files of a steady refresh's listing read (a Hub store: downloads) and the results
        parsed, still without ``_lock``; ``_refresh`` uses them when the files to read under the lock are
        these (no other refresh was applied since: the same listing compared with the same versions)."""
        with self._lock:
            versions, request_versions = dict(self._versions), dict(self._request_versions)
        files = listing.listed.get("results")
        if files is not None:
            paths = _results_to_parse(files, versions)
            if paths:
                listing.batches = list(self._parse(paths, progress, []))
            listing.parsed_paths = paths
        for info in listing.listed.get("requests") or []:
            if request_versions.get(info.path) == info.version or _request_not_read(info):
                continue
            try:
                listing.request_bytes[info.path] = self.requests.read_bytes(info.path)
            except Exception:  # noqa: BLE001 - read again under the lock, where its failure is reported
                continue

    def _refresh(
        self, progress: Progress | None, from_files: bool = False, listing: _Listing | None = None
    ) -> RefreshStats:
        with self._lock:
            started = time.perf_counter()
            stats = RefreshStats()
            self.store_errors = []
            self.store_notes = []
            first = self.loaded_at is None
            listed: dict[str, list[FileInfo] | None] = {}
            listed_ns = time.time_ns()
            if (
                listing is not None
                and not from_files
                and listing.refreshes == self._refreshes
                and self._steady()
            ):
                # listed without the lock; no other refresh was applied since, so it is compared with
                # the index it was made for (else the stores are listed again, here)
                listed, listed_ns = listing.listed, listing.listed_ns
                self.store_errors, self.store_notes = list(listing.errors), list(listing.notes)
            else:
                listing = None
            self._refreshes += 1
            if first and not from_files and self.cache is not None and self.cache.path.is_file():
                stats.cached = self._load_cache_while_listing(listed)
            elif self.cache is not None and self.cache.pending:  # drawn by open_snapshot: checked now
                stats.cached = self._load_cache_while_listing(listed, tables_shown=True)
                first = first or not stats.cached  # discarded: built from the files, and saved
            self._refresh_results(stats, progress, listed, listing)
            tables_changed = self._refresh_tables(stats)
            self._refresh_requests(stats, listed, listing.request_bytes if listing is not None else {})
            if tables_changed and not stats.requests_changed:
                self._replace_requests()  # the tables' metadata rows
            stats.requests_changed = stats.requests_changed or tables_changed
            changed = bool(stats.parsed or stats.removed or stats.requests_changed)
            if changed:
                self._own_tables()
                self.con.execute(sql("canonical_models"))  # one casing per Hub model
            self._write_problems()
            saved = False
            if self.cache is not None and (changed or (first and not stats.cached)):
                if first or self.cache.due():
                    saved = self.cache.save(self, listed_ns)
            same_as_snapshot = saved or (
                not changed and (first and stats.cached > 0 or self._snapshot_generation == self.generation)
            )
            stats.seconds = time.perf_counter() - started
            store_state = (tuple(self.store_errors), tuple(self.store_notes))
            if (
                stats.parsed
                or stats.removed
                or stats.requests_changed
                or self.loaded_at is None
                or store_state != self._store_state
            ):
                self._store_state = store_state
                self.generation += 1
            self._snapshot_generation = self.generation if same_as_snapshot else -1
            self.loaded_at = time.time()
            self.verified = True
            stats.errors = list(self.store_errors)
            log.info(
                "index refresh: %d files listed, %d parsed, %d removed, %d failed in %.3fs",
                stats.listed,
                stats.parsed,
                stats.removed,
                stats.failed,
                stats.seconds,
            )
            return stats

    def open_snapshot(self) -> bool:
        """A first load from the persisted index alone, before the stores are listed: True when the index
        now holds its snapshot's content, with ``verified`` False until the next ``refresh`` lists the
        stores and reads what changed since. The app ranks from it at once and refreshes right after
        (``lib.ui.data``); False (nothing done) when there is no usable snapshot.

        Only what ranking reads is opened here (``IndexCache.load_tables``: the tables as views, the
        ingest report). The files' versions, the requests as text, the folder memos and the pass that
        reads every block of the snapshot are the next ``refresh``'s (``IndexCache.load_files``): when
        that pass finds the snapshot damaged, the index is built from the files and its generation
        moves on, so a page drawn from the snapshot is drawn again. A read of a damaged block before
        then fails in DuckDB (each block's checksum is checked as it is read): ``guarded`` then runs
        the check at once. Until the check, ``counts()`` counts the requests the snapshot holds and
        ``requests_list`` reads them from it."""
        with self._lock:
            if self.loaded_at is not None or self.cache is None or not self.cache.path.is_file():
                return False
            if not self.cache.load_tables(self):  # none, or discarded: the index is still empty
                return False
            self._write_problems()
            self.generation += 1
            self._snapshot_generation = self.generation
            self.loaded_at = time.time()
            self.verified = False
            return True

    def _list(
        self,
        store: FileStore,
        name: str,
        errors: list[str] | None = None,
        notes: list[str] | None = None,
    ) -> list[FileInfo] | None:
        """The store's JSON files; None (and an error row) when it cannot be read, [] when not created yet.
        The error or note goes to ``errors``/``notes`` (default: the index's ``store_errors``/``store_notes``).

        Entries named ``*.json`` that are no readable file (a folder, a dangling link...) are listed
        too, with their problem, so that the report names them. One listing at a time (``_listing_lock``):
        a local store's listing updates its folder memos."""
        try:
            with self._listing_lock:
                return store.list_files(*_LISTING)
        except StoreMissingError as exc:
            (self.store_notes if notes is None else notes).append(f"{name} store: {exc}")
            return []
        except StoreError as exc:
            (self.store_errors if errors is None else errors).append(f"{name} store: {exc}")
            return None

    def _load_cache_while_listing(
        self, listed: dict[str, list[FileInfo] | None], tables_shown: bool = False
    ) -> int:
        """Read the persisted index in a thread (DuckDB releases the GIL; every block of its tables is
        read once, so damage is found here) while this thread lists both stores into ``listed``; the
        number of files the snapshot knows. With ``tables_shown`` the index already shows the snapshot's
        tables (``open_snapshot``): only what the check needs is read, and when the snapshot proves
        damaged the index drops them (0 returned) and is built from the files."""
        outcome: list[Any] = []
        cache = self.cache
        assert cache is not None  # the caller checked
        if tables_shown:
            if not cache.give_memos(self):  # the snapshot cannot be read: discarded
                self._forget_snapshot()
                return 0
        else:
            cache.open(self)  # the stores' folder memos first: the listing uses them

        def load() -> None:
            try:
                outcome.append(cache.load_files(self) if tables_shown else cache.load(self))
            except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
                outcome.append(exc)

        loader = threading.Thread(target=load, name="index-cache-load", daemon=True)
        loader.start()
        try:
            listed["results"] = self._list(self.results, "results")
            listed["requests"] = self._list(self.requests, "requests")
        finally:
            loader.join()
        if outcome and isinstance(outcome[0], BaseException):
            raise outcome[0]
        if tables_shown and (not outcome or outcome[0] is None):
            self._forget_snapshot()
            return 0
        return int(outcome[0]) if outcome else 0

    def _forget_snapshot(self) -> None:
        """The snapshot ``open_snapshot`` showed proved damaged (``IndexCache.load_files`` discarded it):
        back to empty tables, as before any load, so that the refresh builds the index from the files."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            self._create_tables()  # in place of its views
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self._on_snapshot = False
        self._versions, self._request_versions, self._table_versions = {}, {}, {}
        self._requests, self._requests_unparsed, self._problems = {}, {}, {}
        self._next_eval_no = 0
        self._snapshot_generation = -1
        self.generation += 1  # what was drawn from it is drawn again, whatever the files hold

    def listing_memos(self) -> dict[str, dict[str, FolderMemo]]:
        """The local stores' folder memos of their last listing (``lib.stores.local``), by store."""
        with self._listing_lock:
            return {
                name: store.listing_memo(*_LISTING)
                for name, store in (("results", self.results), ("requests", self.requests))
                if isinstance(store, LocalFileStore)
            }

    def use_listing_memos(self, memos: dict[str, dict[str, FolderMemo]]) -> None:
        """Give the local stores folder memos kept by an earlier process (``lib.index.cache``)."""
        with self._listing_lock:
            for name, store in (("results", self.results), ("requests", self.requests)):
                if isinstance(store, LocalFileStore) and memos.get(name):
                    store.use_listing_memo(*_LISTING, memos[name])

    def _refresh_results(
        self,
        stats: RefreshStats,
        progress: Progress | None,
        listed: dict[str, list[FileInfo] | None],
        listing: _Listing | None = None,
    ) -> None:
        early = []  # a cold load of a big local store: workers start while the store is listed
        if (
            self.parallel
            and not self._versions
            and listing is None
            and isinstance(self.results, LocalFileStore)
        ):
            early = start_workers(self.results.location, worker_count())
        try:
            self._refresh_results_with(stats, progress, early, listed, listing)
        finally:
            stop_workers(early)

    def _refresh_results_with(
        self,
        stats: RefreshStats,
        progress: Progress | None,
        early: list[Any],
        listed: dict[str, list[FileInfo] | None],
        listing: _Listing | None = None,
    ) -> None:
        files = listed["results"] if "results" in listed else self._list(self.results, "results")
        if files is None:
            return
        stats.listed = len(files)
        current = {f.path: f.version for f in files}
        unreadable = {f.path: f.problem for f in files if f.problem}
        for f in files:
            if not f.problem and f.size > MAX_FILE_BYTES:
                unreadable[f.path] = (
                    f"file is {f.size / 1e6:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MiB limit for a results file"
                )
        changed = [f.path for f in files if self._versions.get(f.path) != f.version]
        removed = [p for p in self._versions if p not in current]
        stale = removed + [p for p in changed if p in self._versions]
        if stale:
            self._delete_evaluations(stale)
        for path in removed:
            self._versions.pop(path, None)
            self._problems.pop(("results", path), None)
        stats.removed = len(removed)
        read: dict[str, str] = {}  # path -> version, recorded once the rows are in the index
        problems: dict[str, list[IngestProblem]] = {}
        skipped = {f.path for f in files if f.skipped}
        for path in changed:
            if path in unreadable:
                read[path] = current[path]
                level = "skipped" if path in skipped else "error"
                problems[path] = [IngestProblem(path, unreadable[path], level)]
        tables: list[tuple[pa.Table, pa.Table]] = []
        to_parse = [p for p in changed if p not in unreadable]
        if listing is not None and listing.parsed_paths == to_parse:
            batches: Iterator[ParsedBatch] = iter(listing.batches)  # parsed without the lock, same files
        else:
            batches = self._parse(to_parse, progress, early)
        for batch in batches:
            for path in batch.read:
                read[path] = current[path]
            for path, level, why in batch.problems:
                problems.setdefault(path, []).append(IngestProblem(path, why, level))
            stats.failed += batch.failed
            if batch.evaluations.num_rows:
                tables.append((batch.evaluations, batch.scores))
        stats.failed += sum(1 for p in changed if p in unreadable and p not in skipped)
        if tables:
            try:
                self._insert_tables(
                    pa.concat_tables([t[0] for t in tables]), pa.concat_tables([t[1] for t in tables])
                )
            except SnapshotUnreadable:
                raise  # the index is rebuilt from the files (refresh)
            except Exception as exc:  # noqa: BLE001 - keep the page up; the files are read again next time
                log.exception("index insert failed")
                self.store_errors.append(
                    f"results store: {len(read)} changed files could not be added to the index "
                    f"({type(exc).__name__}: {str(exc)[:200]}); they are read again at the next refresh"
                )
                return
        for path, version in read.items():  # a version is known only once its file was read and stored
            self._problems.pop(("results", path), None)
            self._versions[path] = version
        for path, rows in problems.items():
            self._problems[("results", path)] = rows
        stats.parsed = len(changed)

    def _refresh_tables(self, stats: RefreshStats) -> bool:
        """Read the table sources whose file changed; True when any did (docs/formats.md).

        A table the persisted index holds at the same version is taken from it, not read again."""
        changed = False
        for source in self.table_sources:
            label = source.location
            try:
                path = tables_io.fetch(label)
                stamp = tables_io.version(path, source, self.definition)
            except tables_io.TableError as exc:
                path, stamp = None, f"unreachable:{exc}"
            known = self._tables.get(label)
            if known is not None and known[0] == stamp:
                continue
            if known is None and self._table_versions.get(label) == stamp:
                self._tables[label] = (stamp, *self._table_rows(label))  # unchanged since the snapshot
                del self._table_versions[label]
                continue
            changed = True
            self._forget_table(label, known)
            try:  # the rows are inserted as they are made (the sink), the scores streamed
                read = (
                    tables_io.read_source(source, self.definition, path, sink=self._insert_tables)
                    if path is not None
                    else None
                )
            except SnapshotUnreadable:
                raise  # the index is rebuilt from the files (refresh)
            except Exception as exc:  # noqa: BLE001 - any failure is this table's report row
                self._delete_table_rows(self._table_rows(label)[0])  # what a failed insert left
                read = tables_io.TableRead(
                    problems=[(label, "error", reason(f"cannot read the table: {exc}"))]
                )
            if read is None:
                read = tables_io.TableRead(problems=[(label, "error", stamp.removeprefix("unreachable:"))])
            for where, level, why in read.problems:
                self._problems.setdefault(("tables", where), []).append(IngestProblem(where, why, level))
            self._tables[label] = (stamp, read.evaluations.column("eval_id"), read.metadata)
            stats.parsed += read.evaluations.num_rows
        for label in list(self._table_versions):  # in the snapshot, no longer a table source
            self._forget_table(label, None)
            changed = True
        return changed

    def _forget_table(self, label: str, known: tuple[str, Any, pa.Table] | None) -> None:
        """Remove a table source's rows and report rows (``known``: what this process read of it)."""
        for key in [k for k in self._problems if k[0] == "tables" and k[1].startswith(label)]:
            del self._problems[key]
        if known is not None and len(known[1]):
            self._delete_table_rows(known[1])
        elif label in self._table_versions:  # read by an earlier process: its rows came from the snapshot
            self._delete_table_rows(self._table_rows(label)[0])
        self._table_versions.pop(label, None)
        self._tables.pop(label, None)

    def _table_rows(self, label: str) -> tuple[pa.ChunkedArray, pa.Table]:
        """The eval_ids and metadata rows of a table source in the index (every id is `<location>#...`)."""
        prefix = {"prefix": f"{label}#"}
        try:
            ids = self.con.sql(sql("table_source_ids"), params=prefix).to_arrow_table().column("eval_id")
            metadata = self.con.sql(sql("table_source_requests"), params=prefix).to_arrow_table()
        except duckdb.Error as exc:  # read through the snapshot's views: lost like a failed copy
            if not self._on_snapshot:
                raise
            raise SnapshotUnreadable(self._snapshot_lost(exc)) from exc
        return ids, metadata.cast(tables_io.REQUEST_TYPES)

    def _parse(self, paths: list[str], progress: Progress | None, early: list[Any]) -> Iterator[ParsedBatch]:
        """The changed files, parsed in batches (so the progress bar moves).

        Many files of a local store (a cold load) are parsed in worker processes; a few in this one.
        """
        total = len(paths)
        patterns = self.definition.revision_patterns

        def report(done: int) -> None:
            if progress is not None:
                progress(done / max(total, 1), f"Read {done:,} of {total:,} results files")

        workers = worker_count() if self.parallel else 1
        if workers > 1 and total >= PARALLEL_MIN_FILES and isinstance(self.results, LocalFileStore):
            seen: set[str] = set()
            try:
                for batch in parse_in_workers(
                    self.results.location, paths, workers, patterns, report, started=early
                ):
                    seen.update(batch.read, batch.vanished)
                    yield batch
                return
            except OSError as exc:  # no worker could be started (no processes or memory left)
                log.warning("ingest workers failed (%s); parsing in this process", exc)
                paths = [p for p in paths if p not in seen]
                total = len(paths)
        for start in range(0, total, 500):
            yield parse_batch(self.results.read_bytes, paths[start : start + 500], patterns)
            report(min(start + 500, total))

    def _refresh_requests(
        self,
        stats: RefreshStats,
        listed: dict[str, list[FileInfo] | None],
        read: dict[str, bytes] | None = None,
    ) -> None:
        """``read``: changed request files read already (without the lock), by path."""
        files = listed["requests"] if "requests" in listed else self._list(self.requests, "requests")
        if files is None:
            return
        current = {f.path: f.version for f in files}
        dirty = False
        if self._requests_unparsed and (
            len(current) != len(self._request_versions)
            or any(self._request_versions.get(p) != v for p, v in current.items())
        ):
            self._parse_cached_requests()  # the table is rebuilt from every request below
        for path in [p for p in self._request_versions if p not in current]:
            self._request_versions.pop(path)
            self._requests.pop(path, None)
            self._problems.pop(("requests", path), None)
            dirty = True
        for info in files:
            if self._request_versions.get(info.path) == info.version:
                continue
            dirty = True
            self._request_versions[info.path] = info.version
            self._problems.pop(("requests", info.path), None)
            self._requests.pop(info.path, None)
            if info.skipped and info.path.startswith("logs/") and info.path.endswith(".log"):
                continue  # a job's log, written beside the requests by the evaluator: not skipped data
            if info.problem or info.size > MAX_FILE_BYTES:
                why = info.problem or f"file is {info.size / 1e6:.0f} MB, too large for a request"
                level = "skipped" if info.skipped else "error"
                self._problems[("requests", info.path)] = [
                    IngestProblem(info.path, f"request file: {why}", level)
                ]
                continue
            # imported when a request file is read: a restart on an unchanged store reads none, and
            # the request's pydantic model takes 20-30 ms to build
            from lib.queue.requests import RequestInvalid, decode_request

            try:
                raw = (read or {}).get(info.path)
                if raw is None:
                    raw = self.requests.read_bytes(info.path)
                self._requests[info.path] = decode_request(info.path, raw)
            except FileNotFoundError:
                self._request_versions.pop(info.path, None)
            except RequestInvalid as exc:
                self._problems[("requests", info.path)] = [
                    IngestProblem(info.path, reason(f"request file: {exc}"))
                ]
            except Exception as exc:  # noqa: BLE001 - one unreadable request never hides the others
                why = reason(f"request file cannot be read: {type(exc).__name__}")
                self._problems[("requests", info.path)] = [IngestProblem(info.path, why)]
        stats.requests = len(self._requests) + len(self._requests_unparsed)
        stats.requests_changed = dirty
        if dirty:
            self._replace_requests()

    def _own_tables(self) -> None:
        """Before a write: the snapshot's tables, read through views until now, copied into memory.

        When the copy fails (the file damaged in place or a disk error: DuckDB reads again the blocks it
        let go), everything taken from the snapshot is forgotten and ``SnapshotUnreadable`` raised."""
        with self._lock:
            if not self._on_snapshot:
                return
            self.con.execute("BEGIN TRANSACTION")
            try:
                self._create_tables()
                self.con.execute(sql("cache_load"))
                self.con.execute("COMMIT")
            except Exception as exc:
                with contextlib.suppress(Exception):
                    self.con.execute("ROLLBACK")
                raise SnapshotUnreadable(self._snapshot_lost(exc)) from exc
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            self.con.execute("DETACH index_snapshot")
            self._on_snapshot = False

    def _create_tables(self) -> None:
        """The snapshot's views give way to the index's own (empty) tables."""
        self.con.execute(sql("cache_own"))
        self.con.execute(create_table("evaluations", EVALUATIONS))
        self.con.execute(create_table("scores", SCORES))
        self.con.execute(create_table("requests", REQUESTS))

    def _snapshot_lost(self, exc: Exception) -> str:
        """The snapshot failed under a read or the copy: the index forgets all it took from it (empty
        tables, no file or table source known: each is read again), the file is discarded; the one-line
        note that says so."""
        why = f"cannot be read ({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
        self._forget_snapshot()
        self._tables = {}
        with contextlib.suppress(Exception):
            self.con.execute("DETACH index_snapshot")
        if self.cache is None:  # cannot happen: only a snapshot puts the index on views
            return f"index snapshot {why}: the index was rebuilt from the files"
        path = self.cache.path
        self.cache.discard(why)
        return f"index cache {path} {why}: the index was rebuilt from the files"

    def _delete_table_rows(self, ids: pa.ChunkedArray | pa.Array) -> None:
        """Delete a table source's evaluations and scores (``ids``: their eval_ids, often many)."""
        self._own_tables()
        self.con.register("old_eval_ids", pa.table({"eval_id": ids}))
        try:
            self.con.execute(sql("delete_evaluations"))
        finally:
            self.con.unregister("old_eval_ids")

    def _delete_evaluations(self, paths: list[str]) -> None:
        self._own_tables()
        self.con.execute("DELETE FROM scores WHERE eval_id IN (SELECT unnest(?))", [paths])
        self.con.execute("DELETE FROM evaluations WHERE eval_id IN (SELECT unnest(?))", [paths])

    def insert_tables(self, evaluations: pa.Table, scores: pa.Table) -> None:
        """Append evaluations and their scores (Arrow tables in the schema's column order, without the
        integer ids, which are assigned here). The benchmark in bench/ fills large indexes this way."""
        with self._lock:
            self._insert_tables(evaluations, scores)
            self.generation += 1
            self.cache = None  # rows that come from no file are never persisted as the store's index

    def _insert_tables(self, evaluations: pa.Table, scores: pa.Table | pa.RecordBatchReader) -> None:
        with self._lock:
            self._own_tables()
            first = self._next_eval_no
            self._next_eval_no += evaluations.num_rows
            numbers = pa.array(range(first, self._next_eval_no), type=pa.int32())
            for column in EVAL_COLUMNS:  # a caller with fewer columns (bench/) gets them as NULL
                if column not in evaluations.column_names:
                    evaluations = evaluations.append_column(
                        column, pa.nulls(evaluations.num_rows, EVAL_TYPES.field(column).type)
                    )
            self.con.register("new_evaluations", evaluations.append_column("eval_no", numbers))
            self.con.register("new_scores", scores)
            try:
                self.con.execute(sql("insert_evaluations"))
                self.con.execute(sql("insert_scores"))
            finally:
                self.con.unregister("new_evaluations")
                self.con.unregister("new_scores")

    def _replace_requests(self) -> None:
        self._parse_cached_requests()
        rows: dict[str, tuple[Any, ...]] = {}
        for r in self._requests.values():
            values = {name: getattr(r, attribute) for name, attribute in _REQUEST_FROM_RECORD}
            values.update(status=r.status.value, architecture=r.architectures[0] if r.architectures else "")
            rows[r.path] = tuple(values[name] for name in _REQUEST_COLUMNS)
        try:
            table = _request_table(list(rows.values()))
        except Exception:  # noqa: BLE001 - find the request that cannot be stored; the others load
            good = []
            for path, one in rows.items():
                try:
                    _request_table([one])
                except Exception as exc:  # noqa: BLE001
                    self._requests.pop(path, None)
                    self._problems[("requests", path)] = [
                        IngestProblem(path, reason(f"request file: a value cannot be stored: {exc}"))
                    ]
                else:
                    good.append(one)
            table = _request_table(good)
        # table sources' model metadata (type, license...), in the requests' shape already
        metadata = [m for _, _, m in self._tables.values() if m.num_rows]
        self._own_tables()
        self.con.register("new_requests", table)
        self.con.register("new_table_requests", pa.concat_tables(metadata) if metadata else table.slice(0, 0))
        try:
            self.con.execute(sql("replace_requests"))
        finally:
            self.con.unregister("new_requests")
            self.con.unregister("new_table_requests")

    def _write_problems(self) -> None:
        rows = [
            (store, p.path, p.level, p.reason)
            for (store, _), problems in sorted(self._problems.items())
            for p in problems
        ]
        rows += [("store", "", "error", message) for message in self.store_errors]
        rows += [("store", "", "warning", message) for message in self.store_notes]
        self.con.execute("DELETE FROM problems")
        if rows:  # through Arrow: executemany costs about 2 ms a row, and a hostile store has thousands
            columns = list(zip(*rows, strict=True))
            table = pa.table(
                {n: pa.array(c, pa.string()) for n, c in zip(_PROBLEM_COLUMNS, columns, strict=True)}
            )
            self.con.register("new_problems", table)
            try:
                self.con.execute("INSERT INTO problems SELECT * FROM new_problems")
            finally:
                self.con.unregister("new_problems")

    # ----------------------------------------------------------------- reading
    def guarded(self, compute: Callable[[], T]) -> T:
        """``compute()`` (any read of the index's tables), safe from a damaged snapshot: the one guard of
        every read (``query``, ``memo``, ``persisted``, ``counts``, ``problems``, ``requests_list``).

        While the index reads the persisted snapshot in place (``open_snapshot``, or a load whose tables
        were not copied yet), a read of a block DuckDB let go reads the file again, and a file damaged
        in place since (a disk error, an edit) fails that read in DuckDB. Such a failure is never shown:
        before the check of the stores the check runs now (``refresh``); after it, when reading every
        block of the snapshot fails too (``cache_check``), the index forgets the snapshot, discards it,
        is built again from the files with one note (``store_notes``, ``rebuilt_notes``), and
        ``compute`` runs once more on the rebuilt index. A DuckDB error that is no damage is raised."""
        with self._lock:
            try:
                return compute()
            except duckdb.Error as exc:
                if not self._recover_snapshot(exc):
                    raise
            return compute()

    def _recover_snapshot(self, exc: duckdb.Error) -> bool:
        """After ``exc`` in a read: True when the snapshot was checked or found damaged and the index
        rebuilt from the files (the read is worth running again), False when the error is not the
        snapshot's."""
        if not self._on_snapshot or self.cache is None:
            return False
        cache = self.cache
        if cache.pending:  # open_snapshot showed it unchecked: the check runs now, rebuilding if it must
            self._refresh_locked(None)  # not refresh(): _refresh_lock is never waited for under _lock
            if cache.status.startswith("discarded"):
                self.rebuilt_notes.append(f"index cache {cache.path} {cache.status[len('discarded: '):]}: "
                                          "the index was rebuilt from the files")  # fmt: skip
            return True
        cursor = self.con.cursor()
        try:  # DuckDB keeps no block of a failed read: the check reads the damaged one again
            cursor.execute(sql("cache_check")).fetchall()
        except duckdb.Error:
            pass
        else:
            return False  # the snapshot reads whole: the error is the query's own
        finally:
            cursor.close()
        note = self._snapshot_lost(exc)
        self._refresh(None, from_files=True)
        self.store_notes.append(note)
        self._write_problems()
        self.rebuilt_notes.append(note)  # logged by the cache when discarded
        return True

    def take_rebuilt_notes(self) -> list[str]:
        """The notes of snapshots found damaged by a read since the last call (``guarded``), cleared."""
        with self._lock:
            notes, self.rebuilt_notes = self.rebuilt_notes, []
            return notes

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, remembered until the index's data changes (its generation moves on); run
        through ``guarded``."""
        with self._lock:
            if self._memo_generation != self.generation:
                self._memo.clear()
                self._memo_generation = self.generation
            if key not in self._memo:
                value = self.guarded(compute)
                if self._memo_generation != self.generation:  # rebuilt from the files under it: a
                    self._memo.clear()  # compute of several reads may hold rows of both; once more
                    self._memo_generation = self.generation
                    value = compute()
                self._memo[key] = value
            return self._memo[key]

    def persisted(self, name: str, compute: Callable[[], pa.Table]) -> pa.Table:
        """``compute()``, read from beside the persisted index instead when the index holds exactly its
        snapshot's content and the table was kept there (``lib.index.cache``); kept there otherwise.

        ``name`` must say everything besides the index's content that decides the table (the caller's
        selection and code). Not remembered in memory: callers wrap this in ``memo``."""
        with self._lock:
            cache = self.cache
            token = cache.token if cache is not None else None
            if cache is None or token is None or self._snapshot_generation != self.generation:
                return compute()
            table = cache.load_derived(token, name)
            if table is None:
                generation = self.generation
                table = self.guarded(compute)
                if self.generation != generation or self.cache is not cache or cache.token != token:
                    return compute()  # the snapshot proved damaged under it: all from the rebuilt index
                cache.save_derived(token, name, table)
            return table

    def query(self, name: str, params: dict[str, Any] | list[Any] | None = None) -> pd.DataFrame:
        """Run the named query of ``lib/index/sql`` with bound parameters and return a DataFrame."""
        with self._lock:
            return self.guarded(lambda: self.con.execute(sql(name), params or []).df())

    def problems(self) -> pd.DataFrame:
        """The ingest report: one row per file that failed (error) or loaded with a caveat (warning)."""
        with self._lock:
            return self.guarded(lambda: self.con.execute(sql("ingest_report")).df())

    @property
    def request_problems(self) -> list[IngestProblem]:
        """Request files that do not validate (the Queue page lists them as malformed), by path."""
        with self._lock:
            return [
                p
                for (store, _), found in sorted(self._problems.items())
                if store == "requests"
                for p in found
            ]

    @property
    def requests_list(self) -> list[Request]:
        """The requests as records, in store order. Between ``open_snapshot`` and the check that
        follows it they are the snapshot's (read from it on first use), as its tables are."""
        with self._lock:
            cache = self.cache
            if cache is not None and cache.pending and not self._requests and not self._requests_unparsed:

                def read() -> dict[str, str]:  # again after a recovery: the check then read the requests
                    now = self.cache
                    return now.request_text(self.con) if now is not None and now.pending else {}

                text = self.guarded(read)
                if text:
                    self._requests_unparsed = text
            self._parse_cached_requests()
            return [self._requests[p] for p in sorted(self._requests)]

    def _parse_cached_requests(self) -> None:
        """Requests the persisted index holds as text become records (only when a caller needs them)."""
        if not self._requests_unparsed:
            return
        from lib.queue.requests import decode_request  # see _refresh_requests

        for path, raw in self._requests_unparsed.items():
            try:
                self._requests[path] = decode_request(path, raw.encode("utf-8"))
            except Exception:  # noqa: BLE001 - not for our own snapshot; the file is read again next time
                self._request_versions[path] = ""
        self._requests_unparsed = {}

    def counts(self) -> dict[str, int]:
        """How many evaluations, scores, requests and problems the index holds."""
        with self._lock:
            return self.guarded(self._counts)

    def _counts(self) -> dict[str, int]:
        with self._lock:
            row = self.con.execute(
                "SELECT (SELECT count(*) FROM evaluations), (SELECT count(*) FROM scores), "
                "(SELECT count(*) FROM requests), (SELECT count(*) FROM problems WHERE level = 'error')"
            ).fetchall()[0]  # fetchall closes the result; fetchone would keep it open and block register()
            counts = dict(zip(("evaluations", "scores", "requests", "errors"), row, strict=True))
            # Not the table's rows (it holds table sources' metadata rows too); the requests a snapshot
            # holds as text count without being parsed.
            counts["requests"] = len(self._requests.keys() | self._requests_unparsed.keys())
            if self.cache is not None and self.cache.pending:  # open_snapshot: not read into Python yet
                counts["requests"] = int(self.con.execute(sql("cache_request_count")).fetchall()[0][0])
        return counts


def build_index(
    definition: Definition,
    results: FileStore | str | None = None,
    requests: FileStore | str | None = None,
    progress: Progress | None = None,
) -> Index:
    """A fresh index over the definition's stores (or the given ones), loaded."""
    index = Index(definition, results, requests)
    index.refresh(progress)
    return index


def _results_to_parse(files: list[FileInfo], versions: dict[str, str]) -> list[str]:
    """The listed results files whose version is not the one the index holds and that can be read (the
    files ``Index._refresh_results_with`` parses, in the same order)."""
    return [
        f.path
        for f in files
        if versions.get(f.path) != f.version and not f.problem and f.size <= MAX_FILE_BYTES
    ]


def _request_not_read(info: FileInfo) -> bool:
    """A listed request entry that ``Index._refresh_requests`` reports without reading it."""
    log_file = info.skipped and info.path.startswith("logs/") and info.path.endswith(".log")
    return log_file or bool(info.problem) or info.size > MAX_FILE_BYTES


def _as_store(value: FileStore | str) -> FileStore:
    return open_store(value) if isinstance(value, str) else value


def _request_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in _REQUEST_COLUMNS]
    return pa.table(
        {
            name: pa.array(list(values), type=_REQUEST_SCHEMA.field(name).type)
            for name, values in zip(_REQUEST_COLUMNS, columns, strict=True)
        }
    )
