"""The ingest report's duplicate rows, checked on generated indexes against the plain query it replaced.

``lib/index/sql/ingest_report.sql`` finds repeated evaluations among the settings (``base_no``) that have
several evaluations only, so that a table source of a million rows is not read score by score. The
reference below is the query before that restriction: over every score. On generated indexes with
repeated and unique settings, dates that tie or are missing, n-shots and task versions that agree or
disagree, both must give the same report, row for row."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from lib.core.config import load_definition
from lib.index import Index

REFERENCE = """
WITH keyed AS (
    SELECT s.eval_id, s.task, s.n_shot, s.version, e.date, e.base_no
    FROM (SELECT DISTINCT eval_id, task, n_shot, version FROM scores) s
    JOIN evaluations e USING (eval_id)
),
ranked AS (
    SELECT *, first(eval_id) OVER w AS newest, first(date) OVER w AS newest_date
    FROM keyed
    WINDOW w AS (PARTITION BY base_no, task, n_shot, version ORDER BY date DESC NULLS LAST, eval_id DESC)
),
conflicting AS (
    SELECT DISTINCT a.eval_id AS a_id, b.eval_id AS b_id
    FROM keyed a
    JOIN keyed b ON a.base_no = b.base_no AND a.task = b.task AND a.eval_id <> b.eval_id
    WHERE a.base_no IN (SELECT base_no FROM keyed GROUP BY base_no HAVING count(DISTINCT eval_id) > 1)
        AND (a.n_shot IS DISTINCT FROM b.n_shot OR a.version IS DISTINCT FROM b.version)
),
duplicates AS (
    SELECT
        'results' AS store, eval_id AS path, 'warning' AS level,
        'duplicate of ' || any_value(newest) || ' for ' || count(*) || ' task(s); that file is used: '
            || CASE
                WHEN any_value(date) IS NOT NULL AND any_value(newest_date) > any_value(date)
                    THEN 'it is newer'
                WHEN any_value(date) IS NULL AND any_value(newest_date) IS NULL
                    THEN 'neither file has a date, so the tie was broken by path (the one sorting last)'
                ELSE 'the dates are equal or missing, so the tie was broken by path (the one sorting last)'
            END AS reason
    FROM ranked
    WHERE eval_id <> newest
        AND NOT EXISTS (SELECT 1 FROM conflicting c WHERE c.a_id = ranked.eval_id AND c.b_id = ranked.newest)
    GROUP BY eval_id, newest
)
SELECT store, path, level, reason FROM problems
UNION ALL
SELECT store, path, level, reason FROM duplicates
ORDER BY level, store, path, reason
"""

TASKS = ("arc", "hellaswag", "mmlu", "gsm8k")


def _generated_index(tmp_path, seed: int) -> Index:
    """An index over empty stores, then filled with generated evaluations: few models, revisions and
    precisions (so settings repeat), dates from a small set or missing, some tasks per file, each with
    an n-shot and version drawn from a small set or missing."""
    rng = np.random.default_rng(seed)
    (tmp_path / "results").mkdir()
    (tmp_path / "requests").mkdir()
    index = Index(load_definition(None), str(tmp_path / "results"), str(tmp_path / "requests"), cache=False)
    index.refresh()
    n = int(rng.integers(20, 120))
    models = rng.choice(["org/a", "org/A", "org/b", "./local/c", "org/d"], n)
    dates = rng.choice([1.0, 2.0, 3.0, np.nan], n)
    evaluations = pa.table(
        {
            "eval_id": [f"{m.strip('./')}/results_{k:03d}.json" for k, m in enumerate(models)],
            "model": list(models),
            "revision": list(rng.choice(["main", "v2"], n)),
            "sha": list(rng.choice(["", "abc"], n)),
            "precision": list(rng.choice(["bfloat16", "float16"], n)),
            "chat_template": list(rng.choice([True, False], n)),
            "date": pa.array(dates, pa.float64(), mask=np.isnan(dates)),
        }
    )
    rows: dict[str, list] = {
        k: [] for k in ("eval_id", "task", "metric", "filter", "value", "n_shot", "version")
    }
    for eval_id in evaluations.column("eval_id").to_pylist():
        for task in rng.choice(TASKS, int(rng.integers(1, len(TASKS) + 1)), replace=False):
            shot = rng.choice([0, 5, -1])
            version = rng.choice(["1", "2", ""])
            for metric in rng.choice(["acc", "acc_norm"], int(rng.integers(1, 3)), replace=False):
                rows["eval_id"].append(eval_id)
                rows["task"].append(str(task))
                rows["metric"].append(str(metric))
                rows["filter"].append("none")
                rows["value"].append(float(rng.random()))
                rows["n_shot"].append(None if shot < 0 else int(shot))
                rows["version"].append(str(version) or None)
    scores = pa.table({**rows, "n_shot": pa.array(rows["n_shot"], pa.int32())})
    index.insert_tables(evaluations, scores)
    return index


@pytest.mark.parametrize("seed", range(40))
def test_duplicates_match_the_report_over_every_score(tmp_path, seed):
    index = _generated_index(tmp_path, seed)
    expected = index.con.execute(REFERENCE).df()
    report = index.problems()
    assert report.values.tolist() == expected.values.tolist()


def test_generated_indexes_do_report_duplicates(tmp_path):
    """The comparison above means something: most generated indexes have duplicates, some have none."""
    found = []
    for seed in range(40):
        (tmp_path / str(seed)).mkdir()
        index = _generated_index(tmp_path / str(seed), seed)
        found.append(int((index.problems()["reason"].str.startswith("duplicate of")).sum()))
    assert sum(1 for f in found if f) >= 30
    assert sum(found) >= 100
