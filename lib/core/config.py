"""The leaderboard definition file: one YAML that says what a leaderboard ranks and where its data lives.

It replaces the template's two Python config modules (env and about). ``load_definition`` takes a path
or the name of a bundled definition (``lib/definitions/<name>.yaml``) and returns a frozen
``Definition``; every problem in the file raises ``DefinitionError`` with the field that is wrong.
This module reads files only; it never touches the network or Streamlit.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from lib.core.records import default_higher_is_better

BUNDLED_DIR = Path(__file__).resolve().parents[1] / "definitions"
DEFAULT_DEFINITION = "demo"
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
EVALUATION_MODES = ("automatic", "manual", "semi-automatic")


class DefinitionError(ValueError):
    """The definition file is missing, unreadable or has a wrong field."""


@dataclass(frozen=True)
class Component:
    """One (task, metric) pair a benchmark averages, with its random baseline (a fraction of 1)."""

    task: str
    metric: str
    filter: str | None
    baseline: float
    num_fewshot: int | None
    higher_is_better: bool


@dataclass(frozen=True)
class Benchmark:
    """A leaderboard column. Its score is the mean of its components' normalized scores."""

    id: str
    name: str
    task: str
    metric: str
    components: tuple[Component, ...]
    higher_is_better: bool = True
    num_fewshot: int | None = None
    description: str = ""
    hub_benchmark: str = ""
    hub_task: str = ""
    ad_hoc: bool = False  # a task:metric the user asked for, not one of the definition's

    @property
    def key(self) -> str:
        """How outputs name this benchmark: its id, or ``task:metric`` for an ad-hoc one."""
        return self.name if self.ad_hoc else self.id


@dataclass(frozen=True)
class Category:
    """A model type (pretrained, chat, ...) with its symbol, as the Open LLM Leaderboard shows it."""

    id: str
    symbol: str
    name: str
    description: str = ""

    @property
    def label(self) -> str:
        return f"{self.symbol} {self.id}"


@dataclass(frozen=True)
class Definition:
    """Everything the definition file says, validated."""

    name: str
    path: Path
    title: str
    short_title: str
    introduction: str
    how_benchmarks_run: str
    citation: str
    requests_store: str
    results_store: str
    benchmarks: tuple[Benchmark, ...]
    categories: tuple[Category, ...]
    precisions: tuple[str, ...]
    weight_types: tuple[str, ...]
    official_providers: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    evaluation: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    submissions: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    revision_patterns: tuple[str, ...] = ()
    hub_models: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def benchmark(self, benchmark_id: str) -> Benchmark:
        """The benchmark with this id; KeyError names the known ids."""
        for bench in self.benchmarks:
            if bench.id == benchmark_id:
                return bench
        known = ", ".join(b.id for b in self.benchmarks)
        raise KeyError(f"unknown benchmark {benchmark_id!r} (known: {known})")

    def category(self, value: str) -> Category | None:
        """The category a request's model_type names ('🟢 : pretrained', 'pretrained', '🟢').

        A symbol decides first; otherwise the longest category id the text ends with, so
        'continuously pretrained' is not mistaken for 'pretrained'.
        """
        text = (value or "").strip().lower()
        if not text:
            return None
        for cat in self.categories:
            if cat.symbol and text.startswith(cat.symbol):
                return cat
        for cat in sorted(self.categories, key=lambda c: len(c.id), reverse=True):
            if text in (cat.id.lower(), cat.name.lower(), cat.label.lower()) or text.endswith(cat.id.lower()):
                return cat
        return None

    @property
    def evaluation_mode(self) -> str:
        return str(self.evaluation.get("mode", "automatic"))

    @property
    def allow_local_models(self) -> bool:
        return bool(self.evaluation.get("allow_local_models", False))


def bundled_definitions() -> list[str]:
    """Names of the definitions shipped with the app (``demo``, ``offline``, ...)."""
    return sorted(p.stem for p in BUNDLED_DIR.glob("*.yaml"))


def resolve_definition_path(name_or_path: str | os.PathLike[str] | None) -> Path:
    """A bundled name or a path to the YAML file; DefinitionError when neither exists."""
    text = str(name_or_path or os.environ.get("LEADERBOARD_CONFIG") or DEFAULT_DEFINITION)
    if re.fullmatch(r"[A-Za-z0-9_-]+", text) and (BUNDLED_DIR / f"{text}.yaml").is_file():
        return BUNDLED_DIR / f"{text}.yaml"
    path = Path(text).expanduser()
    if path.is_file():
        return path.resolve()
    names = ", ".join(bundled_definitions())
    raise DefinitionError(
        f"no definition file {text!r}: give a path to a YAML file or one of the bundled names ({names})"
    )


def load_definition(name_or_path: str | os.PathLike[str] | None = None) -> Definition:
    """Read and validate a definition file (see docs/definition.md for every field)."""
    path = resolve_definition_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(f"{path}: cannot read the definition file: {exc}") from exc
    if not isinstance(data, dict):
        raise DefinitionError(f"{path}: the definition must be a YAML mapping of fields")
    return parse_definition(data, path)


def parse_definition(data: dict[str, Any], path: Path) -> Definition:
    """Validate the mapping read from ``path``."""
    where = str(path)
    benchmarks = data.get("benchmarks")
    if not isinstance(benchmarks, list) or not benchmarks:
        raise DefinitionError(f"{where}: 'benchmarks' must be a non-empty list")
    parsed = tuple(_benchmark(b, f"{where}: benchmarks[{i}]") for i, b in enumerate(benchmarks))
    ids = [b.id for b in parsed]
    if len(set(ids)) != len(ids):
        raise DefinitionError(f"{where}: benchmark ids must be unique, got {ids}")
    stores = _mapping(data.get("stores", {}), f"{where}: stores")
    categories = tuple(
        Category(
            id=str(_required(c, "id", f"{where}: categories[{i}]")),
            symbol=str(c.get("symbol", "")),
            name=str(c.get("name", c.get("id"))),
            description=str(c.get("description", "")),
        )
        for i, c in enumerate(_list_of_mappings(data.get("categories", []), f"{where}: categories"))
    )
    checkpoints = _mapping(data.get("checkpoints", {}) or {}, f"{where}: checkpoints")
    patterns = tuple(str(p) for p in checkpoints.get("revision_patterns", []) or [])
    for pattern in patterns:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise DefinitionError(f"{where}: checkpoints.revision_patterns: {pattern!r}: {exc}") from exc
        if "step" not in compiled.groupindex:
            raise DefinitionError(f"{where}: revision pattern {pattern!r} needs a named group 'step'")
    evaluation = _mapping(data.get("evaluation", {}) or {}, f"{where}: evaluation")
    mode = str(evaluation.get("mode", "automatic"))
    if mode not in EVALUATION_MODES:
        raise DefinitionError(f"{where}: evaluation.mode must be one of {EVALUATION_MODES}, got {mode!r}")
    hub = _mapping(data.get("hub", {}) or {}, f"{where}: hub")
    return Definition(
        name=path.stem,
        path=path,
        title=str(data.get("title", "Leaderboard")),
        short_title=str(data.get("short_title", data.get("title", "Leaderboard"))),
        introduction=str(data.get("introduction", "")),
        how_benchmarks_run=str(data.get("how_benchmarks_run", "")),
        citation=str(data.get("citation", "")),
        requests_store=_store_location(stores.get("requests", "requests"), path),
        results_store=_store_location(stores.get("results", "results"), path),
        benchmarks=parsed,
        categories=categories,
        precisions=tuple(str(p) for p in data.get("precisions", ["float16", "bfloat16", "float32"])),
        weight_types=tuple(str(w) for w in data.get("weight_types", ["Original", "Delta", "Adapter"])),
        official_providers=tuple(str(o) for o in data.get("official_providers", []) or []),
        admins=tuple(str(a) for a in data.get("admins", []) or []),
        evaluation=dict(evaluation),
        submissions=dict(_mapping(data.get("submissions", {}) or {}, f"{where}: submissions")),
        revision_patterns=patterns,
        hub_models=tuple(str(m) for m in hub.get("models", []) or []),
        raw=data,
    )


def parse_baseline(value: Any, where: str) -> float:
    """A baseline given as a number (0.25) or a fraction ('1/4'), between 0 and 1 excluded 1."""
    try:
        number = float(Fraction(str(value).strip())) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise DefinitionError(f"{where}: baseline {value!r} is not a number or fraction") from exc
    if not 0 <= number < 1:
        raise DefinitionError(f"{where}: baseline {value!r} must be in [0, 1)")
    return number


def split_metric(metric: str) -> tuple[str, str | None]:
    """'acc_norm,none' -> ('acc_norm', 'none'); 'acc' -> ('acc', None) meaning any filter."""
    name, _, filt = str(metric).partition(",")
    return name.strip(), (filt.strip() or None)


def _benchmark(data: Any, where: str) -> Benchmark:
    data = _mapping(data, where)
    bench_id = str(_required(data, "id", where))
    if not _ID_RE.match(bench_id):
        raise DefinitionError(f"{where}: id {bench_id!r} must be lowercase letters, digits and '_'")
    task = str(data.get("task", "")).strip()
    metric_text = str(data.get("metric", "")).strip()
    shots = _optional_int(data.get("num_fewshot"), f"{where}: num_fewshot")
    subtasks = data.get("subtasks")
    components: list[Component] = []
    if subtasks:
        for i, sub in enumerate(_list_of_mappings(subtasks, f"{where}: subtasks")):
            sub_where = f"{where}: subtasks[{i}]"
            sub_metric = str(sub.get("metric") or metric_text)
            if not sub_metric:
                raise DefinitionError(f"{sub_where}: needs a metric (or one on the benchmark)")
            name, filt = split_metric(sub_metric)
            components.append(
                Component(
                    task=str(_required(sub, "task", sub_where)),
                    metric=name,
                    filter=filt,
                    baseline=parse_baseline(sub.get("baseline", data.get("baseline", 0)), sub_where),
                    num_fewshot=_optional_int(sub.get("num_fewshot", shots), f"{sub_where}: num_fewshot"),
                    higher_is_better=bool(sub.get("higher_is_better", data.get("higher_is_better", True))),
                )
            )
    else:
        if not task or not metric_text:
            raise DefinitionError(f"{where}: a benchmark without subtasks needs 'task' and 'metric'")
        name, filt = split_metric(metric_text)
        hib = data.get("higher_is_better")
        components.append(
            Component(
                task=task,
                metric=name,
                filter=filt,
                baseline=parse_baseline(data.get("baseline", 0), where),
                num_fewshot=shots,
                higher_is_better=bool(hib) if hib is not None else default_higher_is_better(name),
            )
        )
    directions = {c.higher_is_better for c in components}
    if len(directions) != 1:
        raise DefinitionError(f"{where}: all subtasks of a benchmark must share one direction")
    return Benchmark(
        id=bench_id,
        name=str(data.get("name", bench_id)),
        task=task or components[0].task,
        metric=metric_text or components[0].metric,
        components=tuple(components),
        higher_is_better=directions.pop(),
        num_fewshot=shots,
        description=str(data.get("description", "")),
        hub_benchmark=str(data.get("hub_benchmark", "")),
        hub_task=str(data.get("hub_task", "")),
    )


def _store_location(value: Any, definition_path: Path) -> str:
    text = str(value).strip()
    if text.startswith("hub:") or not text:
        return text
    candidate = Path(text).expanduser()
    if not candidate.is_absolute():
        candidate = (definition_path.parent / candidate).resolve()
    return str(candidate)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DefinitionError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _list_of_mappings(value: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise DefinitionError(f"{where}: expected a list, got {type(value).__name__}")
    return [_mapping(item, f"{where}[{i}]") for i, item in enumerate(value)]


def _required(data: dict[str, Any], key: str, where: str) -> Any:
    if data.get(key) in (None, ""):
        raise DefinitionError(f"{where}: missing required field '{key}'")
    return data[key]


def _optional_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DefinitionError(f"{where}: expected a non-negative integer, got {value!r}")
    return value
