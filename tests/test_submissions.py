"""Submission rules, request files and admin actions, with Hub reads through the real huggingface_hub
client against the local Hub-compatible server in tests/hub_server.py."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

from lib.cli import main as cli_main
from lib.core.config import load_definition
from lib.core.records import Status
from lib.queue.admin import AdminError, approve, cancel, requeue, set_flag
from lib.queue.model_sources import HubModelSource
from lib.queue.requests import RequestConflict, claim, fail, read_requests, request_path, update_job
from lib.queue.submissions import (
    Refusal,
    SubmissionForm,
    hub_id_problem,
    submit,
    validate_submission,
)
from lib.stores import LocalFileStore
from lib.stores.base import safe_relpath
from tests.hub_server import HubServer, safetensors_bytes

CARD = (
    "---\nlicense: apache-2.0\n---\n# A model\n\n" + "This model was trained on open data for testing. " * 6
)
CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama"}
WEIGHTS = {"embed": ("F32", [100, 64]), "proj": ("F16", [64, 64])}  # 10,496 parameters


@pytest.fixture(autouse=True)
def _online(monkeypatch):
    """conftest sets HF_HUB_OFFLINE=1 for the whole run; these tests talk to a loopback server only."""
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)


@pytest.fixture(scope="module")
def hub():
    with HubServer() as server:
        yield server


@pytest.fixture
def source(hub, tmp_path):
    return HubModelSource(endpoint=hub.url, token=False, cache_dir=str(tmp_path / "hf-cache"))


@pytest.fixture
def store(tmp_path):
    return LocalFileStore(tmp_path / "requests")


@pytest.fixture
def definition():
    demo = load_definition("demo")
    return demo.updated(
        submissions={"opt_out": ["optedout"], "max_params_b": {"float16": 1, "float32": 1e-6}},
        evaluation={"mode": "automatic"},
    )


def add_model(hub, repo_id, files=None, drop=(), **info):
    """A model repo that passes every rule, with ``files`` overriding and ``drop`` removing files."""
    content = {
        "config.json": json.dumps(CONFIG),
        "tokenizer_config.json": json.dumps({"tokenizer_class": "PreTrainedTokenizerFast"}),
        "README.md": CARD,
        "model.safetensors": safetensors_bytes(WEIGHTS),
    }
    content.update(files or {})
    for name in drop:
        content.pop(name, None)
    info.setdefault("card_data", {"license": "apache-2.0"})
    return hub.add_repo(repo_id, content, **info)


def form(model, **fields):
    fields.setdefault("model_type", "pretrained")
    fields.setdefault("sender", "alice")
    return SubmissionForm(model=model, **fields)


def refused(outcome, rule):
    assert isinstance(outcome, Refusal), f"expected a refusal by {rule}, got {outcome}"
    assert outcome.rule == rule, outcome
    assert outcome.message
    return outcome


def stored_files(store):
    return [f.path for f in store.list_files((".json",))] if store.root.is_dir() else []


# --- the happy path and the request file -------------------------------------------------------------


def test_accepted_submission_writes_the_template_request_with_the_resolved_sha(
    hub, source, store, definition
):
    sha = add_model(hub, "good-org/model-a", likes=7)
    result = submit(
        form("good-org/model-a", revision="main", precision="bfloat16"), definition, store, source
    )
    assert result.accepted, result.message
    assert result.path == "good-org/model-a_eval_request_False_bfloat16_Original.json"
    data = json.loads((store.root / result.path).read_text())
    assert data["revision"] == sha and data["requested_revision"] == "main"
    assert data["status"] == "PENDING" and data["model_type"] == "🟢 : pretrained"
    assert data["params"] == pytest.approx(10_496 / 1e9, rel=1e-3) and data["license"] == "apache-2.0"
    assert data["likes"] == 7 and data["sender"] == "alice" and data["architectures"] == ["LlamaForCausalLM"]
    assert data["num_fewshot"]["bbh"] == 3 and data["attempts"] == 0
    assert data["status_history"][0]["status"] == "PENDING"
    assert result.position == 1


def test_a_branch_resolves_to_its_own_commit(hub, source, store, definition):
    add_model(hub, "good-org/branchy")
    dev_sha = hub.add_repo("good-org/branchy", {"README.md": CARD + " dev"}, branch="dev")
    result = submit(form("good-org/branchy", revision="dev"), definition, store, source)
    assert result.accepted and result.request["revision"] == dev_sha


# --- each rule, refused and passed ---------------------------------------------------------------------


def test_sender_is_required(hub, source, definition):
    add_model(hub, "good-org/sender")
    refused(validate_submission(form("good-org/sender", sender=""), definition, [], source), "sender")
    assert isinstance(validate_submission(form("good-org/sender"), definition, [], source), dict)


HOSTILE_IDS = [
    "",
    "   ",
    "../etc/passwd",
    "org/../secret",
    "org/..",
    "/etc/passwd",
    "~/models/x",
    "C:\\models\\x",
    "org\\name",
    "org/name/extra",
    "org/na\x00me",
    "org/name\n",
    "org/\x1b[31mred",
    "org/" + "a" * 200,
    "a" * 300,
    " org/name",
    "org/na me",
    "-org/name",
    "org/--name",
    ".hidden/name",
    "org/name.",
    "local/../../etc",
]


@pytest.mark.parametrize("model", HOSTILE_IDS)
def test_hostile_model_ids_are_refused_and_nothing_is_written(model, source, store, definition):
    result = submit(form(model), definition, store, source)
    assert not result.accepted
    assert result.refusal.rule == "model_id"
    assert stored_files(store) == []


@pytest.mark.parametrize("model", ["org/model", "EleutherAI/pythia-160m", "a/b", "org/model.v2_final-1"])
def test_valid_ids_pass_the_id_rule_and_give_a_safe_path(model):
    assert hub_id_problem(model) is None
    path = request_path(model, False, "float16", "Original")
    assert safe_relpath(path) == path and path.startswith(model.split("/")[0] + "/")


def test_form_fields_are_checked(hub, source, definition):
    add_model(hub, "good-org/fields")
    ok = "good-org/fields"
    refused(validate_submission(form(ok, precision="float64"), definition, [], source), "precision")
    refused(validate_submission(form(ok, precision=""), definition, [], source), "precision")
    refused(validate_submission(form(ok, weight_type="Merged"), definition, [], source), "weight_type")
    refused(validate_submission(form(ok, weight_type="Delta"), definition, [], source), "base_model")
    refused(
        validate_submission(form(ok, weight_type="Adapter", base_model="../x"), definition, [], source),
        "base_model",
    )
    refused(validate_submission(form(ok, revision="../../main"), definition, [], source), "revision")
    refused(validate_submission(form(ok, model_type=""), definition, [], source), "model_type")
    refused(validate_submission(form(ok, model_type="robot"), definition, [], source), "model_type")
    assert isinstance(validate_submission(form(ok, model_type="chat"), definition, [], source), dict)


def test_rate_limit_per_organisation_with_official_providers_exempt(hub, source, store, definition):
    limited = definition.updated(submissions={"rate_limit": {"count": 2, "days": 7}})
    for name in ("one", "two", "three"):
        add_model(hub, f"busy-org/{name}")
        add_model(hub, f"meridian-ai/{name}")  # an official provider in the demo definition
    assert submit(form("busy-org/one"), limited, store, source).accepted
    assert submit(form("busy-org/two"), limited, store, source).accepted
    third = submit(form("busy-org/three"), limited, store, source)
    assert refused(third.refusal, "rate_limit").retry
    for name in ("one", "two", "three"):
        assert submit(form(f"meridian-ai/{name}"), limited, store, source).accepted


def test_requests_older_than_the_window_do_not_count(hub, source, store, definition):
    limited = definition.updated(submissions={"rate_limit": {"count": 1, "days": 7}})
    add_model(hub, "slow-org/old")
    add_model(hub, "slow-org/new")
    from datetime import UTC, datetime

    old = submit(form("slow-org/old"), limited, store, source, now=datetime(2020, 1, 1, tzinfo=UTC))
    assert old.accepted
    assert submit(form("slow-org/new"), limited, store, source).accepted


def test_opt_out_list(hub, source, definition):
    add_model(hub, "optedout/model")
    refused(validate_submission(form("optedout/model"), definition, [], source), "opt_out")
    free = definition.updated(submissions={"opt_out": []})
    assert isinstance(validate_submission(form("optedout/model"), free, [], source), dict)


def test_missing_model_revision_and_gated_model(hub, source, definition):
    add_model(hub, "good-org/exists")
    missing = refused(validate_submission(form("good-org/nope"), definition, [], source), "model_exists")
    assert "not found" in missing.message
    bad_rev = refused(
        validate_submission(form("good-org/exists", revision="v9"), definition, [], source), "model_exists"
    )
    assert "revision 'v9' does not exist" in bad_rev.message
    add_model(hub, "good-org/gated", gated=True)
    gated = refused(validate_submission(form("good-org/gated"), definition, [], source), "params")
    assert "gated" in gated.message
    add_model(hub, "good-org/deleted")
    hub.remove_repo("good-org/deleted")
    refused(validate_submission(form("good-org/deleted"), definition, [], source), "model_exists")


def test_base_model_must_exist_for_delta_and_adapter(hub, source, definition):
    add_model(hub, "good-org/delta")
    add_model(hub, "good-org/base")
    refused(
        validate_submission(
            form("good-org/delta", weight_type="Delta", base_model="good-org/nobase"), definition, [], source
        ),
        "base_model_exists",
    )
    ok = validate_submission(
        form("good-org/delta", weight_type="Delta", base_model="good-org/base"), definition, [], source
    )
    assert isinstance(ok, dict) and ok["base_model"] == "good-org/base"


def test_adapter_takes_its_size_and_config_from_the_base_model(hub, source, definition):
    add_model(hub, "good-org/adapter-base")
    hub.add_repo(
        "good-org/lora", {"adapter_config.json": "{}", "README.md": CARD}, card_data={"license": "mit"}
    )
    ok = validate_submission(
        form("good-org/lora", weight_type="Adapter", base_model="good-org/adapter-base"),
        definition,
        [],
        source,
    )
    assert isinstance(ok, dict) and ok["params"] == pytest.approx(10_496 / 1e9, rel=1e-3)
    hub.add_repo("good-org/not-lora", {"README.md": CARD}, card_data={"license": "mit"})
    refused(
        validate_submission(
            form("good-org/not-lora", weight_type="Adapter", base_model="good-org/adapter-base"),
            definition,
            [],
            source,
        ),
        "remote_code",
    )


def test_hub_unreachable_says_try_again_and_writes_nothing(store, definition, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens there
    offline = HubModelSource(endpoint=f"http://127.0.0.1:{port}", token=False, cache_dir=str(tmp_path / "c"))
    result = submit(form("good-org/anything"), definition, store, offline)
    assert refused(result.refusal, "model_exists").retry
    assert "try again" in result.message
    assert stored_files(store) == []


def test_a_malformed_file_in_the_requests_place_is_named_as_malformed(hub, source, store, definition):
    add_model(hub, "mal-org/model")
    path = request_path("mal-org/model", False, "float16", "Original")
    store.write_bytes(path, b'{"model": "mal-org/model", "attempts": "many"}')
    outcome = submit(form("mal-org/model"), definition, store, source)
    refusal = refused(outcome.refusal, "malformed")
    assert refusal.existing == path and path in refusal.message and "attempts" in refusal.message
    assert not refusal.retry


def test_duplicate_refused_with_a_link_other_precision_or_revision_accepted(hub, source, store, definition):
    add_model(hub, "dup-org/model")
    first = submit(form("dup-org/model"), definition, store, source)
    assert first.accepted
    again = submit(form("dup-org/model"), definition, store, source)
    dup = refused(again.refusal, "duplicate")
    assert dup.existing == first.path and "/queue?model=dup-org%2Fmodel" in dup.message
    assert submit(form("dup-org/model", precision="bfloat16"), definition, store, source).accepted
    new_sha = hub.add_repo("dup-org/model", {"README.md": CARD + " v2"})
    newer = submit(form("dup-org/model"), definition, store, source)
    assert newer.accepted and newer.request["revision"] == new_sha
    assert newer.path == f"dup-org/model_eval_request_False_float16_Original_{new_sha[:12]}.json"
    assert json.loads((store.root / first.path).read_text())["revision"] != new_sha  # never overwritten


def test_parameter_count_and_caps(hub, source, definition):
    add_model(hub, "size-org/no-safetensors", drop=("model.safetensors",), files={"pytorch_model.bin": b"x"})
    no_st = refused(validate_submission(form("size-org/no-safetensors"), definition, [], source), "params")
    assert "safetensors" in no_st.message
    add_model(hub, "size-org/small")
    refused(
        validate_submission(form("size-org/small", precision="float32"), definition, [], source), "params"
    )
    assert validate_submission(form("size-org/small"), definition, [], source)["params"] == pytest.approx(
        1.0496e-5, rel=1e-3
    )
    add_model(
        hub,
        "size-org/big-by-info",
        safetensors={"parameters": {"BF16": 2_000_000_000}, "total": 2_000_000_000},
    )
    big = refused(validate_submission(form("size-org/big-by-info"), definition, [], source), "params")
    assert "2.0B parameters" in big.message


def test_remote_code_is_refused(hub, source, definition):
    add_model(
        hub,
        "code-org/auto-map",
        files={"config.json": json.dumps({**CONFIG, "auto_map": {"AutoModel": "m.M"}})},
    )
    refused(validate_submission(form("code-org/auto-map"), definition, [], source), "remote_code")
    add_model(
        hub,
        "code-org/tok-auto-map",
        files={"tokenizer_config.json": json.dumps({"auto_map": {"AutoTokenizer": ["t.T", None]}})},
    )
    refused(validate_submission(form("code-org/tok-auto-map"), definition, [], source), "remote_code")
    add_model(
        hub,
        "code-org/unknown-arch",
        files={"config.json": json.dumps({"architectures": ["NoSuchArchForCausalLM"]})},
    )
    unknown = refused(
        validate_submission(form("code-org/unknown-arch"), definition, [], source), "remote_code"
    )
    assert "NoSuchArchForCausalLM" in unknown.message
    add_model(hub, "code-org/no-config", drop=("config.json",))
    refused(validate_submission(form("code-org/no-config"), definition, [], source), "remote_code")
    add_model(hub, "code-org/gpt2", files={"config.json": json.dumps({"architectures": ["GPT2LMHeadModel"]})})
    assert validate_submission(form("code-org/gpt2"), definition, [], source)["architectures"] == [
        "GPT2LMHeadModel"
    ]


def test_license_is_required_unless_the_definition_says_otherwise(hub, source, definition):
    add_model(
        hub,
        "lic-org/none",
        card_data={"language": "en"},
        files={"README.md": CARD.replace("license: apache-2.0", "language: en")},
    )
    refused(validate_submission(form("lic-org/none"), definition, [], source), "license")
    relaxed = definition.updated(submissions={"require_license": False})
    assert isinstance(validate_submission(form("lic-org/none"), relaxed, [], source), dict)
    add_model(hub, "lic-org/other", card_data={"license": "other", "license_name": "my-license"})
    assert validate_submission(form("lic-org/other"), definition, [], source)["license"] == "my-license"


def test_model_card_of_substance(hub, source, definition):
    add_model(hub, "card-org/short", files={"README.md": "---\nlicense: mit\n---\nTODO"})
    short = refused(validate_submission(form("card-org/short"), definition, [], source), "model_card")
    assert "too short" in short.message
    add_model(hub, "card-org/missing", drop=("README.md",))
    refused(validate_submission(form("card-org/missing"), definition, [], source), "model_card")


def test_chat_template_when_asked(hub, source, definition):
    add_model(hub, "chat-org/none")
    refused(
        validate_submission(form("chat-org/none", use_chat_template=True), definition, [], source),
        "chat_template",
    )
    assert isinstance(validate_submission(form("chat-org/none"), definition, [], source), dict)
    add_model(
        hub, "chat-org/in-config", files={"tokenizer_config.json": json.dumps({"chat_template": "{{ x }}"})}
    )
    assert validate_submission(form("chat-org/in-config", use_chat_template=True), definition, [], source)[
        "use_chat_template"
    ]
    add_model(hub, "chat-org/jinja", files={"chat_template.jinja": "{{ messages }}"})
    assert isinstance(
        validate_submission(form("chat-org/jinja", use_chat_template=True), definition, [], source), dict
    )


def test_rules_apply_in_the_open_llm_leaderboard_order(hub, source, definition):
    # A model that breaks several rules is refused by the earliest one.
    add_model(hub, "optedout/messy", drop=("README.md", "model.safetensors"))
    refused(validate_submission(form("optedout/messy", sender=""), definition, [], source), "sender")
    refused(validate_submission(form("optedout/messy"), definition, [], source), "opt_out")
    add_model(hub, "order-org/messy", drop=("README.md", "model.safetensors"), card_data={})
    refused(validate_submission(form("order-org/messy"), definition, [], source), "params")


@pytest.mark.parametrize(
    ("mode", "model", "status"),
    [
        ("automatic", "any-org/m", "PENDING"),
        ("manual", "meridian-ai/m", "APPROVAL"),
        ("semi-automatic", "meridian-ai/m", "PENDING"),
        ("semi-automatic", "trusted-org/m", "PENDING"),
        ("semi-automatic", "any-org/m", "APPROVAL"),
    ],
)
def test_evaluation_mode_sets_the_first_status(hub, source, definition, mode, model, status):
    add_model(hub, model)
    moded = definition.updated(evaluation={"mode": mode, "semi_auto_orgs": ["trusted-org"]})
    assert validate_submission(form(model), moded, [], source)["status"] == status


# --- races, local folders, admin actions, command line ------------------------------------------------


def test_identical_submissions_at_once_make_one_request(hub, source, store, definition):
    add_model(hub, "race-org/model")
    results, barrier = [], threading.Barrier(6)

    def go():
        barrier.wait()
        results.append(submit(form("race-org/model"), definition, store, source))

    threads = [threading.Thread(target=go) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.accepted for r in results) == 1
    assert all(r.refusal.rule == "duplicate" for r in results if not r.accepted)
    assert stored_files(store) == ["race-org/model_eval_request_False_float16_Original.json"]


@pytest.fixture
def local_setup(tmp_path, definition):
    root = tmp_path / "models"
    folder = root / "tiny"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(CONFIG))
    (folder / "tokenizer_config.json").write_text(json.dumps({"chat_template": "{{ m }}"}))
    (folder / "README.md").write_text(CARD)
    (folder / "model.safetensors").write_bytes(safetensors_bytes(WEIGHTS))
    local = definition.updated(evaluation={"allow_local_models": True, "local_model_roots": [str(root)]})
    return local, root, folder


def test_local_model_folder_is_checked_by_the_same_rules(local_setup, store):
    local, root, folder = local_setup
    result = submit(form("local/tiny", use_chat_template=True), local, store)
    assert result.accepted, result.message
    data = result.request
    assert data["model"] == "local/tiny" and data["model_path"] == str(folder.resolve())
    assert len(data["revision"]) == 64 and data["params"] == pytest.approx(1.0496e-5, rel=1e-3)
    assert result.path == "local/tiny_eval_request_False_float16_Original.json"
    by_path = submit(form(str(folder)), local, store)
    refused(by_path.refusal, "duplicate")  # the same folder, unchanged
    (folder / "README.md").write_text(CARD + "\nRetrained.")
    changed = submit(form("local/tiny"), local, store)
    assert changed.accepted and changed.request["revision"] != data["revision"]


def test_local_folders_refused_outside_roots_or_when_not_allowed(local_setup, store, definition, tmp_path):
    local, root, folder = local_setup
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    refused(submit(form(str(outside)), local, store).refusal, "model_exists")
    refused(submit(form("local/missing"), local, store).refusal, "model_exists")
    refused(submit(form(str(root / ".." / "elsewhere")), local, store).refusal, "model_exists")
    refused(submit(form("local/tiny"), definition, store).refusal, "model_id")
    (folder / "config.json").write_text(json.dumps({**CONFIG, "auto_map": {"AutoModel": "x.Y"}}))
    refused(submit(form("local/tiny"), local, store).refusal, "remote_code")
    assert stored_files(store) == []


def test_admin_actions(hub, source, store, definition):
    manual = definition.updated(evaluation={"mode": "manual"})
    add_model(hub, "admin-org/model")
    result = submit(form("admin-org/model"), manual, store, source)
    assert result.request["status"] == "APPROVAL"
    with pytest.raises(AdminError):
        approve(store, manual, result.path, "mallory")
    assert approve(store, manual, result.path, "leaderboard-admin").status == Status.PENDING
    claim(store, result.path, "w1", "j1", 300.0, time.time())
    fail(store, result.path, "j1", time.time(), "OOM", log_tail="...\nOOM")
    with pytest.raises(AdminError):
        requeue(store, manual, result.path, "")
    requeued = requeue(store, manual, result.path, "leaderboard-admin")
    assert requeued.status == Status.PENDING and requeued.error == "" and requeued.job_id is None
    assert not requeued.log_tail and requeued.attempts == 0
    assert [h.status for h in requeued.status_history] == [
        "APPROVAL",
        "PENDING",
        "RUNNING",
        "FAILED",
        "PENDING",
    ]
    # A RUNNING request (here a Slurm job's) can be re-queued or cancelled: its claim is cleared, which
    # stops its job (a local worker's heartbeat fails its check; the Slurm executor scancels the job).
    slurm = {"slurm_job_id": "77", "slurm_claim": "j2", "slurm_state": "RUNNING"}

    def run_on_slurm(job_id: str) -> None:
        claim(store, result.path, "executor", job_id, 300.0, time.time())
        update_job(store, result.path, job_id, time.time(), **{**slurm, "slurm_claim": job_id})

    run_on_slurm("j2")
    requeued = requeue(store, manual, result.path, "leaderboard-admin")
    assert requeued.status == Status.PENDING and not {*slurm, "job_id"} & set(requeued.raw)
    run_on_slurm("j3")
    with pytest.raises(AdminError):
        cancel(store, manual, result.path, "mallory")
    cancelled = cancel(store, manual, result.path, "leaderboard-admin")
    assert cancelled.status == Status.FAILED and cancelled.error == "cancelled by leaderboard-admin"
    assert "job_id" not in cancelled.raw and cancelled.raw["slurm_job_id"] == "77"
    with pytest.raises(RequestConflict):
        cancel(store, manual, result.path, "leaderboard-admin")  # FAILED already
    assert set_flag(store, manual, "admin-org/model", "contaminated", "leaderboard-admin") == 1
    assert read_requests(store)[0][0].flagged == "contaminated"
    assert set_flag(store, manual, "admin-org/model", "", "leaderboard-admin") == 1
    assert read_requests(store)[0][0].flagged == ""
    with pytest.raises(AdminError):
        set_flag(store, manual, "admin-org/model", "x", "alice")


def test_command_line_submit_and_queue(local_setup, tmp_path, capsys):
    local, root, folder = local_setup
    definition_file = tmp_path / "local.yaml"
    import yaml

    raw = dict(local.raw)
    raw["evaluation"] = {
        **raw.get("evaluation", {}),
        "allow_local_models": True,
        "local_model_roots": [str(root)],
    }
    raw["stores"] = {"requests": str(tmp_path / "req"), "results": str(tmp_path / "res")}
    definition_file.write_text(yaml.safe_dump(raw, allow_unicode=True))
    args = ["submit", "--config", str(definition_file), "--model", str(folder), "--sender", "bob"]
    assert cli_main(args) == 0
    out = capsys.readouterr()
    assert out.out.strip() == "local/tiny_eval_request_False_float16_Original.json"
    assert (tmp_path / "req" / out.out.strip()).is_file()
    assert cli_main(args) == 1
    assert "duplicate" in capsys.readouterr().err
    assert cli_main(["submit", "--config", str(definition_file), "--model", "../etc", "--sender", "bob"]) == 1
    assert cli_main(["queue", "--config", str(definition_file), "--format", "json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["Model"], r["Status"], r["Sender"]) for r in rows] == [("local/tiny", "PENDING", "bob")]
    assert Path(tmp_path / "req").is_dir()


def test_cli_refuses_an_over_long_org_name_instead_of_raising(tmp_path, capsys):
    """``python -m lib submit`` looks for a relative folder first; a 300-character name is no folder."""
    code = cli_main(
        ["submit", "--config", "offline", "--requests", str(tmp_path / "requests"),
         "--model", "o" * 300 + "/model", "--precision", "float32"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and "refused (model_id)" in err and "Errno" not in err
    assert not (tmp_path / "requests").exists() or not any((tmp_path / "requests").rglob("*.json"))
