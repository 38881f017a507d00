"""A first visit on a cold server: the loading bar stays until the table is there (no blank page between).

The store is 1,500 generated result files, so that loading takes long enough to be watched; the page's
state is sampled every few milliseconds from navigation until the grid is drawn.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import start_app

pytestmark = pytest.mark.browser
STATE_JS = """() => ({
  bar: !!document.querySelector('[data-testid="stProgress"]'),
  table: !!document.querySelector('[data-testid="stDataFrame"]'),
})"""


def test_the_loading_bar_is_followed_by_the_table_without_a_blank_page(tmp_path: Path, browser_page):
    from bench import synthetic

    results, requests = tmp_path / "results", tmp_path / "requests"
    synthetic.write_results(results, 0, 1500, n_tasks=6)
    synthetic.write_requests(requests, 1500)
    definition = tmp_path / "definition.yaml"
    synthetic.write_definition(definition, 6, results, requests)
    server = start_app(
        extra_env={"LEADERBOARD_CACHE": "off"},
        app_args=["--config", str(definition), "--results", str(results), "--requests", str(requests)],
    )
    try:
        page = browser_page
        page.goto(server.url + "/", wait_until="commit")
        samples = []
        for _ in range(6000):  # until the table is there (at most a few minutes on a loaded machine)
            samples.append(page.evaluate(STATE_JS))
            if samples[-1]["table"] and not samples[-1]["bar"]:
                break
            page.wait_for_timeout(10)
        assert samples[-1]["table"], "the table never came"
        seen = [i for i, s in enumerate(samples) if s["bar"]]
        assert seen, "no sample caught the loading bar"
        after = samples[seen[0] :]
        blank = [i for i, s in enumerate(after) if not s["bar"] and not s["table"]]
        assert not blank, (
            f"{len(blank)} sample(s) with neither the loading bar nor the table, of {len(after)}"
        )
    finally:
        server.stop()
