"""Reading what models publish about themselves, from the Hub (with a cache) or from a local Hub mirror.

``models_to_read`` picks the models: those of the requests store plus the definition's ``hub.models``.
``HubResultsLoader`` reads each model's ``.eval_results/*.yaml`` files and README ``model-index`` through
huggingface_hub (``model_info``, ``list_repo_tree``, ``hf_hub_download``), and the files that only an
open pull request adds or changes (``get_repo_discussions``, ``refs/pr/N``) as *community* results.
What it read is cached as one JSON file per model and commit sha, so an unchanged model costs one
``model_info`` call, and an unreachable Hub falls back to the newest cached file of each model.

``MirrorLoader`` reads the same layout from a folder (``<org>/<model>/.eval_results/*.yaml``,
``<org>/<model>/README.md``, ``<org>/<model>/pulls/<n>/.eval_results/*.yaml``): the demo's "local Hub
mirror", which needs no network. Neither loader writes to any store.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.core.bounded import MAX_YAML_BYTES, YamlRefused, load_yaml
from lib.core.records import IngestProblem
from lib.hub.results import (
    MAX_CARD_BYTES,
    HubResult,
    parse_eval_results,
    parse_model_card,
    result_from_dict,
)
from lib.stores.base import UnsafePathError, safe_relpath

log = logging.getLogger(__name__)
EVAL_DIR = ".eval_results"
_CACHE_VERSION = 1


@dataclass
class HubResultsSet:
    """Everything read: results, the ingest report rows, and notes on how fresh it is."""

    results: list[HubResult] = field(default_factory=list)
    problems: list[IngestProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    benchmarks: dict[str, dict[str, Any]] = field(default_factory=dict)  # dataset id -> eval.yaml
    as_of: float | None = None
    offline: bool = False

    def extend(self, results: Iterable[HubResult], problems: Iterable[IngestProblem]) -> None:
        self.results.extend(results)
        self.problems.extend(problems)


def models_to_read(definition: Any, requests: Iterable[Any] = ()) -> list[str]:
    """Hub model ids of the requests store plus the definition's ``hub.models``, each once, sorted."""
    found: set[str] = set(getattr(definition, "hub_models", ()) or ())
    for request in requests:
        model = str(getattr(request, "model", "") or "")
        if model and not model.startswith("local/") and not getattr(request, "model_path", ""):
            found.add(model)
    return sorted(m for m in found if _valid_model(m))


def _valid_model(model: str) -> bool:
    org, sep, name = model.partition("/")
    try:
        safe_relpath(org, name) if sep else safe_relpath(model)
    except UnsafePathError:
        return False
    return True


# --------------------------------------------------------------------------- a local mirror
class MirrorLoader:
    """Results read from a folder laid out like model repos (see the module docstring)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()

    def load(self, models: Iterable[str] | None = None) -> HubResultsSet:
        """Every model of the mirror (or only ``models``)."""
        out = HubResultsSet(as_of=time.time())
        if not self.root.is_dir():
            out.notes.append(
                f"the local Hub mirror folder “{self.root.name}” does not exist"
            )  # no server path
            return out
        wanted = set(models) if models is not None else None
        for folder in sorted(p for p in self.root.glob("*/*") if p.is_dir() and not p.name.startswith(".")):
            model = f"{folder.parent.name}/{folder.name}"
            if folder.parent.name == "datasets" or (wanted is not None and model not in wanted):
                continue
            self._load_model(model, folder, out)
        for eval_yaml in sorted(self.root.glob("datasets/*/*/eval.yaml")):
            dataset = f"{eval_yaml.parent.parent.name}/{eval_yaml.parent.name}"
            out.benchmarks[dataset] = _benchmark_meta(_read_bounded(eval_yaml, MAX_YAML_BYTES))
        out.notes.append(f"read from the local Hub mirror folder “{self.root.name}”")  # no server path
        return out

    def _load_model(self, model: str, folder: Path, out: HubResultsSet) -> None:
        main_files = {
            p.name: _read_bounded(p, MAX_YAML_BYTES) for p in sorted((folder / EVAL_DIR).glob("*.yaml"))
        }
        for name, data in main_files.items():
            out.extend(*parse_eval_results(model, f"{EVAL_DIR}/{name}", data))
        readme = folder / "README.md"
        if readme.is_file():
            out.extend(*parse_model_card(model, _read_bounded(readme, MAX_CARD_BYTES)))
        for pr in sorted((folder / "pulls").glob("*")):
            pr_url = f"https://huggingface.co/{model}/discussions/{pr.name}"
            for path in sorted((pr / EVAL_DIR).glob("*.yaml")):
                data = _read_bounded(path, MAX_YAML_BYTES)
                if main_files.get(path.name) == data:
                    continue
                out.extend(
                    *parse_eval_results(model, f"{EVAL_DIR}/{path.name}", data, community=True, pr_url=pr_url)
                )


# --------------------------------------------------------------------------- the Hub, with a cache
class HubResultsLoader:
    """Results read from the Hub through huggingface_hub, cached per model and commit."""

    def __init__(
        self,
        endpoint: str | None = None,
        token: str | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._token = token or os.environ.get("HF_TOKEN") or None
        base = cache_dir or os.environ.get("LEADERBOARD_HUB_CACHE") or _default_cache()
        self.cache_dir = Path(base).expanduser() / "eval-results"
        self._api_obj: Any = None

    def _api(self) -> Any:
        if self._api_obj is None:
            from huggingface_hub import HfApi

            self._api_obj = HfApi(endpoint=self.endpoint, token=self._token)
        return self._api_obj

    def load(self, models: Iterable[str]) -> HubResultsSet:
        """Results of every model; a model that cannot be read adds a note (cached data if any)."""
        out = HubResultsSet(as_of=time.time())
        for model in models:
            try:
                results, problems = self.load_model(model)
            except Exception as exc:  # noqa: BLE001 - any Hub failure falls back to the cache
                cached = self._newest_cache(model)
                reason = self._scrub(f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}")
                if cached is None:
                    out.notes.append(f"{model}: not read from the Hub ({reason})")
                    continue
                results, problems = _decode(cached)
                stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(cached.stat().st_mtime))
                out.notes.append(f"{model}: Hub not reachable ({reason}); cached results as of {stamp}")
                out.offline = True
            out.extend(results, problems)
        return out

    def load_model(self, model: str) -> tuple[list[HubResult], list[IngestProblem]]:
        """One model's main-branch results and its open pull requests' community results."""
        folder = self.cache_dir / safe_relpath(*model.split("/"))
        info = self._api().model_info(model)
        results, problems = self._cached(
            folder / f"main-{info.sha}.json", lambda: self._read_main(model, info.sha)
        )
        main_oids = self._eval_tree(model, info.sha)
        for pr in self._api().get_repo_discussions(
            model, discussion_type="pull_request", discussion_status="open"
        ):
            revision = f"refs/pr/{pr.num}"
            pr_sha = self._api().model_info(model, revision=revision).sha
            pr_url = f"{self._api().endpoint}/{model}/discussions/{pr.num}"
            more, issues = self._cached(
                folder / f"pr{pr.num}-{pr_sha}.json",
                lambda rev=pr_sha, url=pr_url: self._read_pr(model, rev, main_oids, url),
            )
            results, problems = results + more, problems + issues
        return results, problems

    def _read_main(self, model: str, sha: str) -> tuple[list[HubResult], list[IngestProblem]]:
        results: list[HubResult] = []
        problems: list[IngestProblem] = []
        for path in sorted(self._eval_tree(model, sha)):
            more, issues = parse_eval_results(model, path, self._download(model, path, sha))
            results, problems = results + more, problems + issues
        try:
            card = self._download(model, "README.md", sha)
        except Exception as exc:  # noqa: BLE001 - a model without a card is fine
            if type(exc).__name__ not in ("EntryNotFoundError", "RemoteEntryNotFoundError"):
                raise
        else:
            more, issues = parse_model_card(model, card)
            results, problems = results + more, problems + issues
        return results, problems

    def _read_pr(
        self, model: str, sha: str, main_oids: dict[str, str], pr_url: str
    ) -> tuple[list[HubResult], list[IngestProblem]]:
        results: list[HubResult] = []
        problems: list[IngestProblem] = []
        for path, oid in sorted(self._eval_tree(model, sha).items()):
            if main_oids.get(path) == oid:
                continue  # the same file is on main: not a community result
            data = self._download(model, path, sha)
            more, issues = parse_eval_results(model, path, data, community=True, pr_url=pr_url)
            results, problems = results + more, problems + issues
        return results, problems

    def _eval_tree(self, model: str, revision: str) -> dict[str, str]:
        """``.eval_results/*.yaml`` paths at ``revision`` with their blob ids ({} when there is none)."""
        from huggingface_hub import RepoFile

        try:
            entries = self._api().list_repo_tree(model, path_in_repo=EVAL_DIR, revision=revision)
            return {
                e.path: str(e.blob_id)
                for e in entries
                if isinstance(e, RepoFile) and e.path.endswith((".yaml", ".yml"))
            }
        except Exception as exc:  # noqa: BLE001
            if type(exc).__name__ in ("EntryNotFoundError", "RemoteEntryNotFoundError"):
                return {}
            raise

    def _download(self, model: str, path: str, revision: str) -> bytes:
        from huggingface_hub import hf_hub_download

        local = hf_hub_download(
            model,
            path,
            revision=revision,
            cache_dir=self.cache_dir / "hf",
            endpoint=self.endpoint,
            token=self._token,
        )
        return _read_bounded(Path(local), MAX_CARD_BYTES if path.endswith(".md") else MAX_YAML_BYTES)

    def _cached(self, file: Path, read: Any) -> tuple[list[HubResult], list[IngestProblem]]:
        if file.is_file():
            try:
                return _decode(file)
            except (OSError, ValueError, TypeError, KeyError):
                log.warning("ignoring a broken cache file %s", file)
        results, problems = read()
        file.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "version": _CACHE_VERSION,
            "results": [r.as_dict() for r in results],
            "problems": [[p.path, p.reason, p.level] for p in problems],
        }
        tmp = file.with_name(f".{file.name}.tmp")
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        os.replace(tmp, file)
        return results, problems

    def _newest_cache(self, model: str) -> Path | None:
        try:
            folder = self.cache_dir / safe_relpath(*model.split("/"))
        except UnsafePathError:
            return None
        files = sorted(folder.glob("main-*.json"), key=lambda p: p.stat().st_mtime)
        return files[-1] if files else None

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


def _decode(file: Path) -> tuple[list[HubResult], list[IngestProblem]]:
    payload = json.loads(file.read_text(encoding="utf-8"))
    results = [result_from_dict(r) for r in payload["results"]]
    problems = [IngestProblem(*p) for p in payload["problems"]]
    return results, problems


def _read_bounded(path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of a file: enough for the parser to see that it is over its limit."""
    with path.open("rb") as handle:
        return handle.read(limit + 1)


def _benchmark_meta(text: bytes) -> dict[str, Any]:
    try:
        data = load_yaml(text)
    except YamlRefused:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: data[k] for k in ("name", "description", "evaluation_framework", "tasks") if k in data}


def _default_cache() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "leaderboard-stores"
