-- Leaderboard rows: one per row key, with the metadata of its newest evaluation and the weighted
-- average over the averaged benchmarks (NULL unless every one of them is complete).
-- Expects the temp table `per_benchmark` and a registered table `weights` (benchmark, weight) that
-- lists the benchmarks the average covers. (No parameters: DuckDB cannot bind them in a PIVOT.)
WITH info AS (
    SELECT
        row_key,
        first(eval_id ORDER BY date DESC NULLS LAST, eval_id DESC) AS eval_id,
        list(DISTINCT eval_id ORDER BY eval_id) AS eval_ids,
        max(date) AS date
    FROM per_benchmark
    GROUP BY row_key
),
averaged AS (
    SELECT
        p.row_key,
        count(*) AS n_complete,
        sum(w.weight * p.norm) / sum(w.weight) AS avg_norm,
        sum(w.weight * p.raw) / sum(w.weight) * 100 AS avg_raw,
        CASE WHEN count(p.norm_se) = count(*)
            THEN sqrt(sum(power(w.weight * p.norm_se, 2))) / sum(w.weight)
        END AS avg_se
    FROM per_benchmark p
    JOIN weights w USING (benchmark)
    WHERE p.complete
    GROUP BY p.row_key
),
pivoted AS (
    PIVOT per_benchmark ON benchmark
    USING first(raw) AS raw, first(norm) AS norm, first(norm_se) AS se, first(raw_se) AS raw_se,
          first(complete) AS complete, first(n_shot) AS shots
    GROUP BY row_key
)
SELECT
    i.row_key,
    r.model, r.revision, r.sha, r.precision, r.chat_template, r.limit_n, r.lm_eval_version,
    r.weight_type_final AS weight_type, r.model_type, r.params, r.license, r.likes, r.architecture,
    r.base_model, r.submitted_time, r.flagged, r.merged, r.moe, r.on_hub, r.private,
    r.request_path, r.request_status,
    r.training_final AS training, r.step_final AS step, r.tokens_final AS tokens,
    coalesce(a.n_complete, 0) AS n_complete,
    CASE WHEN a.n_complete = (SELECT count(*) FROM weights) THEN a.avg_norm END AS average,
    CASE WHEN a.n_complete = (SELECT count(*) FROM weights) THEN a.avg_se END AS average_se,
    CASE WHEN a.n_complete = (SELECT count(*) FROM weights) THEN a.avg_raw END AS average_raw,
    i.eval_id, i.eval_ids, i.date,
    p.* EXCLUDE (row_key)
FROM info i
JOIN pivoted p USING (row_key)
LEFT JOIN averaged a USING (row_key)
JOIN evaluation_rows r ON r.eval_id = i.eval_id;
