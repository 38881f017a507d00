-- checkpoint_best.sql with the newest-evaluation rule applied first: when a checkpoint was evaluated
-- more than once at the same setting (training, step, n-shot, chat template, limit, filter), only the
-- newest evaluation counts (by date, then file path), even when it has no value, as in
-- checkpoint_series.sql. Slower (a grouping per point), so lib.checkpoints.checkpoint_table runs it only
-- for the trainings that checkpoint_best.sql flags as `duplicated`. Same parameters and columns.
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
),
newest AS (
    SELECT
        filter,
        training,
        n_shot,
        chat_template,
        limit_n,
        step,
        arg_max(
            {eval_no: eval_no, tokens: tokens, value: value, stderr: stderr, hib: higher_is_better},
            (date IS NOT NULL, coalesce(date, 0), eval_id)
        ) AS p
    FROM points
    WHERE step IS NOT NULL
        AND training IS NOT NULL
        AND ($trainings IS NULL OR list_contains($trainings, training))
    GROUP BY filter, training, n_shot, chat_template, limit_n, step
),
picked AS (
    SELECT
        filter,
        training,
        n_shot,
        chat_template,
        limit_n,
        false AS duplicated,
        count(*) FILTER (WHERE p.value IS NOT NULL AND NOT isnan(p.value)) AS n_checkpoints,
        arg_min(p.hib, step) FILTER (
            WHERE p.hib IS NOT NULL AND p.value IS NOT NULL AND NOT isnan(p.value)
        ) AS stated_higher,
        arg_min({eval_no: p.eval_no, step: step, tokens: p.tokens, value: p.value, stderr: p.stderr},
            (-p.value, step)) FILTER (WHERE p.value IS NOT NULL AND NOT isnan(p.value)) AS highest,
        arg_min({eval_no: p.eval_no, step: step, tokens: p.tokens, value: p.value, stderr: p.stderr},
            (p.value, step)) FILTER (WHERE p.value IS NOT NULL AND NOT isnan(p.value)) AS lowest,
        arg_max({eval_no: p.eval_no, step: step, tokens: p.tokens, value: p.value, stderr: p.stderr},
            step) FILTER (WHERE p.value IS NOT NULL AND NOT isnan(p.value)) AS final
    FROM newest
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
