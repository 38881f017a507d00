"""The evaluator in burst mode drains a queue where malformed and hostile request files surround valid ones:
each valid one FINISHED, each malformed one FAILED with a reason (its text kept) or skipped with a warning,
and the process never crashes. The command line and the Queue page list what is left as malformed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lib.core.records import Status
from lib.queue.requests import MAX_REQUEST_BYTES, decode_request, read_requests
from lib.stores import open_store
from tests.hostile_requests import CLASSES, write_request_corpus
from tests.lmeval_fixtures import ROOT, add_request, fake_model_folder, start_worker, write_definition


@pytest.fixture(scope="module")
def drained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("hostile-queue")
    requests, models = root / "requests", root / "models"
    models.mkdir()
    expected = write_request_corpus(requests, seed=7, copies=2)
    before = {p: (requests / p).read_bytes() for p, (_, o) in expected.items() if (requests / p).is_file()}
    model = fake_model_folder(models)
    valid = [
        add_request(requests, model, name="first", submitted_time="2026-01-01T00:00:00Z"),
        add_request(requests, model, name="middle", submitted_time="2026-01-15T00:00:00Z"),
        add_request(requests, model, name="last", submitted_time="2026-02-01T00:00:00Z"),
    ]
    definition = write_definition(root, [models])
    proc = start_worker(definition, "--burst", "--runner", "tests.lmeval_fixtures:QuickRunner", "-v")
    out, _ = proc.communicate(timeout=300)
    return {
        "root": root,
        "requests": requests,
        "expected": expected,
        "before": before,
        "valid": valid,
        "rc": proc.returncode,
        "out": out.decode("utf-8", errors="replace"),
        "definition": definition,
    }


def _data(drained: dict, path: str) -> dict:
    return json.loads((drained["requests"] / path).read_text(encoding="utf-8"))


def test_the_burst_ends_normally_with_every_valid_request_finished(drained):
    assert drained["rc"] == 1, drained["out"][-3000:]  # 1: some requests FAILED (the malformed, the refused)
    assert "Traceback" not in drained["out"]
    assert "\x1b" not in drained["out"]  # hostile ids are printed escaped, never as terminal controls
    settled = {"FINISHED": 0, "FAILED": 0}  # what this burst settled, read back from the files
    for path, (_, outcome) in [
        *drained["expected"].items(),
        *((p, ("valid", "valid")) for p in drained["valid"]),
    ]:
        if outcome in ("left", "skipped"):
            continue
        status = _data(drained, path).get("status")
        settled[status] = settled.get(status, 0) + 1
    total = [line for line in drained["out"].splitlines() if line.startswith("total: ")]
    expected = f"total: {settled['FINISHED']} finished, {settled['FAILED']} failed in "
    assert len(total) == 1 and total[0].startswith(expected), (total, expected)
    for path in drained["valid"]:
        data = _data(drained, path)
        assert data["status"] == "FINISHED", (path, data.get("error"))
        assert (drained["root"] / "results" / data["results_file"]).is_file()


def test_every_malformed_request_is_failed_with_its_reason_and_its_text(drained):
    malformed = [p for p, (_, outcome) in drained["expected"].items() if outcome == "malformed"]
    assert len(malformed) >= 60
    for path in malformed:
        data = _data(drained, path)
        kind = drained["expected"][path][0]
        assert data["status"] == "FAILED", kind
        assert data["error"].startswith("malformed request file: "), kind
        assert len(data["error"]) < 2000, kind
        original = drained["before"][path][:20_000].decode("utf-8", errors="replace")
        assert data["malformed_content"] == original, kind
        decode_request(path, (drained["requests"] / path).read_bytes())  # the rewrite itself is valid


def test_hostile_model_ids_are_refused_by_the_evaluator_with_a_reason(drained):
    for path, (kind, outcome) in drained["expected"].items():
        if outcome == "refused":
            data = _data(drained, path)
            assert data["status"] == "FAILED" and data["error"] and "malformed" not in data["error"], kind
            assert "results_file" not in data


def test_final_or_unwritable_files_are_left_alone_with_a_warning(drained):
    requests = drained["requests"]
    for path, (kind, outcome) in drained["expected"].items():
        if outcome == "left" or kind == "not_named_like_a_request":
            assert (requests / path).read_bytes() == drained["before"][path], kind
        elif kind == "directory_named_json":
            assert (requests / path).is_dir()
        elif kind == "dangling_symlink":
            assert (requests / path).is_symlink()
        if outcome == "skipped":
            assert path in drained["out"], f"no warning names {path}"


def test_fuzzed_requests_end_somewhere_final(drained):
    for path, (kind, _) in drained["expected"].items():
        if kind == "fuzzed":
            data = _data(drained, path)
            assert data["status"] in ("FINISHED", "FAILED")


def test_nothing_claimable_is_left_and_every_class_was_tried(drained):
    requests, problems = read_requests(open_store(str(drained["requests"])))
    assert not [r.path for r in requests if r.status in (Status.PENDING, Status.RUNNING, Status.RERUN)]
    left = {p.path for p in problems}
    assert left == {p for p, (_, outcome) in drained["expected"].items() if outcome in ("left", "skipped")}
    assert {kind for kind, _ in drained["expected"].values()} >= set(CLASSES)
    oversized = [p for p, (kind, _) in drained["expected"].items() if kind == "file_over_two_megabytes"]
    assert all(len(drained["before"][p]) > MAX_REQUEST_BYTES for p in oversized) and oversized


def test_the_queue_command_lists_what_is_left_as_malformed(drained):
    env_root = str(ROOT)
    command = [sys.executable, "-m", "lib", "queue", "--requests", str(drained["requests"])]
    proc = subprocess.run(command, cwd=env_root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    listed = [line for line in proc.stderr.splitlines() if line.startswith("malformed: ")]
    for path, (_, outcome) in drained["expected"].items():
        if outcome in ("left", "skipped"):
            assert any(line.startswith(f"malformed: {path}: ") for line in listed), path
    assert "FAILED" in proc.stdout and "malformed request file" in proc.stdout
