"""The leaderboard definition file: one YAML that says what a leaderboard ranks and where its data lives.

It replaces the template's two Python config modules (env and about). ``load_definition`` takes a path
or the name of a bundled definition (``lib/definitions/<name>.yaml``) and returns a frozen
``Definition``. The file's shape is declared once, in ``lib.core.schema`` (closed: an unknown or mistyped
field fails at load); every problem raises ``DefinitionError`` naming each wrong field by its path.
This module reads files only; it never touches the network or Streamlit.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lib.core.bounded import YamlRefused, brief, load_yaml
from lib.core.records import default_higher_is_better
from lib.core.schema import (
    EVALUATION_MODES,
    BenchmarkSpec,
    DefinitionFile,
    Evaluation,
    Submissions,
    TableSource,
)

BUNDLED_DIR = Path(__file__).resolve().parents[1] / "definitions"
DEFAULT_DEFINITION = "demo"
__all__ = [
    "EVALUATION_MODES",
    "Benchmark",
    "Category",
    "Component",
    "Definition",
    "DefinitionError",
    "bundled_definitions",
    "format_errors",
    "load_definition",
    "parse_baseline",
    "parse_definition",
    "resolve_definition_path",
    "split_metric",
]


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
    evaluation: Evaluation = field(default_factory=Evaluation, compare=False, hash=False)
    submissions: Submissions = field(default_factory=Submissions, compare=False, hash=False)
    revision_patterns: tuple[str, ...] = ()
    hub_models: tuple[str, ...] = ()
    hub_mirror: str | None = None
    table_sources: tuple[TableSource, ...] = ()  # stores.tables, locations resolved (docs/formats.md)
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
        return self.evaluation.mode

    @property
    def allow_local_models(self) -> bool:
        return self.evaluation.allow_local_models

    def updated(self, **sections: dict[str, Any]) -> Definition:
        """A copy with some fields of the ``evaluation`` or ``submissions`` sections changed, validated as
        the file would be (``definition.updated(evaluation={"mode": "manual"})``)."""
        changed: dict[str, Any] = {}
        for name, fields in sections.items():
            current = getattr(self, name)
            if name not in ("evaluation", "submissions"):
                raise TypeError(f"only evaluation and submissions can be updated, not {name!r}")
            try:
                changed[name] = type(current).model_validate({**current.model_dump(), **fields})
            except ValidationError as exc:
                raise DefinitionError(format_errors(exc, f"{self.path}: {name}")) from None
        return replace(self, **changed)

    def relative_path(self, value: str) -> Path:
        """A folder the file names, resolved against the file's own folder (``~`` expanded)."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.path.parent / path).resolve()


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
        # The bounded loader, as for every YAML a stranger may write: a definition can come from a path
        # given on the command line, and safe_load raises ValueError on a 5,000-digit integer.
        data = load_yaml(path.read_bytes())
    except (OSError, YamlRefused) as exc:
        raise DefinitionError(f"{path}: cannot read the definition file: {exc}") from exc
    if not isinstance(data, dict):
        raise DefinitionError(f"{path}: the definition must be a YAML mapping of fields")
    return parse_definition(data, path)


def parse_definition(data: dict[str, Any], path: Path) -> Definition:
    """Validate the mapping read from ``path`` against the schema (``lib.core.schema``)."""
    try:
        spec = DefinitionFile.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(format_errors(exc, str(path))) from None
    return _from_spec(spec, data, path)


def format_errors(exc: ValidationError, where: str, limit: int = 8) -> str:
    """One line per problem: the field's path (``evaluation.allow_local_model``), what is wrong, and what
    was given (shortened: a value is never shown unbounded)."""
    lines = []
    for error in exc.errors(include_url=False)[:limit]:
        field_path = _dotted(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        message = message[:1].lower() + message[1:]
        given = ""
        if error["type"] not in ("unknown_field", "missing", "value_error", "fraction") and not isinstance(
            error.get("input"), (dict, list)
        ):
            given = f" (got {brief(error.get('input'))})"
        lines.append(f"{field_path or '(top level)'}: {message}{given}")
    more = exc.error_count() - limit
    if more > 0:
        lines.append(f"... and {more} more")
    joined = "\n  ".join(lines)
    return f"{where}: the definition file has {exc.error_count()} problem(s):\n  {joined}"


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "constrained-", "lax-", "strict-")) or part in (
            "int",
            "str",
            "float",
            "list[str]",
        ):
            continue  # pydantic's name for one branch of a union, not a field
        else:
            out += f".{part}" if out else str(part)
    return out


def _from_spec(spec: DefinitionFile, data: dict[str, Any], path: Path) -> Definition:
    return Definition(
        name=path.stem,
        path=path,
        title=spec.title,
        short_title=spec.short_title if spec.short_title is not None else spec.title,
        introduction=spec.introduction,
        how_benchmarks_run=spec.how_benchmarks_run,
        citation=spec.citation,
        requests_store=_store_location(spec.stores.requests, path),
        results_store=_store_location(spec.stores.results, path),
        benchmarks=tuple(_benchmark(b) for b in spec.benchmarks),
        categories=tuple(
            Category(
                id=c.id,
                symbol=c.symbol,
                name=c.name if c.name is not None else c.id,
                description=c.description,
            )
            for c in spec.categories
        ),
        precisions=tuple(spec.precisions),
        weight_types=tuple(spec.weight_types),
        official_providers=tuple(spec.official_providers),
        admins=tuple(spec.admins),
        evaluation=spec.evaluation,
        submissions=spec.submissions,
        revision_patterns=tuple(spec.checkpoints.revision_patterns),
        hub_models=tuple(spec.hub.models),
        hub_mirror=spec.hub.mirror,
        table_sources=tuple(
            t.model_copy(update={"location": _store_location(t.location, path)}) for t in spec.stores.tables
        ),
        raw=data,
    )


def parse_baseline(value: Any, where: str) -> float:
    """A baseline given as a number (0.25) or a fraction ('1/4'), between 0 and 1 excluded 1."""
    try:
        number = float(Fraction(str(value).strip())) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise DefinitionError(f"{where}: baseline {brief(value)} is not a number or fraction") from exc
    if not 0 <= number < 1:
        raise DefinitionError(f"{where}: baseline {brief(value)} must be in [0, 1)")
    return number


def split_metric(metric: str) -> tuple[str, str | None]:
    """'acc_norm,none' -> ('acc_norm', 'none'); 'acc' -> ('acc', None) meaning any filter."""
    name, _, filt = str(metric).partition(",")
    return name.strip(), (filt.strip() or None)


def _benchmark(spec: BenchmarkSpec) -> Benchmark:
    task = spec.task.strip()
    metric_text = spec.metric.strip()
    components: list[Component] = []
    if spec.subtasks:
        for sub in spec.subtasks:
            name, filt = split_metric(sub.metric or metric_text)
            hib = sub.higher_is_better if sub.higher_is_better is not None else spec.higher_is_better
            components.append(
                Component(
                    task=sub.task,
                    metric=name,
                    filter=filt,
                    baseline=sub.baseline if sub.baseline is not None else spec.baseline,
                    num_fewshot=sub.num_fewshot if sub.num_fewshot is not None else spec.num_fewshot,
                    higher_is_better=hib if hib is not None else True,
                )
            )
    else:
        name, filt = split_metric(metric_text)
        hib = spec.higher_is_better
        components.append(
            Component(
                task=task,
                metric=name,
                filter=filt,
                baseline=spec.baseline,
                num_fewshot=spec.num_fewshot,
                higher_is_better=hib if hib is not None else default_higher_is_better(name),
            )
        )
    return Benchmark(
        id=spec.id,
        name=spec.name if spec.name is not None else spec.id,
        task=task or components[0].task,
        metric=metric_text or components[0].metric,
        components=tuple(components),
        higher_is_better=components[0].higher_is_better,
        num_fewshot=spec.num_fewshot,
        description=spec.description,
        hub_benchmark=spec.hub_benchmark,
        hub_task=spec.hub_task,
    )


def _store_location(value: Any, definition_path: Path) -> str:
    text = str(value).strip()
    if text.startswith("hub:") or not text:
        return text
    candidate = Path(text).expanduser()
    if not candidate.is_absolute():
        candidate = (definition_path.parent / candidate).resolve()
    return str(candidate)
