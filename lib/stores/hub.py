"""A store that is a Hub dataset repo, mirrored into a local cache, behind the same interface as a folder.

Reading: ``list_files`` syncs the mirror (one ``dataset_info`` call when nothing changed; otherwise the
repo tree is listed, blob ids are compared with the manifest of what the cache holds, and only changed
files are fetched with ``snapshot_download(allow_patterns=...)``), then answers from the manifest. When
the Hub cannot be reached, the token is refused or the repo vanished, the last synced copy keeps being
served: ``offline`` turns True, ``message`` says why and ``as_of`` when the copy was taken.

Writing: every write is one commit. ``create_exclusive`` and ``replace_if_unchanged`` commit with
``parent_commit`` (the Hub answers HTTP 412 when the branch moved meanwhile) and retry a bounded number
of times before raising ``StoreWriteError``. ``version`` is the file's git blob id on the Hub, read fresh,
and the mirror is brought to that blob so that ``read_bytes`` returns the content the version names.

Sharing one cache folder (several workers on one machine): every change of the mirror and its manifest
happens under a kernel lock (``flock`` on ``<cache>/.lock``) and merges into the manifest on disk, never
over it; mirror files are replaced atomically; every file fetched is checked against its blob id (the
git sha of its bytes) and fetched again from the content-addressed cache when the mirror holds other
bytes. ``version`` keeps the verified bytes of the version it returns, so the ``read_bytes`` that
follows it in a compare-and-swap always reads exactly that version, whatever another process wrote to
the mirror in between.

The token comes from the ``token`` argument or ``$HF_TOKEN`` (else huggingface_hub's saved login); it is
never logged, and messages of re-raised errors are scrubbed of it. Streamlit secrets are read by
``lib.ui``, never here. Everything goes through ``huggingface_hub``; nothing happens at import time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lib.stores.base import (
    HIDDEN,
    KNOWN_SIDE_FILES,
    NOT_RESULTS,
    FileInfo,
    StoreError,
    StoreWriteError,
    UnsafePathError,
    is_sanitized_path_folder,
)

log = logging.getLogger(__name__)

MAX_COMMIT_ATTEMPTS = 5  # a claim or status change retried this often on HTTP 412, then StoreWriteError
FULL_SYNC_ABOVE = 200  # more changed files than this: let snapshot_download walk the whole repo
_MANIFEST = "manifest.json"
CACHE_LOCK_WAIT_S = 300.0  # a sync of a large repo may hold the cache lock this long


class HubFileStore:
    """Files of the dataset repo ``repo_id`` (branch ``main``), mirrored under ``cache_dir``."""

    def __init__(
        self,
        repo_id: str,
        endpoint: str | None = None,
        token: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        max_attempts: int = MAX_COMMIT_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.repo_id = _check_repo_id(repo_id)
        self.location = f"hub:{self.repo_id}"
        self.endpoint = endpoint
        self._token = token or os.environ.get("HF_TOKEN") or None
        root = Path(cache_dir or os.environ.get("LEADERBOARD_HUB_CACHE") or _default_cache()).expanduser()
        self.cache_root = root / ("datasets--" + self.repo_id.replace("/", "--"))
        self.mirror = self.cache_root / "files"
        self.max_attempts = max(1, int(max_attempts))
        self._sleep = sleep
        self._api_obj: Any = None
        self._manifest: dict[str, Any] | None = None
        self._pinned: dict[str, tuple[str, bytes]] = {}  # path -> (blob id, bytes) returned by version()
        self._thread_lock = threading.RLock()
        self._lock_depth = 0
        self.offline = False
        self.message = ""

    # ------------------------------------------------------------------ state of the cache
    @property
    def as_of(self) -> float | None:
        """When the mirror last matched the Hub (seconds since the epoch); None before the first sync."""
        return self._load_manifest().get("synced_at")

    @property
    def commit(self) -> str | None:
        """The commit of ``main`` the mirror was last synced to."""
        return self._load_manifest().get("sha")

    def _load_manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            self._manifest = self._read_manifest()
        return self._manifest

    def _read_manifest(self) -> dict[str, Any]:
        try:
            manifest = json.loads((self.cache_root / _MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {}
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            manifest = {"files": {}}
        return manifest

    def _save_manifest(self) -> None:
        """Write this process's manifest (only under ``_cache_lock``, after reloading what others wrote)."""
        manifest = self._load_manifest()
        self.cache_root.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_root / f".{_MANIFEST}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.cache_root / _MANIFEST)

    @contextlib.contextmanager
    def _cache_lock(self) -> Iterator[dict[str, Any]]:
        """Hold the cache folder's kernel lock (re-entrant in this object); yields the manifest as on disk."""
        with self._thread_lock:
            if self._lock_depth:
                self._lock_depth += 1
                try:
                    yield self._load_manifest()
                finally:
                    self._lock_depth -= 1
                return
            self.cache_root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.cache_root / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
            try:
                deadline = time.monotonic() + CACHE_LOCK_WAIT_S
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise StoreError(
                                f"{self.location}: the cache folder stays locked by another process"
                            ) from None
                        time.sleep(0.01)
                self._manifest = self._read_manifest()  # what other processes wrote meanwhile
                self._lock_depth = 1
                try:
                    yield self._manifest
                finally:
                    self._lock_depth = 0
            finally:
                os.close(fd)  # releases the lock

    # ------------------------------------------------------------------ huggingface_hub
    def _api(self) -> Any:
        if self._api_obj is None:
            from huggingface_hub import HfApi  # imported lazily: only Hub deployments need it

            self._api_obj = HfApi(endpoint=self.endpoint, token=self._token)
        return self._api_obj

    def _head(self) -> str:
        """The commit ``main`` points at now."""
        sha = self._api().dataset_info(self.repo_id, revision="main").sha
        if not sha:
            raise StoreError(f"{self.location}: the Hub did not say which commit main is at")
        return str(sha)

    def _remote_oid(self, path: str, revision: str) -> str | None:
        from huggingface_hub import RepoFile

        infos = self._api().get_paths_info(self.repo_id, [path], revision=revision, repo_type="dataset")
        for info in infos:
            if isinstance(info, RepoFile) and info.path == path:
                return str(info.blob_id)
        return None

    # ------------------------------------------------------------------ reading
    def sync(self) -> bool:
        """Bring the mirror up to date with ``main``; returns False (and sets ``offline``) when it cannot."""
        try:
            head = self._head()
            with self._cache_lock() as manifest:
                if head != manifest.get("sha") or not self.mirror.is_dir():
                    self._sync_to(head)
                manifest["synced_at"] = time.time()
                self._save_manifest()
            self._pinned.clear()
        except Exception as exc:  # noqa: BLE001 - every Hub failure falls back to the cache
            if not _is_hub_failure(exc):
                raise
            self.offline, self.message = True, self._explain(exc)
            log.warning("%s", self.message)
            return False
        self.offline, self.message = False, ""
        return True

    def _sync_to(self, head: str) -> None:
        from huggingface_hub import RepoFile, snapshot_download

        manifest = self._load_manifest()
        known: dict[str, dict[str, Any]] = manifest["files"]
        remote = {
            f.path: {"oid": str(f.blob_id), "size": int(f.size or 0)}
            for f in self._api().list_repo_tree(
                self.repo_id, recursive=True, revision=head, repo_type="dataset"
            )
            if isinstance(f, RepoFile)
        }
        changed = [
            p
            for p, meta in remote.items()
            if known.get(p, {}).get("oid") != meta["oid"] or not (self.mirror / p).is_file()
        ]
        if changed:
            patterns = None if len(changed) > FULL_SYNC_ABOVE else [_escape_pattern(p) for p in changed]
            snapshot_download(
                self.repo_id,
                repo_type="dataset",
                revision=head,
                local_dir=self.mirror,
                cache_dir=self.cache_root / "hf",
                allow_patterns=patterns,
                endpoint=self.endpoint,
                token=self._token,
            )
        for path in [p for p in known if p not in remote]:
            self._drop_local(path)
        for path in changed:  # downloads are verified against the blob id; a mismatch is fetched again
            try:
                data = self._local(path).read_bytes()
            except (OSError, UnsafePathError):
                data = None
            oid = str(remote[path]["oid"])
            if data is None or _git_blob_sha(data) != oid:
                fetched = self._download_verified(path, head, oid)
                if fetched is None:
                    remote.pop(path)  # not recorded: the next sync fetches it again
                else:
                    self._write_mirror(path, fetched)
        log.info("%s: synced to %s, %d file(s) fetched", self.location, head[:8], len(changed))
        manifest["files"] = remote
        manifest["sha"] = head

    def list_files(self, suffixes: tuple[str, ...] = (".json",), irregular: bool = False) -> list[FileInfo]:
        """Files of the repo as of now (or, offline, as of ``as_of``); StoreError when there is no copy.

        A repo holds only regular files (blobs); with ``irregular``, the files that are not read (hidden,
        or not named like ``suffixes``) are listed as skipped so that the report names them."""
        synced = self.sync()
        files: dict[str, dict[str, Any]] = self._load_manifest()["files"]
        if not synced and self.as_of is None:
            raise StoreError(self.message)
        found = []
        for path, meta in sorted(files.items()):
            if path.endswith(suffixes) and not _hidden(path):
                found.append(FileInfo(path, int(meta.get("size", 0)), str(meta["oid"])))
            elif irregular and path != _MANIFEST and not path.endswith(KNOWN_SIDE_FILES):
                why = HIDDEN if _hidden(path) else NOT_RESULTS
                found.append(FileInfo(path, 0, f"skipped:{meta['oid']}", why, skipped=True))
        return found

    def read_bytes(self, path: str) -> bytes:
        pinned = self._pinned.get(path)
        if pinned is not None:
            return pinned[1]  # the bytes of the version version() returned, whatever the mirror holds now
        if path not in self._load_manifest()["files"]:
            raise FileNotFoundError(path)
        return self._local(path).read_bytes()

    def version(self, path: str) -> str | None:
        """The file's blob id on the Hub now; its verified bytes are kept for the next ``read_bytes``.

        Offline: the cached blob id (and the mirror's bytes)."""
        self._pinned.pop(path, None)
        try:
            for _ in range(3):
                head = self._head()
                oid = self._remote_oid(path, head)
                if oid is None:
                    return None
                data = self._verified_local(path, oid)
                if data is None:
                    data = self._download_verified(path, head, oid)
                if data is not None:
                    self._remember(path, data, oid, len(data))
                    return oid
            raise StoreError(f"{self.location}: {path} kept changing while it was fetched")
        except Exception as exc:  # noqa: BLE001
            if not _is_hub_failure(exc):
                raise
            self.offline, self.message = True, self._explain(exc)
            meta = self._load_manifest()["files"].get(path)
            return str(meta["oid"]) if meta else None

    def _verified_local(self, path: str, oid: str) -> bytes | None:
        """The mirror's bytes of ``path`` when they are exactly blob ``oid``, else None."""
        try:
            data = self._local(path).read_bytes()
        except OSError:
            return None
        return data if _git_blob_sha(data) == oid else None

    def _download_verified(self, path: str, revision: str, oid: str) -> bytes | None:
        """The file at ``revision`` through huggingface_hub's content-addressed cache (multi-process safe);
        None when the bytes are not blob ``oid`` (the branch moved on meanwhile)."""
        from huggingface_hub import hf_hub_download

        local = hf_hub_download(
            self.repo_id,
            path,
            repo_type="dataset",
            revision=revision,
            cache_dir=self.cache_root / "hf",
            endpoint=self.endpoint,
            token=self._token,
        )
        data = Path(local).read_bytes()
        if _git_blob_sha(data) != oid:
            log.warning("%s: %s downloaded with the wrong blob id; not used", self.location, path)
            return None
        return data

    def local_path(self, path: str) -> str | None:
        return str(self._local(path))

    # ------------------------------------------------------------------ writing
    def write_bytes(self, path: str, data: bytes, message: str = "") -> None:
        """One commit that adds or replaces ``path`` (no conflict check: last writer wins)."""
        self._commit_with_retries(path, data, message or f"Upload {path}", check=None)

    def create_exclusive(self, path: str, data: bytes, message: str = "") -> bool:
        """Commit ``path`` only if ``main`` does not hold it; two racing writers get one True."""
        return self._commit_with_retries(path, data, message or f"Add {path}", check=lambda oid: oid is None)

    def replace_if_unchanged(self, path: str, data: bytes, version: str, message: str = "") -> bool:
        """Commit ``path`` only if its blob on ``main`` is still ``version``."""
        return self._commit_with_retries(
            path, data, message or f"Update {path}", check=lambda oid: oid == version
        )

    def delete(self, path: str, message: str = "") -> None:
        from huggingface_hub import CommitOperationDelete

        try:
            if self._remote_oid(path, "main") is None:
                self._drop_local(path)
                return
            self._api().create_commit(
                self.repo_id,
                [CommitOperationDelete(path)],
                commit_message=message or f"Delete {path}",
                repo_type="dataset",
            )
        except Exception as exc:  # noqa: BLE001
            raise StoreWriteError(f"cannot delete {path}: {self._explain(exc)}") from None
        self._pinned.pop(path, None)
        with self._cache_lock() as manifest:
            self._drop_local(path)
            manifest["files"].pop(path, None)
            self._save_manifest()

    def _commit_with_retries(
        self, path: str, data: bytes, message: str, check: Callable[[str | None], bool] | None
    ) -> bool:
        """Commit with ``parent_commit`` until it lands, ``check`` fails (False), or attempts run out."""
        from huggingface_hub import CommitOperationAdd

        self._local(path)  # refuses a path that would leave the mirror
        for attempt in range(self.max_attempts):
            try:
                head = self._head()
                if check is not None and not check(self._remote_oid(path, head)):
                    return False
                self._api().create_commit(
                    self.repo_id,
                    [CommitOperationAdd(path, data)],
                    commit_message=message,
                    repo_type="dataset",
                    parent_commit=head if check is not None else None,
                )
            except Exception as exc:  # noqa: BLE001 - sorted below
                if _status(exc) == 412:
                    log.info("%s: %s conflicted (attempt %d), retrying", self.location, path, attempt + 1)
                    self._sleep(min(2.0, 0.05 * 2**attempt) * (1 + random.random()))
                    continue
                raise StoreWriteError(f"cannot write {path}: {self._explain(exc)}") from None
            self._remember(path, data, _git_blob_sha(data), len(data))
            return True
        raise StoreWriteError(
            f"cannot write {path} in {self.location}: the branch kept moving "
            f"({self.max_attempts} commit conflicts in a row, HTTP 412); try again later"
        )

    # ------------------------------------------------------------------ local files
    def _local(self, path: str) -> Path:
        root = self.mirror.resolve()
        target = (root / path).resolve()
        if target == root or root not in target.parents or _hidden(path):
            raise UnsafePathError(f"path {path!r} leaves the store")
        return target

    def _remember(self, path: str, data: bytes, oid: str, size: int) -> None:
        """Record a file we wrote or fetched (bytes verified to be blob ``oid``) in the shared mirror."""
        self._pinned[path] = (oid, data)
        with self._cache_lock() as manifest:
            known = manifest["files"].get(path, {})
            if known.get("oid") != oid or self._verified_local(path, oid) is None:
                self._write_mirror(path, data)
            manifest["files"][path] = {"oid": oid, "size": size}
            self._save_manifest()

    def _write_mirror(self, path: str, data: bytes) -> None:
        target = self._local(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)

    def _drop_local(self, path: str) -> None:
        try:
            self._local(path).unlink()
        except (FileNotFoundError, UnsafePathError):
            pass

    def _explain(self, exc: BaseException) -> str:
        """A message for a Hub failure that says what to do, scrubbed of the token."""
        stamp = _stamp(self.as_of)
        cached = f"showing the cached copy as of {stamp}" if stamp else "no cached copy yet"
        name = type(exc).__name__
        status = _status(exc)
        if name in ("RepositoryNotFoundError",) or (status == 404 and "Repository" in str(exc)):
            text = (
                f"{self.location}: repository not found (deleted, renamed, or private and the token "
                f"cannot see it); {cached}"
            )
        elif status == 401 or status == 403:
            text = (
                f"{self.location}: the Hub refused the token (HTTP {status}: revoked, expired or "
                f"without access; set a valid HF_TOKEN); {cached}"
            )
        elif name in ("OfflineModeIsEnabled",):
            text = f"{self.location}: offline mode (HF_HUB_OFFLINE=1); {cached}"
        elif status is None:
            text = f"{self.location}: the Hub is unreachable ({name}); {cached}"
        else:
            text = f"{self.location}: the Hub answered HTTP {status} ({_first_line(exc)}); {cached}"
        return self._scrub(text)

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


def _check_repo_id(repo_id: str) -> str:
    text = str(repo_id).strip().strip("/")
    parts = text.split("/")
    if len(parts) != 2 or not all(parts) or any(p in (".", "..") for p in parts):
        raise ValueError(f"a Hub dataset store needs an id like 'org/name', got {repo_id!r}")
    return text


def _default_cache() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "leaderboard-stores"


def _hidden(path: str) -> bool:
    """A path with a hidden part; lm-eval's folders named after relative paths (``..__x``) are not."""
    parts = path.split("/")
    return any(
        part.startswith(".") and not (i < len(parts) - 1 and is_sanitized_path_folder(part))
        for i, part in enumerate(parts)
    )


def _escape_pattern(path: str) -> str:
    """A path as an fnmatch pattern that matches only itself."""
    return "".join(f"[{c}]" if c in "*?[]" else c for c in path)


def _git_blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return int(code) if isinstance(code, int) else None


def _is_hub_failure(exc: BaseException) -> bool:
    """A network failure or an HTTP error from the Hub (what falls back to the cache)."""
    if isinstance(exc, (OSError, StoreError)):
        return True
    module = type(exc).__module__ or ""
    return module.startswith(("huggingface_hub", "httpx", "requests")) or _status(exc) is not None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _stamp(ts: float | None) -> str:
    if ts is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))
