"""Provenance of each result: how it was produced, and whether it is comparable with the leaderboard's.

From the index (``lib/index/sql/model_*.sql``): lm-eval version and git hash, model args, n-shot, chat
template, batch size, ``limit``, number of samples, date and duration of every evaluation of a model.
From the results file itself (``file_provenance``): what the index does not keep (transformers
version, chat template hash, system instruction, device, seeds). Warnings say when a result is partial
(``limit`` set) or its settings differ from the leaderboard's (n-shot of a benchmark, lm-eval
version). Nothing here draws, and file text stays plain text for the page to show as such.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from lib.core.config import Definition
from lib.core.records import as_mapping
from lib.stores.base import FileStore, StoreError

log = logging.getLogger(__name__)

# Keys of an lm-eval 0.4 results file (top level or its ``config``) worth showing beside the index's.
_FILE_KEYS = (
    "transformers_version", "upper_git_hash", "model_source", "model_name", "system_instruction",
    "system_instruction_sha", "fewshot_as_multiturn", "chat_template_sha", "max_length", "start_time",
    "end_time", "total_evaluation_time_seconds",
)  # fmt: skip
_CONFIG_KEYS = (
    "model", "model_num_parameters", "model_dtype", "model_revision", "model_sha", "batch_sizes",
    "device", "gen_kwargs", "bootstrap_iters", "random_seed", "numpy_seed", "torch_seed", "fewshot_seed",
)  # fmt: skip


@dataclass(frozen=True)
class Provenance:
    """How one evaluation was run, as the index knows it."""

    eval_id: str
    revision: str
    sha: str
    precision: str
    lm_eval_version: str
    git_hash: str
    model_args: str
    shots: tuple[int, ...]
    chat_template: bool
    batch_size: str
    limit: float | None
    n_samples: int | None
    date: float | None
    duration_s: float | None
    source_format: str
    backend: str = ""  # lm-eval's model type (hf, vllm, local-completions, ...)
    setting: str = ""  # the model arguments that may change scores (docs/formats.md)

    @property
    def partial(self) -> bool:
        """A run made with lm-eval's ``--limit``: it scored a subset of each task."""
        return self.limit is not None


def model_evaluations(index, model: str) -> pd.DataFrame:
    """Every evaluation of ``model`` (``lib/index/sql/model_evaluations.sql``), newest first."""
    return index.query("model_evaluations", {"model": model})


def evaluation_scores(index, eval_ids: list[str]) -> pd.DataFrame:
    """Every score of the given evaluations (``lib/index/sql/model_scores.sql``)."""
    return index.query("model_scores", {"eval_ids": list(eval_ids)})


def reference_version(index) -> str:
    """The lm-eval version most full runs of the leaderboard used ('' when none is recorded)."""
    frame = index.query("model_reference")
    return "" if frame.empty else str(frame["lm_eval_version"].iloc[0])


def provenance_of(row: Mapping[str, Any]) -> Provenance:
    """The provenance of one row of ``model_evaluations``."""
    shots = row.get("shots")
    shots = () if shots is None or (isinstance(shots, float) and pd.isna(shots)) else shots
    return Provenance(
        eval_id=str(row["eval_id"]),
        revision=_text(row.get("revision")),
        sha=_text(row.get("sha")),
        precision=_text(row.get("precision")),
        lm_eval_version=_text(row.get("lm_eval_version")),
        git_hash=_text(row.get("git_hash")),
        model_args=_text(row.get("model_args")),
        shots=tuple(int(s) for s in shots),
        chat_template=bool(row.get("chat_template")),
        batch_size=_text(row.get("batch_size")),
        limit=_number(row.get("limit_n")),
        n_samples=None if _number(row.get("n_samples")) is None else int(row["n_samples"]),
        date=_number(row.get("date")),
        duration_s=_number(row.get("duration_s")),
        source_format=_text(row.get("source_format")),
        backend=_text(row.get("backend")),
        setting=_text(row.get("setting")),
    )


def setting_warnings(
    prov: Provenance, scores: pd.DataFrame, definition: Definition, reference: str = ""
) -> list[str]:
    """Why this result may not compare with the leaderboard's: partial run, n-shot, lm-eval version.

    ``scores`` are the evaluation's rows of ``evaluation_scores``; ``reference`` the leaderboard's usual
    lm-eval version (``reference_version``).
    """
    warnings = []
    if prov.partial:
        warnings.append(
            f"Partial run: lm-eval's limit was {prov.limit:g}, so each task scored a subset of its samples; "
            "its scores are not comparable with full runs."
        )
    for bench in definition.benchmarks:
        if bench.num_fewshot is None:
            continue
        tasks = {c.task for c in bench.components}
        used = scores.loc[scores["task"].isin(tasks), "n_shot"].dropna().astype(int).unique()
        other = sorted(int(s) for s in used if s != bench.num_fewshot)
        if other:
            shots = ", ".join(str(s) for s in other)
            warnings.append(
                f"{bench.name} was run {shots}-shot; the leaderboard uses {bench.num_fewshot}-shot."
            )
    if reference and prov.lm_eval_version and prov.lm_eval_version != reference:
        warnings.append(
            f"Made with lm-eval {prov.lm_eval_version}; most leaderboard results use {reference}."
        )
    return warnings


def provenance_frame(evaluations: pd.DataFrame) -> pd.DataFrame:
    """One display row per evaluation: the provenance columns a user checks, as plain values."""
    rows = []
    for row in evaluations.to_dict("records"):
        prov = provenance_of(row)
        rows.append(
            {
                "Results file": prov.eval_id,
                "Revision": prov.revision,
                "Precision": prov.precision or "unknown",
                "n-shot": ", ".join(str(s) for s in prov.shots) or "unknown",
                "Chat template": prov.chat_template,
                "lm-eval": prov.lm_eval_version or "unknown",
                "Git hash": prov.git_hash or "unknown",
                "Model args": prov.model_args or "unknown",
                "Backend": prov.backend or "unknown",
                "Setting": prov.setting or "plain",
                "Batch size": prov.batch_size or "unknown",
                "Limit": "full run" if prov.limit is None else f"{prov.limit:g} (partial)",
                "Samples": prov.n_samples,
                "Date": format_date(prov.date),
                "Duration": format_duration(prov.duration_s),
                "Format": prov.source_format,
            }
        )
    return pd.DataFrame(rows)


def file_provenance(data: Mapping[str, Any]) -> dict[str, str]:
    """What a results file records about its run beyond the index's columns, as plain text values.

    Reads lm-eval 0.4's top-level keys (transformers version, chat template hash, system instruction,
    ...) and its ``config`` block (device, seeds, batch sizes); absent keys are left out.
    """
    out: dict[str, str] = {}
    for key in _FILE_KEYS:
        if data.get(key) not in (None, ""):
            out[key] = _plain(data[key])
    config = as_mapping(data.get("config"))
    for key in _CONFIG_KEYS:
        if config.get(key) not in (None, ""):
            out[f"config.{key}"] = _plain(config[key])
    if data.get("chat_template"):
        out["chat_template"] = f"{len(str(data['chat_template'])):,} characters (hash in chat_template_sha)"
    return out


def read_file_provenance(store: FileStore, eval_id: str) -> dict[str, str]:
    """``file_provenance`` of a results file of the store; {} when it cannot be read as JSON."""
    try:
        data = json.loads(store.read_bytes(eval_id))
    except (OSError, StoreError, ValueError, UnicodeDecodeError) as exc:
        log.warning("cannot read provenance of %s: %s", eval_id, exc)
        return {}
    return file_provenance(data) if isinstance(data, dict) else {}


def format_date(stamp: float | None) -> str:
    """A UNIX time as 'YYYY-MM-DD HH:MM UTC' ('unknown' when missing)."""
    if stamp is None:
        return "unknown"
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_duration(seconds: float | None) -> str:
    """A duration as '1 h 14 min' or '42 s' ('unknown' when missing)."""
    if seconds is None:
        return "unknown"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def _plain(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 300 else text[:300] + "…"


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)


def _number(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if pd.isna(number) else number
