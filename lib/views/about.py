"""What the About page shows, built from the definition: the baselines table and the ranking text."""

from __future__ import annotations

import pandas as pd

from lib.core.config import Definition


def baselines_frame(definition: Definition) -> pd.DataFrame:
    """One row per benchmark component: benchmark, task, metric, random baseline, n-shot, direction."""
    rows = []
    for bench in definition.benchmarks:
        for comp in bench.components:
            rows.append(
                {
                    "Benchmark": bench.name,
                    "lm-eval task": comp.task,
                    "Metric": comp.metric + (f",{comp.filter}" if comp.filter else ""),
                    "Random baseline": round(comp.baseline, 4),
                    "n-shot": comp.num_fewshot,
                    "Better": "higher" if comp.higher_is_better else "lower",
                    "Subtasks averaged": len(bench.components),
                }
            )
    return pd.DataFrame(rows)


def ranking_explanation() -> str:
    """Markdown that says how the plain and the statistical rank are computed."""
    return (
        "- **95% interval**: lm-eval reports a standard error for each score. It is rescaled with the score "
        "when normalizing, combined over subtasks and benchmarks as for a mean of independent estimates "
        "(`se = sqrt(sum(se_i^2)) / n`, weighted when custom weights are on), and shown as `± 1.96 x se`.\n"
        "- **Rank**: the plain position by the ranking score; equal scores share the better place.\n"
        "- **Statistical rank**: 1 + the number of models whose whole interval lies above this model's "
        "interval (as LMArena does). Models whose intervals overlap cannot be told apart, so they share a "
        "rank; a model is ranked below another only when the data says so.\n"
        "- Evaluations that differ in n-shot, chat template or `--limit` are never averaged together: they are "
        "separate rows, and partial runs (`--limit`) are hidden unless you ask for them."
    )
