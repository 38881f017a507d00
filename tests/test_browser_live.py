"""Fresh data without waiting (issue 13, bug 7), in real Chromium on a copy of the demo stores.

A running job's progress moves on the Queue page without a reload (the part of the page showing it
reruns on its own), the page shows the outcome once the job finished, and a reload shows the stores as
they are now: a listing check on a short interval, not a refresh once a minute.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.browser import ROOT, browser_page, start_app, wait_for_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser
REQUEST = "kestrel-nlp/Kestrel-7B_eval_request_False_8bit_Original.json"


def _write(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


@pytest.fixture
def live_store(tmp_path):
    shutil.copytree(ROOT / "demo" / "results", tmp_path / "results")
    shutil.copytree(ROOT / "demo" / "requests", tmp_path / "requests")
    path = tmp_path / "requests" / REQUEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(status="RUNNING", progress={"task": "leaderboard_gpqa", "done": 7, "total": 1000})
    _write(path, data)
    server = start_app(
        {"LEADERBOARD_RESULTS": str(tmp_path / "results"), "LEADERBOARD_REQUESTS": str(tmp_path / "requests")}
    )
    yield server, path, data
    server.stop()


def test_running_progress_is_live_and_a_reload_shows_the_finished_job(live_store, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    server, path, data = live_store
    page = browser_page
    page.goto(f"{server.url}/queue")
    wait_for_app(page, "Evaluation queue")
    bars = page.locator("[data-testid='stProgress']")  # the progress bars, not the table's hidden cells
    expect(bars.filter(has_text="leaderboard_gpqa: 7/1,000").first).to_be_visible()

    data["progress"] = {"task": "leaderboard_gpqa", "done": 655, "total": 1000}
    _write(path, data)
    # no reload, no click: the progress follows the file
    expect(bars.filter(has_text="leaderboard_gpqa: 655/1,000").first).to_be_visible(timeout=25_000)

    data.update(status="FINISHED")
    data.pop("progress")
    _write(path, data)
    expect(bars.filter(has_text="leaderboard_gpqa: 655/1,000")).to_have_count(0, timeout=25_000)
    running = page.get_by_role("heading", name="Running (1)")
    expect(running).to_have_count(0, timeout=25_000)  # the whole page shows the outcome

    # A request added by someone else shows on a plain reload a few seconds later, not a minute later.
    added = dict(data, model="kestrel-nlp/Kestrel-Fresh-3B", status="PENDING", status_history=[])
    _write(path.with_name("Kestrel-Fresh-3B_eval_request_False_8bit_Original.json"), added)
    page.wait_for_timeout(4000)
    page.reload()
    wait_for_app(page, "Evaluation queue")
    expect(page.get_by_text("kestrel-nlp/Kestrel-Fresh-3B").first).to_be_attached(timeout=15_000)
