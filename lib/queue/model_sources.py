"""Where the submission rules read a model from: the Hub (through ``huggingface_hub`` only) or a local folder.

A source resolves what a user typed into a ``ResolvedModel`` (its id as the request stores it, the commit
sha or, for a folder, a content hash, and the model-card metadata), then answers the few questions the
rules ask: a JSON file (``config.json``, ``tokenizer_config.json``), the model card's text, whether a file
exists, and the parameter count from the safetensors metadata. Every Hub failure becomes one of this
module's exceptions with a message a user can act on. This module never imports torch or transformers,
never trusts remote code and never writes anywhere but huggingface_hub's download cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from lib.core.bounded import YamlRefused, brief
from lib.core.cards import front_matter
from lib.stores.base import UnsafePathError, safe_relpath

log = logging.getLogger(__name__)
T = TypeVar("T")
LOCAL_PREFIX = "local/"
DEFAULT_MAX_FOLDER_BYTES = 80 * 10**9  # the definition's evaluation.local_model_max_gb default
MAX_FOLDER_FILES = 100_000
_MAX_HEADER = 100 * 1024 * 1024  # a safetensors header larger than this is not a real model file


class ModelSourceError(RuntimeError):
    """A model could not be read; the message says what the submitter can do about it."""


class HubUnavailable(ModelSourceError):
    """The Hub could not be reached or answered with a server error: nothing was written, try again."""


class HubOffline(ModelSourceError):
    """The process runs in offline mode: waiting does not help (unlike HubUnavailable)."""


class ModelNotFound(ModelSourceError):
    """The model does not exist, was deleted, or is private."""


class RevisionNotFound(ModelSourceError):
    """The model exists but the branch, tag or sha does not."""


class ModelGated(ModelSourceError):
    """The model is gated: the leaderboard may not read its files."""


@dataclass(frozen=True)
class ResolvedModel:
    """A model pinned to one version: the id written in the request and the sha (or folder content hash)."""

    model: str
    sha: str
    license: str = ""
    likes: int | None = None
    private: bool = False
    gated: bool = False
    params_b: float | None = None  # when the source already knows it (Hub model_info's safetensors field)
    model_path: str = ""  # local folders only: the absolute folder the evaluator loads
    card_data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


class ModelSource(Protocol):
    """What the submission rules need from wherever models live."""

    def resolve(self, model: str, revision: str) -> ResolvedModel:
        """Pin ``model`` at ``revision``; raises ModelNotFound, RevisionNotFound, HubUnavailable."""
        ...

    def read_json(self, model: ResolvedModel, filename: str) -> dict[str, Any] | None:
        """A JSON object file of the model, or None when the file does not exist."""
        ...

    def read_text(self, model: ResolvedModel, filename: str) -> str | None:
        """A text file of the model, or None when it does not exist."""
        ...

    def has_file(self, model: ResolvedModel, filename: str) -> bool:
        """Whether the model has this file."""
        ...

    def parameter_count(self, model: ResolvedModel) -> int | None:
        """Parameters from the safetensors metadata; None when the model has no safetensors weights."""
        ...


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """A model card's YAML metadata (empty when absent or broken) and its body."""
    try:
        data, body = front_matter(text)
    except YamlRefused:  # too large, an alias bomb, too deep or malformed: no metadata, the whole text
        return {}, text
    return data or {}, body


def card_license(card_data: dict[str, Any]) -> str:
    """The license a card declares ('other' with a license_name gives that name)."""
    value = card_data.get("license")
    if isinstance(value, list):
        value = value[0] if value else ""
    text = str(value or "").strip()
    if text == "other" and card_data.get("license_name"):
        return str(card_data["license_name"]).strip()
    return text


# --- the Hub ------------------------------------------------------------------------------------------


class HubModelSource:
    """Models on the Hub (or a Hub-compatible endpoint), read with ``huggingface_hub``'s ``HfApi``."""

    def __init__(
        self,
        endpoint: str | None = None,
        token: str | bool | None = None,
        cache_dir: str | None = None,
        api: Any = None,
    ) -> None:
        if api is None:
            from huggingface_hub import HfApi  # imported lazily: nothing happens at import time

            api = HfApi(endpoint=endpoint, token=token)
        self.api = api
        self.cache_dir = cache_dir

    def resolve(self, model: str, revision: str) -> ResolvedModel:
        info = _hub_call(lambda: self.api.model_info(model, revision=revision or "main"), model, revision)
        if not info.sha:
            raise HubUnavailable(f"the Hub did not say which commit {model}@{revision} is; try again later")
        card = info.card_data.to_dict() if info.card_data is not None else {}
        total = getattr(info.safetensors, "total", None) if info.safetensors is not None else None
        return ResolvedModel(
            model=info.id or model,
            sha=info.sha,
            license=card_license(card),
            likes=info.likes,
            private=bool(info.private),
            gated=bool(info.gated),
            params_b=(total / 1e9) if total else None,
            card_data=card,
        )

    def _download(self, model: ResolvedModel, filename: str) -> Path | None:
        from huggingface_hub.errors import EntryNotFoundError

        def fetch() -> Path | None:
            try:
                return Path(
                    self.api.hf_hub_download(
                        model.model, filename, revision=model.sha, cache_dir=self.cache_dir
                    )
                )
            except EntryNotFoundError as exc:
                if _is_local_miss(exc):
                    raise  # not in the cache because the Hub was unreachable: handled by _hub_call
                return None

        return _hub_call(fetch, model.model, model.sha)

    def read_json(self, model: ResolvedModel, filename: str) -> dict[str, Any] | None:
        path = self._download(model, filename)
        return _json_object(path.read_bytes(), f"{model.model}/{filename}") if path else None

    def read_text(self, model: ResolvedModel, filename: str) -> str | None:
        path = self._download(model, filename)
        return path.read_text(encoding="utf-8", errors="replace") if path else None

    def has_file(self, model: ResolvedModel, filename: str) -> bool:
        return _hub_call(
            lambda: bool(self.api.file_exists(model.model, filename, revision=model.sha)),
            model.model,
            model.sha,
        )

    def parameter_count(self, model: ResolvedModel) -> int | None:
        if model.params_b:
            return round(model.params_b * 1e9)
        from huggingface_hub.errors import NotASafetensorsRepoError, SafetensorsParsingError

        def count() -> int | None:
            try:
                metadata = self.api.get_safetensors_metadata(model.model, revision=model.sha)
            except NotASafetensorsRepoError:
                return None
            except SafetensorsParsingError as exc:
                raise ModelSourceError(
                    f"the safetensors header of {model.model} cannot be read: {exc}"
                ) from exc
            return sum(metadata.parameter_count.values()) or None

        return _hub_call(count, model.model, model.sha)


def _is_local_miss(exc: BaseException) -> bool:
    from huggingface_hub.errors import LocalEntryNotFoundError

    return isinstance(exc, LocalEntryNotFoundError)


def _hub_call(call: Callable[[], T], model: str, revision: str) -> T:
    """Run one huggingface_hub call and turn its failures into this module's exceptions."""
    with _hub_errors(model, revision):
        return call()
    raise AssertionError("unreachable")  # pragma: no cover - the context manager re-raises


@contextmanager
def _hub_errors(model: str, revision: str) -> Iterator[None]:
    import httpx2
    from huggingface_hub import errors

    try:
        yield
    except errors.RevisionNotFoundError as exc:
        raise RevisionNotFound(
            f"revision {revision!r} does not exist in {model}: give a branch, tag or commit sha of the model"
        ) from exc
    except errors.GatedRepoError as exc:
        raise ModelGated(
            f"{model} is gated: the leaderboard cannot read its files. Remove the gate or grant access, then "
            "submit again"
        ) from exc
    except errors.RepositoryNotFoundError as exc:
        raise ModelNotFound(
            f"{model} was not found on the Hub (it does not exist, was deleted, or is private): check the id"
        ) from exc
    except errors.DisabledRepoError as exc:
        raise ModelNotFound(f"{model} has been disabled on the Hub") from exc
    except errors.HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status in (401, 403):
            raise ModelGated(f"{model}: the Hub refused access ({status}); the model must be public") from exc
        raise HubUnavailable(
            f"the Hub answered {status or 'an error'} while reading {model}: nothing was submitted, try again "
            "in a few minutes"
        ) from exc
    except errors.OfflineModeIsEnabled as exc:
        raise HubOffline(
            "this leaderboard runs without the Hub (offline mode), so Hub models cannot be checked or "
            "evaluated here: submit a local model folder instead (local/<folder>) if the definition allows "
            "them, or ask the people who run it"
        ) from exc
    except (httpx2.TransportError, errors.LocalEntryNotFoundError) as exc:
        raise HubUnavailable(
            f"the Hub cannot be reached ({type(exc).__name__}): nothing was submitted, try again in a few minutes"
        ) from exc


# --- local folders ------------------------------------------------------------------------------------


class LocalModelSource:
    """Model folders on this machine, allowed only inside ``roots`` (the definition's local_model_roots).

    A model is named ``local/<folder-name>`` or given as an absolute folder path inside a root; the
    folder is resolved (symbolic links included) before the root check, so a link inside a root that
    points elsewhere is refused. Its "sha" is a content hash of the folder's files, so a changed folder is
    a new submission; hashing reads at most ``max_bytes`` and never follows a link out of the roots.
    ``progress`` (when given) gets (bytes hashed, bytes in all) while hashing.
    """

    def __init__(
        self,
        roots: list[str] | tuple[str, ...],
        max_bytes: int = DEFAULT_MAX_FOLDER_BYTES,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.roots = tuple(Path(r).expanduser().resolve() for r in roots)
        self.max_bytes = max_bytes
        self.progress = progress

    def folder_for(self, model: str) -> Path:
        """The folder a ``local/<name>`` id or an absolute path names; ModelNotFound says why not."""
        try:
            return self._folder_for(model)
        except OSError as exc:  # a name too long for the file system, a link loop, no permission
            raise ModelNotFound(
                f"{brief(model.strip())} cannot be opened as a folder: {exc.strerror}"
            ) from None

    def _folder_for(self, model: str) -> Path:
        text = model.strip()
        if not self.roots:
            raise ModelNotFound("this leaderboard has no local model folders configured (local_model_roots)")
        if text.startswith(LOCAL_PREFIX):
            name = text[len(LOCAL_PREFIX) :]
            try:
                safe_relpath(name)
            except UnsafePathError as exc:
                raise ModelNotFound(f"{brief(text)} is not a valid local model name: {exc}") from exc
            if "/" in name:
                raise ModelNotFound(f"{brief(text)}: a local model is local/<folder-name>, one folder level")
            for root in self.roots:
                if (root / name).is_dir():
                    return self._inside_roots(root / name, text)
            raise ModelNotFound(f"no folder {brief(name)} in the local model folders ({self._shown()})")
        folder = Path(text).expanduser()
        if not folder.is_absolute():
            raise ModelNotFound(f"{brief(text)}: give local/<folder-name> or an absolute folder path")
        resolved = self._inside_roots(folder, text)
        if not resolved.is_dir():
            raise ModelNotFound(f"model folder {brief(text)} does not exist")
        return resolved

    def _inside_roots(self, folder: Path, text: str) -> Path:
        """``folder`` with every link resolved, when that lies strictly inside a root."""
        resolved = folder.resolve()
        if not any(resolved != root and root in resolved.parents for root in self.roots):
            raise ModelNotFound(
                f"{brief(text)} is (or links to) a folder outside the allowed local model folders ({self._shown()})"
            )
        return resolved

    def _shown(self) -> str:
        return ", ".join(str(r) for r in self.roots)

    def resolve(self, model: str, revision: str) -> ResolvedModel:
        folder = self.folder_for(model)
        name = folder.name
        try:
            safe_relpath(name)
        except UnsafePathError as exc:
            raise ModelNotFound(
                f"folder name {name!r} cannot name a request: rename the folder ({exc})"
            ) from exc
        readme = folder / "README.md"
        card: dict[str, Any] = {}
        if readme.is_file():
            card, _ = split_front_matter(readme.read_text(encoding="utf-8", errors="replace"))
        return ResolvedModel(
            model=f"{LOCAL_PREFIX}{name}",
            sha=folder_content_hash(folder, self.roots, self.max_bytes, self.progress),
            license=card_license(card),
            model_path=str(folder),
            card_data=card,
        )

    def _file(self, model: ResolvedModel, filename: str) -> Path | None:
        path = Path(model.model_path) / safe_relpath(filename)
        return path if path.is_file() else None

    def read_json(self, model: ResolvedModel, filename: str) -> dict[str, Any] | None:
        path = self._file(model, filename)
        return _json_object(path.read_bytes(), f"{model.model}/{filename}") if path else None

    def read_text(self, model: ResolvedModel, filename: str) -> str | None:
        path = self._file(model, filename)
        return path.read_text(encoding="utf-8", errors="replace") if path else None

    def has_file(self, model: ResolvedModel, filename: str) -> bool:
        return self._file(model, filename) is not None

    def parameter_count(self, model: ResolvedModel) -> int | None:
        files = sorted(Path(model.model_path).glob("*.safetensors"))
        if not files:
            return None
        return sum(safetensors_parameter_count(f) for f in files) or None


def folder_content_hash(
    folder: Path,
    roots: tuple[Path, ...] = (),
    max_bytes: int = DEFAULT_MAX_FOLDER_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """sha256 over every file's relative path and content (hidden files and folders skipped).

    The walk never follows a linked folder; a linked file is hashed only when it resolves inside
    ``folder`` or one of ``roots`` (a Hub cache snapshot links to its blobs), else the model is refused,
    as it is when it holds more than ``max_bytes`` or ``MAX_FOLDER_FILES`` files. Sizes are summed before
    anything is read; ``progress`` gets (bytes hashed, bytes in all).
    """
    allowed = (folder.resolve(), *roots)
    files: list[tuple[str, Path, int]] = []
    total = 0
    for current, dirs, names in os.walk(folder):  # followlinks=False: a linked folder is not entered
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(current)
        for name in [d for d in dirs if (base / d).is_symlink()]:
            _check_link(base / name, folder, allowed)
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = base / name
            target = _check_link(path, folder, allowed) if path.is_symlink() else path
            if target is None or not target.is_file():
                continue
            size = target.stat().st_size
            total += size
            files.append((path.relative_to(folder).as_posix(), target, size))
            if total > max_bytes or len(files) > MAX_FOLDER_FILES:
                raise ModelSourceError(
                    f"{folder.name} holds more than {max_bytes / 1e9:g} GB or {MAX_FOLDER_FILES:,} files, "
                    "the limit for a local model (evaluation.local_model_max_gb)"
                )
    digest = hashlib.sha256()
    done = 0
    for rel, target, _size in sorted(files):
        digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
        with target.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        digest.update(b"\0")
    return digest.hexdigest()


def _check_link(path: Path, folder: Path, allowed: tuple[Path, ...]) -> Path | None:
    """The target of a link inside the model; ModelSourceError when it leaves the allowed folders."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling or a loop: nothing to hash
        return None
    if not any(target == base or base in target.parents for base in allowed):
        rel = path.relative_to(folder).as_posix()
        raise ModelSourceError(
            f"{folder.name}/{brief(rel)} links outside the allowed local model folders: not read"
        )
    return target


def safetensors_parameter_count(path: Path) -> int:
    """Parameters in one safetensors file, from its header alone."""
    with path.open("rb") as handle:
        head = handle.read(8)
        if len(head) != 8:
            raise ModelSourceError(f"{path.name} is not a safetensors file")
        (size,) = struct.unpack("<Q", head)
        if size > _MAX_HEADER:
            raise ModelSourceError(f"{path.name} has an implausible safetensors header")
        try:
            header = json.loads(handle.read(size))
        except ValueError as exc:
            raise ModelSourceError(f"{path.name}: unreadable safetensors header") from exc
    total = 0
    for name, tensor in header.items():
        if name == "__metadata__" or not isinstance(tensor, dict):
            continue
        count = 1
        for dim in tensor.get("shape", []):
            count *= int(dim)
        total += count
    return total


def _json_object(data: bytes, where: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise ModelSourceError(f"{where} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ModelSourceError(f"{where} must hold a JSON object")
    return value
