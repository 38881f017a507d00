-- The ingest report: files that failed or loaded with a caveat (the `problems` table), plus results
-- files that repeat another file's evaluation: same model, commit (or revision), precision, chat
-- template, limit and the same task at the same n-shot. The newest file is used; the others are
-- reported as warnings so a user knows which file won.
WITH keyed AS (
    SELECT
        s.eval_id,
        s.task,
        s.n_shot,
        e.date,
        concat_ws('|', e.model, coalesce(nullif(e.sha, ''), e.revision), e.precision,
                  e.chat_template::VARCHAR, coalesce(e.limit_n::VARCHAR, 'full')) AS base_key
    FROM (SELECT DISTINCT eval_id, task, n_shot FROM scores) s
    JOIN evaluations e USING (eval_id)
),
ranked AS (
    SELECT
        *,
        first(eval_id) OVER (
            PARTITION BY base_key, task, n_shot ORDER BY date DESC NULLS LAST, eval_id DESC
        ) AS newest
    FROM keyed
),
duplicates AS (
    SELECT
        'results' AS store,
        eval_id AS path,
        'warning' AS level,
        'duplicate of ' || any_value(newest) || ' for ' || count(*) || ' task(s); the newer file is used' AS reason
    FROM ranked
    WHERE eval_id <> newest
    GROUP BY eval_id
)
SELECT store, path, level, reason FROM problems
UNION ALL
SELECT store, path, level, reason FROM duplicates
ORDER BY level, store, path;
