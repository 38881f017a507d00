-- Table sources, wide and Open LLM Leaderboard layouts (lib/index/table_sources.py): the rows of the
-- registered `table_rows` that have a model and at least one numeric score become evaluations, one per
-- row, named `<location>#row <n>` ($label is the location).
CREATE TABLE table_evals AS
SELECT
    row_n,
    $label || '#row ' || row_n AS eval_id,
    model,
    coalesce(nullif(sha, ''), 'main') AS revision,
    sha,
    precision,
    weight_type,
    chat_template,
    date,
    base_model,
    '' AS training,
    CAST(NULL AS BIGINT) AS step,
    CAST(NULL AS DOUBLE) AS tokens,
    $label || '#row ' || row_n AS request_file
FROM table_rows
WHERE model <> '' AND has_score;
