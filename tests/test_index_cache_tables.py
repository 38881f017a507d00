"""Table sources in the persisted index (lib.index.cache): a new process takes an unchanged table from the
snapshot instead of reading it; a changed, corrupted, removed or newly added table (or table source) is
read again, and its old rows and report rows never linger."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from lib.core.config import load_definition
from lib.index import Index, table_sources
from tests.factories import result_file

CORPUS = Path(__file__).parent / "data" / "corpus"
OLL_CSV = CORPUS / "tables" / "open_llm_contents.csv"
LONG_CSV = CORPUS / "tables" / "checkpoints_long.csv"
CUSTOM_JSONL = CORPUS / "tables" / "custom_scores.jsonl"


def _age(*paths: Path, seconds: float = 600) -> None:
    """Files written a while ago (a file written this instant is re-read: the racy rule)."""
    old = time.time() - seconds
    for path in paths:
        os.utime(path, (old, old))


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The locations of the tables actually read (not taken from the snapshot), in order."""
    seen: list[str] = []
    real = table_sources.read_source

    def spy(source: Any, definition: Any, path: Any = None, **kwargs: Any) -> Any:
        seen.append(source.location)
        return real(source, definition, path, **kwargs)

    monkeypatch.setattr(table_sources, "read_source", spy)
    return seen


def _content(index: Index) -> tuple:
    evaluations = index.con.execute("SELECT * EXCLUDE (eval_no) FROM evaluations ORDER BY eval_id").fetchall()
    scores = index.con.execute(
        "SELECT * EXCLUDE (eval_no) FROM scores ORDER BY eval_id, task, metric, filter"
    ).fetchall()
    requests = index.con.execute("SELECT * FROM requests ORDER BY path").fetchall()
    return evaluations, scores, requests, sorted(index.problems().values.tolist())


def _oll(tmp_path: Path) -> tuple[Index, Any]:
    index = Index(load_definition("demo"), str(tmp_path / "contents.csv"), "", cache=tmp_path / "cache")
    return index, index.refresh()


def test_unchanged_table_is_taken_from_the_snapshot_not_read(tmp_path, reads):
    shutil.copy(OLL_CSV, tmp_path / "contents.csv")
    _age(tmp_path / "contents.csv")
    first, stats = _oll(tmp_path)
    assert stats.parsed == 3 and reads == [str(tmp_path / "contents.csv")]
    again, stats = _oll(tmp_path)
    assert stats.parsed == 0 and stats.cached and len(reads) == 1  # not read again
    assert _content(again) == _content(first)  # rows, metadata (license, likes...) and report rows
    from lib.analysis.leaderboard import LeaderboardView, build_table

    frame = build_table(again, again.definition, LeaderboardView(hide=())).frame.set_index("model")
    assert frame.loc["someone/mega-merge-12B", "license"] == "cc-by-nc-4.0"


def test_changed_table_is_read_again_and_its_old_rows_go(tmp_path, reads):
    target = tmp_path / "contents.csv"
    shutil.copy(OLL_CSV, target)
    _age(target, seconds=900)
    first, _ = _oll(tmp_path)
    target.write_text(OLL_CSV.read_text(encoding="utf-8").replace(",0.31,", ",0.77,"), encoding="utf-8")
    _age(target)
    again, stats = _oll(tmp_path)
    assert stats.parsed == 3 and len(reads) == 2
    gpqa = again.con.execute(
        "SELECT value FROM scores WHERE eval_id LIKE '%#row 1' AND task = 'benchmark:gpqa' AND metric = 'raw'"
    ).fetchall()
    assert gpqa == [(0.77,)]
    assert again.counts() == first.counts()  # replaced, not added beside the old rows


def test_a_table_written_right_before_the_snapshot_is_read_again(tmp_path, reads):
    shutil.copy(OLL_CSV, tmp_path / "contents.csv")  # modified now: same-tick rewrites cannot be told apart
    _oll(tmp_path)
    again, stats = _oll(tmp_path)
    assert stats.parsed == 3 and len(reads) == 2
    assert again.counts()["evaluations"] == 3


def test_corrupted_then_repaired_table(tmp_path, reads):
    target = tmp_path / "contents.csv"
    shutil.copy(OLL_CSV, target)
    _age(target, seconds=900)
    _oll(tmp_path)
    target.write_bytes(b'fullname,"IFEval\n\x00\xff"broken')
    _age(target, seconds=600)
    broken, _ = _oll(tmp_path)
    assert broken.counts()["evaluations"] == 0 and broken.counts()["scores"] == 0
    assert broken.con.execute("SELECT count(*) FROM requests").fetchall() == [(0,)]
    (line,) = broken.problems().itertuples()
    assert line.level == "error" and line.path == str(target)
    shutil.copy(OLL_CSV, target)
    _age(target, seconds=300)
    repaired, _ = _oll(tmp_path)
    assert repaired.counts()["evaluations"] == 3
    assert "DuckDB cannot read" not in " ".join(repaired.problems()["reason"])
    assert len(reads) == 3


def _definition(tmp_path: Path, tables: list[str]) -> Path:
    path = tmp_path / "definition.yaml"
    data = yaml.safe_load((CORPUS / "definitions" / "tables.yaml").read_text(encoding="utf-8"))
    entries = {
        "long.csv": {"location": "long.csv", "layout": "long"},
        "custom.jsonl": {
            "location": "custom.jsonl",
            "layout": "long",
            "columns": {"model": "run_name", "task": "eval_task", "metric": "measure", "value": "result"},
        },
    }
    data["stores"] = {"results": "results", "requests": "", "tables": [entries[t] for t in tables]}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_added_and_removed_table_sources_leave_the_rest_unread(tmp_path, reads):
    shutil.copy(LONG_CSV, tmp_path / "long.csv")
    shutil.copy(CUSTOM_JSONL, tmp_path / "custom.jsonl")
    result = result_file(tmp_path / "results", "org/files-model", {"hellaswag": {"acc": 0.5}})
    _age(tmp_path / "long.csv", tmp_path / "custom.jsonl", result)

    def open_with(*tables: str) -> tuple[Index, Any]:
        index = Index(load_definition(_definition(tmp_path, list(tables))), cache=tmp_path / "cache")
        return index, index.refresh()

    first, stats = open_with("long.csv")
    assert stats.parsed == 1 + 4  # the results file and the long table's four checkpoints
    both, stats = open_with("long.csv", "custom.jsonl")
    assert stats.parsed == 2 and reads[-1].endswith("custom.jsonl") and len(reads) == 2
    models = {m for (m,) in both.con.execute("SELECT DISTINCT model FROM evaluations").fetchall()}
    assert models == {"org/files-model", "acme-labs/olmo-mini", "team/exp-a", "team/exp-b"}
    assert len(both.problems()) == 2  # the long table's two unreadable rows, from the snapshot
    only_custom, stats = open_with("custom.jsonl")
    assert stats.parsed == 0 and len(reads) == 2  # nothing read: a source went away
    models = {m for (m,) in only_custom.con.execute("SELECT DISTINCT model FROM evaluations").fetchall()}
    assert models == {"org/files-model", "team/exp-a", "team/exp-b"}
    assert only_custom.problems().empty  # the removed table's report rows went with it
    again, stats = open_with("custom.jsonl")
    assert stats.parsed == 0 and _content(again) == _content(only_custom)
    (tmp_path / "custom.jsonl").unlink()  # the file goes: its rows go, one error row says why
    gone, _ = open_with("custom.jsonl")
    models = {m for (m,) in gone.con.execute("SELECT DISTINCT model FROM evaluations").fetchall()}
    assert models == {"org/files-model"} and gone.counts()["scores"] == 1
    (line,) = gone.problems().itertuples()
    assert line.level == "error" and line.path.endswith("custom.jsonl")
