-- Table sources, wide layouts: the model metadata of each stored row, in the shape of the requests table
-- (lib/ingest/columns.py REQUESTS), so the leaderboard shows type, license, likes, params and flags.
SELECT
    e.eval_id AS path,
    e.model,
    e.revision,
    e.precision,
    e.weight_type,
    'FINISHED' AS status,
    r.date_text AS submitted_time,
    r.base_model,
    r.model_type,
    false AS private,
    r.params,
    r.license,
    r.likes,
    r.architecture,
    r.chat_template AS use_chat_template,
    CAST(NULL AS VARCHAR) AS sender,
    CAST(NULL AS VARCHAR) AS error,
    CASE WHEN r.flagged THEN 'flagged in the table' ELSE '' END AS flagged,
    r.merged,
    r.moe,
    r.on_hub,
    CAST(NULL AS VARCHAR) AS training,
    CAST(NULL AS BIGINT) AS step,
    CAST(NULL AS DOUBLE) AS tokens
FROM table_evals AS e
JOIN table_rows AS r USING (row_n)
ORDER BY e.row_n;
