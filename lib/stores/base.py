"""The interface every store implements: list, read, write whole files, create exclusively.

Paths are POSIX-style and relative to the store's root. ``safe_relpath`` is the one gate through
which a path built from user input (a model id, say) may pass; it refuses anything that could leave
the root.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, Protocol

_SEGMENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=@-]*$")
MAX_PATH_LENGTH = 512
MAX_SEGMENT_BYTES = 255  # a file name longer than this fails with an OSError on common file systems


class StoreError(RuntimeError):
    """A store cannot be read (missing folder, unreachable repo, revoked token)."""


class StoreMissingError(StoreError):
    """The store does not exist (yet): a local folder created by its first write, say."""


class StoreWriteError(StoreError):
    """A write was refused or failed; nothing was half-written."""


class UnsafePathError(ValueError):
    """A path built from input would escape the store or uses characters we do not allow."""


class FileInfo(NamedTuple):
    """One file of a store: its relative path and what tells us whether it changed.

    A named tuple: a listing makes one per file (200,000 at the largest stores), and a frozen dataclass
    costs five times as much to create."""

    path: str
    size: int
    version: str  # mtime_ns locally, blob id on the Hub: equal versions mean equal content
    problem: str = ""  # set for an entry named like a file that cannot be read as one (see list_files)
    skipped: bool = False  # an entry deliberately not read (not results, hidden): reported, not an error


# lm-eval names an output folder after the model with '/' as '__': `peft=../adapters/x` gives
# `..__adapters__x`, `./x` gives `.__x`. Such folders are read; other hidden entries are skipped.
SANITIZED_PATH_PREFIXES = ("..__", ".__")
# Files that belong beside results and are read by their own readers (samples), never reported.
KNOWN_SIDE_FILES = (".jsonl",)
# Our own atomic writes' temporary files (`.<name>.<random>.tmp`) and compare-and-swap lock files
# (`.<name>.lock`, see lib.stores.local): ours, not data, not even reported.
TEMP_FILE_RE = re.compile(r"^\..+\.(?:tmp|lock)$")
HIDDEN = "a hidden entry (its name starts with '.'): not read"
NOT_RESULTS = "not a results file (only *.json files are read)"


def is_sanitized_path_folder(name: str, entry: Any = None) -> bool:
    """A folder lm-eval named after a relative model path (``..__adapters__x``): read, not hidden."""
    if not name.startswith(SANITIZED_PATH_PREFIXES):
        return False
    return entry is None or entry.is_dir(follow_symlinks=False)


class FileStore(Protocol):
    """A folder of files, local or remote."""

    location: str

    def list_files(self, suffixes: tuple[str, ...] = (".json",), irregular: bool = False) -> list[FileInfo]:
        """Every file below the root whose name ends with one of ``suffixes``, recursively.

        With ``irregular``, also the entries so named that cannot be read as a file of the store (a
        folder, a dangling link, a link loop, a link out of the store, a name that is not UTF-8), each
        with its ``problem`` set, so that a reader can report them instead of skipping them silently.
        """
        ...

    def read_bytes(self, path: str) -> bytes:
        """A file's content; FileNotFoundError when it is gone."""
        ...

    def version(self, path: str) -> str | None:
        """The file's current version, or None when it does not exist."""
        ...

    def write_bytes(self, path: str, data: bytes, message: str = "") -> None:
        """Write a whole file atomically (replaces an existing one)."""
        ...

    def create_exclusive(self, path: str, data: bytes, message: str = "") -> bool:
        """Create a file only if it does not exist; True when this call created it."""
        ...

    def replace_if_unchanged(self, path: str, data: bytes, version: str, message: str = "") -> bool:
        """Replace a file only if it is still at ``version``; True when this call replaced it."""
        ...

    def delete(self, path: str, message: str = "") -> None:
        """Remove a file (no error when it is already gone)."""
        ...

    def local_path(self, path: str) -> str | None:
        """A filesystem path for the file when the store has one (a folder or a cache), else None."""
        ...


def safe_relpath(*segments: str) -> str:
    """Join path segments after checking each one; raises UnsafePathError for hostile input.

    Each segment must start with a letter or digit and hold only letters, digits and ``._+=@-``: no
    ``..``, no separators, no control characters, no absolute paths.
    """
    cleaned: list[str] = []
    for segment in segments:
        for part in str(segment).split("/"):
            if not _SEGMENT_RE.match(part) or part in (".", "..") or ".." in part:
                raise UnsafePathError(f"unsafe path segment {part[:60]!r}")
            if len(part.encode("utf-8")) > MAX_SEGMENT_BYTES:
                raise UnsafePathError(
                    f"path segment {part[:20]!r}... is longer than {MAX_SEGMENT_BYTES} bytes"
                )
            cleaned.append(part)
    joined = "/".join(cleaned)
    if not joined or len(joined) > MAX_PATH_LENGTH:
        raise UnsafePathError("path is empty or too long")
    return joined
