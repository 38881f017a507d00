"""Typed records shared by the dashboard, the command line and the evaluator.

Plain frozen dataclasses and string enums only: no I/O, no Streamlit, no DuckDB here.
"""

from __future__ import annotations

import enum
import functools
import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# Metric names that are better when lower (perplexities, bits per byte, losses).
LOWER_IS_BETTER_METRICS = frozenset(
    {
        "ppl",
        "perplexity",
        "word_perplexity",
        "byte_perplexity",
        "bits_per_byte",
        "bpb",
        "loss",
        "likelihood_difference",
    }
)


class Status(enum.StrEnum):
    """Status of an evaluation request, as the leaderboard template spells it.

    ``APPROVAL`` is ours: a request waiting for an admin in manual evaluation mode.
    ``RERUN`` and ``PENDING_NEW_EVAL`` are read from older queues and shown as pending.
    """

    APPROVAL = "APPROVAL"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    RERUN = "RERUN"
    PENDING_NEW_EVAL = "PENDING_NEW_EVAL"

    @classmethod
    def parse(cls, value: object) -> Status:
        """Read a status written by any template version; unknown values raise ValueError."""
        text = str(value or "").strip().upper()
        try:
            return cls(text)
        except ValueError as exc:
            raise ValueError(f"unknown request status {value!r}") from exc

    @property
    def queue_group(self) -> str:
        """The bucket the Queue page shows this status in."""
        if self in (Status.PENDING, Status.RERUN, Status.PENDING_NEW_EVAL):
            return "pending"
        return self.value.lower()


@functools.lru_cache(maxsize=4096)
def default_higher_is_better(metric: str) -> bool:
    """Direction of a metric known only by its name: perplexity-like names are lower-is-better."""
    name = metric.split(",", 1)[0].strip().lower()
    if name in LOWER_IS_BETTER_METRICS:
        return False
    return not (name.endswith("perplexity") or name.endswith("_ppl"))


def as_mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (the optional blocks of a file)."""
    return value if isinstance(value, dict) else {}


def as_float(value: Any) -> float | None:
    """A finite float, or None for strings such as "N/A", NaN, infinities, booleans and None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond a float's range (10**400)
            return None
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        try:
            number = float(value)  # numpy scalars
        except (TypeError, ValueError, OverflowError):
            return None
    return number if math.isfinite(number) else None


class Score(NamedTuple):
    """One metric of one task in one evaluation (a row of the long scores table).

    A named tuple rather than a dataclass: ingest makes hundreds of thousands of them.
    """

    task: str
    metric: str
    filter: str
    value: float
    stderr: float | None
    n_shot: int | None
    higher_is_better: bool
    n_samples: int | None = None
    version: str | None = None  # lm-eval's task version: scores of different versions never mix


@dataclass(frozen=True)
class Evaluation:
    """What one results file says: who was evaluated, how, and the scores.

    ``model`` is the Hub id (or local model name), ``revision`` the branch/tag/sha the evaluation used,
    ``sha`` the resolved commit when known. ``limit`` set means a partial run.
    """

    model: str
    revision: str
    precision: str
    scores: tuple[Score, ...]
    sha: str = ""
    chat_template: bool = False
    limit: float | None = None
    lm_eval_version: str = ""
    git_hash: str = ""
    date: float | None = None
    duration_s: float | None = None
    model_args: str = ""
    batch_size: str = ""
    source_format: str = ""
    training: str = ""
    step: int | None = None
    tokens: float | None = None
    request_file: str = ""
    weight_type: str = ""
    base_model: str = ""  # the base of an adapter or delta weights
    backend: str = ""  # lm-eval's model type: hf, vllm, local-completions, openai-chat-completions...
    setting: str = ""  # model arguments that may change scores, ``k=v,...`` (see docs/formats.md)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    provenance: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class IngestProblem:
    """A file that could not be read (``level`` 'error') or was read with a caveat ('warning')."""

    path: str
    reason: str
    level: str = "error"


# The request record (``Request``) is validated with pydantic and lives in ``lib.core.request``: ingest
# workers import this module and need not pay for importing pydantic.
