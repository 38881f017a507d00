"""The request status machine: one table of edges enforced for every caller, consistent job fields, leases
written by their holder, and typed request records that refuse what they cannot trust."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from evaluator.worker import Worker, WorkerSettings
from lib.core.records import Status
from lib.core.request import RequestInvalid, iso_time, parse_request
from lib.queue import requests as rq
from lib.queue.status import EDGES, JOB_FIELDS, LIVE_FIELDS, IllegalTransition
from lib.stores import open_store
from tests.lmeval_fixtures import QuickRunner, add_request, fake_model_folder, offline_config

EDGE_CALLS = {
    "approve": lambda store, path, job: rq.approve(store, path, "admin"),
    "claim": lambda store, path, job: rq.claim(store, path, "w", "job-2", 300.0, time.time()),
    "finish": lambda store, path, job: rq.finish(store, path, job, time.time(), "org__m/results.json"),
    "fail": lambda store, path, job: rq.fail(store, path, job, time.time(), "broken"),
    "release": lambda store, path, job: rq.release(store, path, job, time.time(), "stopping"),
    "requeue": lambda store, path, job: rq.requeue(store, path, "admin"),
}


def _write(folder: Path, status: Status, **fields) -> str:
    path = "org/m_eval_request_False_float16_Original.json"
    (folder / "org").mkdir(parents=True, exist_ok=True)
    data = {"model": "org/m", "precision": "float16", "weight_type": "Original", "status": status.value}
    if status == Status.RUNNING:
        data.update(job_id="job-1", worker="w", job_heartbeat=iso_time(time.time()))
    data.update(fields)
    (folder / path).write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("edge", sorted(EDGE_CALLS))
def test_only_the_edges_of_the_table_are_allowed(tmp_path, status, edge):
    path = _write(tmp_path, status)
    store = open_store(str(tmp_path))
    legal = {(frm, name): to for (frm, to), name in EDGES.items()}
    if (status, edge) in legal:
        assert EDGE_CALLS[edge](store, path, "job-1").status == legal[(status, edge)]
    else:
        before = (tmp_path / path).read_bytes()
        with pytest.raises(IllegalTransition):
            EDGE_CALLS[edge](store, path, "job-1")
        assert (tmp_path / path).read_bytes() == before


def _check_fields(request) -> None:
    present = {k for k in request.raw if request.raw[k] not in (None, "")}
    if request.status == Status.RUNNING:
        assert set(LIVE_FIELDS) <= present and request.job_id
    else:
        assert not present & set(LIVE_FIELDS), (request.status, present & set(LIVE_FIELDS))
    if request.status in (Status.PENDING, Status.APPROVAL):
        assert not present & set(JOB_FIELDS), (request.status, present & set(JOB_FIELDS))
    assert bool(request.error) == (request.status == Status.FAILED)
    assert request.status_history[-1].status == request.status.value


def test_every_path_through_the_machine_leaves_the_same_fields(tmp_path):
    path = _write(tmp_path, Status.APPROVAL)
    store = open_store(str(tmp_path))
    now = time.time()
    steps = [
        lambda: rq.approve(store, path, "admin"),
        lambda: rq.claim(store, path, "w1", "j1", 300.0, now),
        lambda: rq.update_job(
            store, path, "j1", now + 1, lease_s=300.0, progress={"task": "t", "done": 1, "total": 2}
        ),
        lambda: rq.fail(store, path, "j1", now + 2, "OOM", log_tail="...OOM", log_file="logs/x.log"),
        lambda: rq.requeue(store, path, "admin"),
        lambda: rq.claim(store, path, "w2", "j2", 300.0, now + 3),
        lambda: rq.release(store, path, "j2", now + 4, "w2 stopped (SIGTERM)"),
        lambda: rq.claim(store, path, "w3", "j3", 300.0, now + 5),
        lambda: rq.finish(store, path, "j3", now + 6, "org__m/results.json", log_file="logs/x.log"),
    ]
    for step in steps:
        _check_fields(step())
    final, _ = rq.read_request(store, path)
    assert final.results_file == "org__m/results.json" and final.worker == "w3" and final.attempts == 0
    assert [h.status for h in final.status_history][-3:] == ["PENDING", "RUNNING", "FINISHED"]


def test_a_worker_changes_only_the_job_it_holds(tmp_path):
    path = _write(tmp_path, Status.RUNNING)
    store = open_store(str(tmp_path))
    for attempt in (
        lambda: rq.finish(store, path, "someone-else", time.time(), "x.json"),
        lambda: rq.fail(store, path, "someone-else", time.time(), "x"),
        lambda: rq.update_job(store, path, "someone-else", time.time(), progress={"done": 1}),
    ):
        with pytest.raises(rq.RequestConflict):
            attempt()
    with pytest.raises(ValueError):
        rq.update_job(store, path, "job-1", time.time(), status="FINISHED")
    with pytest.raises(ValueError):
        rq.update_request(store, path, job_id="mine")


def _worker(stores: dict[str, Path], worker_id: str, lease_s: float, clock) -> Worker:
    return Worker(
        open_store(str(stores["requests"])),
        open_store(str(stores["results"])),
        offline_config([stores["models"]]),
        QuickRunner(),
        WorkerSettings(worker_id=worker_id, lease_s=lease_s, heartbeat_s=0.0),
        clock=clock,
    )


class Clock:
    def __init__(self) -> None:
        self.t = time.time()

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def stores(tmp_path: Path) -> dict[str, Path]:
    paths = {name: tmp_path / name for name in ("requests", "results", "models")}
    for path in paths.values():
        path.mkdir()
    return paths


def test_a_worker_with_a_short_lease_never_expires_a_healthy_job_of_a_long_lease(stores):
    path = add_request(stores["requests"], fake_model_folder(stores["models"]))
    clock = Clock()
    long_lease = _worker(stores, "patient", 3600.0, clock)
    claimed = long_lease.claim_next()
    assert claimed.lease_expires_at == iso_time(clock.t + 3600.0)
    clock.t += 1000  # far past the short lease, well within the holder's
    short_lease = _worker(stores, "hasty", 60.0, clock)
    assert short_lease.recover_stale() == []
    assert rq.read_request(short_lease.requests, path)[0].status == Status.RUNNING
    clock.t += 3000  # now past the holder's own lease
    assert short_lease.recover_stale() == [path]
    expired, _ = rq.read_request(short_lease.requests, path)
    assert expired.status == Status.PENDING and expired.attempts == 1 and "patient" in expired.requeue_reason
    assert expired.job_id is None and expired.lease_expires_at is None


def test_a_request_written_before_leases_falls_back_to_its_heartbeat(stores):
    beat = time.time() - 1000
    path = _write(stores["requests"], Status.RUNNING, job_heartbeat=iso_time(beat))
    clock = Clock()
    assert _worker(stores, "w", 3600.0, clock).recover_stale() == []
    assert _worker(stores, "w", 300.0, clock).recover_stale() == [path]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([1, 2], "must hold a JSON object"),
        ({"status": "PENDING"}, "model"),
        ({"model": "", "status": "PENDING"}, "model"),
        ({"model": "org/m\x1b[31m"}, "control characters"),
        ({"model": "o/" + "m" * 300}, "longer than"),
        ({"model": "org/m", "status": "DONE-ISH"}, "unknown request status"),
        ({"model": "org/m", "status": 3}, "status"),
        ({"model": "org/m", "attempts": "three"}, "attempts"),
        ({"model": "org/m", "attempts": 10**400}, "attempts"),
        ({"model": "org/m", "priority": 1e308}, "priority"),
        ({"model": "org/m", "precision": ["float16"]}, "precision"),
        ({"model": "org/m", "private": "perhaps"}, "private"),
        ({"model": "org/m", "progress": {"done": "half"}}, "progress.done"),
        ({"model": "org/m", "status_history": "yesterday"}, "status_history"),
        ({"model": "org/m", "job_heartbeat": "soon"}, "job_heartbeat"),
    ],
)
def test_a_request_that_does_not_validate_says_which_field_and_why(data, reason):
    with pytest.raises(RequestInvalid) as caught:
        parse_request("org/m.json", data)
    message = str(caught.value)
    assert reason in message and len(message) < 1200
    assert "1" * 50 not in message  # the bad value itself is never echoed


def test_loose_display_fields_of_old_template_files_still_read():
    request = parse_request(
        "org/m.json",
        {"model": "org/m", "params": "N/A", "likes": 1e400, "architectures": "LlamaForCausalLM",
         "revision": None, "license": None, "status": "pending", "step": "x", "merged": "true"},
    )  # fmt: skip
    assert request.params is None and request.likes is None and request.step is None
    assert request.architectures == ("LlamaForCausalLM",) and request.revision == "main"
    assert request.status == Status.PENDING and request.merged is True and request.license == ""


@pytest.mark.parametrize("written", [0, 0.0, "0", -1, -7.5])
def test_a_parameter_count_of_zero_or_below_reads_as_unknown(written):
    """The template writes 0 when it cannot count a model's parameters: that is no size (#Params blank)."""
    request = parse_request("org/m.json", {"model": "org/m", "params": written})
    assert request.params is None
    assert parse_request("org/m.json", {"model": "org/m", "params": 0.0001}).params == 0.0001
