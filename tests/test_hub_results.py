"""Hub evaluation results: parsers over the corpus, badges, the loader over the Hub test server, publishing back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lib.core.request import parse_request
from lib.hub.loader import HubResultsLoader, MirrorLoader, models_to_read
from lib.hub.results import parse_eval_results, parse_model_card, to_eval_result_entries
from tests.hub_server import HubServer

CORPUS = Path(__file__).resolve().parent / "data" / "hub"
EVAL = sorted((CORPUS / "eval_results").glob("*.yaml"))
CARDS = sorted((CORPUS / "model_cards").glob("*.md"))
DEMO_MIRROR = Path(__file__).resolve().parents[1] / "lib" / "definitions" / "demo_hub"

BAD_REASONS = {
    "bad_missing_task_id": "missing required field dataset.task_id",
    "bad_value_not_a_number": "value must be a number",
    "bad_value_boolean": "value must be a number",
    "bad_date_not_iso": "is not ISO-8601",
    "bad_source_without_url": "source.url (required when source is given)",
    "bad_wrong_type": "dataset.id must be a string",
    "bad_not_a_list": "must hold a YAML list",
    "bad_yaml_syntax": "not valid YAML",
}


def _parse(path: Path):
    return parse_eval_results("org/model", f".eval_results/{path.name}", path.read_bytes())


@pytest.mark.parametrize("path", EVAL, ids=lambda p: p.stem)
def test_every_corpus_file_parses_without_crashing(path):
    results, problems = _parse(path)
    errors = [p for p in problems if p.level == "error"]
    if path.stem.startswith("good_") or path.stem.startswith("warn_"):
        assert results and not errors
    else:
        assert errors, "a bad file must produce an error row"
        assert any(BAD_REASONS[path.stem] in p.reason for p in errors), [p.reason for p in errors]
        assert all(p.path.startswith("org/model/.eval_results/") for p in problems)


def test_every_field_of_the_spec_is_read():
    results, problems = _parse(CORPUS / "eval_results" / "good_full.yaml")
    assert not problems
    first, second = results
    assert (first.benchmark, first.task_id, first.value) == ("cais/hle", "default", 20.9)
    assert first.dataset_revision == "5503434ddd753f426f4b38109466949a1217c2bb"
    assert first.verify_token and first.date == "2025-01-15"
    assert (first.source_url, first.source_name, first.source_user, first.source_org) == (
        "https://huggingface.co/datasets/someorg/traces",
        "Eval traces",
        "someone",
        "someorg",
    )
    assert first.notes == "no-tools" and second.notes == "tools"
    assert second.value == 25.0 and second.date == "2025-01-15T10:30:00Z"
    assert first.badges == ("verified", "leaderboard", "source")
    assert second.badges == ("leaderboard",)


def test_good_entries_of_a_file_survive_a_bad_neighbour():
    results, problems = _parse(CORPUS / "eval_results" / "bad_missing_task_id.yaml")
    assert [r.task_id for r in results] == ["gpqa_main"]
    assert [p.path for p in problems] == ["org/model/.eval_results/bad_missing_task_id.yaml[0]"]


def test_an_unquoted_date_is_accepted_with_a_warning():
    results, problems = _parse(CORPUS / "eval_results" / "warn_unquoted_date.yaml")
    assert results[0].date == "2025-01-15"
    assert [p.level for p in problems] == ["warning"] and "not quoted" in problems[0].reason


def test_community_results_carry_the_badge_and_pull_request():
    text = (CORPUS / "eval_results" / "good_minimal.yaml").read_text()
    results, _ = parse_eval_results(
        "org/m", ".eval_results/x.yaml", text, community=True, pr_url="https://h/pr/1"
    )
    assert results[0].community and "community" in results[0].badges and results[0].pr_url == "https://h/pr/1"


def test_results_convert_to_huggingface_hub_entries():
    results, _ = _parse(CORPUS / "eval_results" / "good_full.yaml")
    entries = to_eval_result_entries(results)
    assert entries[0].dataset_id == "cais/hle" and entries[0].source_org == "someorg"


def test_model_index_is_read_through_card_data():
    results, problems = parse_model_card(
        "org/fictional-7b", (CORPUS / "model_cards" / "good_model_index.md").read_text()
    )
    assert not problems
    mmlu, hella = results
    assert (mmlu.benchmark, mmlu.task_id, mmlu.metric, mmlu.value) == ("cais/mmlu", "all", "accuracy", 0.634)
    assert mmlu.verify_token and mmlu.origin == "model-index" and "source" in mmlu.badges
    assert "leaderboard" not in mmlu.badges  # the old format does not feed benchmark leaderboards
    assert (hella.benchmark, hella.task_id, hella.metric, hella.value) == (
        "hellaswag",
        "default",
        "acc_norm",
        81.2,
    )


def test_bad_model_index_results_become_problem_rows():
    results, problems = parse_model_card(
        "org/fictional-1b", (CORPUS / "model_cards" / "bad_model_index.md").read_text()
    )
    assert [r.benchmark for r in results] == ["cais/mmlu"]
    reasons = " | ".join(p.reason for p in problems)
    assert len(problems) == 2 and "dataset" in reasons and "value must be a number" in reasons


def test_a_card_without_model_index_has_no_results():
    assert parse_model_card("org/m", (CORPUS / "model_cards" / "no_model_index.md").read_text()) == ([], [])
    assert parse_model_card("org/m", "no front matter at all") == ([], [])


def _Request(model: str, **fields):  # noqa: N802 - reads like the record it builds
    return parse_request(f"{model}.json", {"model": model, **fields})


def test_models_to_read_are_the_requests_plus_the_definition_list():
    class Definition:
        hub_models = ("extra/model",)

    requests = [
        _Request("org/a"),
        _Request("local/x"),
        _Request("org/b", model_path="/m"),
        _Request("../evil"),
    ]
    assert models_to_read(Definition(), requests) == ["extra/model", "org/a"]


def test_demo_mirror_loads_with_community_and_problems():
    data = MirrorLoader(DEMO_MIRROR).load()
    assert {r.model for r in data.results} >= {
        "meridian-ai/Sable-70B-Instruct",
        "kestrel-nlp/Kestrel-12B-Instruct",
    }
    assert any(r.community for r in data.results)
    assert data.benchmarks["demo-benchmarks/gpqa"]["name"] == "GPQA (demo)"
    assert any(p.level == "error" for p in data.problems)


# --------------------------------------------------------------------------- over the Hub test server
@pytest.fixture
def hub(monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    with HubServer() as server:
        yield server


def test_loader_reads_main_and_open_pull_requests_and_caches_by_sha(hub, tmp_path):
    good = (CORPUS / "eval_results" / "good_full.yaml").read_text()
    card = (CORPUS / "model_cards" / "good_model_index.md").read_text()
    hub.add_repo("org/m", {".eval_results/hle.yaml": good, "README.md": card, "config.json": "{}"})
    hub.open_pull_request(
        "org/m", {".eval_results/gpqa.yaml": (CORPUS / "eval_results" / "good_minimal.yaml").read_text()}
    )
    hub.add_repo("org/plain", {"config.json": "{}"})
    loader = HubResultsLoader(endpoint=hub.url, cache_dir=tmp_path)
    data = loader.load(["org/m", "org/plain"])
    assert not data.notes and not data.problems
    main = [r for r in data.results if not r.community]
    community = [r for r in data.results if r.community]
    assert len(main) == 4  # two .eval_results entries and two model-index results
    assert [(r.benchmark, r.task_id) for r in community] == [("Idavidrein/gpqa", "gpqa_diamond")]
    assert community[0].pr_url.endswith("/org/m/discussions/1")

    hub.state.requests.clear()
    again = HubResultsLoader(endpoint=hub.url, cache_dir=tmp_path).load(["org/m"])
    assert len(again.results) == 5
    assert not [p for m, p in hub.state.requests if "/resolve/" in p]  # unchanged sha: nothing downloaded


def test_loader_falls_back_to_its_cache_when_the_hub_is_unreachable(hub, tmp_path):
    hub.add_repo(
        "org/m", {".eval_results/hle.yaml": (CORPUS / "eval_results" / "good_minimal.yaml").read_text()}
    )
    HubResultsLoader(endpoint=hub.url, cache_dir=tmp_path).load(["org/m"])
    offline = HubResultsLoader(endpoint="http://127.0.0.1:9", cache_dir=tmp_path).load(["org/m", "org/never"])
    assert len(offline.results) == 1 and offline.offline
    assert any("cached results as of" in n for n in offline.notes)
    assert any(n.startswith("org/never: not read") for n in offline.notes)


def test_bad_files_in_a_model_repo_become_problems_not_crashes(hub, tmp_path):
    hub.add_repo("org/m", {".eval_results/a.yaml": (CORPUS / "eval_results" / "bad_value_not_a_number.yaml").read_text(),
                           ".eval_results/b.yaml": (CORPUS / "eval_results" / "bad_yaml_syntax.yaml").read_text()})  # fmt: skip
    data = HubResultsLoader(endpoint=hub.url, cache_dir=tmp_path).load(["org/m"])
    assert data.results == [] and len(data.problems) == 2


# --------------------------------------------------------------------------- publishing back
def _definition(tmp_path: Path, publish: bool = True):
    from lib.core.config import parse_definition

    data = {
        "title": "T",
        "evaluation": {"publish_eval_results": publish, "publish_results_url": "https://example.org/results"},
        "benchmarks": [
            {"id": "tiny", "task": "tiny_mc", "metric": "acc", "num_fewshot": 0,
             "hub_benchmark": "org/tiny-bench", "hub_task": "default"},
            {"id": "other", "task": "tiny_gen", "metric": "exact_match"},
        ],
    }  # fmt: skip
    return parse_definition(data, tmp_path / "def.yaml")


def test_publish_writes_eval_results_yaml_for_mapped_benchmarks(tmp_path):
    from evaluator.publish import eval_results_files

    document = {
        "results": {
            "tiny_mc": {"acc,none": 0.25, "acc_stderr,none": 0.1},
            "tiny_gen": {"exact_match,none": 1},
        }
    }
    files = eval_results_files(_definition(tmp_path), document, "https://example.org/results/x.json")
    assert list(files) == [".eval_results/tiny.yaml"]
    entry = yaml.safe_load(files[".eval_results/tiny.yaml"])[0]
    assert entry["dataset"] == {"id": "org/tiny-bench", "task_id": "default"} and entry["value"] == 25.0
    assert entry["source"]["url"] == "https://example.org/results/x.json"
    results, problems = parse_eval_results(
        "org/m", ".eval_results/tiny.yaml", files[".eval_results/tiny.yaml"]
    )
    assert results and not [p for p in problems if p.level == "error"]  # our own parser accepts what we write


def test_evaluator_opens_a_pull_request_on_the_model_repo(hub, tmp_path):
    from evaluator.publish import EvalResultsPublisher
    from evaluator.worker import Worker, WorkerSettings
    from lib.queue.requests import create_request
    from lib.stores import LocalFileStore
    from tests.lmeval_fixtures import QuickRunner, offline_config

    main_sha = hub.add_repo("org/m", {"config.json": "{}"})
    requests, results = LocalFileStore(tmp_path / "requests"), LocalFileStore(tmp_path / "results")
    _, path = create_request(requests, {"model": "org/m", "revision": "main", "precision": "float32",
                                        "weight_type": "Original", "status": "PENDING"})  # fmt: skip
    publisher = EvalResultsPublisher(_definition(tmp_path), str(tmp_path / "results"), endpoint=hub.url)
    worker = Worker(requests, results, offline_config([tmp_path]), QuickRunner(),
                    WorkerSettings(worker_id="w", heartbeat_s=0.0), publisher=publisher)  # fmt: skip
    assert worker.run_burst() == 1
    request = json.loads(requests.read_bytes(path))
    assert request["status"] == "FINISHED" and request["eval_results_pr"].endswith("/org/m/discussions/1")
    repo = hub.repo("org/m")
    assert repo.branches["main"] == main_sha  # main untouched: a pull request only
    entry = yaml.safe_load(repo.commits[repo.branches["refs/pr/1"]][".eval_results/tiny.yaml"])[0]
    assert entry["value"] == 25.0 and entry["source"]["url"].startswith("https://example.org/results/org__m/")


def test_a_failed_publish_is_recorded_and_the_request_still_finishes(hub, tmp_path):
    from evaluator.publish import EvalResultsPublisher
    from evaluator.worker import Worker, WorkerSettings
    from lib.queue.requests import create_request
    from lib.stores import LocalFileStore
    from tests.lmeval_fixtures import QuickRunner, offline_config

    requests, results = LocalFileStore(tmp_path / "requests"), LocalFileStore(tmp_path / "results")
    _, path = create_request(requests, {"model": "org/vanished", "revision": "main", "precision": "float32",
                                        "weight_type": "Original", "status": "PENDING"})  # fmt: skip
    publisher = EvalResultsPublisher(_definition(tmp_path), "", endpoint=hub.url, token="hf_secret_publish")
    worker = Worker(requests, results, offline_config([tmp_path]), QuickRunner(),
                    WorkerSettings(worker_id="w", heartbeat_s=0.0), publisher=publisher)  # fmt: skip
    assert worker.run_burst() == 1
    request = json.loads(requests.read_bytes(path))
    assert request["status"] == "FINISHED" and "org/vanished" in request["publish_error"]
    assert "hf_secret_publish" not in request["publish_error"]


def test_publishing_is_off_unless_the_definition_enables_it(tmp_path):
    from evaluator.publish import publisher_for

    assert publisher_for(_definition(tmp_path, publish=False), "") is None
    assert publisher_for(_definition(tmp_path, publish=True), "") is not None
