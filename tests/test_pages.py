"""AppTest: every page of the registry renders on the demo store without an exception, and the
leaderboard's controls do what their labels say."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from lib.ui.leaderboard import WEIGHTS_KEY, model_from_link
from lib.ui.pages import PAGES, ROOT
from tests.apptest import entry_script
from tests.apptest import run_entry as _app

APP = entry_script()


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_every_page_renders(spec):
    at = _app()
    if not spec.default:
        at.switch_page(str(ROOT / spec.script)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title, f"{spec.script} draws no title"


# What Streamlit's Markdown takes for an emoji shortcode (its StreamlitMarkdown.js, Streamlit 1.67): a text
# holding one makes the browser download and compile the emoji plugin (remark-emoji and a 259 KB library).
EMOJI_SHORTCODE = re.compile(r":(?!material/|streamlit:)[\w+-][\w_+-]*:")


def test_the_leaderboards_first_load_draws_no_text_that_reads_as_an_emoji_shortcode():
    """A first load of the leaderboard sends no Markdown holding an emoji shortcode (a time "12:34:56"
    reads as ":34:"), so the browser loads no emoji plugin for it; the time still reads as a time."""
    at = _app()
    texts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                                  "success", "error") for e in getattr(at, kind)]  # fmt: skip
    texts += [w.label for kind in ("text_input", "selectbox", "multiselect", "button", "toggle", "checkbox")
              for w in getattr(at, kind)]  # fmt: skip
    status = next(t for t in texts if "data as of" in t)
    assert re.search(r"\d\d\\?:\d\d\\?:\d\d", status), status  # hours, minutes and seconds are there
    assert not [t for t in texts if EMOJI_SHORTCODE.search(t)]


def _app_with(**params: str) -> AppTest:
    """A first run of the app opened from a link with these query parameters."""
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    return at


def _caption(at: AppTest) -> str:
    """The caption over the grid, as it reads on screen (names from the definition are escaped)."""
    return next(c.value for c in at.caption if " rows · ranked by " in c.value).replace("\\", "")


def test_leaderboard_search_filters_and_publishes_to_the_url():
    at = _app()
    total = len(at.dataframe[0].value)
    at.text_input[0].input("Bluefin").run()
    frame = at.dataframe[0].value
    assert 0 < len(frame) < total
    assert frame["Model"].str.contains("Bluefin", case=False).all()
    assert at.query_params["q"] == "Bluefin"


def test_leaderboard_raw_view_shows_raw_percentages():
    at = _app()
    normalized = at.dataframe[0].value.set_index("Model")["GPQA"]
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["view"] = "raw"
    at.run()
    raw = at.dataframe[0].value.set_index("Model")["GPQA"]
    model = normalized.dropna().index[0]
    # GPQA baseline is 0.25: normalized = (raw - 25) / 0.75
    assert normalized[model] == pytest.approx(max(0.0, raw[model] - 25.0) / 0.75, abs=1e-6)
    assert "(raw scores)" in _caption(at)


def test_leaderboard_rank_by_a_benchmark_sorts_by_it():
    at = _app_with(by="math")
    column = at.dataframe[0].value["MATH Lvl 5"].dropna()
    assert column.is_monotonic_decreasing
    assert "ranked by MATH Lvl 5" in _caption(at)


def test_a_link_orders_every_row_and_the_order_falls_back_when_its_benchmark_goes():
    at = _app_with(order="gpqa", desc="0")
    assert not at.exception
    assert "ordered by GPQA, ascending" in _caption(at)
    column = at.dataframe[0].value["GPQA"].dropna()
    assert column.is_monotonic_increasing and len(column) > 50
    assert at.selectbox(key="url_order").value == "gpqa"  # the control under the grid says so
    at.multiselect(key="url_bench").set_value(["musr", "math"]).run()
    assert not at.exception
    assert "ordered by" not in _caption(at)
    assert any("Ordered by rank again: GPQA" in i.value for i in at.info)
    assert "order" not in at.query_params and "desc" not in at.query_params


def test_a_new_order_starts_in_its_natural_direction_and_a_dropped_one_resets_it():
    """Text starts A to Z, a lower-is-better benchmark at its best (lowest), a size largest first; an order
    that falls back to the ranking leaves no direction behind in the link."""
    at = _app_with(order="params")
    assert "ordered by #Params (B), descending" in _caption(at)
    for key, caption in (
        ("model", "Model, ascending"),
        ("math", "MATH Lvl 5, descending"),
        ("params", "#Params (B), descending"),
    ):
        at.selectbox(key="url_order").set_value(key).run()
        assert not at.exception
        assert f"ordered by {caption}" in _caption(at), key
    at.toggle(key="url_desc").set_value(False).run()
    assert "ordered by #Params (B), ascending" in _caption(at)
    at.selectbox(key="url_order").set_value("rank").run()
    assert "ordered by" not in _caption(at)
    assert "order" not in at.query_params and "desc" not in at.query_params  # the default view's link


def test_a_link_with_an_unknown_order_says_so_and_keeps_the_ranking():
    at = _app_with(order="<b>x</b>")
    assert not at.exception
    assert "ordered by" not in _caption(at)
    notices = " ".join(str(w.value) for w in at.warning)
    assert "Some values in the link were changed" in notices
    assert r"?order\=\<b\>x" in notices and "is not one of rank, average" in notices  # escaped: shown as text


def test_a_params_range_given_the_wrong_way_round_is_turned_round_and_said():
    at = _app_with(pmin="70", pmax="7")
    assert not at.exception
    assert any(
        "#Params from 7B to 70B: the link gave the range the other way round" in i.value for i in at.info
    )
    sizes = at.dataframe[0].value["#Params (B)"]
    assert len(sizes) and sizes.between(7, 70).all()
    assert (at.query_params["pmin"], at.query_params["pmax"]) == ("7.0", "70.0")
    at.run()  # said once: the range is now the right way round
    assert not any("other way round" in i.value for i in at.info)


def test_hidden_flagged_models_come_back_when_unhidden():
    at = _app()
    hidden = len(at.dataframe[0].value)
    at2 = AppTest.from_file(APP, default_timeout=90)
    at2.query_params["hide"] = "merged"  # flagged no longer hidden, merges hidden
    at2.run()
    shown = at2.dataframe[0].value
    assert shown["Model"].str.contains("merge|slerp|passthrough|ties", case=False).sum() < len(shown)
    assert len(shown) != hidden


def test_best_checkpoint_mode_keeps_one_row_per_training():
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["best"] = "1"
    at.query_params["cols"] = "Training,Step"
    at.run()
    frame = at.dataframe[0].value
    trainings = frame.loc[frame["Training"] != "", "Training"]
    assert trainings.is_unique and len(trainings) >= 4


def test_invalid_regex_in_search_falls_back_with_a_notice():
    at = _app()
    at.text_input[0].input("[Bluefin").run()
    assert not at.exception
    assert any("not a valid regular expression" in i.value for i in at.info)


def test_about_page_explains_normalization_with_the_baselines():
    at = _app()
    at.switch_page(str(ROOT / "pages" / "about.py")).run()
    table = at.dataframe[0].value
    gpqa = table[table["Benchmark"] == "GPQA"].iloc[0]
    assert gpqa["Random baseline"] == 0.25
    assert len(table[table["Benchmark"] == "BBH"]) == 24
    assert any("Statistical rank" in m.value for m in at.markdown)


def test_an_admin_flags_a_model_from_the_leaderboard_and_it_is_hidden(tmp_path, monkeypatch):
    import shutil

    import yaml

    shutil.copytree(ROOT / "demo", tmp_path / "store")
    data = yaml.safe_load((ROOT / "lib" / "definitions" / "demo.yaml").read_text(encoding="utf-8"))
    data["stores"] = {
        "requests": str(tmp_path / "store" / "requests"),
        "results": str(tmp_path / "store" / "results"),
    }
    data["submissions"]["anonymous_sender"] = "leaderboard-admin"  # listed in admins
    (tmp_path / "def.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("LEADERBOARD_CONFIG", str(tmp_path / "def.yaml"))
    at = _app()
    before = at.dataframe[0].value
    model = model_from_link(before["Model"].iloc[0])
    at.selectbox(key="admin_flag_model").set_value(model)
    at.text_input(key="admin_flag_reason").input("contaminated on GPQA")
    at.button(key="FormSubmitter:admin_flag-Flag").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert model not in set(at.dataframe[0].value["Model"].map(model_from_link))
    flagged = [
        p
        for p in (tmp_path / "store" / "requests").rglob("*.json")
        if "contaminated on GPQA" in p.read_text()
    ]
    assert flagged


def test_custom_weights_are_drawn_with_their_toggle_and_keep_their_values_while_off():
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["w_gpqa"] = "3"
    at.run()
    weights_toggles = [t for t in at.main.toggle if t.key != "url_desc"]  # not the order's direction
    assert not weights_toggles and not at.number_input, (
        "the weights' expander draws nothing until it is opened"
    )
    at.session_state[WEIGHTS_KEY] = True  # the user opens it
    at.run()
    assert not at.number_input, "no weight inputs while custom weights are off"
    assert at.query_params["w_gpqa"] == "3.0"  # the link's weight is kept for when they are turned on
    at.toggle(key="url_weighted").set_value(True).run()
    assert at.number_input(key="url_w_gpqa").value == 3.0
    at.number_input(key="url_w_gpqa").set_value(7.0).run()
    ranked_with_weights = list(at.dataframe[0].value["Model"])
    at.toggle(key="url_weighted").set_value(False).run()
    at.text_input[0].input("").run()  # another rerun while the inputs are not drawn
    assert not at.number_input
    assert at.query_params["w_gpqa"] == "7.0"
    at.toggle(key="url_weighted").set_value(True).run()
    assert at.number_input(key="url_w_gpqa").value == 7.0
    assert list(at.dataframe[0].value["Model"]) == ranked_with_weights
    at.session_state[WEIGHTS_KEY] = False  # closed: the weights in use stay in use
    at.run()
    assert not at.number_input and at.query_params["weighted"] == "1"
    assert list(at.dataframe[0].value["Model"]) == ranked_with_weights


def test_a_search_that_matches_nothing_is_said_as_text_not_markdown():
    """A search (typed, or from a link) that matches no model is quoted in the notice as the person typed
    it: ``$...$`` is not drawn as a formula, ``**`` not as bold, a link not as a link."""
    search = "$x^2$ **bold** [a](http://evil.example) <b>tag</b>"
    at = _app_with(q=search)
    notice = next(w.value for w in at.warning if "No model matches" in w.value)
    for escaped in ("\\$x", "\\*\\*bold", "\\]\\(", "\\<b\\>"):
        assert escaped in notice  # each Markdown character is escaped
    assert notice.replace("\\", "").replace("\u2060", "").count(search) == 1  # and the text is all there
