"""Builders of lm-eval 0.4 ``--log_samples`` files (``samples_<task>_<timestamp>.jsonl``) for tests.

The demo store has no samples files; these write them beside a results file in the layout lm-eval's
``EvaluationTracker.save_results_samples`` uses (sanitized ``arguments``, ``resps``, ``filtered_resps``,
``filter``, ``metrics`` and each metric's value per line).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path


def sample_line(
    doc_id: int, correct: bool, metric: str = "acc", filt: str = "none", target: str = "B"
) -> dict:
    """One line of a multiple-choice task: the model picked ``target`` when ``correct``."""
    answer = target if correct else "A"
    return {
        "doc_id": doc_id,
        "doc": {"question": f"Question {doc_id}?", "choices": ["A", "B", "C", "D"], "answer": target},
        "target": target,
        "arguments": {"gen_args_0": {"arg_0": f"Question {doc_id}?\nAnswer:", "arg_1": f" {answer}"}},
        "resps": [[[f"-{1.0 + doc_id % 3:.1f}", "False"]]],
        "filtered_resps": [answer],
        "filter": filt,
        "metrics": [metric],
        "doc_hash": f"d{doc_id:04d}",
        "prompt_hash": f"p{doc_id:04d}",
        "target_hash": "t",
        metric: 1.0 if correct else 0.0,
    }


def samples_file(results_path: Path, task: str, outcomes: Sequence[bool], metric: str = "acc") -> Path:
    """Write ``samples_<task>_<stamp>.jsonl`` beside ``results_<stamp>.json``; one line per outcome."""
    stamp = results_path.name[len("results_") : -len(".json")]
    path = results_path.parent / f"samples_{task}_{stamp}.jsonl"
    lines = [json.dumps(sample_line(i, ok, metric)) for i, ok in enumerate(outcomes)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
