"""The demo store: deterministic, complete (every category, precision, status) and self-consistent."""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from lib.core.config import load_definition
from lib.core.records import Status
from lib.demo.generator import README_MARKER, generate_demo_store
from lib.queue.requests import read_requests
from lib.stores.local import LocalFileStore

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo"
REAL_ORGS = (
    "meta-llama",
    "mistralai",
    "eleutherai",
    "google",
    "qwen",
    "microsoft",
    "allenai",
    "tiiuae",
    "01-ai",
)
STEP_RE = re.compile(r"step-?0*(\d+)")


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate_demo_store(out)
    return out


@pytest.fixture(scope="module")
def requests(fresh: Path):
    found, problems = read_requests(LocalFileStore(fresh / "requests"))
    assert problems == []
    return found


@pytest.fixture(scope="module")
def results(fresh: Path) -> dict[str, dict]:
    root = fresh / "results"
    return {p.relative_to(root).as_posix(): json.loads(p.read_text()) for p in sorted(root.rglob("*.json"))}


def test_committed_demo_store_matches_a_fresh_generation(fresh: Path) -> None:
    assert DEMO.is_dir(), "demo/ is missing: run `python -m lib demo`"
    committed, regenerated = _digests(DEMO), _digests(fresh)
    assert sorted(committed) == sorted(regenerated), "file lists differ: run `python -m lib demo`"
    changed = [path for path in committed if committed[path] != regenerated[path]]
    assert changed == [], f"files differ from a fresh generation: {changed[:5]}"


def test_regenerating_in_place_is_byte_identical_and_removes_stale_files(fresh: Path, tmp_path: Path) -> None:
    generate_demo_store(tmp_path)
    stale = tmp_path / "results" / "gone__model" / "results_2020-01-01T00-00-00.000000.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    generate_demo_store(tmp_path)
    assert _digests(tmp_path) == _digests(fresh)


def test_refuses_to_write_into_a_folder_that_is_not_a_demo_store(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        generate_demo_store(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "mine"


def test_readme_describes_the_store(fresh: Path) -> None:
    text = (fresh / "README.md").read_text(encoding="utf-8")
    assert text.startswith(README_MARKER)
    assert "python -m lib demo" in text


def test_every_category_precision_weight_type_and_status_is_present(requests) -> None:
    definition = load_definition("demo")
    categories = {r.model_type.split(" : ", 1)[1] for r in requests}
    assert categories == {c.id for c in definition.categories}
    symbols = {c.id: c.symbol for c in definition.categories}
    for request in requests:
        category = request.model_type.split(" : ", 1)[1]
        assert request.model_type == f"{symbols[category]} : {category}"
    assert {r.precision for r in requests} == set(definition.precisions)
    assert {r.weight_type for r in requests} == set(definition.weight_types)
    counts = defaultdict(int)
    for r in requests:
        counts[r.status] += 1
    assert {Status.FINISHED, Status.PENDING, Status.RUNNING, Status.FAILED, Status.APPROVAL} <= set(counts)
    assert counts[Status.PENDING] >= 5 and counts[Status.RUNNING] == 2 and counts[Status.FAILED] == 4


def test_request_fields_follow_the_schema(requests) -> None:
    for r in requests:
        if r.weight_type in ("Delta", "Adapter"):
            assert r.base_model, r.path
        if r.model_type.endswith(": chat"):
            assert r.use_chat_template, r.path
        if r.status is Status.FAILED:
            assert r.error and r.log_tail
        if r.status is Status.RUNNING:
            assert r.job_start_time <= r.job_heartbeat
            progress = r.raw["progress"]  # the evaluator's shape, which the Queue page draws
            assert r.progress is not None and r.progress.total == progress["total"]
            assert 0 < progress["done"] < progress["total"] and progress["task"]
        assert r.status_history[-1].status == r.status.value
        if not STEP_RE.search(r.revision):
            assert re.fullmatch(r"[0-9a-f]{40}", r.revision), r.path
    assert any(r.flagged for r in requests)
    assert any(r.merged for r in requests) and any(r.moe for r in requests)
    assert any(r.on_hub is False for r in requests)
    failures = " ".join(r.error for r in requests if r.status is Status.FAILED)
    assert "out of memory" in failures and "trust_remote_code" in failures


def test_sizes_cover_every_bucket(requests) -> None:
    params = [r.params for r in requests if r.status is Status.FINISHED]
    assert min(params) <= 0.15 and max(params) >= 130
    buckets = (0, 3, 7, 65, 141)
    for low, high in zip(buckets, buckets[1:], strict=False):
        assert any(low < p <= high for p in params), (low, high)


def test_some_models_are_evaluated_at_two_precisions_and_two_commits(requests) -> None:
    finished = [r for r in requests if r.status is Status.FINISHED and not STEP_RE.search(r.revision)]
    precisions, commits = defaultdict(set), defaultdict(set)
    for r in finished:
        precisions[(r.model, r.revision)].add(r.precision)
        commits[(r.model, r.precision)].add(r.revision)
    assert sum(len(v) > 1 for v in precisions.values()) >= 2
    assert sum(len(v) > 1 for v in commits.values()) >= 2


def test_official_providers_have_models(requests) -> None:
    official = set(load_definition("demo").official_providers)
    assert {r.model.split("/")[0] for r in requests} >= official


def test_every_result_names_its_request(results, fresh: Path) -> None:
    assert len(results) >= 150
    for path, document in results.items():
        link = document["request"]
        request = json.loads((fresh / "requests" / link["path"]).read_text())
        assert request["status"] == "FINISHED", path
        for key in ("model", "revision", "precision", "weight_type", "use_chat_template"):
            assert request[key] == link[key], (path, key)
        assert document["model_name"] == link["model"]
        assert path.split("/")[0] == link["model"].replace("/", "__")
        assert document["config"]["model_args"]["revision"] == link["revision"]


def test_results_have_the_lm_eval_layout(results) -> None:
    document = next(iter(results.values()))
    assert document["lm_eval_version"] == "0.4.13"
    assert set(document["groups"]) == {
        "leaderboard_bbh",
        "leaderboard_gpqa",
        "leaderboard_math_hard",
        "leaderboard_musr",
    }
    assert len(document["group_subtasks"]["leaderboard_math_hard"]) == 7
    assert document["n-shot"]["leaderboard_bbh_navigate"] == 3
    assert document["n-shot"]["leaderboard_mmlu_pro"] == 5
    assert isinstance(document["date"], float) and isinstance(document["total_evaluation_time_seconds"], str)
    gpqa = document["results"]["leaderboard_gpqa_main"]
    p, n = gpqa["acc_norm,none"], document["n-samples"]["leaderboard_gpqa_main"]["effective"]
    assert gpqa["acc_norm_stderr,none"] == pytest.approx((p * (1 - p) / (n - 1)) ** 0.5, rel=1e-9)
    assert any(
        d["results"]["leaderboard_ifeval"]["inst_level_strict_acc_stderr,none"] == "N/A"
        for d in results.values()
    )
    # some small models score below chance, so normalization clips them to 0
    assert any(d["results"]["leaderboard_gpqa"]["acc_norm,none"] < 0.25 for d in results.values())


def test_bigger_and_chat_models_score_better(results) -> None:
    small, large = [], []
    for document in results.values():
        if "lambada_openai" in document["results"]:
            continue
        score = document["results"]["leaderboard_mmlu_pro"]["acc,none"]
        size = document["config"]["model_num_parameters"] / 1e9
        (small if size < 3 else large if size > 30 else []).append(score)
    assert sum(large) / len(large) > sum(small) / len(small) + 0.2


def _curves(results) -> dict[str, list[tuple[int, float, float]]]:
    curves: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for document in results.values():
        lambada = document["results"].get("lambada_openai")
        if lambada:
            step = int(STEP_RE.search(document["config"]["model_args"]["revision"]).group(1))
            curves[document["model_name"]].append((step, lambada["acc,none"], lambada["perplexity,none"]))
    return {model: sorted(points) for model, points in curves.items()}


def test_trainings_have_twenty_checkpoints_with_realistic_curves(results) -> None:
    curves = _curves(results)
    assert len(curves) >= 3
    for model, points in curves.items():
        assert len(points) >= 20, model
        assert points[-1][1] > points[0][1] + 0.2, model  # accuracy rises
        assert points[-1][2] < points[0][2], model  # perplexity falls
        assert document_higher_is_better(results, model) == {"acc": True, "perplexity": False}


def document_higher_is_better(results, model: str) -> dict[str, bool]:
    document = next(
        d for d in results.values() if d["model_name"] == model and "lambada_openai" in d["results"]
    )
    return document["higher_is_better"]["lambada_openai"]


def test_one_training_peaks_before_its_last_checkpoint(results) -> None:
    declining = []
    for model, points in _curves(results).items():
        best = max(points, key=lambda p: p[1])
        if best[0] != points[-1][0] and best[1] > points[-1][1] + 0.03:
            declining.append(model)
    assert declining


def test_one_training_has_a_gap(results) -> None:
    gapped = []
    for model, points in _curves(results).items():
        steps = [p[0] for p in points]
        gaps = sorted(b - a for a, b in zip(steps, steps[1:], strict=False))
        if gaps[-1] >= 3 * gaps[len(gaps) // 2]:
            gapped.append(model)
    assert "meridian-ai/Cirrus-7B" in gapped


def test_revision_schemes_and_explicit_training_fields(requests) -> None:
    revisions = {r.revision for r in requests}
    assert any(re.fullmatch(r"step\d+", r) for r in revisions)
    assert any(re.fullmatch(r"step\d+-tokens\d+B", r) for r in revisions)
    assert any(re.fullmatch(r"stage1-step\d+-tokens\d+B", r) for r in revisions)
    with_fields = {r.model for r in requests if r.training}
    without_fields = {r.model for r in requests if STEP_RE.search(r.revision) and not r.training}
    assert len(with_fields) == 1 and len(without_fields) >= 2
    tern = [r for r in requests if r.training]
    assert all(r.step is not None and r.tokens and r.tokens >= 1e9 for r in tern)


def test_model_names_are_fictional(requests, results) -> None:
    names = {r.model for r in requests} | {r.base_model for r in requests if r.base_model}
    names |= {d["model_name"] for d in results.values()}
    for name in names:
        assert name.split("/")[0].lower() not in REAL_ORGS, name


def test_store_stays_small(fresh: Path) -> None:
    assert sum(p.stat().st_size for p in fresh.rglob("*") if p.is_file()) < 4.2e6
