"""AppTest of the Benchmarks page on the demo's local Hub mirror: tasks, ranked entries, badges, our values."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import entry_script

ROOT = Path(__file__).resolve().parents[1]
APP = entry_script()


@pytest.fixture
def app(monkeypatch):
    monkeypatch.delenv("LEADERBOARD_CONFIG", raising=False)
    monkeypatch.delenv("LEADERBOARD_HUB_MIRROR", raising=False)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(str(ROOT / "pages" / "benchmarks.py"))
    at.run()
    assert not at.exception, at.exception
    return at


def _frames(at):
    return {df.proto.id: df.value for df in at.dataframe}


def test_demo_benchmarks_page_lists_tasks_and_ranks_entries_with_badges(app):
    box = app.selectbox(key="hub_task")
    assert "demo-benchmarks/gpqa · default" in box.options
    assert "demo-benchmarks/hellaswag-mini · default · accuracy (normalized)" in box.options
    box.set_value("demo-benchmarks/gpqa · default").run()
    ranked = app.dataframe[0].value
    assert list(ranked["Model"])[:3] == [
        "meridian-ai/Sable-70B-Instruct",
        "bluefin-research/Bluefin-32B-Instruct",
        "kestrel-nlp/Kestrel-12B-Instruct",
    ]
    assert list(ranked["Rank"])[:3] == [1, 2, 3]
    top = ranked.iloc[0]
    assert (
        "✔ verified" in top["Badges"] and "🔗 source" in top["Badges"] and "🏆 leaderboard" in top["Badges"]
    )
    assert top["Source"].startswith("https://") and top["Benchmark page"].endswith(
        "/datasets/demo-benchmarks/gpqa"
    )
    assert "✔ verified" not in ranked.iloc[1]["Badges"]


def test_setup_variants_are_separate_rows_and_community_results_are_marked(app):
    app.selectbox(key="hub_task").set_value("demo-benchmarks/agent-arena · default").run()
    ranked = app.dataframe[0].value
    sable = ranked[ranked["Model"] == "meridian-ai/Sable-70B-Instruct"]
    assert sorted(sable["Setup"]) == ["no-tools", "tools"]
    community = ranked[ranked["Model"] == "bluefin-research/Bluefin-32B-Instruct"].iloc[0]
    assert "👥 community" in community["Badges"] and community["Pull request"].startswith("https://")
    assert "pull request" in community["Origin"]


def test_our_evaluation_is_shown_beside_the_self_reported_value(app):
    app.selectbox(key="hub_task").set_value("demo-benchmarks/mmlu-pro · default").run()
    assert any("Self-reported vs. our evaluation" in h.value for h in app.subheader)
    compare = app.dataframe[1].value
    row = compare[compare["Model"] == "meridian-ai/Sable-70B-Instruct"].iloc[0]
    assert 50 < row["Our evaluation"] < 70  # our raw mmlu_pro acc, in percent like the reported value
    assert row["Difference"] == pytest.approx(row["Self-reported"] - row["Our evaluation"])


def test_hostile_text_stays_text_and_bad_entries_reach_the_ingest_report(app):
    app.selectbox(key="hub_task").set_value("demo-benchmarks/mmlu-pro · default").run()
    ranked = app.dataframe[0].value
    tern = ranked[ranked["Model"] == "northwind-labs/Tern-13B-Chat"].iloc[0]
    assert tern["Source"] is None or tern["Source"] != tern["Source"]  # javascript: is never a link
    assert "🔗 source" not in tern["Badges"]
    assert tern["Setup"] == "[click me](javascript:alert(1))"  # shown as a cell, not rendered Markdown
    report = app.dataframe[-1].value
    assert any("value must be a number" in reason for reason in report["reason"])
    assert any("date is not quoted" in reason for reason in report["reason"])


def test_a_deep_link_selects_the_task(monkeypatch):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["task"] = "demo-benchmarks/agent-arena · default"
    at.run()
    at.switch_page(str(ROOT / "pages" / "benchmarks.py"))
    at.query_params["task"] = "demo-benchmarks/agent-arena · default"
    at.run()
    assert at.selectbox(key="hub_task").value == "demo-benchmarks/agent-arena · default"


def test_no_results_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("LEADERBOARD_HUB_MIRROR", str(tmp_path / "empty"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(str(ROOT / "pages" / "benchmarks.py"))
    at.run()
    assert not at.exception
    assert any("No self-reported results" in i.value for i in at.info)
