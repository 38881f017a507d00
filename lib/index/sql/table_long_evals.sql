-- Table sources, long layout: one evaluation per (model, revision, precision) of `long_ok`; its step,
-- tokens, training and date come from its first row. `model_keys` (registered) gives each model's key for
-- the id `<location>#<key>@<revision>[@<precision>]` ($label is the location).
CREATE TABLE table_evals AS
SELECT
    f.row_n,
    $label || '#' || k.key || '@' || g.revision
        || CASE WHEN g.precision <> '' THEN '@' || g.precision ELSE '' END AS eval_id,
    g.model,
    g.revision,
    '' AS sha,
    g.precision,
    '' AS weight_type,
    false AS chat_template,
    f.date,
    '' AS base_model,
    CASE
        WHEN f.training <> '' AND f.training <> g.model THEN f.training
        WHEN f.step IS NOT NULL THEN g.model
        ELSE ''
    END AS training,
    f.step,
    f.tokens,
    '' AS request_file
FROM (SELECT model, revision, precision, min(row_n) AS first_row FROM long_ok GROUP BY ALL) AS g
JOIN long_ok AS f ON f.row_n = g.first_row
JOIN model_keys AS k ON k.model = g.model;
