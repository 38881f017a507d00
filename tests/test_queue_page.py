"""AppTest of the sidebar submission form and the Queue page (groups, filter link, failures, admin actions)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from lib.queue.requests import create_request, read_requests
from lib.stores import LocalFileStore
from tests.apptest import entry_script
from tests.hub_server import safetensors_bytes

ROOT = Path(__file__).resolve().parents[1]
CARD = "---\nlicense: mit\n---\n" + "A tiny local model used by the tests of the submission form. " * 5


def _request(model, status, **extra):
    data = {
        "model": model, "base_model": "", "revision": "a" * 40, "precision": "float16", "weight_type": "Original",
        "status": status, "submitted_time": "2026-01-01T00:00:00Z", "model_type": "🟢 : pretrained",
        "sender": "alice", "private": False,
    }  # fmt: skip
    data.update(extra)
    return data


@pytest.fixture
def deployment(tmp_path, monkeypatch):
    """A definition on temporary stores with one request in every group and a local model folder."""
    requests = tmp_path / "requests"
    (tmp_path / "results").mkdir()
    models = tmp_path / "models" / "tiny"
    models.mkdir(parents=True)
    (models / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    (models / "README.md").write_text(CARD)
    (models / "model.safetensors").write_bytes(safetensors_bytes({"w": ("F32", [16, 16])}))
    store = LocalFileStore(requests)
    create_request(store, _request("wait-org/approve-me", "APPROVAL"))
    create_request(store, _request("queue-org/pending", "PENDING"))
    create_request(
        store, _request("run-org/running", "RUNNING", progress={"task": "tiny_mc", "done": 5, "total": 20})
    )
    create_request(  # run by the Slurm executor (evaluator.slurm)
        store,
        _request(
            "slurm-org/on-cluster", "RUNNING", progress={"task": "tiny_gen", "done": 1, "total": 4},
            job_id="exec-1-abc", slurm_job_id="4242", slurm_claim="exec-1-abc", slurm_state="RUNNING",
            slurm_node="node17",
        ),
    )  # fmt: skip
    create_request(
        store,
        _request(
            "fail-org/broken",
            "FAILED",
            error="CUDA out of memory",
            log_tail="line 1\nTraceback\nOOM at step 3",
        ),
    )
    create_request(store, _request("done-org/finished", "FINISHED"))
    raw = yaml.safe_load((ROOT / "lib" / "definitions" / "demo.yaml").read_text())
    raw["stores"] = {"requests": str(requests), "results": str(tmp_path / "results")}
    raw["evaluation"] = {
        "mode": "automatic",
        "allow_local_models": True,
        "local_model_roots": [str(models.parent)],
    }
    raw["submissions"] = {**raw["submissions"], "anonymous_sender": "leaderboard-admin"}
    path = tmp_path / "test.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    monkeypatch.setenv("LEADERBOARD_CONFIG", str(path))
    return store


def _app(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(entry_script(), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at


def _queue(at: AppTest) -> AppTest:
    at.run()
    at.switch_page(str(ROOT / "pages" / "queue.py"))
    return at.run()


def _text(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.subheader] + [e.value for e in at.caption]
    parts += [str(e.value) for e in at.code] + [e.label for e in at.expander]
    return "\n".join(str(p) for p in parts)


def test_queue_page_shows_every_group_with_progress_and_failure_log(deployment):
    at = _queue(_app())
    assert not at.exception
    headings = [h.value for h in at.subheader]
    for label in ("Waiting for approval (1)", "Running (2)", "Pending (1)", "Failed (1)", "Finished (1)"):
        assert any(label in h for h in headings), headings
    text = _text(at)
    assert "CUDA out of memory" in text and "OOM at step 3" in text
    # progress texts are escaped Markdown (lib.ui.text.plain); compare what the browser shows
    assert any("tiny_mc: 5/20 (25%)" in re.sub(r"\\(.)", r"\1", p.text or "") for p in at.get("progress"))
    models = {m for df in at.dataframe for m in df.value.get("Model", [])}
    assert {"wait-org/approve-me", "run-org/running", "fail-org/broken", "done-org/finished"} <= models
    failed = next(df.value for df in at.dataframe if "fail-org/broken" in set(df.value.get("Model", [])))
    assert list(failed["Attempts"]) == ["none"]  # never run: not "Attempts 0"


def test_queue_page_lists_malformed_request_files_as_text(deployment):
    root = Path(deployment.location)
    (root / "bad-org").mkdir()
    (root / "bad-org" / "x_eval_request_False_float16_Original.json").write_text(
        '{"model": "bad-org/x", "attempts": "[two](https://evil.example)"'
    )
    (root / "bad-org" / "y_eval_request_False_float16_Original.json").write_text(
        json.dumps(_request("bad-org/y", "FINISHED", priority=10**40))
    )
    at = _queue(_app())
    assert not at.exception
    assert any("Malformed request files (2)" in h.value for h in at.subheader)
    frame = next(df.value for df in at.dataframe if "Reason" in df.value.columns)
    assert set(frame["File"]) == {
        "bad-org/x_eval_request_False_float16_Original.json",
        "bad-org/y_eval_request_False_float16_Original.json",
    }
    reasons = " ".join(frame["Reason"])
    assert "not valid JSON" in reasons and "priority" in reasons
    assert "evil.example" not in _text(at)  # the file's text is never rendered as Markdown


def test_tracking_link_opens_the_queue_filtered_to_one_model(deployment):
    at = _app({"model": "fail-org/broken"})
    at.switch_page(
        str(ROOT / "pages" / "queue.py")
    )  # the link /queue?model=... opens the Queue page directly
    at.run()
    assert not at.exception
    assert at.text_input(key="url_model").value == "fail-org/broken"
    models = {m for df in at.dataframe for m in df.value.get("Model", [])}
    assert models == {"fail-org/broken"}


def test_admin_approves_and_requeues(deployment):
    at = _queue(_app())
    at.selectbox(key="admin_Approve_pick").select(
        "wait-org/approve-me_eval_request_False_float16_Original.json"
    )
    at.button(key="admin_Approve").click()
    at.run()
    assert not at.exception
    at.button(key="admin_Re-queue").click()
    at.run()
    statuses = {r.model: r.status.value for r in read_requests(deployment)[0]}
    assert statuses["wait-org/approve-me"] == "PENDING" and statuses["fail-org/broken"] == "PENDING"


def test_a_slurm_job_is_shown_and_an_admin_cancel_clears_its_claim(deployment):
    at = _queue(_app())
    assert not at.exception
    progress = [re.sub(r"\\(.)", r"\1", p.text or "") for p in at.get("progress")]
    assert any("on-cluster" in t and "Slurm job 4242 · RUNNING on node17" in t for t in progress), progress
    running = [df.value for df in at.dataframe if "slurm-org/on-cluster" in list(df.value.get("Model", []))]
    assert running and "4242 · RUNNING on node17" in list(running[0]["Slurm job"])
    at.selectbox(key="admin_Cancel_pick").select(
        "slurm-org/on-cluster_eval_request_False_float16_Original.json"
    )
    at.button(key="admin_Cancel").click()
    at.run()
    assert not at.exception
    cancelled = {r.model: r for r in read_requests(deployment)[0]}["slurm-org/on-cluster"]
    assert cancelled.status.value == "FAILED" and cancelled.error == "cancelled by leaderboard-admin"
    assert "job_id" not in cancelled.raw  # the executor scancels a live job whose claim is gone
    assert cancelled.raw["slurm_job_id"] == "4242"  # kept, so the failure still names its job


def test_admin_flags_a_model_with_a_reason(deployment):
    at = _queue(_app())
    at.selectbox(key="admin_flag_model").select("done-org/finished")
    at.text_input(key="admin_flag_reason").input("contaminated")
    at.button(key="FormSubmitter:admin_flag-Flag").click()
    at.run()
    assert not at.exception
    flagged = {r.model: r.flagged for r in read_requests(deployment)[0]}
    assert flagged["done-org/finished"] == "contaminated"


def test_sidebar_form_submits_a_local_model_and_refuses_bad_input(deployment):
    at = _app()
    at.run()
    assert not at.exception
    assert not at.sidebar.text_input  # the form is built once its switch is on
    at.toggle(key="submit_open").set_value(True).run()
    sidebar_inputs = {t.label: t for t in at.sidebar.text_input}
    assert {"Model", "Revision", "Base model"} <= set(sidebar_inputs)
    assert any("BBH 3-shot" in c.value for c in at.sidebar.caption)
    sidebar_inputs["Model"].input("../../etc/passwd")
    at.sidebar.selectbox[2].select("pretrained")
    at.button(key="FormSubmitter:submit_model-Submit").click()
    at.run()
    assert any("Model id" in e.value for e in at.sidebar.error)
    at.sidebar.text_input[0].input("local/tiny")
    at.button(key="FormSubmitter:submit_model-Submit").click()
    at.run()
    assert not at.exception
    assert any("local/tiny was added to the queue" in s.value for s in at.sidebar.success), [
        e.value for e in at.sidebar.error
    ]
    assert "local/tiny" in {r.model for r in read_requests(deployment)[0]}
    hashing = [p.text for p in at.get("progress")]  # the folder's files were hashed with a progress bar
    assert any(text.startswith("Hashing the model folder") for text in hashing), hashing
    # The form stays on every page, the Queue page included, and shows the new request.
    at.switch_page(str(ROOT / "pages" / "queue.py"))
    at.run()
    assert at.sidebar.text_input and "local/tiny" in {
        m for df in at.dataframe for m in df.value.get("Model", [])
    }


def test_the_form_opens_from_a_link_and_from_the_queue_page_and_can_be_closed(deployment):
    at = _app({"submit": "1"})  # a link that opens the form
    at.run()
    assert not at.exception
    assert "Model" in {t.label for t in at.sidebar.text_input}
    assert "submit" not in at.query_params  # taken once: closing it stays closed
    at.sidebar.toggle(key="submit_open").set_value(False).run()
    assert not at.sidebar.text_input
    _queue(at)
    assert not at.sidebar.text_input
    at.button(key="queue_submit").click().run()  # the Queue page's "Submit a model"
    assert not at.exception
    assert "Model" in {t.label for t in at.sidebar.text_input}


@pytest.mark.browser
def test_browser_submit_in_the_sidebar_then_see_it_on_the_queue_page(deployment, browser_page, tmp_path):
    """Fill the sidebar form in Chromium, submit, and follow the tracking link to the filtered Queue page."""
    import os
    import re

    from playwright.sync_api import expect

    from tests.browser import open_submit_form, start_app, wait_for_app

    server = start_app(extra_env={"LEADERBOARD_CONFIG": os.environ["LEADERBOARD_CONFIG"]})
    try:
        page = browser_page
        page.goto(server.url + "/")
        wait_for_app(page, "Submit a model")
        open_submit_form(page)
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_label("Model", exact=True).fill("local/tiny")
        sidebar.locator("[data-testid='stSelectbox']", has_text="Model type").click()
        page.get_by_role("option", name=re.compile(r"pretrained$")).first.click()
        sidebar.get_by_role("button", name="Submit").click()
        expect(sidebar.get_by_text("local/tiny was added to the queue")).to_be_visible(timeout=30_000)
        href = sidebar.get_by_role("link", name="Track it on the Queue page").get_attribute("href")
        assert href == "queue?model=local%2Ftiny"  # relative: works under any base URL path
        page.goto(f"{server.url}/{href}")  # Streamlit opens markdown links in a new tab
        wait_for_app(page, "Evaluation queue")
        expect(page.get_by_text("Pending (2)")).to_have_count(0)  # filtered: only the new request
        expect(page.get_by_text(re.compile(r"Pending \(1\)"))).to_be_visible()
        assert "local/tiny" in {r.model for r in read_requests(deployment)[0]}
    finally:
        server.stop()
