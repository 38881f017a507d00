-- The best and final checkpoint of every series (training x n-shot x chat template x limit x filter)
-- of one task and metric, computed here so that one row per series leaves DuckDB
-- (lib.analysis.checkpoints.checkpoint_table). best_checkpoints over checkpoint_series.sql is the
-- reference this must match (tests/test_checkpoints.py compares them).
-- Parameters: $task, $metric, $filter (NULL: every filter, one row per filter; the caller resolves
-- an ambiguous one), $trainings (NULL: every training; else a list of names), $higher (the direction
-- when no score of a series states one: from the metric's name), $dedup (see below).
-- Rules, as in best_checkpoints over checkpoint_series.sql:
-- - training, step and tokens come from the matching request first (the view request_matches of
--   evaluation_rows.sql);
-- - points without a value (NULL or NaN) are left out; a series without any keeps its row with
--   n_checkpoints 0, so the caller sees every filter, as load_series does;
-- - direction: the first stated higher_is_better in step order, else $higher;
-- - best: the highest (or lowest) value, a tie going to the earliest step; final: the last step.
-- A checkpoint evaluated more than once at one setting counts once, by its newest evaluation (by date,
-- then file path), even when that has no value. That needs a grouping per point, so it runs only with
-- $dedup: the caller first runs without it, which flags a series with two rows at one step
-- (`duplicated`), and runs again with $dedup for those trainings only. Without duplicates the steps of
-- a series are distinct, so step alone orders it.
WITH matched AS (
    SELECT m.eval_no, nullif(r.training, '') AS training, r.step, r.tokens
    FROM request_matches AS m
    JOIN requests AS r ON r.path = m.request_path
),
points AS (
    SELECT
        coalesce(m.training, nullif(e.training, '')) AS training,
        coalesce(m.step, e.step) AS step,
        coalesce(m.tokens, e.tokens) AS tokens,
        e.eval_no,
        e.eval_id,
        e.date,
        coalesce(e.chat_template, false) AS chat_template,
        e.limit_n,
        s.value,
        s.stderr,
        s.higher_is_better,
        s.n_shot,
        s.filter
    FROM scores AS s
    JOIN evaluations AS e ON e.eval_no = s.eval_no
    LEFT JOIN matched AS m ON m.eval_no = e.eval_no
    WHERE s.task = $task AND s.metric = $metric AND ($filter IS NULL OR s.filter = $filter)
        AND coalesce(m.step, e.step) IS NOT NULL
        AND coalesce(m.training, nullif(e.training, '')) IS NOT NULL
        AND ($trainings IS NULL OR list_contains($trainings, coalesce(m.training, nullif(e.training, ''))))
),
checkpoints AS (
    SELECT filter, training, n_shot, chat_template, limit_n, step,
        eval_no, tokens, value, stderr, higher_is_better
    FROM points
    WHERE NOT $dedup
    UNION ALL
    SELECT filter, training, n_shot, chat_template, limit_n, step, UNNEST(arg_max(
            {eval_no: eval_no, tokens: tokens, value: value, stderr: stderr, higher_is_better: higher_is_better},
            (date IS NOT NULL, coalesce(date, 0), eval_id)
        ))
    FROM points
    WHERE $dedup
    GROUP BY filter, training, n_shot, chat_template, limit_n, step
),
picked AS (
    SELECT
        filter,
        training,
        n_shot,
        chat_template,
        limit_n,
        count(*) > len(list_distinct(list(step))) AS duplicated,
        count(*) FILTER (WHERE value IS NOT NULL AND NOT isnan(value)) AS n_checkpoints,
        arg_min(higher_is_better, step) FILTER (
            WHERE higher_is_better IS NOT NULL AND value IS NOT NULL AND NOT isnan(value)
        ) AS stated_higher,
        arg_min({eval_no: eval_no, step: step, tokens: tokens, value: value, stderr: stderr},
            (-value, step)) FILTER (WHERE value IS NOT NULL AND NOT isnan(value)) AS highest,
        arg_min({eval_no: eval_no, step: step, tokens: tokens, value: value, stderr: stderr},
            (value, step)) FILTER (WHERE value IS NOT NULL AND NOT isnan(value)) AS lowest,
        arg_max({eval_no: eval_no, step: step, tokens: tokens, value: value, stderr: stderr},
            step) FILTER (WHERE value IS NOT NULL AND NOT isnan(value)) AS final
    FROM checkpoints
    GROUP BY filter, training, n_shot, chat_template, limit_n
),
directed AS (
    SELECT
        *,
        coalesce(stated_higher, $higher) AS higher_is_better,
        CASE WHEN coalesce(stated_higher, $higher) THEN highest ELSE lowest END AS best
    FROM picked
)
SELECT
    d.filter,
    d.training,
    d.n_shot,
    d.chat_template,
    d.limit_n AS "limit",
    d.higher_is_better,
    d.n_checkpoints,
    d.duplicated,
    b.revision AS best_revision,
    d.best.step AS best_step,
    d.best.tokens AS best_tokens,
    d.best.value AS best_value,
    d.best.stderr AS best_stderr,
    f.revision AS final_revision,
    d.final.step AS final_step,
    d.final.tokens AS final_tokens,
    d.final.value AS final_value,
    d.final.stderr AS final_stderr
FROM directed AS d
LEFT JOIN evaluations AS b ON b.eval_no = d.best.eval_no
LEFT JOIN evaluations AS f ON f.eval_no = d.final.eval_no
ORDER BY d.training, d.n_shot, d.chat_template, d.limit_n, d.filter;
