"""Model and training names are read whole (issue 13: "local/tiny-l…"), in real Chromium on the demo store.

A multiselect placed in a column keeps its chips on one row and shrinks each chip to fit, cutting the
names; the Checkpoints page's Trainings picker wraps its chips instead.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.browser import app_server, browser_page, wait_for_app  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser
TRAININGS = ["fjordline/Finch-1.8B-ablation", "meridian-ai/Cirrus-7B", "northwind-labs/Tern-1B",
             "pellet-collective/Pellet-410M"]  # fmt: skip

# Each chip of a multiselect: its name and whether its text is cut (wider than the room it has).
CHIPS_JS = """(label) => {
  const widget = Array.from(document.querySelectorAll("[data-testid='stMultiSelect']"))
    .find(w => w.innerText.includes(label));
  return Array.from(widget.querySelectorAll("[data-tag]")).map(tag => {
    const cut = [tag, ...tag.querySelectorAll('*')].some(el => el.scrollWidth > el.clientWidth + 1);
    return [tag.getAttribute('aria-label'), cut];
  });
}"""


def test_the_chosen_trainings_are_shown_with_their_whole_names(app_server, browser_page):  # noqa: F811
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    query = urlencode({"task": "lambada_openai", "metric": "acc", "train": ",".join(TRAININGS)})
    page.goto(f"{app_server.url}/checkpoints?{query}")
    wait_for_app(page, "Trainings")
    page.wait_for_selector("[data-testid='stMultiSelect'] [data-tag]")
    page.wait_for_timeout(500)
    chips = page.evaluate(CHIPS_JS, "Trainings")
    assert sorted(name for name, _ in chips) == sorted(TRAININGS), chips
    assert not [name for name, cut in chips if cut], chips
