"""Every definition field the bundled files use or the code reads is documented in docs/definition.md,
and the definition loader refuses wrong fields with a message that names them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from lib.core.config import DefinitionError, bundled_definitions, load_definition, parse_definition

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "definition.md").read_text(encoding="utf-8")
DOCUMENTED = set(re.findall(r"^\| `([a-z_.]+)` \|", DOC, flags=re.MULTILINE))
ITEM_KEYS = {"id", "name", "symbol", "description", "task", "metric", "baseline", "num_fewshot", "higher_is_better",
             "subtasks", "hub_benchmark", "hub_task"}  # fmt: skip
SECTIONS = ("stores", "submissions", "evaluation", "checkpoints", "hub")


def _used_keys(data: dict) -> set[str]:
    keys = set(data)
    for section in SECTIONS:
        keys |= {f"{section}.{k}" for k in (data.get(section) or {})}
    return keys


@pytest.mark.parametrize("name", bundled_definitions())
def test_every_field_of_the_bundled_definitions_is_documented(name):
    data = yaml.safe_load((ROOT / "lib" / "definitions" / f"{name}.yaml").read_text(encoding="utf-8"))
    missing = _used_keys(data) - DOCUMENTED
    assert not missing, f"undocumented in docs/definition.md: {sorted(missing)}"
    item_keys = {k for b in data["benchmarks"] for k in b} | {
        k for c in data.get("categories", []) for k in c
    }
    assert item_keys <= ITEM_KEYS | DOCUMENTED


def test_every_section_key_the_code_reads_is_documented():
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for p in [*(ROOT / "lib").rglob("*.py"), *(ROOT / "evaluator").rglob("*.py")]
    )
    read = set()
    for section in ("submissions", "evaluation"):
        read |= {f"{section}.{k}" for k in re.findall(rf"\.{section}\.get\(\s*\"([a-z_]+)\"", code)}
        read |= {
            f"{section}.{k}"
            for k in re.findall(r"_requires\(check, \"([a-z_]+)\"\)", code)
            if section == "submissions"
        }
    read |= {f"evaluation.{k}" for k in re.findall(r"section\.get\(\"([a-z_]+)\"", code)}
    assert read, "the scan found no keys: the pattern is out of date"
    assert not read - DOCUMENTED, f"undocumented in docs/definition.md: {sorted(read - DOCUMENTED)}"


def _demo_data() -> dict:
    return yaml.safe_load((ROOT / "lib" / "definitions" / "demo.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(benchmarks=[]), "'benchmarks' must be a non-empty list"),
        (lambda d: d["benchmarks"][0].update(id="Bad Id"), "must be lowercase"),
        (lambda d: d["benchmarks"][3].update(baseline="1/0"), "is not a number or fraction"),
        (lambda d: d["benchmarks"][3].update(baseline=1.5), r"must be in \[0, 1\)"),
        (lambda d: d["benchmarks"][3].pop("metric"), "needs 'task' and 'metric'"),
        (lambda d: d["benchmarks"].append(dict(d["benchmarks"][3])), "ids must be unique"),
        (lambda d: d["evaluation"].update(mode="sometimes"), "evaluation.mode must be one of"),
        (lambda d: d["checkpoints"].update(revision_patterns=["(unclosed"]), "revision_patterns"),
        (lambda d: d["checkpoints"].update(revision_patterns=[r"ckpt(\d+)"]), "named group 'step'"),
        (lambda d: d["benchmarks"][3].update(num_fewshot=-1), "non-negative integer"),
    ],
)
def test_wrong_fields_are_refused_with_their_name(change, message, tmp_path):
    data = _demo_data()
    change(data)
    with pytest.raises(DefinitionError, match=message):
        parse_definition(data, tmp_path / "bad.yaml")


def test_unknown_definition_names_the_bundled_ones():
    with pytest.raises(DefinitionError, match="demo"):
        load_definition("no-such-leaderboard")


def test_fraction_baselines_and_subtask_defaults():
    demo = load_definition("demo")
    musr = demo.benchmark("musr")
    assert [round(c.baseline, 4) for c in musr.components] == [0.5, 0.2, 0.3333]
    assert {c.metric for c in musr.components} == {"acc_norm"}
    assert {c.num_fewshot for c in demo.benchmark("bbh").components} == {3}
