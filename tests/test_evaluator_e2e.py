"""End to end on one machine: a local model submitted as the sidebar would, evaluated, ranked on the leaderboard."""

from __future__ import annotations

import pytest

from evaluator.jobs import EvaluationConfig
from evaluator.runner import SubprocessRunner
from evaluator.worker import Worker, WorkerSettings
from lib.core.config import load_definition
from lib.stores import open_store
from tests import lmeval_fixtures
from tests.lmeval_fixtures import read_json, write_definition

tiny_model = lmeval_fixtures.tiny_model
hf_offline = lmeval_fixtures.hf_offline

pytestmark = pytest.mark.lmeval


def test_submitted_local_model_is_evaluated_and_appears_on_the_leaderboard(tmp_path, tiny_model, hf_offline):
    submissions = pytest.importorskip("lib.queue.submissions")
    from lib.analysis.ranking import leaderboard_frame
    from lib.index import build_index

    definition = load_definition(write_definition(tmp_path, [tiny_model.parent]))
    requests = open_store(definition.requests_store)
    (tmp_path / "requests").mkdir()
    (tmp_path / "results").mkdir()
    form = submissions.SubmissionForm(
        model=str(tiny_model), precision="float32", model_type="pretrained", sender="tester"
    )
    submitted = submissions.submit(form, definition, requests)
    assert submitted.accepted, submitted.message

    config = EvaluationConfig.from_definition(definition, device="cpu", batch_size="8")
    worker = Worker(
        requests,
        open_store(definition.results_store),
        config,
        SubprocessRunner(poll_s=0.2),
        WorkerSettings(worker_id="e2e", heartbeat_s=1.0),
    )
    assert worker.run_burst() == 1
    request = read_json(tmp_path / "requests" / submitted.path)
    assert request["status"] == "FINISHED", request.get("error")

    index = build_index(definition)
    frame = leaderboard_frame(index, definition.benchmarks)
    row = frame[frame["model"] == f"local/{tiny_model.name}"]
    assert len(row) == 1
    assert row["tiny_mc_raw"].notna().all() and row["tiny_gen_raw"].notna().all()
