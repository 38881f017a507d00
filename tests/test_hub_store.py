"""The Hub store over the real huggingface_hub client and the local Hub-compatible server.

Every read and write path: listing, reading, incremental refresh, single-commit writes, exclusive
creation raced by two writers, compare-and-swap losing to a concurrent change, a conflict storm, the
offline fallback from the cache with its "as of" time, a revoked token and a vanished repo, the index
built over Hub stores, and an evaluator claiming and finishing a request on a Hub requests store.
"""

from __future__ import annotations

import json
import logging
import threading

import pytest

from lib.stores.base import StoreError, StoreWriteError
from lib.stores.hub import HubFileStore
from tests.hub_server import HubServer

REQUEST = {
    "model": "org/model-a",
    "revision": "main",
    "precision": "float16",
    "weight_type": "Original",
    "status": "PENDING",
    "submitted_time": "2026-01-01T00:00:00Z",
}
REQUEST_PATH = "org/model-a_eval_request_False_float16_Original.json"
SECRET = "hf_secretTOKENvalue123"


@pytest.fixture
def hub(monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    with HubServer() as server:
        yield server


def make_store(server: HubServer, tmp_path, name: str = "org/requests", **kwargs) -> HubFileStore:
    return HubFileStore(
        name, endpoint=server.url, cache_dir=tmp_path / "cache", sleep=lambda s: None, **kwargs
    )


def downloads(server: HubServer) -> list[str]:
    return [p for m, p in server.state.requests if m == "GET" and "/resolve/" in p]


def test_list_and_read_files_of_a_dataset_repo(hub, tmp_path):
    hub.add_repo("org/requests", {REQUEST_PATH: json.dumps(REQUEST), "README.md": "hi"}, repo_type="dataset")
    store = make_store(hub, tmp_path)
    files = store.list_files((".json",))
    assert [f.path for f in files] == [REQUEST_PATH]
    assert json.loads(store.read_bytes(REQUEST_PATH))["model"] == "org/model-a"
    assert store.version(REQUEST_PATH) == files[0].version
    assert store.version("org/missing.json") is None
    assert store.as_of is not None and not store.offline
    with pytest.raises(FileNotFoundError):
        store.read_bytes("org/missing.json")


def test_refresh_downloads_only_the_changed_files(hub, tmp_path):
    files = {f"org/m{i}.json": json.dumps({"i": i}) for i in range(5)}
    hub.add_repo("org/results", files, repo_type="dataset")
    store = make_store(hub, tmp_path, "org/results")
    first = {f.path: f.version for f in store.list_files()}
    assert len(first) == 5 and len(set(downloads(hub))) == 5

    hub.state.requests.clear()
    assert {f.path: f.version for f in store.list_files()} == first  # nothing changed: no download
    assert downloads(hub) == []

    hub.add_repo(
        "org/results", {"org/m1.json": json.dumps({"i": "changed"}), "org/new.json": "{}"}, "dataset"
    )
    hub.state.requests.clear()
    second = {f.path: f.version for f in store.list_files()}
    fetched = sorted({p.rsplit("/resolve/", 1)[1].split("/", 1)[1] for p in downloads(hub)})
    assert fetched == ["org/m1.json", "org/new.json"]
    assert second["org/m1.json"] != first["org/m1.json"] and second["org/m0.json"] == first["org/m0.json"]
    assert json.loads(store.read_bytes("org/m1.json")) == {"i": "changed"}

    # A second store on the same cache (the next app start) downloads nothing either.
    hub.state.requests.clear()
    again = make_store(hub, tmp_path, "org/results")
    assert {f.path: f.version for f in again.list_files()} == second and downloads(hub) == []


def test_deleted_files_disappear_from_the_listing(hub, tmp_path):
    hub.add_repo("org/results", {"a.json": "{}", "b.json": "{}"}, repo_type="dataset")
    store = make_store(hub, tmp_path, "org/results")
    assert len(store.list_files()) == 2
    other = make_store(hub, tmp_path / "other", "org/results")
    other.delete("b.json")
    assert [f.path for f in store.list_files()] == ["a.json"]
    with pytest.raises(FileNotFoundError):
        store.read_bytes("b.json")


def test_write_is_one_commit_and_visible_to_another_store(hub, tmp_path):
    hub.add_repo("org/results", {}, repo_type="dataset")
    store = make_store(hub, tmp_path, "org/results")
    commits_before = len(hub.repo("org/results", "dataset").commits)
    store.write_bytes("org__m/results_1.json", b'{"results": {}}', message="Results for org/m")
    assert len(hub.repo("org/results", "dataset").commits) == commits_before + 1
    assert store.read_bytes("org__m/results_1.json") == b'{"results": {}}'
    other = make_store(hub, tmp_path / "other", "org/results")
    assert [f.path for f in other.list_files()] == ["org__m/results_1.json"]


def test_create_exclusive_race_has_one_winner(hub, tmp_path):
    hub.add_repo("org/requests", {}, repo_type="dataset")
    stores = [make_store(hub, tmp_path / f"w{i}") for i in range(2)]
    results: dict[int, bool] = {}

    def write(i: int) -> None:
        results[i] = stores[i].create_exclusive(REQUEST_PATH, json.dumps({**REQUEST, "by": i}).encode())

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [False, True]
    winner = next(i for i, ok in results.items() if ok)
    loser = stores[1 - winner]
    loser.list_files()
    assert json.loads(loser.read_bytes(REQUEST_PATH))["by"] == winner
    assert stores[0].create_exclusive(REQUEST_PATH, b"{}") is False


def test_create_exclusive_loser_of_a_412_sees_the_file_and_returns_false(hub, tmp_path):
    hub.add_repo("org/requests", {}, repo_type="dataset")
    store = make_store(hub, tmp_path)
    rival = make_store(hub, tmp_path / "rival")
    fired = []

    def rival_commits_first(repo):
        if not fired:
            fired.append(True)
            repo.commit("main", {REQUEST_PATH: b'{"by": "rival"}'}, message="rival")

    hub.state.before_commit = rival_commits_first
    assert store.create_exclusive(REQUEST_PATH, b'{"by": "us"}') is False
    hub.state.before_commit = None
    rival.list_files()
    assert json.loads(rival.read_bytes(REQUEST_PATH)) == {"by": "rival"}


def test_replace_if_unchanged_loses_to_a_concurrent_change(hub, tmp_path):
    hub.add_repo("org/requests", {REQUEST_PATH: json.dumps(REQUEST)}, repo_type="dataset")
    store = make_store(hub, tmp_path)
    store.list_files()
    version = store.version(REQUEST_PATH)

    def someone_else_changes_it(repo):
        hub.state.before_commit = None
        repo.commit("main", {REQUEST_PATH: json.dumps({**REQUEST, "status": "RUNNING"}).encode()})

    hub.state.before_commit = someone_else_changes_it
    assert store.replace_if_unchanged(REQUEST_PATH, b"{}", version) is False
    fresh = make_store(hub, tmp_path / "fresh")
    fresh.list_files()
    assert json.loads(fresh.read_bytes(REQUEST_PATH))["status"] == "RUNNING"
    # With the right version it succeeds, and a stale version is refused without a commit.
    new_version = store.version(REQUEST_PATH)
    assert store.replace_if_unchanged(REQUEST_PATH, b'{"ok": 1}', new_version) is True
    assert store.replace_if_unchanged(REQUEST_PATH, b'{"ok": 2}', new_version) is False
    assert store.read_bytes(REQUEST_PATH) == b'{"ok": 1}'


def test_a_412_on_another_file_is_retried_and_lands(hub, tmp_path):
    hub.add_repo("org/requests", {REQUEST_PATH: json.dumps(REQUEST)}, repo_type="dataset")
    store = make_store(hub, tmp_path)
    version = store.version(REQUEST_PATH)
    moves = []

    def other_file_changes_twice(repo):
        if len(moves) < 2:
            moves.append(1)
            repo.commit("main", {f"logs/{len(moves)}.log": b"x"})

    hub.state.before_commit = other_file_changes_twice
    assert store.replace_if_unchanged(REQUEST_PATH, b'{"claimed": true}', version) is True
    assert len(moves) == 2


def test_conflict_storm_gives_up_after_bounded_retries_with_a_clear_error(hub, tmp_path):
    hub.add_repo("org/requests", {REQUEST_PATH: json.dumps(REQUEST)}, repo_type="dataset")
    store = make_store(hub, tmp_path, max_attempts=3)
    version = store.version(REQUEST_PATH)
    storm = []

    def always_move(repo):
        storm.append(1)
        repo.commit("main", {f"noise/{len(storm)}.json": b"{}"})

    hub.state.before_commit = always_move
    with pytest.raises(StoreWriteError, match=r"3 commit conflicts in a row, HTTP 412"):
        store.replace_if_unchanged(REQUEST_PATH, b"{}", version)
    assert len(storm) == 3
    with pytest.raises(StoreWriteError, match="412"):
        store.create_exclusive("org/other.json", b"{}")


def test_offline_fallback_serves_the_cache_with_its_as_of_time(hub, tmp_path, monkeypatch):
    hub.add_repo("org/results", {"a.json": '{"x": 1}'}, repo_type="dataset")
    store = make_store(hub, tmp_path, "org/results")
    store.list_files()
    synced = store.as_of
    # The Hub goes away: nothing answers at the endpoint any more.
    later = HubFileStore("org/results", endpoint="http://127.0.0.1:9", cache_dir=tmp_path / "cache")
    assert [f.path for f in later.list_files()] == ["a.json"]
    assert later.offline and later.as_of == synced
    assert "unreachable" in later.message and "cached copy as of" in later.message
    assert later.read_bytes("a.json") == b'{"x": 1}'
    with pytest.raises(StoreWriteError):
        later.write_bytes("b.json", b"{}")


def test_hf_hub_offline_mode_also_reads_the_cache(hub, tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    hub.add_repo("org/results", {"a.json": "{}"}, repo_type="dataset")
    make_store(hub, tmp_path, "org/results").list_files()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    store = make_store(hub, tmp_path, "org/results")
    assert [f.path for f in store.list_files()] == ["a.json"] and store.offline


def test_no_cache_and_no_hub_is_a_clear_store_error(tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    store = HubFileStore("org/results", endpoint="http://127.0.0.1:9", cache_dir=tmp_path)
    with pytest.raises(StoreError, match="unreachable.*no cached copy yet"):
        store.list_files()


def test_revoked_token_keeps_cached_data_with_a_clear_message_and_never_shows_the_token(
    hub, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    hub.add_repo("org/requests", {REQUEST_PATH: json.dumps(REQUEST)}, repo_type="dataset")
    store = make_store(hub, tmp_path, token=SECRET)
    store.list_files()
    hub.revoke(SECRET)
    again = make_store(hub, tmp_path, token=SECRET)
    assert [f.path for f in again.list_files()] == [REQUEST_PATH]
    assert again.offline and "refused the token" in again.message and "HF_TOKEN" in again.message
    with pytest.raises(StoreWriteError) as refused:
        again.write_bytes("x.json", b"{}")
    assert "refused the token" in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__context__ is not None
    texts = [again.message, str(refused.value), caplog.text, repr(refused.value)]
    assert not any(SECRET in text for text in texts)


def test_token_comes_from_hf_token_env(hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)
    hub.add_repo("org/requests", {}, repo_type="dataset")
    hub.revoke(SECRET)
    store = make_store(hub, tmp_path)
    with pytest.raises(StoreError, match="refused the token"):
        store.list_files()


def test_vanished_repo_keeps_cached_data_with_a_clear_message(hub, tmp_path):
    hub.add_repo("org/results", {"a.json": "{}"}, repo_type="dataset")
    make_store(hub, tmp_path, "org/results").list_files()
    hub.remove_repo("org/results", "dataset")
    store = make_store(hub, tmp_path, "org/results")
    assert [f.path for f in store.list_files()] == ["a.json"]
    assert store.offline and "repository not found" in store.message
    with pytest.raises(StoreError, match="repository not found"):
        make_store(hub, tmp_path / "empty", "org/results").list_files()


def test_hostile_paths_and_ids_are_refused(hub, tmp_path):
    from lib.stores.base import UnsafePathError

    hub.add_repo("org/requests", {}, repo_type="dataset")
    store = make_store(hub, tmp_path)
    with pytest.raises(UnsafePathError):
        store.write_bytes("../escape.json", b"{}")
    with pytest.raises(ValueError):
        HubFileStore("not-a-repo-id", cache_dir=tmp_path)


def test_open_store_makes_a_hub_store_with_the_token():
    from lib.stores import open_store

    store = open_store("hub:org/requests", token=SECRET)
    assert isinstance(store, HubFileStore) and store.location == "hub:org/requests"
    assert SECRET not in repr(vars(store).get("location"))


def test_index_builds_over_hub_stores(hub, tmp_path):
    from lib.core.config import load_definition
    from lib.index import build_index

    result = {
        "results": {"leaderboard_gpqa": {"acc_norm,none": 0.4, "acc_norm_stderr,none": 0.02}},
        "config": {"model_name": "org/model-a", "model_args": "pretrained=org/model-a", "model_dtype": "torch.float16"},
        "model_name": "org/model-a",
    }  # fmt: skip
    hub.add_repo("org/requests", {REQUEST_PATH: json.dumps({**REQUEST, "status": "FINISHED"})}, "dataset")
    hub.add_repo(
        "org/results", {"org__model-a/results_2026-01-01T00-00-00.json": json.dumps(result)}, "dataset"
    )
    index = build_index(
        load_definition("demo"), make_store(hub, tmp_path, "org/results"), make_store(hub, tmp_path)
    )
    counts = index.counts()
    assert counts["evaluations"] == 1 and counts["requests"] == 1 and counts["errors"] == 0
    assert index.requests_list[0].model == "org/model-a"


def test_evaluator_claims_and_finishes_a_request_on_a_hub_queue(hub, tmp_path):
    from evaluator.worker import Worker, WorkerSettings
    from tests.lmeval_fixtures import QuickRunner, offline_config

    hub.add_repo("org/requests", {REQUEST_PATH: json.dumps(REQUEST)}, repo_type="dataset")
    hub.add_repo("org/results", {}, repo_type="dataset")
    requests = make_store(hub, tmp_path)
    results = make_store(hub, tmp_path, "org/results")
    worker = Worker(
        requests,
        results,
        offline_config([tmp_path]),
        QuickRunner(),
        WorkerSettings(worker_id="gpu-1", heartbeat_s=0.0),
    )
    assert worker.run_burst() == 1
    fresh = make_store(hub, tmp_path / "fresh")
    fresh.list_files()
    request = json.loads(fresh.read_bytes(REQUEST_PATH))
    assert request["status"] == "FINISHED" and request["worker"] == "gpu-1"
    assert [h["status"] for h in request["status_history"]] == ["RUNNING", "FINISHED"]
    result_files = [f.path for f in make_store(hub, tmp_path / "fresh", "org/results").list_files()]
    assert result_files == [request["results_file"]]
    assert worker.run_burst() == 0  # nothing left to claim
