-- One row per (leaderboard row, benchmark): raw and normalized score with standard errors.
-- Expects a registered table `components` (benchmark, task, metric, filter, baseline, num_fewshot,
-- higher_is_better, n_components). Parameter $include_partial: keep runs made with lm-eval's --limit.
-- A leaderboard row is (model, sha or revision, precision, chat template, limit). When one row's
-- evaluations disagree on the n-shot of a task, the row is split per results file rather than mixed.
CREATE OR REPLACE TEMP TABLE per_benchmark AS
WITH matched AS (
    SELECT
        s.eval_id, c.benchmark, c.task, c.metric, c.baseline, c.n_components,
        c.higher_is_better, s.value, s.stderr, s.n_shot
    FROM scores s
    JOIN components c
        ON s.task = c.task
        AND s.metric = c.metric
        AND (c.filter IS NULL OR s.filter = c.filter)
        AND (c.num_fewshot IS NULL OR s.n_shot = c.num_fewshot)
    QUALIFY row_number() OVER (
        PARTITION BY s.eval_id, c.benchmark, c.task, c.metric
        ORDER BY (s.filter = 'none') DESC, s.filter
    ) = 1
),
keyed AS (
    SELECT
        m.*,
        e.date,
        concat_ws('|', e.model, coalesce(nullif(e.sha, ''), e.revision), e.precision,
                  e.chat_template::VARCHAR, coalesce(e.limit_n::VARCHAR, 'full')) AS base_key
    FROM matched m
    JOIN evaluations e USING (eval_id)
    WHERE $include_partial OR e.limit_n IS NULL
),
conflicts AS (
    SELECT
        *,
        bool_or(shots_differ) OVER (PARTITION BY base_key) AS split_row
    FROM (
        SELECT
            *,
            min(coalesce(n_shot, -1)) OVER w <> max(coalesce(n_shot, -1)) OVER w AS shots_differ
        FROM keyed
        WINDOW w AS (PARTITION BY base_key, benchmark, task, metric)
    )
),
latest AS (
    SELECT
        *,
        CASE WHEN split_row THEN base_key || '|' || eval_id ELSE base_key END AS row_key
    FROM conflicts
    QUALIFY row_number() OVER (
        PARTITION BY CASE WHEN split_row THEN base_key || '|' || eval_id ELSE base_key END,
            benchmark, task, metric
        ORDER BY date DESC NULLS LAST, eval_id DESC
    ) = 1
)
SELECT
    row_key,
    benchmark,
    count(*) = any_value(n_components) AS complete,
    avg(value) AS raw,
    CASE WHEN any_value(higher_is_better)
        THEN avg(greatest(0.0, value - baseline) / (1.0 - baseline) * 100.0)
        ELSE avg(value)
    END AS norm,
    CASE WHEN count(stderr) = count(*) THEN sqrt(sum(stderr * stderr)) / count(*) END AS raw_se,
    CASE WHEN count(stderr) <> count(*) THEN NULL
        WHEN any_value(higher_is_better)
        THEN sqrt(sum(power(stderr / (1.0 - baseline) * 100.0, 2))) / count(*)
        ELSE sqrt(sum(stderr * stderr)) / count(*)
    END AS norm_se,
    min(n_shot) AS n_shot,
    first(eval_id ORDER BY date DESC NULLS LAST, eval_id DESC) AS eval_id,
    max(date) AS date
FROM latest
GROUP BY row_key, benchmark;
