"""Local model folders at submission: links resolved before the root check, bounded hashing, hostile names.

A stranger who can write inside a local model root must not make the leaderboard read (or hash) files
outside the roots, nor hang or crash it with a huge folder or an over-long name.
"""

from __future__ import annotations

import json
import os

import pytest

from lib.core.config import load_definition
from lib.queue.submissions import Refusal, SubmissionForm, submit
from lib.stores import LocalFileStore
from tests.hub_server import safetensors_bytes

CARD = (
    "---\nlicense: apache-2.0\n---\n# A model\n\n" + "This model was trained on open data for testing. " * 6
)
CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama"}


def _model(folder):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(CONFIG))
    (folder / "README.md").write_text(CARD)
    (folder / "model.safetensors").write_bytes(safetensors_bytes({"w": ("F32", [64, 64])}))
    return folder


@pytest.fixture
def setup(tmp_path):
    root = tmp_path / "models"
    _model(root / "tiny")
    secret = tmp_path / "secret"
    _model(secret)
    (tmp_path / "passwd").write_text("root:x:0:0")
    definition = load_definition("demo").updated(
        evaluation={"allow_local_models": True, "local_model_roots": [str(root)], "local_model_max_gb": 1.0}
    )
    return definition, root, tmp_path, LocalFileStore(tmp_path / "requests")


def _form(model: str) -> SubmissionForm:
    return SubmissionForm(model=model, model_type="pretrained", sender="alice")


def _refused(result, rule: str, words: str) -> Refusal:
    assert not result.accepted and result.refusal.rule == rule, result.refusal
    assert words in result.refusal.message, result.refusal.message
    return result.refusal


def test_a_link_inside_the_roots_to_a_folder_outside_is_refused_at_submission(setup):
    definition, root, base, store = setup
    (root / "escape").symlink_to(base / "secret", target_is_directory=True)
    _refused(submit(_form("local/escape"), definition, store), "model_exists", "outside the allowed")
    _refused(submit(_form(str(root / "escape")), definition, store), "model_exists", "outside the allowed")
    assert not store.root.exists()  # nothing written


def test_a_file_linking_out_of_the_roots_refuses_the_model(setup):
    definition, root, base, store = setup
    (root / "tiny" / "vocab.json").symlink_to(base / "passwd")
    _refused(submit(_form("local/tiny"), definition, store), "model_exists", "links outside")
    (root / "tiny" / "vocab.json").unlink()
    (root / "tiny" / "extra").symlink_to(base / "secret", target_is_directory=True)
    _refused(submit(_form("local/tiny"), definition, store), "model_exists", "links outside")


def test_links_within_the_roots_are_hashed_like_files(setup):
    """A Hub cache snapshot is made of links to its blobs: such a folder is accepted."""
    definition, root, base, store = setup
    blobs = root / ".blobs"
    blobs.mkdir()
    snapshot = root / "snap"
    snapshot.mkdir()
    for name in ("config.json", "README.md", "model.safetensors"):
        (blobs / name).write_bytes((root / "tiny" / name).read_bytes())
        (snapshot / name).symlink_to(blobs / name)
    linked = submit(_form("local/snap"), definition, store)
    assert linked.accepted, linked.message
    plain = submit(_form("local/tiny"), definition, store)
    assert plain.accepted and plain.request["revision"] == linked.request["revision"]  # same content


def test_hashing_is_bounded_by_the_definition_and_shows_progress(setup):
    definition, root, base, store = setup
    small = definition.updated(evaluation={"local_model_max_gb": 1e-6})  # 1,000 bytes
    _refused(submit(_form("local/tiny"), small, store), "model_exists", "local_model_max_gb")
    seen: list[tuple[int, int]] = []
    result = submit(
        _form("local/tiny"), definition, store, progress=lambda done, total: seen.append((done, total))
    )
    assert result.accepted, result.message
    total = sum(p.stat().st_size for p in (root / "tiny").iterdir())
    assert seen and seen[-1] == (total, total)


def test_sparse_huge_file_is_refused_before_reading(setup):
    definition, root, base, store = setup
    with open(root / "tiny" / "huge.bin", "wb") as handle:
        handle.truncate(2 * 10**9)  # sparse: 2 GB by size, nothing on disk
    seen: list[int] = []
    result = submit(_form("local/tiny"), definition, store, progress=lambda done, total: seen.append(done))
    _refused(result, "model_exists", "more than 1 GB")
    assert seen == []  # refused from the sizes alone


@pytest.mark.parametrize(
    "model",
    [
        "local/" + "a" * 300,
        "/" + "o" * 300 + "/model",
        "o" * 300 + "/model",
        "org/" + "m" * 300,
        "local/" + "a" * 200 + "/b",
    ],
)
def test_over_long_names_are_clean_refusals(setup, model):
    definition, root, base, store = setup
    result = submit(_form(model), definition, store)
    assert not result.accepted and result.refusal.message
    assert "Errno" not in result.refusal.message and len(result.refusal.message) < 400
    assert not store.root.exists()


def test_over_long_name_inside_a_root(setup):
    definition, root, base, store = setup
    result = submit(_form(str(root) + "/" + "a" * 300), definition, store)
    _refused(result, "model_exists", "cannot be opened")
    assert "a" * 100 not in result.refusal.message  # the name is shortened in the message
    assert os.path.isdir(root / "tiny")
