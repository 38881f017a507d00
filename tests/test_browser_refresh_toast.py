"""The refresh toast says what changed in the stores (issue 13), in real Chromium on a copy of the demo stores:
a results file added and a request's status changed while the page is open, then a rerun. And when the
stores are listed: on a page load or reload, not on each click of a leaderboard control (issue 14)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from tests.browser import ROOT, add_demo_model, browser_page, start_app, wait_for_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


@pytest.fixture
def stores(tmp_path):
    shutil.copytree(ROOT / "demo" / "results", tmp_path / "results")
    shutil.copytree(ROOT / "demo" / "requests", tmp_path / "requests")
    server = start_app(
        {"LEADERBOARD_RESULTS": str(tmp_path / "results"), "LEADERBOARD_REQUESTS": str(tmp_path / "requests"),
         "LEADERBOARD_CACHE": "off", "LEADERBOARD_CHECK_S": "0"}
    )  # fmt: skip
    yield server, tmp_path
    server.stop()


def test_the_refresh_toast_counts_the_new_results_file_and_the_changed_request(stores, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    server, root = stores
    page = browser_page
    page.goto(f"{server.url}/queue")
    wait_for_app(page, "Evaluation queue")
    expect(page.get_by_role("heading", name="Pending (6)")).to_be_visible()

    add_demo_model(root, "Kestrel-Toast-1B")
    pending = next(
        p for p in sorted((root / "requests").glob("*/*.json"))
        if json.loads(p.read_text(encoding="utf-8")).get("status") == "PENDING"
    )  # fmt: skip
    request = json.loads(pending.read_text(encoding="utf-8"))
    request["status"] = "FAILED"
    request["error"] = "changed while the page was open"
    _write(pending, request)

    page.get_by_role("button", name="↻ Refresh").click()
    toast = page.locator("[data-testid='stToast']").filter(has_text="Refreshed:")
    expect(toast.first).to_contain_text("1 result file(s) read", timeout=20_000)
    expect(toast.first).to_contain_text("1 request(s) new or changed")
    expect(page.get_by_role("heading", name="Pending (5)")).to_be_visible()


CAPTION = re.compile(r"([\d,]+) of ([\d,]+) rows")


def test_a_control_click_lists_nothing_and_a_reload_shows_new_results(stores, browser_page):  # noqa: F811
    """With a check due on every run (LEADERBOARD_CHECK_S=0), a leaderboard control reruns only its
    fragment and keeps the data it had; the page's reload lists the stores and shows the new model."""
    from playwright.sync_api import expect

    server, root = stores
    page = browser_page
    page.goto(server.url + "/")
    wait_for_app(page, "rows · ranked by Average")
    total = int(CAPTION.search(page.get_by_text(CAPTION).first.inner_text()).group(2).replace(",", ""))

    add_demo_model(root, "Kestrel-Fresh-1B")
    page.locator("[data-testid='stButtonGroup'] button", has_text=re.compile("^raw$")).click()
    page.wait_for_function("() => window.location.search.includes('view=raw')")
    expect(page.get_by_text(CAPTION).first).to_contain_text("(raw scores)")
    expect(page.get_by_text(CAPTION).first).to_contain_text(f"of {total:,} rows")

    page.reload()
    wait_for_app(page, "(raw scores)")
    expect(page.get_by_text(CAPTION).first).to_contain_text(f"of {total + 1:,} rows")
    # the reload drew the table from what the index held, then listed the stores and drew it again
    toast = page.locator("[data-testid='stToast']").filter(has_text="Refreshed:")
    expect(toast.first).to_contain_text("1 result file(s) read")


def test_the_check_after_the_table_ends_the_run_and_stops_asking_when_nothing_changed(stores, browser_page):  # noqa: F811
    """The listing of a load whose check is due runs after the run that drew the table (off the script
    thread); the page asks whether it is done, and stops asking once it is and nothing changed: no rerun
    requests from the browser after that, no 'Checking' caption left, the table as it was."""
    from playwright.sync_api import expect

    server, _root = stores
    page = browser_page
    sent: list[float] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(1)))
    page.goto(server.url + "/")
    wait_for_app(page, "rows · ranked by Average")
    page.reload()  # a load with the index loaded: its check is due (LEADERBOARD_CHECK_S=0)
    wait_for_app(page, "rows · ranked by Average")
    expect(page.get_by_text("Checking the stores for new results")).to_have_count(0, timeout=20_000)
    page.wait_for_timeout(1_500)  # a poll still under way settles
    before = len(sent)
    page.wait_for_timeout(2_500)  # five poll intervals (LEADERBOARD_CHECK_POLL_S=0.5)
    assert len(sent) == before, "the browser still asks for reruns after the check ended"
    expect(page.locator("[data-testid='stToast']").filter(has_text="Refreshed:")).to_have_count(0)
