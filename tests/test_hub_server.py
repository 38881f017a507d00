"""The local Hub test server answers the real huggingface_hub client over HTTP like the Hub does."""

from __future__ import annotations

import json
import os

import pytest

from tests.hub_server import HubServer, safetensors_bytes


@pytest.fixture
def api(monkeypatch, tmp_path):
    import huggingface_hub.constants as constants
    from huggingface_hub import HfApi

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    with HubServer() as server:
        yield server, HfApi(endpoint=server.url, token=False), str(tmp_path / "cache")


def test_model_info_downloads_and_safetensors_metadata(api):
    server, client, cache = api
    sha = server.add_repo(
        "org/m",
        {"config.json": json.dumps({"architectures": ["LlamaForCausalLM"]}),
         "model.safetensors": safetensors_bytes({"w": ("BF16", [8, 4])})},
        card_data={"license": "mit"},
        likes=5,
    )  # fmt: skip
    info = client.model_info("org/m", revision="main")
    assert (info.sha, info.card_data.license, info.likes) == (sha, "mit", 5)
    assert client.model_info("org/m", revision=sha).sha == sha
    path = client.hf_hub_download("org/m", "config.json", revision=sha, cache_dir=cache)
    assert json.loads(open(path).read())["architectures"] == ["LlamaForCausalLM"]
    assert client.get_safetensors_metadata("org/m", revision=sha).parameter_count == {"BF16": 32}
    assert client.file_exists("org/m", "config.json") and not client.file_exists("org/m", "nope.json")


def test_errors_map_to_the_clients_exceptions(api):
    from huggingface_hub import errors

    server, client, cache = api
    server.add_repo("org/m", {"config.json": "{}"})
    server.add_repo("org/gated", {"config.json": "{}"}, gated=True)
    with pytest.raises(errors.RevisionNotFoundError):
        client.model_info("org/m", revision="v404")
    with pytest.raises(errors.RepositoryNotFoundError):
        client.model_info("org/missing")
    with pytest.raises(errors.RemoteEntryNotFoundError):
        client.hf_hub_download("org/m", "missing.json", cache_dir=cache)
    with pytest.raises(errors.GatedRepoError):
        client.hf_hub_download("org/gated", "config.json", cache_dir=cache)


def test_dataset_repo_create_commit_conflict_tree_and_snapshot(api):
    from huggingface_hub import CommitOperationAdd, errors, snapshot_download

    server, client, cache = api
    client.create_repo("org/requests", repo_type="dataset")
    with pytest.raises(errors.HfHubHTTPError):
        client.create_repo("org/requests", repo_type="dataset")
    client.create_repo("org/requests", repo_type="dataset", exist_ok=True)
    head = client.dataset_info("org/requests").sha
    first = client.create_commit(
        "org/requests", [CommitOperationAdd("org/a.json", b"{}")], commit_message="a",
        repo_type="dataset", parent_commit=head,
    )  # fmt: skip
    with pytest.raises(errors.HfHubHTTPError) as stale:
        client.create_commit(
            "org/requests", [CommitOperationAdd("org/b.json", b"{}")], commit_message="b",
            repo_type="dataset", parent_commit=head,
        )  # fmt: skip
    assert stale.value.response.status_code == 412
    files = {f.path for f in client.list_repo_tree("org/requests", repo_type="dataset", recursive=True)}
    assert {"org", "org/a.json"} <= files and "org/b.json" not in files
    folder = snapshot_download(
        "org/requests", repo_type="dataset", cache_dir=cache, endpoint=server.url, token=False
    )
    assert os.path.isfile(os.path.join(folder, "org", "a.json"))
    assert client.dataset_info("org/requests").sha == first.oid


def test_pull_request_commit_leaves_main_alone(api):
    from huggingface_hub import CommitOperationAdd

    server, client, _ = api
    main_sha = server.add_repo("org/m", {"README.md": "hi"})
    info = client.create_commit(
        "org/m",
        [CommitOperationAdd(".eval_results/x.yaml", b"- value: 1\n")],
        commit_message="r",
        create_pr=True,
    )
    assert info.pr_url.endswith("/org/m/discussions/1")
    assert client.model_info("org/m").sha == main_sha
    assert client.file_exists("org/m", ".eval_results/x.yaml", revision="refs/pr/1")
