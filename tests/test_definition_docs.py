"""The definition file is a closed, typed schema, and its documentation is derived from that schema.

Every field of the schema has a row in docs/definition.md (the tables are generated from it, and the
committed JSON Schema is current); every field the bundled definitions use and every section field the
code reads exists in the schema; typos and wrong types fail at load with the field's path and the nearest
valid name.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import yaml

from lib.cli.schema import PAGE_FILE, SCHEMA_FILE, expected_files
from lib.core.config import DefinitionError, bundled_definitions, load_definition, parse_definition
from lib.core.schema import DefinitionFile, json_schema
from lib.core.schema_docs import schema_fields

ROOT = Path(__file__).resolve().parents[1]
DOC = PAGE_FILE.read_text(encoding="utf-8")
DOCUMENTED = set(re.findall(r"^\| `([a-z_.\[\]]+)` \|", DOC, flags=re.MULTILINE))
FIELDS = {f.path: f for f in schema_fields(json_schema())}


@pytest.mark.parametrize("path", sorted(FIELDS))
def test_every_schema_field_has_a_row_with_its_meaning(path):
    assert path in DOCUMENTED, f"{path} has no row in docs/definition.md: run python -m lib schema --write"
    assert FIELDS[path].description, f"{path} has no description in lib/core/schema.py"


def test_the_docs_document_no_field_the_schema_lacks():
    assert not DOCUMENTED - set(FIELDS), f"rows without a schema field: {sorted(DOCUMENTED - set(FIELDS))}"


def test_committed_json_schema_and_field_tables_are_current():
    for path, text in expected_files().items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run python -m lib schema --write"
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["additionalProperties"] is False
    assert all(d.get("additionalProperties") is False for d in schema["$defs"].values())


def _paths_used(value, prefix: str = "") -> set[str]:
    """Dotted paths of every key in a definition mapping (list items as ``name[]``)."""
    found = set()
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}{key}"
            if path.endswith(("max_params_b", "model_args")):  # free-form mappings
                found.add(path)
                continue
            found.add(path)
            if isinstance(child, list) and child and all(isinstance(c, dict) for c in child):
                for item in child:
                    found |= _paths_used(item, f"{path}[].")
            elif isinstance(child, dict):
                found |= _paths_used(child, f"{path}.")
    return found


@pytest.mark.parametrize("name", bundled_definitions())
def test_every_field_of_the_bundled_definitions_is_in_the_schema(name):
    data = yaml.safe_load((ROOT / "lib" / "definitions" / f"{name}.yaml").read_text(encoding="utf-8"))
    used = _paths_used(data)
    assert used and not used - set(FIELDS), f"not in the schema: {sorted(used - set(FIELDS))}"
    load_definition(name)


def test_every_section_field_the_code_reads_is_in_the_schema():
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for p in [
            *(ROOT / "lib").rglob("*.py"),
            *(ROOT / "evaluator").rglob("*.py"),
            *(ROOT / "pages").glob("*.py"),
        ]
    )
    read = {f"{s}.{k}" for s, k in re.findall(r"definition\.(evaluation|submissions)\.([a-z_]+)", code)}
    jobs = (ROOT / "evaluator" / "jobs.py").read_text(encoding="utf-8")  # reads through `section = ...`
    read |= {f"evaluation.{k}" for k in re.findall(r"\bsection\.([a-z_]+)", jobs)}
    assert len(read) > 5, "the scan found too few reads: the pattern is out of date"
    methods = {"model_dump", "model_copy", "model_fields"}
    assert not {r for r in read if r.split(".")[1] not in methods} - set(FIELDS)


def _demo_data() -> dict:
    return yaml.safe_load((ROOT / "lib" / "definitions" / "demo.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["evaluation"].update(allow_local_model=True),
         r"evaluation: unknown field 'allow_local_model' \(did you mean 'allow_local_models'\?\)"),
        (lambda d: d.update(submisions=d.pop("submissions")),
         r"\(top level\): unknown field 'submisions' \(did you mean 'submissions'\?\)"),
        (lambda d: d["benchmarks"][2].update(num_fewshots=4),
         r"benchmarks\[2\]: unknown field 'num_fewshots' \(did you mean 'num_fewshot'\?\)"),
        (lambda d: d["benchmarks"][1]["subtasks"][0].update(baselne="1/2"),
         r"benchmarks\[1\]\.subtasks\[0\]: unknown field 'baselne' \(did you mean 'baseline'\?\)"),
        (lambda d: d["submissions"]["rate_limit"].update(cout=3),
         r"submissions\.rate_limit: unknown field 'cout' \(did you mean 'count'\?\)"),
        (lambda d: d["hub"].update(mirorr="x"), r"hub: unknown field 'mirorr' \(did you mean 'mirror'\?\)"),
        (lambda d: d["evaluation"].update(timeout_s="soon"), r"evaluation\.timeout_s: .*valid number.*'soon'"),
        (lambda d: d["evaluation"].update(timeout_s=-5), r"evaluation\.timeout_s: input should be greater than 0"),
        (lambda d: d["evaluation"].update(allow_local_models="maybe"), r"evaluation\.allow_local_models: .*boolean"),
        (lambda d: d["evaluation"].update(local_model_roots="/models"), r"evaluation\.local_model_roots: .*list"),
        (lambda d: d["evaluation"].update(batch_size="big"), r"evaluation\.batch_size"),
        (lambda d: d["evaluation"].update(model="tgi"), r"evaluation\.model: input should be 'hf' or 'vllm'"),
        (lambda d: d["evaluation"].update(mode="sometimes"), r"evaluation\.mode: input should be 'automatic'"),
        (lambda d: d["submissions"].update(max_params_b={"float16": "huge"}), r"submissions\.max_params_b\.float16"),
        (lambda d: d["submissions"].update(rate_limit=5), r"submissions\.rate_limit: .*valid dictionary"),
        (lambda d: d.update(benchmarks=[]), r"benchmarks: list should have at least 1 item"),
        (lambda d: d.update(benchmarks={"a": 1}), r"benchmarks: input should be a valid list"),
        (lambda d: d.update(admins="root"), r"admins: input should be a valid list"),
        (lambda d: d["benchmarks"][0].update(id="Bad Id"), r"benchmarks\[0\]\.id: string should match pattern"),
        (lambda d: d["benchmarks"][3].update(baseline="1/0"), r"benchmarks\[3\]\.baseline: '1/0' divides by zero"),
        (lambda d: d["benchmarks"][3].update(baseline="a quarter"), r"is not a number or fraction"),
        (lambda d: d["benchmarks"][3].update(baseline=1.5), r"benchmarks\[3\]\.baseline: input should be less than 1"),
        (lambda d: d["benchmarks"][3].pop("metric"), r"benchmarks\[3\]: a benchmark without subtasks needs"),
        (lambda d: d["benchmarks"].append(dict(d["benchmarks"][3])), r"benchmarks: benchmark ids must be unique"),
        (lambda d: d["benchmarks"][3].update(id="average"), r"benchmarks: benchmark id average is reserved"),
        (lambda d: d["benchmarks"][2].update(id="rank"), r"benchmarks: benchmark id rank is reserved"),
        (lambda d: d["benchmarks"][3].update(num_fewshot=-1), r"benchmarks\[3\]\.num_fewshot: .*greater than or equal"),
        (lambda d: d["benchmarks"][3].update(num_fewshot=True), r"benchmarks\[3\]\.num_fewshot: .*valid integer"),
        (lambda d: d["benchmarks"][1]["subtasks"][0].update(higher_is_better=False), r"share one direction"),
        (lambda d: d["checkpoints"].update(revision_patterns=["(unclosed"]), r"checkpoints\.revision_patterns"),
        (lambda d: d["checkpoints"].update(revision_patterns=[r"ckpt(\d+)"]), r"named group 'step'"),
    ],
)  # fmt: skip
def test_wrong_fields_are_refused_at_load_with_their_path(change, message, tmp_path):
    data = _demo_data()
    change(data)
    with pytest.raises(DefinitionError, match=message):
        parse_definition(data, tmp_path / "bad.yaml")


def test_every_problem_is_listed_and_long_values_are_shortened(tmp_path):
    data = _demo_data()
    data["evaluation"].update(allow_local_model=True, timeout_s="x" * 10_000)
    data["benchmarks"][2]["num_fewshots"] = 4
    with pytest.raises(DefinitionError) as caught:
        parse_definition(data, tmp_path / "bad.yaml")
    text = str(caught.value)
    assert "allow_local_model'" in text and "num_fewshots" in text
    assert len(text) < 2000


def test_a_file_with_a_typo_fails_when_loaded_from_disk(tmp_path):
    text = (ROOT / "lib" / "definitions" / "offline.yaml").read_text(encoding="utf-8")
    path = tmp_path / "typo.yaml"
    path.write_text(text.replace("allow_local_models:", "allow_local_model:"), encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"(?s)typo\.yaml.*did you mean 'allow_local_models'"):
        load_definition(path)


@pytest.mark.parametrize(
    "extra",
    [
        "hub_models: " + "9" * 5000,
        "a: &a [x, x]\nb: [*a, *a]\nc: [*b, *b]",
        "x: [" * 200,
    ],
    ids=["5000-digit integer", "aliases", "unclosed nesting"],
)
def test_a_stranger_s_file_is_a_definition_error_not_a_crash(extra, tmp_path):
    text = (ROOT / "lib" / "definitions" / "offline.yaml").read_text(encoding="utf-8")
    path = tmp_path / "absurd.yaml"
    path.write_text(text + "\n" + extra + "\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match=r"absurd\.yaml"):
        load_definition(path)


def test_empty_sections_take_their_defaults(tmp_path):
    data = _demo_data()
    data.update(evaluation=None, submissions=None, hub=None, categories=None)
    definition = parse_definition(data, tmp_path / "d.yaml")
    assert definition.evaluation.mode == "automatic" and definition.submissions.rate_limit.count == 5
    assert definition.categories == ()


def test_updated_validates_like_the_file():
    demo = load_definition("demo")
    assert demo.updated(evaluation={"mode": "manual"}).evaluation_mode == "manual"
    with pytest.raises(DefinitionError, match="did you mean 'mode'"):
        demo.updated(evaluation={"mdoe": "manual"})


def test_schema_accepts_exactly_what_the_loader_accepts():
    data = _demo_data()
    DefinitionFile.model_validate(copy.deepcopy(data))
    data["extra"] = 1
    with pytest.raises(ValueError, match="unknown field 'extra'"):
        DefinitionFile.model_validate(data)


def test_unknown_definition_names_the_bundled_ones():
    with pytest.raises(DefinitionError, match="demo"):
        load_definition("no-such-leaderboard")


def test_fraction_baselines_and_subtask_defaults():
    demo = load_definition("demo")
    musr = demo.benchmark("musr")
    assert [round(c.baseline, 4) for c in musr.components] == [0.5, 0.2, 0.3333]
    assert {c.metric for c in musr.components} == {"acc_norm"}
    assert {c.num_fewshot for c in demo.benchmark("bbh").components} == {3}


@pytest.mark.parametrize("name", bundled_definitions())
def test_editors_get_the_same_verdict_from_the_json_schema(name):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    data = yaml.safe_load((ROOT / "lib" / "definitions" / f"{name}.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    data["evaluation"]["allow_local_model"] = True
    with pytest.raises(jsonschema.ValidationError, match="allow_local_model"):
        jsonschema.validate(data, schema)
