-- One row of metadata per leaderboard row, oldest first then by row key (the ranking's tie-break): the newest evaluation's identity, its
-- request's metadata, the row key users see in URLs, and every results file that contributed.
WITH files AS (
    -- rows made of several results files (most rows have one, the newest, listed directly below)
    SELECT r.row_idx, list(e.eval_id ORDER BY e.eval_id) AS eval_ids
    FROM (SELECT row_idx, unnest(eval_nos) AS eval_no FROM leaderboard_rows WHERE len(eval_nos) > 1) r
    JOIN evaluations e USING (eval_no)
    GROUP BY r.row_idx
)
SELECT
    r.row_idx,
    concat_ws('|', v.model, coalesce(nullif(v.sha, ''), v.revision), v.precision, v.chat_template::VARCHAR,
              coalesce(v.limit_n::VARCHAR, 'full'))
        || CASE WHEN coalesce(v.setting, '') <> '' THEN '|' || v.setting ELSE '' END
        || CASE WHEN r.split_label IS NOT NULL THEN '|' || r.split_label ELSE '' END AS row_key,
    r.split_label AS setting_label, v.setting, v.backend,
    v.model, v.revision, v.sha, v.precision, v.chat_template, v.limit_n, v.lm_eval_version,
    v.weight_type_final AS weight_type, v.model_type, v.params, v.license, v.likes, v.architecture,
    v.base_model, v.submitted_time, v.flagged, v.merged, v.moe, v.on_hub, v.private,
    v.request_path, v.request_status,
    v.training_final AS training, v.step_final AS step, v.tokens_final AS tokens,
    v.eval_id, coalesce(f.eval_ids, [v.eval_id]) AS eval_ids, v.date
FROM leaderboard_rows r
JOIN evaluation_rows v ON v.eval_no = r.eval_no
LEFT JOIN files f USING (row_idx)
ORDER BY v.date NULLS LAST, row_key;
