"""The admin's flag form starts on the model in view (issue 13), in real Chromium on the offline definition
(whose local user is an admin): the selected leaderboard row, the Queue's filtered model, the Model page's
model; never simply the alphabetically first request."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.browser import ROOT, browser_page, start_app, wait_for_app  # noqa: F401 - fixtures
from tests.lmeval_fixtures import add_request, fake_model_folder, write_definition

pytestmark = pytest.mark.browser
MODELS = ("aa-first", "mm-middle", "zz-last")


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory):
    root = tmp_path_factory.mktemp("admin-flag")
    model = fake_model_folder(root / "models")
    for name in MODELS:
        add_request(root / "requests", model, name=name)
    definition = write_definition(root, [root / "models"])
    command = [sys.executable, "-m", "evaluator", "--config", str(definition), "--burst",
               "--runner", "tests.lmeval_fixtures:QuickRunner"]  # fmt: skip
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=300)
    # sorts before local/zz-last and contains it: the Queue filter "local/zz-last" shows both
    add_request(root / "requests", model, name="zz-last", model="alocal/zz-last")
    server = start_app({"LEADERBOARD_CONFIG": str(definition), "LEADERBOARD_CACHE": "off"})
    yield server
    server.stop()


def _form_model(page):
    form = page.locator("[data-testid='stForm']").filter(has_text="Flag or unflag a model")
    return form.get_by_role("combobox", name="Model", exact=True)


def test_on_the_leaderboard_the_form_starts_on_the_selected_row(admin_app, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{admin_app.url}/?partial=true&q=zz-last")
    wait_for_app(page, "1 of 3 rows")
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.locator("canvas").first.wait_for()
    page.wait_for_timeout(1000)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 35 / 2)  # the first row's selection checkbox
    # while the selection's rerun replaces the row actions, the old (disabled) button can still be in the
    # page beside the new one (a strict-mode error on "the" button): wait for an enabled one
    expect(page.get_by_role("button", name="🔎 Open model page", disabled=False).first).to_be_visible()
    wait_for_app(page)
    page.get_by_text("Admin: flag or unflag a model").click()
    expect(_form_model(page)).to_have_value("local/zz-last")


def test_on_the_queue_the_form_starts_on_the_filtered_model(admin_app, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{admin_app.url}/queue?model=local/zz-last")
    wait_for_app(page, "Flag or unflag a model")
    expect(_form_model(page)).to_have_value("local/zz-last")


def test_on_the_model_page_the_form_is_there_and_starts_on_its_model(admin_app, browser_page):  # noqa: F811
    from playwright.sync_api import expect

    page = browser_page
    page.goto(f"{admin_app.url}/model?model=local/mm-middle")
    wait_for_app(page, "Provenance")
    page.get_by_text("Admin: flag or unflag this model").click()
    expect(_form_model(page)).to_have_value("local/mm-middle")
