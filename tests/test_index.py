"""The DuckDB index: literal rows after ingest, the ingest report, incremental refresh."""

from __future__ import annotations

import os
from pathlib import Path

from lib.core.config import load_definition
from lib.index import Index, build_index
from tests.factories import request_file, result_file


def _index(tmp_path):
    return build_index(load_definition("demo"), str(tmp_path / "results"), str(tmp_path / "requests"))


def test_scores_table_holds_literal_rows(tmp_path):
    result_file(tmp_path / "results", "org/a", {"leaderboard_gpqa": {"acc_norm": 0.6}}, stderr=0.02)
    request_file(tmp_path / "requests", "org/a")
    index = _index(tmp_path)
    rows = index.con.execute(
        "SELECT eval_id, task, metric, filter, value, stderr, n_shot, higher_is_better FROM scores"
    ).fetchall()
    assert rows == [
        (
            "org__a/results_2026-01-01T00-00-00.000000.json",
            "leaderboard_gpqa",
            "acc_norm",
            "none",
            0.6,
            0.02,
            0,
            True,
        )
    ]
    ev = index.con.execute("SELECT model, revision, precision, request_path FROM evaluation_rows").fetchall()
    assert ev == [("org/a", "main", "bfloat16", "org/a_eval_request_False_bfloat16_Original.json")]


def test_bad_file_becomes_a_report_row_and_the_rest_loads(tmp_path):
    result_file(tmp_path / "results", "org/a", {"t": {"acc": 0.5}})
    bad = tmp_path / "results" / "broken.json"
    bad.write_text("{not json")
    (tmp_path / "requests").mkdir()
    (tmp_path / "requests" / "weird.json").write_text('{"model": "org/x", "status": "EXPLODED"}')
    index = _index(tmp_path)
    report = index.problems()
    assert set(zip(report["store"], report["path"], report["level"], strict=True)) == {
        ("results", "broken.json", "error"),
        ("requests", "weird.json", "error"),
    }
    assert "unknown request status" in report.loc[report["store"] == "requests", "reason"].item()
    assert index.counts()["evaluations"] == 1


def test_refresh_reads_only_changed_files(tmp_path, monkeypatch):
    for i in range(5):
        result_file(tmp_path / "results", f"org/m{i}", {"t": {"acc": 0.1 * i}})
    (tmp_path / "requests").mkdir()
    index = _index(tmp_path)
    assert index.counts()["evaluations"] == 5
    generation = index.generation

    stats = index.refresh()
    assert (stats.parsed, stats.removed) == (0, 0)
    assert index.generation == generation  # nothing changed, caches stay valid

    new = result_file(tmp_path / "results", "org/new", {"t": {"acc": 0.9}})
    changed = tmp_path / "results" / "org__m1" / "results_2026-01-01T00-00-00.000000.json"
    result_file(tmp_path / "results", "org/m1", {"t": {"acc": 0.77}})
    os.utime(changed, ns=(1, 1))  # a different version even within one clock tick
    (tmp_path / "results" / "org__m0" / "results_2026-01-01T00-00-00.000000.json").unlink()
    stats = index.refresh()
    assert (stats.parsed, stats.removed) == (2, 1)
    values = dict(
        index.con.execute(
            "SELECT e.model, s.value FROM scores s JOIN evaluations e USING (eval_id)"
        ).fetchall()
    )
    assert values == {
        "org/m1": 0.77,
        "org/m2": 0.2,
        "org/m3": 0.30000000000000004,
        "org/m4": 0.4,
        "org/new": 0.9,
    }
    assert new.exists() and index.generation == generation + 1


def test_missing_store_is_reported_not_raised(tmp_path):
    index = build_index(load_definition("demo"), str(tmp_path / "nowhere"), "")
    assert index.counts()["evaluations"] == 0
    assert "does not exist" in index.problems()["reason"].item()


def test_real_data_checkpoints_are_identified(real_data):
    index = build_index(load_definition("demo"), str(real_data), "")
    rows = index.con.execute(
        "SELECT training, count(*), min(step), max(step) FROM evaluations GROUP BY training ORDER BY training"
    ).fetchall()
    assert rows == [
        ("EleutherAI/pythia-v1.1-160m", 27, 0, 143000),
        ("EleutherAI/pythia-v1.1-160m-deduped", 27, 0, 143000),
    ]


def test_duplicate_results_are_reported_and_the_newest_wins(tmp_path):
    older = result_file(
        tmp_path / "results", "org/a", {"t": {"acc": 0.4}}, date=1.0, stamp="2026-01-01T00-00-00.1"
    )
    result_file(tmp_path / "results", "org/a", {"t": {"acc": 0.5}}, date=2.0, stamp="2026-01-02T00-00-00.1")
    result_file(
        tmp_path / "results", "org/a", {"t": {"acc": 0.6}}, date=3.0, shots=5, stamp="2026-01-03T00-00-00.1"
    )
    (tmp_path / "requests").mkdir()
    report = _index(tmp_path).problems()
    assert report[["path", "level"]].values.tolist() == [
        [str(older.relative_to(tmp_path / "results")), "warning"]
    ]
    assert "duplicate of org__a/results_2026-01-02T00-00-00.1.json" in report["reason"].item()


def test_refresh_after_counts_reads_new_files(tmp_path):
    """counts() must not leave a query result open: the next refresh registers new rows."""
    result_file(tmp_path / "results", "org/a", {"t": {"acc": 0.5}})
    (tmp_path / "requests").mkdir()
    index = _index(tmp_path)
    assert index.counts()["evaluations"] == 1
    result_file(tmp_path / "results", "org/b", {"t": {"acc": 0.6}})
    index.refresh()
    assert index.counts()["evaluations"] == 2


def _table_rows(index, sql_text):
    return sorted(index.con.execute(sql_text).fetchall(), key=repr)


def test_parallel_cold_load_matches_the_sequential_one(monkeypatch):
    """Worker processes (used for large cold loads) give the same rows and report as this process."""
    import lib.index.db as index_db

    corpus = Path(__file__).resolve().parent / "data" / "corpus"
    demo = load_definition("demo")
    sequential = build_index(demo, str(corpus), "")
    monkeypatch.setattr(index_db, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(index_db, "worker_count", lambda: 2)
    calls = []
    real = index_db.parse_in_workers
    monkeypatch.setattr(index_db, "parse_in_workers", lambda *a, **k: calls.append(a) or real(*a, **k))
    progress: list[float] = []
    parallel = Index(demo, str(corpus), "", cache=False)  # a cold load, not the persisted index
    parallel.refresh(progress=lambda fraction, text: progress.append(fraction))
    evaluations = "SELECT * EXCLUDE (eval_no) FROM evaluations"
    assert _table_rows(parallel, evaluations) == _table_rows(sequential, evaluations)
    assert _table_rows(parallel, "SELECT * EXCLUDE (eval_no) FROM scores") == _table_rows(
        sequential, "SELECT * EXCLUDE (eval_no) FROM scores"
    )
    assert parallel.problems().equals(sequential.problems())
    # one report row per file of corpus/bad (other cases of the corpus add their own rows)
    assert parallel.problems()["path"].str.startswith("bad/").sum() == 9
    assert progress and progress[-1] <= 1.0
    assert calls, "the worker processes were not used"
