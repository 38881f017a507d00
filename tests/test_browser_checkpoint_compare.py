"""Comparing trainings on the Checkpoints page in real Chromium, as W&B users do (issue 13, "feel").

Small multiples on one x axis with one hover and one legend; runs grouped by a field as mean and band;
per-run visibility in the URL that survives a page change; trainings aligned on tokens. Most tests run
on the demo store (four trainings; Cirrus-7B and Finch-1.8B share the precision bfloat16); the grouping
test also runs on a generated store of three seeds of one recipe, one seed missing a checkpoint.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from tests.browser import DEMO_TRAININGS as TRAININGS
from tests.browser import menu_link, start_app, wait_for_app

pytestmark = pytest.mark.browser

BASE = {"task": "lambada_openai", "metric": "acc", "train": ",".join(TRAININGS)}
# The figure as plotly holds it in the page: its traces and the layout it drew.
FIGURE_JS = """() => {
  const plot = document.querySelector('.js-plotly-plot');
  const layout = plot._fullLayout;
  return {
    traces: plot.data.map(t => ({name: t.name, mode: t.mode, xaxis: t.xaxis || 'x', yaxis: t.yaxis || 'y',
                                 group: t.legendgroup, legend: t.showlegend !== false, fill: t.fill || null,
                                 visible: t.visible === undefined ? true : t.visible,
                                 x: Array.from(t.x || []), y: Array.from(t.y || []),
                                 symbol: t.marker ? t.marker.symbol : null})),
    yaxes: Object.keys(layout).filter(k => /^yaxis\\d*$/.test(k)).sort(),
    hovermode: layout.hovermode, hoversubplots: layout.hoversubplots,
    xtitle: layout.xaxis.title.text,
  };
}"""
SEEDS = {
    "lab/recipe-seed1": {1000: 0.30, 2000: 0.40, 3000: 0.50, 4000: 0.55},
    "lab/recipe-seed2": {1000: 0.32, 2000: 0.44, 3000: 0.52, 4000: 0.57},
    "lab/recipe-seed3": {1000: 0.28, 2000: 0.42, 4000: 0.53},  # no checkpoint at step 3000
    "lab/other": {1000: 0.20, 2000: 0.25, 3000: 0.30, 4000: 0.32},
}


def _open(page, url: str, text: str = "Best =", **query: str) -> dict:
    page.goto(f"{url}/checkpoints?{urlencode(query)}")
    wait_for_app(page, text, timeout=90_000)  # the module's first visit loads the store
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace")
    return page.evaluate(FIGURE_JS)


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_small_multiples_share_the_x_axis_the_hover_and_the_legend(app_server, browser_page):
    page = browser_page
    figure = _open(page, app_server.url, **BASE, more="lambada_openai:perplexity,average")
    assert figure["yaxes"] == ["yaxis", "yaxis2", "yaxis3"]  # three panels
    assert {t["xaxis"] for t in figure["traces"]} == {"x"}  # on one x axis
    assert figure["hovermode"] == "x unified" and figure["hoversubplots"] == "axis"
    for name in TRAININGS:  # every training in every panel, one legend entry for all of them
        mine = [t for t in figure["traces"] if t["group"] == name]
        assert {t["yaxis"] for t in mine} == {"y", "y2", "y3"}, name
        assert sum(t["legend"] for t in mine) == 1, name
        stars = [t for t in mine if t["symbol"] == "star"]
        assert len(stars) == 3  # its best checkpoint starred in each panel
    for title in ("lambada_openai acc (raw)", "lambada_openai perplexity (raw)", "Average (raw)"):
        assert page.locator(".js-plotly-plot .annotation-text", has_text=title).count() == 1

    # The unified hover lists the trainings of every panel at the hovered step.
    box = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.5)
    hover = page.locator(".js-plotly-plot .hoverlayer")
    hover.locator("text").first.wait_for()
    text = hover.text_content()
    assert text.count("Pellet-410M") >= 3, text  # its value in each of the three panels

    # One click on a training in the legend hides it in every panel.
    page.mouse.move(0, 0)
    page.locator(".js-plotly-plot .infolayer .legend .traces", has_text="meridian-ai/Cirrus-7B").click()
    page.wait_for_timeout(500)
    after = page.evaluate(FIGURE_JS)
    cirrus = [t for t in after["traces"] if t["group"] == "meridian-ai/Cirrus-7B"]
    assert cirrus and all(t["visible"] == "legendonly" for t in cirrus)
    assert all(t["visible"] is True for t in after["traces"] if t["group"] == "northwind-labs/Tern-1B")

    # The control is in the URL: choosing no more panels leaves one panel and drops the key.
    page.locator("[data-testid='stMultiSelect']", has_text="More panels").get_by_role(
        "button", name="Clear all"
    ).click()
    page.wait_for_function("() => !window.location.search.includes('more=')")
    wait_for_app(page)
    assert page.evaluate(FIGURE_JS)["yaxes"] == ["yaxis"]


def test_runs_grouped_by_a_field_are_a_mean_with_a_band_and_the_group_size(app_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    figure = _open(page, app_server.url, **BASE, group="precision")
    names = {t["name"] for t in figure["traces"] if t["legend"]}
    assert "bfloat16 (mean of 2, min–max)" in names  # Cirrus-7B and Finch-1.8B
    assert "float16 (mean of 1, no band)" in names  # Pellet-410M alone: no band
    assert not names & set(TRAININGS)  # the members' own lines give way to the group's
    band = [t for t in figure["traces"] if t["name"] == "band: bfloat16 (mean of 2, min–max)"]
    assert [t["fill"] for t in band] == [None, "tonexty"]  # upper edge, then the lower edge filled to it
    upper, lower = band[0]["y"], band[1]["y"]
    assert all(lo <= hi for lo, hi in zip(lower, upper, strict=True)) and any(
        lo < hi for lo, hi in zip(lower, upper, strict=True)
    )
    expect(page.get_by_text("Runs grouped by precision").first).to_contain_text("min–max")
    # Cirrus (every 2,000 steps to 54,000) and Finch (every 1,000 to 20,000): the mean only where both are.
    mean = next(t for t in figure["traces"] if t["name"] == "bfloat16 (mean of 2, min–max)")
    assert max(mean["x"]) <= 20000 and all(x % 2000 == 0 for x in mean["x"])
    expect(page.get_by_text("where only some do are left out").first).to_contain_text("bfloat16")

    page.locator("[data-testid='stButtonGroup'] button", has_text="± 1 std").click()
    page.wait_for_function("() => window.location.search.includes('band=std')")
    wait_for_app(page)
    names = {t["name"] for t in page.evaluate(FIGURE_JS)["traces"] if t["legend"]}
    assert "bfloat16 (mean of 2, ± 1 std)" in names


@pytest.fixture(scope="module")
def seeds_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    for training, points in SEEDS.items():
        for step, acc in points.items():
            data = {
                "results": {"toy_task": {"acc": acc, "acc_stderr": 0.01}},
                "versions": {"toy_task": 0},
                "config": {"model_args": f"pretrained={training},revision=step{step}", "num_fewshot": 0},
            }
            path = folder / "results" / training.replace("/", "__") / f"step{step}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data), encoding="utf-8")
    (folder / "requests").mkdir()
    server = start_app(
        {"LEADERBOARD_RESULTS": str(folder / "results"), "LEADERBOARD_REQUESTS": str(folder / "requests")}
    )
    yield server
    server.stop()


def test_seeds_of_one_recipe_meet_in_one_mean_only_where_every_seed_was_evaluated(seeds_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    figure = _open(page, seeds_server.url, task="toy_task", metric="acc", group="recipe")
    mean = next(t for t in figure["traces"] if t["name"] == "lab/recipe (mean of 3, min–max)")
    assert mean["x"] == [1000, 2000, 4000]  # step 3000: seed3 has no checkpoint there
    assert mean["y"] == pytest.approx([0.30, (0.40 + 0.44 + 0.42) / 3, (0.55 + 0.57 + 0.53) / 3])
    assert any(t["name"] == "lab/other (mean of 1, no band)" for t in figure["traces"])
    star = next(t for t in figure["traces"] if t["name"] == "best: lab/recipe (mean of 3, min–max)")
    assert star["x"] == [4000]
    expect(page.get_by_text("lab/recipe: mean drawn at 3 of 4 step values").first).to_be_visible()


def test_hidden_runs_leave_the_chart_and_stay_hidden_across_pages(app_server, browser_page):
    from playwright.sync_api import expect

    page = browser_page
    _open(page, app_server.url, **BASE)
    page.get_by_text("Show or hide trainings").click()
    cirrus = page.locator("[data-testid='stCheckbox']", has_text="meridian-ai/Cirrus-7B")
    expect(cirrus.locator("input")).to_be_checked()
    cirrus.locator("label").click()
    page.wait_for_function("() => window.location.search.includes('hide=')")
    wait_for_app(page)
    assert _query(page)["hide"] == ["meridian-ai/Cirrus-7B"]
    groups = {t["group"] for t in page.evaluate(FIGURE_JS)["traces"]}
    assert "meridian-ai/Cirrus-7B" not in groups and "northwind-labs/Tern-1B" in groups
    expect(page.get_by_text("Hidden (still chosen): meridian-ai/Cirrus-7B")).to_be_visible()

    menu_link(page, "Leaderboard").click()
    wait_for_app(page, "Leaderboard")
    menu_link(page, "Checkpoints").click()
    wait_for_app(page, "Best =")
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace")
    assert _query(page).get("hide") == ["meridian-ai/Cirrus-7B"]
    assert "meridian-ai/Cirrus-7B" not in {t["group"] for t in page.evaluate(FIGURE_JS)["traces"]}
    expect(cirrus.locator("input")).not_to_be_checked()


def test_on_tokens_trainings_meet_on_one_axis_and_stars_and_table_follow_it(app_server, browser_page):
    page = browser_page
    figure = _open(page, app_server.url, "Value at tokens", **BASE, x="tokens", at="40000000000")
    assert figure["xtitle"] == "training tokens"
    lines = {t["name"]: t for t in figure["traces"] if t["mode"] == "lines" and t["legend"]}
    assert "pellet-collective/Pellet-410M" not in lines  # no token counts: off the axis and the legend
    # Finch sees 2M tokens per step, Tern 4.2M: their last checkpoints (both step 20,000) lie far apart.
    finch = [x for x in lines["fjordline/Finch-1.8B-ablation"]["x"] if x is not None]
    tern = [x for x in lines["northwind-labs/Tern-1B"]["x"] if x is not None]
    assert max(finch) == 40e9 and max(tern) == 84e9
    stars = [t for t in figure["traces"] if t["name"].startswith("best: ")]
    assert stars and all(t["x"][0] >= 1e9 for t in stars)  # placed by tokens, not by step
    grid = page.locator("[data-testid='stDataFrame']").last
    grid.locator("table[role='grid']").wait_for(state="attached")
    text = grid.locator("table[role='grid']").inner_text()
    assert "step-020000-40BT" in text  # Finch at exactly 40B tokens
    assert "nearest is" in text  # Tern has no checkpoint at exactly 40B
