"""The definition file's schema: every field a leaderboard definition may have, typed and closed.

This is the one declaration of the file's shape. ``lib.core.config`` validates a YAML mapping against
``DefinitionFile`` and builds the runtime ``Definition`` from it; ``python -m lib schema`` writes the JSON
Schema (``docs/definition.schema.json``, for editors) and the field tables of ``docs/definition.md`` from
the same models, so the documentation cannot drift from what is accepted.

Every model forbids unknown fields: a typo (``allow_local_model``) fails at load with its path and the
nearest valid name, and a wrong type fails at load, not later in the evaluator. Each field's
``description`` is its documentation. This module does no I/O and imports nothing else from ``lib``.
"""

from __future__ import annotations

import difflib
import re
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

ID_PATTERN = r"^[a-z0-9][a-z0-9_]{0,63}$"
RESERVED_BENCHMARK_IDS = ("average", "rank")  # the table's own orders in links and the CLI (`--by average`)
EVALUATION_MODES = ("automatic", "manual", "semi-automatic")
DEFAULT_TIMEOUT_S = 6 * 3600.0
DEFAULT_MIN_CARD_CHARS = 200
_FRACTION_PATTERN = r"^\s*\d+(\.\d+)?\s*(/\s*\d+(\.\d+)?\s*)?$"


class Section(BaseModel):
    """Base of every part of the file: closed (unknown keys are refused with a suggestion), immutable.

    An empty YAML value (``evaluation:`` with nothing under it) counts as "not given", so the field's
    default applies.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    @model_validator(mode="before")
    @classmethod
    def _known_keys_only(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        unknown = [k for k in data if k not in cls.model_fields]
        if unknown:
            names = list(cls.model_fields)
            parts = []
            for key in unknown[:5]:
                shown = str(key)[:60]
                close = difflib.get_close_matches(str(key), names, n=1, cutoff=0.6)
                parts.append(f"'{shown}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
            raise PydanticCustomError(
                "unknown_field",
                "unknown field {fields}; valid fields here: {valid}",
                {"fields": ", ".join(parts), "valid": ", ".join(names)},
            )
        return {k: v for k, v in data.items() if v is not None}


def parse_fraction(value: Any) -> Any:
    """A baseline given as a number (0.25) or a fraction ('1/4') becomes a float; anything else is left
    for the type check to refuse."""
    if isinstance(value, str):
        if not re.fullmatch(_FRACTION_PATTERN, value):
            raise PydanticCustomError(
                "fraction", "{value} is not a number or fraction", {"value": repr(value[:40])}
            )
        try:
            return float(Fraction(value.replace(" ", "")))
        except ZeroDivisionError:
            raise PydanticCustomError("fraction", "{value} divides by zero", {"value": repr(value)}) from None
    return value


Baseline = Annotated[
    float,
    BeforeValidator(parse_fraction),
    Field(ge=0, lt=1, allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                {"type": "string", "pattern": _FRACTION_PATTERN},
            ]
        }
    ),
]
Shots = Annotated[int, Field(ge=0, strict=True)]
Names = list[Annotated[str, Field(min_length=1)]]


class Subtask(Section):
    """One subtask a benchmark averages; missing fields default to the benchmark's."""

    task: str = Field(min_length=1, description="the lm-eval task")
    metric: str | None = Field(None, description="`name` or `name,filter` (default: the benchmark's metric)")
    baseline: Baseline | None = Field(None, description="the random-guess score (default: the benchmark's)")
    num_fewshot: Shots | None = Field(None, description="the n-shot (default: the benchmark's)")
    higher_is_better: bool | None = Field(None, description="the direction (default: the benchmark's)")


class BenchmarkSpec(Section):
    """A leaderboard column."""

    id: str = Field(
        pattern=ID_PATTERN,
        description="the benchmark's id in URLs, the CLI (`--benchmarks gpqa,musr`) and JSON output: "
        "lowercase letters, digits and `_`, unique",
    )
    name: str | None = Field(None, description="the column title (default: the id)")
    description: str = Field("", description="the column's help text")
    task: str = Field(
        "",
        description="the lm-eval task or group whose metric is the score (for a benchmark without subtasks)",
    )
    metric: str = Field(
        "",
        description="the metric, `name` or `name,filter` (`acc_norm`, `exact_match,strict-match`); "
        "without a filter, `none` is preferred",
    )
    baseline: Baseline = Field(0.0, description="the random-guess score in `[0, 1)`: `0.25` or `1/4`")
    num_fewshot: Shots | None = Field(
        None,
        description="the n-shot the leaderboard uses; scores at another n-shot are not used for this benchmark",
    )
    higher_is_better: bool | None = Field(
        None,
        description="the direction; default from the metric name (perplexities, bits per byte, losses are "
        "lower-is-better)",
    )
    subtasks: list[Subtask] | None = Field(
        None,
        description="when the benchmark averages subtasks; the score is the mean of the normalized subtasks "
        "and exists only when every subtask is present",
    )
    hub_benchmark: str = Field(
        "", description="the Hub benchmark dataset this benchmark corresponds to (for `.eval_results`)"
    )
    hub_task: str = Field("", description="the task id inside that Hub benchmark")

    @model_validator(mode="after")
    def _has_a_score(self) -> BenchmarkSpec:
        if not self.subtasks:
            if not self.task.strip() or not self.metric.strip():
                raise ValueError("a benchmark without subtasks needs 'task' and 'metric'")
            return self
        for i, sub in enumerate(self.subtasks):
            if not (sub.metric or self.metric):
                raise ValueError(f"subtasks[{i}] needs a metric (or one on the benchmark)")
        default = self.higher_is_better if self.higher_is_better is not None else True
        directions = {
            sub.higher_is_better if sub.higher_is_better is not None else default for sub in self.subtasks
        }
        if len(directions) > 1:
            raise ValueError("all subtasks of a benchmark must share one direction")
        return self


class CategorySpec(Section):
    """A model type, as the Open LLM Leaderboard shows it."""

    id: str = Field(
        min_length=1, description="the type's id (`pretrained`); a request's `model_type` ends with it"
    )
    symbol: str = Field("", description="its symbol (`🟢`), matched first")
    name: str | None = Field(None, description="its display name (default: the id)")
    description: str = Field("", description="what belongs in it")


# ----------------------------------------------------------------------------- table sources (issue 11)
TABLE_LAYOUTS = ("auto", "open_llm_leaderboard", "long", "wide")
TABLE_FORMATS = ("auto", "csv", "parquet", "jsonl")


class TableSource(Section):
    """A table of scores read with DuckDB's own readers (see docs/formats.md, "Table sources")."""

    location: str = Field(
        description="the table: a file (relative to this file) or `hub:org/name/path/in/repo.parquet` "
        "(a file of a dataset repo on the Hub)"
    )
    layout: Literal[TABLE_LAYOUTS] = Field(  # type: ignore[valid-type]
        "auto",
        description="`open_llm_leaderboard` (the Open LLM Leaderboard's `contents`: one row per model), "
        "`long` (one row per score), `wide` (one row per model, a column per benchmark, named in "
        "`benchmarks`), or `auto`: told apart by the columns",
    )
    format: Literal[TABLE_FORMATS] = Field(  # type: ignore[valid-type]
        "auto", description="`csv`, `parquet`, `jsonl` (JSON lines), or `auto`: from the file's extension"
    )
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="our field -> the table's column, for columns named otherwise than the layout "
        "expects (`model: run_name`, `value: score`); fields in docs/formats.md",
    )
    benchmarks: dict[str, str] = Field(
        default_factory=dict,
        description="`wide`: benchmark id -> the column of its raw score (a fraction, 0 to 1)",
    )
    normalized: dict[str, str] = Field(
        default_factory=dict,
        description="`wide`: benchmark id -> the column of its normalized score (0 to 100), when the "
        "table has one; otherwise it is computed from the raw score and the baseline",
    )


class Stores(Section):
    """Where the files are."""

    tables: list[TableSource] = Field(
        default_factory=list,
        description="tables of scores read besides the results store (CSV, Parquet, JSON lines; local "
        "or on the Hub); each entry has the fields below",
    )

    requests: str = Field(
        "requests",
        description="the requests store: a folder (relative to this file) or `hub:org/name` (a dataset repo)",
    )
    results: str = Field(
        "results",
        description="the results store, same forms; any folder of lm-eval results works, read recursively",
    )


class RateLimit(Section):
    """Submissions per organisation per window."""

    count: int = Field(5, ge=0, description="submissions allowed in the window (0: no limit)")
    days: float = Field(
        7.0, ge=0, allow_inf_nan=False, description="the window's length in days (0: no limit)"
    )


class Submissions(Section):
    """The submission rules."""

    rate_limit: RateLimit = Field(
        default_factory=RateLimit,
        description="submissions per organisation per window (default 5 per 7 days); official providers exempt",
    )
    opt_out: Names = Field(default_factory=list, description="models or orgs that asked not to be evaluated")
    anonymous_sender: str = Field(
        "",
        description="when no login is configured, submissions are accepted under this name; empty closes the form",
    )
    max_params_b: dict[str, Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        default_factory=dict, description="size caps in billions per precision, from the safetensors metadata"
    )
    known_architectures: Names = Field(
        default_factory=list, description="extra architectures accepted besides those transformers knows"
    )
    min_card_chars: int = Field(
        DEFAULT_MIN_CARD_CHARS,
        ge=0,
        description='the least model card text that counts as "of substance" (0: no check)',
    )
    require_license: bool = Field(True, description="refuse models without a license in the card data")


OneLine = Annotated[str, Field(strict=True, min_length=1, max_length=500, pattern=r"^[^\n\r\x00]+$")]
SlurmTime = Annotated[
    str,
    Field(
        strict=True,
        pattern=r"^(\d+-)?\d+(:\d+){0,2}$",
        description='quoted: minutes (`"90"`), `"HH:MM:SS"` or `"D-HH:MM:SS"`',
    ),
]  # strict: YAML reads an unquoted 4:00:00 as the number 14400, which would be refused, not taken as minutes
SlurmMem = Annotated[str, Field(strict=True, pattern=r"^\d+[KMGTkmgt]?$", description="e.g. `64G`, `16000M`")]
Count = Annotated[int, Field(ge=1, le=100_000, strict=True)]


class SlurmResources(Section):
    """Resources for requests of some precisions up to a size; the first matching rule wins."""

    precisions: Names = Field(
        default_factory=list, description="the rule applies to these precisions (default all)"
    )
    max_params_b: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        None,
        description="... and to models of at most this many billion parameters (an unknown size never matches)",
    )
    gres: OneLine | None = Field(None, description="`sbatch --gres` for these requests, e.g. `gpu:4`")
    cpus_per_task: Count | None = Field(None, description="`sbatch --cpus-per-task` for these requests")
    mem: SlurmMem | None = Field(None, description="`sbatch --mem` for these requests")
    time: SlurmTime | None = Field(None, description="`sbatch --time` for these requests")


class Slurm(Section):
    """The Slurm jobs' settings (``executor: slurm``; see evaluator.md, "Running on a Slurm cluster")."""

    partition: OneLine | None = Field(None, description="`sbatch --partition`")
    account: OneLine | None = Field(None, description="`sbatch --account`")
    qos: OneLine | None = Field(None, description="`sbatch --qos`")
    gres: OneLine | None = Field(
        None,
        description="`sbatch --gres` of every job unless a `resources` rule says otherwise, e.g. `gpu:1`",
    )
    cpus_per_task: Count | None = Field(None, description="`sbatch --cpus-per-task`")
    mem: SlurmMem | None = Field(None, description="`sbatch --mem`, e.g. `64G`")
    time: SlurmTime | None = Field(
        None,
        description='`sbatch --time`, quoted: minutes (`"90"`), `"HH:MM:SS"` or `"D-HH:MM:SS"` (unquoted, '
        "YAML reads 4:00:00 as the number 14400, which is refused); default `timeout_s` plus 10 minutes",
    )
    resources: list[SlurmResources] = Field(
        default_factory=list,
        description="resources by precision and size: the first rule that matches the request sets any of "
        "`gres`, `cpus_per_task`, `mem`, `time` (a 70B bfloat16 model can ask for more GPUs than a 7B one)",
    )
    sbatch_args: list[Annotated[str, Field(strict=True, pattern=r"^-[^\n\r\x00]*$")]] = Field(
        default_factory=list, description="further `sbatch` options, e.g. `[--constraint=a100, --exclusive]`"
    )
    setup: list[Annotated[str, Field(strict=True, pattern=r"^[^\n\r\x00]*$")]] = Field(
        default_factory=list,
        description="shell lines the job runs before the evaluation: `module load ...`, `source venv/bin/activate`",
    )
    max_jobs: Count = Field(
        4, description="this queue's jobs live in Slurm at once (`--max-jobs` overrides it)"
    )
    job_name: Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9_.+-]{1,64}$")] = Field(
        "leaderboard-eval", description="the jobs' name in `squeue`"
    )
    log_dir: OneLine | None = Field(
        None,
        description="where jobs write their Slurm log (`<job_name>-<id>.out`) and the executor its batch "
        "scripts; must be visible from the nodes (default `slurm-logs` in the folder the executor starts in; "
        "relative to this file)",
    )
    python: OneLine | None = Field(
        None,
        description="the interpreter the job runs (default the executor's own, which the nodes must see)",
    )
    poll_s: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = Field(
        10.0,
        description="seconds between the executor's passes over the queue and Slurm (`--poll` overrides it)",
    )


class Evaluation(Section):
    """How requests are evaluated (details in evaluator.md)."""

    mode: Literal["automatic", "manual", "semi-automatic"] = Field(
        "automatic",
        description="automatic: valid requests are PENDING; manual: they wait for an admin's approval (APPROVAL); "
        "semi-automatic: official providers and `semi_auto_orgs` go straight to PENDING",
    )
    semi_auto_orgs: Names = Field(
        default_factory=list, description="organisations trusted in semi-automatic mode"
    )
    batch_size: Annotated[int, Field(ge=1, strict=True)] | Annotated[str, Field(pattern=r"^auto(:\d+)?$")] = (
        Field("auto", description="lm-eval's batch size: `auto`, `auto:N` or an integer")
    )
    max_batch_size: Annotated[int, Field(ge=1, strict=True)] | None = Field(
        None, description="the cap for `auto`"
    )
    allow_local_models: bool = Field(False, description="accept model folders on the evaluator's machine")
    local_model_roots: Names = Field(
        default_factory=list,
        description="local model folders must lie inside one of these (symlinks resolved; relative to this file)",
    )
    local_model_max_gb: float = Field(
        80.0,
        gt=0,
        allow_inf_nan=False,
        description="the most a local model folder may hold (GB, 10^9 bytes): its files are hashed at "
        "submission, so a larger folder is refused before any byte is read",
    )
    tasks_include_path: str | Names | None = Field(
        None,
        description="task YAML folder(s) for lm-eval (`@TASKS_DIR@` in them becomes the folder's absolute path)",
    )
    lm_eval_task_dirs: Names = Field(
        default_factory=list,
        description="lm-eval's own task folders to index (default: guessed from the task names)",
    )
    model: Literal["hf", "vllm"] = Field("hf", description="lm-eval's model backend")
    model_args: dict[str, Any] = Field(
        default_factory=dict,
        description="extra model arguments for lm-eval (e.g. `tensor_parallel_size` for vLLM)",
    )
    device: str | None = Field(None, description="torch device (default: CUDA when present)")
    launcher: Names = Field(
        default_factory=list,
        description="a command prefix such as `[accelerate, launch]` for lm-eval's data parallelism",
    )
    limit: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = Field(
        None, description="lm-eval's `--limit` (testing only: results are partial and hidden by default)"
    )
    log_samples: bool = Field(
        False, description="write `samples_<task>_<timestamp>.jsonl` beside the results"
    )
    timeout_s: float = Field(
        DEFAULT_TIMEOUT_S,
        gt=0,
        allow_inf_nan=False,
        description="seconds; a job running longer is killed and FAILED",
    )
    publish_eval_results: bool = Field(
        False,
        description="after a job finishes, offer its scores back to the model repo: for each benchmark with "
        "`hub_benchmark` and `hub_task`, an `.eval_results/<benchmark>.yaml` entry in a pull request; a failure "
        "is recorded as the request's `publish_error` and never fails the request (see hub.md)",
    )
    executor: Literal["local", "slurm"] = Field(
        "local",
        description="where `python -m evaluator` runs jobs: child processes on its own machine, or one Slurm "
        "job per request (`--executor` overrides it)",
    )
    slurm: Slurm = Field(default_factory=Slurm, description="the Slurm jobs' settings")
    publish_results_url: str = Field(
        "",
        description="where the results store is browsable, for the entries' `source.url` (default: the results "
        "dataset's page when the results store is `hub:org/name`; a local store without it publishes no source)",
    )


class Checkpoints(Section):
    """Checkpoint settings."""

    revision_patterns: list[str] = Field(
        default_factory=list,
        description="extra revision schemes (Python regexes), tried before the built-in ones; named groups "
        "`step` (required), `tokens`, `unit`",
    )

    @field_validator("revision_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for i, pattern in enumerate(patterns):
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"[{i}] {pattern[:80]!r} does not compile: {exc}") from None
            if "step" not in compiled.groupindex:
                raise ValueError(f"[{i}] {pattern[:80]!r} needs a named group 'step'")
        return patterns


class Hub(Section):
    """Hub settings."""

    models: Names = Field(
        default_factory=list,
        description="models whose self-published evaluation results (`.eval_results`, `model-index`) are read "
        "besides those of the requests store",
    )
    mirror: str | None = Field(
        None,
        description="read self-reported results from this folder laid out like model repos (a local Hub mirror, "
        "relative to this file) instead of the Hub (see hub.md)",
    )


class DefinitionFile(Section):
    """A leaderboard definition: what it ranks and where its data lives."""

    model_config = ConfigDict(title="Leaderboard definition")

    title: str = Field("Leaderboard", description="the leaderboard's title (page headings)")
    short_title: str | None = Field(
        None, description="the browser tab's title and the About heading (default: `title`)"
    )
    introduction: str = Field(
        "", description="shown under the leaderboard's title and on the About page (Markdown on About only)"
    )
    how_benchmarks_run: str = Field("", description='the About page\'s "How benchmarks are run" section')
    citation: str = Field("", description="BibTeX shown on the About page")
    stores: Stores = Field(default_factory=Stores, description="where the files are")
    benchmarks: list[BenchmarkSpec] = Field(min_length=1, description="the leaderboard's columns, non-empty")
    categories: list[CategorySpec] = Field(
        default_factory=list,
        description='model types; a request\'s `model_type` (`"🟢 : pretrained"`) is matched by symbol, then by id',
    )
    precisions: Names = Field(
        default_factory=lambda: ["float16", "bfloat16", "float32"],
        description="the precisions offered in the sidebar form and the filters",
    )
    weight_types: Names = Field(
        default_factory=lambda: ["Original", "Delta", "Adapter"], description="`Original`, `Delta`, `Adapter`"
    )
    official_providers: Names = Field(
        default_factory=list,
        description='models of these orgs are "official" (a filter) and exempt from the rate limit',
    )
    admins: Names = Field(
        default_factory=list,
        description="user names that may re-queue failed requests, approve requests and flag models",
    )
    submissions: Submissions = Field(
        default_factory=Submissions, description="the submission rules (all optional)"
    )
    evaluation: Evaluation = Field(default_factory=Evaluation, description="how requests are evaluated")
    checkpoints: Checkpoints = Field(default_factory=Checkpoints, description="checkpoint settings")
    hub: Hub = Field(default_factory=Hub, description="Hub settings")

    @field_validator("benchmarks")
    @classmethod
    def _unique_ids(cls, benchmarks: list[BenchmarkSpec]) -> list[BenchmarkSpec]:
        ids = [b.id for b in benchmarks]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"benchmark ids must be unique; repeated: {', '.join(duplicates)}")
        reserved = sorted(set(ids) & set(RESERVED_BENCHMARK_IDS))
        if reserved:
            raise ValueError(
                f"benchmark id {', '.join(reserved)} is reserved: links and the command line use it for the "
                "table's own ranking; give the benchmark another id"
            )
        return benchmarks


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a definition file (draft 2020-12), for editors and docs."""
    schema = DefinitionFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
