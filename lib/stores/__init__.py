"""Stores of plain files: where request and result files live (a local folder, or a Hub dataset repo).

``open_store`` turns a location string into a store: a folder path, or ``hub:org/name`` (Hub dataset
repo, see ``lib.stores.hub``), or an empty string for "no store" (results without a queue).
"""

from __future__ import annotations

from lib.stores.base import FileInfo, FileStore, StoreError, StoreWriteError
from lib.stores.local import EmptyStore, LocalFileStore


def open_store(location: str, token: str | None = None) -> FileStore:
    """A store for a location: ``hub:org/name`` for a Hub dataset repo, else a local folder.

    ``token`` is used by Hub stores only (default: ``$HF_TOKEN``, else huggingface_hub's saved login).
    """
    text = str(location).strip()
    if not text:
        return EmptyStore()
    if text.startswith("hub:"):
        from lib.stores.hub import HubFileStore  # imported lazily: only Hub deployments need it

        return HubFileStore(text[len("hub:") :], token=token)
    return LocalFileStore(text)


__all__ = [
    "EmptyStore",
    "FileInfo",
    "FileStore",
    "LocalFileStore",
    "StoreError",
    "StoreWriteError",
    "open_store",
]
