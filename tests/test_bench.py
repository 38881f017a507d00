"""The benchmark of bench/run.py runs end to end on tiny sizes and reports every measurement.

No timing is asserted: these tests check that the synthetic stores are what the app reads, that each
measurement produced its row, and that the report renders; the figures live in docs/performance.md.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bench import run, synthetic
from lib.analysis.leaderboard import LeaderboardView, build_table
from lib.ingest import parse_result_bytes

TINY = replace(
    run.QUICK,
    ingest_files=30,
    trainings=4,
    checkpoints=6,
    checkpoint_metrics=2,
    curves=3,
    page_reruns=1,
    scale_evaluations=200,
)


def test_synthetic_result_file_is_read_as_lm_eval_04_with_every_task(tmp_path: Path):
    path = synthetic.write_results(tmp_path, 7, 1, n_tasks=20)[0]
    evaluation = parse_result_bytes(path.relative_to(tmp_path).as_posix(), path.read_bytes())[0]
    assert evaluation.source_format == "lm-eval 0.4"
    assert evaluation.model == synthetic.model_name(7)
    assert {s.task for s in evaluation.scores} == {t.name for t in synthetic.tasks(20)}
    assert all(s.stderr is not None and s.n_shot is not None for s in evaluation.scores)


def test_direct_index_ranks_every_evaluation_with_an_average(tmp_path: Path):
    definition = synthetic.write_definition(tmp_path / "d.yaml", 5)
    index = synthetic.empty_index(definition, tmp_path / "store")
    synthetic.fill_leaderboard_index(index, 40, n_tasks=5)
    table = build_table(index, definition, LeaderboardView())
    assert len(table.frame) == 40
    assert table.frame["average"].notna().all()
    assert table.frame["rank"].tolist() == sorted(table.frame["rank"].tolist())


def test_checkpoint_index_has_one_best_row_per_training(tmp_path: Path):
    from lib.analysis.checkpoints import best_checkpoints, load_series

    definition = synthetic.write_definition(tmp_path / "d.yaml", 2)
    index = synthetic.empty_index(definition, tmp_path / "store")
    synthetic.fill_checkpoint_index(index, n_trainings=3, n_checkpoints=5, n_metrics=2)
    best = best_checkpoints(load_series(index, "ckpt_task_00", "perplexity"))
    assert len(best) == 3
    assert not best["higher_is_better"].any()  # perplexity: the lowest value is best
    assert (best["n_checkpoints"] == 5).all()


def test_template_baseline_averages_the_definition_benchmarks(tmp_path: Path):
    synthetic.write_results(tmp_path / "results", 0, 4, n_tasks=3)
    definition = synthetic.write_definition(tmp_path / "d.yaml", 3)
    table = run.template_baseline(tmp_path / "results", definition)
    assert len(table) == 4
    assert table["average"].between(0, 100).all()
    assert list(table["average"]) == sorted(table["average"], reverse=True)


@pytest.mark.slow
def test_quick_run_reports_every_row(tmp_path: Path):
    rows = run.run_all(TINY, tmp_path / "work")
    assert [r.name for r in rows] == list(run.ROWS)
    assert all(r.repeats >= 1 and r.value >= 0 for r in rows)
    targets = {r.name for r in rows if r.target is not None}
    assert {"cold ingest", "refresh after new files", "page rerun after typing a search"} <= targets
    report = run.markdown(rows, run.machine(), quick=True, total_s=1.0)
    for name in run.ROWS:
        assert f"| {name} |" in report
    assert "QUICK" in report


def test_main_writes_markdown_and_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setattr(run, "QUICK", TINY)
    assert run.main(["--quick", "--no-browser", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "| cold ingest |" in printed
    payload = json.loads((tmp_path / "out" / "results.json").read_text())
    assert payload["quick"] is True
    assert [r["name"] for r in payload["rows"]] == list(run.ROWS)
    assert (tmp_path / "out" / "results.md").read_text().startswith("| Measurement |")


def test_template_peer_and_ours_rank_its_store_alike(tmp_path: Path):
    """The peer reads the store the way the template does, and our index reads the same store (the
    template's file format) to the same order and averages."""
    from bench import template_peer
    from lib.analysis.ranking import leaderboard_frame, rank_frame, rank_key
    from lib.core.config import load_definition
    from lib.index import build_index

    results, requests, definition_path = template_peer.write_store(tmp_path, 25)
    peer = template_peer.leaderboard_df(str(results), str(requests))
    assert len(peer) == 25 and peer["license"].eq("apache-2.0").all()  # each request was found and read
    # two precisions, so that the browser bench's precision filter changes the table it times
    assert sorted(peer["precision"].unique()) == ["bfloat16", "float16"]
    definition = load_definition(definition_path)
    index = build_index(definition, str(results), str(requests))
    assert index.problems().empty
    ours = rank_frame(leaderboard_frame(index, definition.benchmarks), rank_key(definition.benchmarks))
    assert ours["model"].tolist() == peer["model"].tolist()
    assert ours["average"].round(2).tolist() == peer["average"].tolist()


@pytest.mark.browser
def test_browser_bench_runs_in_quick_mode(tmp_path: Path):
    """bench/browser.py drives the real app in Chromium on a template-layout store: every row is there,
    the table it waited for came over the websocket, and the timeline filmstrip is written."""
    from bench import browser

    if not Path(browser.CHROMIUM).exists():
        pytest.skip(f"no Chromium at {browser.CHROMIUM}")
    rows = browser.measure_all(tmp_path / "work", browser.QUICK, tmp_path / "out", lambda _text: None)
    names = [r["name"] for r in rows]
    assert not any(r["note"].startswith("FAILED") for r in rows), rows
    for name in (*browser.ROWS[2:10], *browser.ROWS[11:13]):
        assert name in names
    assert all(r["value"] >= 0 for r in rows)
    first = next(r for r in rows if r["name"] == browser.ROWS[2])
    assert "table sent: 40 rows" in first["note"]
    for name in browser.ROWS[11:13]:  # where a first load's time goes: the phases in navigation order
        note = next(r for r in rows if r["name"] == name)["note"]
        phases = note.split(";")[0].removeprefix("median ms from navigation: ").split(" · ")
        seen = {label: value for label, value in (p.rsplit(" ", 1) for p in phases) if value != "—"}
        ms = {label: float(value) for label, value in seen.items()}
        order = (
            "HTML",
            "DOMContentLoaded",
            "websocket open",
            "script start",
            "table sent",
            "script_finished",
        )
        assert [ms[k] for k in order] == sorted(ms[k] for k in order), note
        assert ms["grid code fetched"] <= ms.get("first row drawn", ms["usable"]) <= ms["usable"], note
        assert "(uncompressed)" in note or "(compressed)" in note
    assert list((tmp_path / "out").glob("timeline_template*.png"))


def test_scale_phases_ingest_restart_from_the_snapshot_and_show_the_page(tmp_path: Path):
    """bench/scale.py on a small table: every phase in its own process; the restart takes the table from
    the persisted index (not read again), ranks every row, and the page shows them all."""
    from bench import scale

    size, results, _ = scale.measure_scale(tmp_path, 300, 3)
    assert size.startswith("300 evaluations x 3 benchmarks")
    ingest, restart, page = results["ingest"], results["restart"], results["page"]
    assert (ingest["evaluations"], ingest["scores"]) == (300, 900)
    assert restart["from_snapshot"] and restart["ranked_rows"] == 300 and restart["scores"] == 900
    assert page["caption"].startswith("300 of 300 rows") and page["grid_rows"] == 300
    for phase in results.values():
        assert phase["rss_peak_mib"] >= phase["rss_imports_mib"] > 0
