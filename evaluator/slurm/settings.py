"""The Slurm executor's settings: the definition's ``evaluation.slurm`` section turned into sbatch options.

The section's shape is declared once, in ``lib.core.schema.Slurm`` (validated when the definition
loads); ``SlurmSettings`` adds what is resolved at run time (the log folder, the interpreter) and
``job_options`` picks the resources of one request (a fixed ``gres``, or the first of ``resources``
that matches its precision and size) and returns the ``sbatch`` arguments. This module runs no command
and touches no store.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lib.core.config import Definition, DefinitionError, format_errors
from lib.core.request import Request
from lib.core.schema import Slurm, SlurmResources

EXECUTORS = ("local", "slurm")


@dataclass(frozen=True)
class SlurmSettings:
    """Where and how each request's job is submitted: ``evaluation.slurm``, paths made absolute."""

    spec: Slurm = field(default_factory=Slurm)
    log_dir: str = field(default_factory=lambda: str(Path.cwd() / "slurm-logs"))
    python: str = field(default_factory=lambda: sys.executable)
    max_jobs: int = 4
    poll_s: float = 10.0

    @property
    def job_name(self) -> str:
        return self.spec.job_name

    @property
    def setup(self) -> tuple[str, ...]:
        return tuple(self.spec.setup)

    @classmethod
    def from_definition(cls, definition: Definition) -> SlurmSettings:
        """The definition's ``evaluation.slurm`` (relative ``log_dir`` against the definition's folder)."""
        return cls.from_spec(definition.evaluation.slurm, base=definition.path.parent)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], base: Path | None = None) -> SlurmSettings:
        """Settings from a mapping as the file's ``evaluation.slurm`` holds it; DefinitionError names bad fields."""
        try:
            spec = Slurm.model_validate(data)
        except ValidationError as exc:
            raise DefinitionError(format_errors(exc, "evaluation.slurm")) from None
        return cls.from_spec(spec, base)

    @classmethod
    def from_spec(cls, spec: Slurm, base: Path | None = None) -> SlurmSettings:
        values: dict[str, Any] = {"spec": spec, "max_jobs": spec.max_jobs, "poll_s": spec.poll_s}
        if spec.log_dir:
            log_dir = Path(spec.log_dir).expanduser()
            values["log_dir"] = str(
                log_dir if log_dir.is_absolute() or base is None else (base / log_dir).resolve()
            )
        if spec.python:
            values["python"] = spec.python
        return cls(**values)

    def resources_for(self, request: Request) -> dict[str, Any]:
        """gres, cpus_per_task, mem and time for a request: the first matching rule over the defaults."""
        chosen: dict[str, Any] = {k: getattr(self.spec, k) for k in ("gres", "cpus_per_task", "mem", "time")}
        for rule in self.spec.resources:
            if _matches(rule, request):
                chosen.update({k: getattr(rule, k) for k in chosen if getattr(rule, k) is not None})
                break
        return chosen

    def job_options(self, request: Request, timeout_s: float) -> list[str]:
        """The sbatch options of one request's job (without name, output and comment)."""
        chosen = self.resources_for(request)
        time_limit = chosen["time"] or minutes_text(timeout_s + 600)  # the job's own timeout fires first
        options = [f"--time={time_limit}", "--no-requeue"]  # we requeue ourselves, counted in attempts
        for key, flag in (("partition", "--partition"), ("account", "--account"), ("qos", "--qos")):
            if getattr(self.spec, key):
                options.append(f"{flag}={getattr(self.spec, key)}")
        if chosen["gres"]:
            options.append(f"--gres={chosen['gres']}")
        if chosen["cpus_per_task"]:
            options.append(f"--cpus-per-task={chosen['cpus_per_task']}")
        if chosen["mem"]:
            options.append(f"--mem={chosen['mem']}")
        return [*options, *self.spec.sbatch_args]


def executor_of(definition: Definition) -> str:
    """``evaluation.executor`` of the definition: ``local`` (default) or ``slurm``."""
    return definition.evaluation.executor


def _matches(rule: SlurmResources, request: Request) -> bool:
    if rule.precisions and request.precision not in rule.precisions:
        return False
    if rule.max_params_b is not None:
        return request.params is not None and request.params <= rule.max_params_b
    return True


def minutes_text(seconds: float) -> str:
    """Seconds as a Slurm time limit in whole minutes, rounded up (``90`` -> ``2``)."""
    return str(max(1, math.ceil(seconds / 60)))
