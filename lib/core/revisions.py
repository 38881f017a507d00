"""Checkpoint identity from names: which training a revision belongs to, and its step and tokens.

Pythia ``step143000``, OLMo ``step1000-tokens4B``, OLMo 2 ``stage1-step1000-tokens5B``, FineWeb
``step-001000-2BT``, ``global_step500``, ``checkpoint-500``, and patterns from the definition file.
Pure string work with no heavy imports: ingest workers use it for every results file. The analysis
of checkpoints (best, smoothing, gaps) is in lib.analysis.checkpoints, which re-exports these names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

_TOKEN_UNITS = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12}
_NUMBER = r"\d+(?:\.\d+)?"
_UNIT = r"[KMBTkmbt]"
# Built-in schemes, tried in order with fullmatch (never search: 'stepfather' must not parse).
_BUILTIN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # OLMo 2: stage1-step1000-tokens5B, stage2-ingredient1-step1000-tokens5B; OLMo: step1000-tokens4B
    (
        "olmo",
        re.compile(
            rf"(?:(?P<stage>stage\d+(?:-ingredient\d+)?)-)?step(?P<step>\d+)"
            rf"-tokens(?P<tokens>{_NUMBER})(?P<unit>{_UNIT})?"
        ),
    ),
    # FineWeb ablations: step-001000-2BT (2 billion tokens)
    ("fineweb", re.compile(rf"step-(?P<step>\d+)-(?P<tokens>{_NUMBER})(?P<unit>{_UNIT})T")),
    # Pythia: step143000 (and OLMo 2 stage prefixes without tokens)
    ("pythia", re.compile(r"(?:(?P<stage>stage\d+(?:-ingredient\d+)?)-)?step(?P<step>\d+)")),
    # DeepSpeed / Megatron: global_step500
    ("deepspeed", re.compile(r"global_step(?P<step>\d+)")),
    # Hugging Face Trainer: checkpoint-500
    ("trainer", re.compile(r"checkpoint-(?P<step>\d+)")),
)
_MAX_STEP = 10**12  # a revision with a longer number is a sha fragment or a date, not a step


@dataclass(frozen=True)
class CheckpointId:
    """Where one evaluated revision sits in its training.

    ``training`` names the run (normally the model id), ``step`` is the optimizer step, ``tokens`` the
    number of training tokens seen when the name says so, ``stage`` the OLMo 2 style stage prefix, and
    ``label`` a short human text for tables and hovers ("step 1000 · 4B tokens").
    """

    training: str
    step: int
    tokens: float | None
    stage: str | None
    label: str


def parse_tokens(text: object, unit: str | None = None) -> float | None:
    """A token count from '4', '4B', '2.5T', ('4', 'B'), 4e9; None when it is not a count.

    Units: K (1e3), M (1e6), B or G (1e9), T (1e12), case-insensitive. Negative counts are refused.
    """
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        try:
            number = float(text)  # an int too large for a float raises OverflowError
        except OverflowError:
            return None
        return number if math.isfinite(number) and number >= 0 else None
    match = re.fullmatch(rf"\s*({_NUMBER})\s*({_UNIT}|[gG])?\s*", str(text))
    if match is None:
        return None
    letter = (unit or match.group(2) or "").upper()
    if letter not in _TOKEN_UNITS or (unit and match.group(2)):
        return None
    return float(match.group(1)) * _TOKEN_UNITS[letter]


def format_tokens(tokens: float | None) -> str:
    """4e9 -> '4B', 2.5e12 -> '2.5T', 1234 -> '1234'; '' for None."""
    if tokens is None or (isinstance(tokens, float) and math.isnan(tokens)):
        return ""
    for letter, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if tokens >= size:
            return f"{tokens / size:.4g}{letter}"
    return f"{tokens:.4g}"


def checkpoint_label(step: int, tokens: float | None = None, stage: str | None = None) -> str:
    """The short text a table or hover shows for a checkpoint."""
    parts = [stage] if stage else []
    parts.append(f"step {step}")
    if tokens is not None:
        parts.append(f"{format_tokens(tokens)} tokens")
    return " · ".join(parts)


def parse_revision(
    revision: str, patterns: Sequence[str] = ()
) -> tuple[int, float | None, str | None] | None:
    """(step, tokens, stage) of a checkpoint revision name, or None when it names no checkpoint.

    ``patterns`` (the definition file's ``checkpoints.revision_patterns``) are tried first; each is a
    regex matched against the whole name with a named group ``step`` and optional ``tokens``, ``unit``
    and ``stage``. Then the built-in schemes. Matching is whole-name, so 'stepfather', 'steps100',
    'main', 'v1.0' and commit shas never parse.
    """
    text = (revision or "").strip()
    if not text:
        return None
    compiled = [re.compile(p) for p in patterns] + [p for _, p in _BUILTIN_PATTERNS]
    for pattern in compiled:
        match = pattern.fullmatch(text)
        if match is not None:
            parsed = _from_match(match)
            if parsed is not None:
                return parsed
    return None


def _from_match(match: re.Match[str]) -> tuple[int, float | None, str | None] | None:
    groups = match.groupdict()
    step_text = groups.get("step") or ""
    if not step_text.isdigit() or int(step_text) >= _MAX_STEP:
        return None
    tokens = None
    if groups.get("tokens"):
        tokens = parse_tokens(groups["tokens"], groups.get("unit"))
        if tokens is None:
            return None
    return int(step_text), tokens, groups.get("stage") or None


def parse_checkpoint(model: str, revision: str, patterns: tuple[str, ...] = ()) -> CheckpointId | None:
    """The checkpoint a (model, revision) pair names, or None when it names none.

    The revision is read first (the training is then the model id, with a later OLMo 2 stage such as
    'stage2-ingredient1' appended as ``model@stage``, because its steps restart from zero). When the
    revision names no checkpoint and the model is clearly a local folder (an absolute or relative path
    with more than one '/', so never a Hub 'org/name' id) whose last part is a checkpoint
    ('/runs/exp1/checkpoint-500'), the training is the parent folder.
    """
    parsed = parse_revision(revision, patterns)
    training = (model or "").strip()
    if parsed is None:
        parsed, training = _parse_model_path(training, patterns)
    if parsed is None or not training:
        return None
    step, tokens, stage = parsed
    if stage and not re.fullmatch(r"stage1", stage):
        training = f"{training}@{stage}"
    return CheckpointId(training, step, tokens, stage, checkpoint_label(step, tokens, stage))


def _parse_model_path(model: str, patterns: Sequence[str]) -> tuple[tuple | None, str]:
    is_folder = model.startswith(("/", "./", "../", "~")) or model.count("/") >= 2
    if not is_folder:
        return None, model
    parent, _, last = model.rstrip("/").rpartition("/")
    if not parent or not last:
        return None, model
    return parse_revision(last, patterns), parent


def checkpoint_from_fields(
    training: str | None, step: object, tokens: object = None, stage: str | None = None
) -> CheckpointId | None:
    """A checkpoint from explicit fields of a request or result (they win over the revision name).

    ``step`` must be a non-negative integer (an int, an integral float or a digit string); ``tokens``
    a count or a text such as '4B'. None when the training or the step is missing or invalid.
    """
    name = (training or "").strip()
    number = _as_step(step)
    if not name or number is None:
        return None
    count = parse_tokens(tokens) if tokens is not None and tokens != "" else None
    return CheckpointId(name, number, count, stage, checkpoint_label(number, count, stage))


def _as_step(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return int(value.strip()) if value.strip().isdigit() else None
    try:
        number = float(value)  # type: ignore[arg-type]  # int, float, numpy scalars; others raise
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number < 0 or number != int(number):
        return None
    return int(number)


def resolve_checkpoint(
    model: str,
    revision: str,
    training: str | None = None,
    step: object = None,
    tokens: object = None,
    patterns: tuple[str, ...] = (),
) -> CheckpointId | None:
    """Explicit fields first, then the revision (or model path); mixed cases fill each other in.

    A given ``step`` without a training takes the model id as training; a given training without a step
    takes the step (and tokens) from the revision name.
    """
    explicit = checkpoint_from_fields(training or model, step, tokens)
    if explicit is not None:
        return explicit
    parsed = parse_checkpoint(model, revision, patterns)
    if parsed is None or not training:
        return parsed
    count = parse_tokens(tokens) if tokens not in (None, "") else parsed.tokens
    return CheckpointId(
        training, parsed.step, count, parsed.stage, checkpoint_label(parsed.step, count, parsed.stage)
    )
