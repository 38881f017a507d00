-- Table sources: the evaluations table (lib/ingest/columns.py EVALUATIONS order) of `table_evals`, with the
-- checkpoints parsed from revisions (`table_checkpoints`, registered) for evaluations without a step, and
-- the range checks of lib/ingest/tables.py: a date outside [0, 2**33] or tokens outside [0, 2**63] are
-- dropped with a warning counted in n_warnings.
SELECT
    eval_id,
    model,
    revision,
    sha,
    precision,
    weight_type,
    chat_template,
    CAST(NULL AS DOUBLE) AS limit_n,
    '' AS lm_eval_version,
    '' AS git_hash,
    CASE WHEN date BETWEEN 0 AND 8589934592 THEN date END AS date,
    CAST(NULL AS DOUBLE) AS duration_s,
    '' AS model_args,
    '' AS batch_size,
    $source_format AS source_format,
    CASE
        WHEN training <> '' THEN training
        WHEN coalesce(c_training, '') <> '' THEN c_training
        WHEN step IS NOT NULL THEN model
        ELSE ''
    END AS training,
    step,
    CASE WHEN tokens BETWEEN 0 AND 9223372036854775808.0 THEN tokens END AS tokens,
    request_file,
    CAST((date IS NOT NULL AND NOT date BETWEEN 0 AND 8589934592) AS INTEGER)
        + CAST((tokens IS NOT NULL AND NOT tokens BETWEEN 0 AND 9223372036854775808.0) AS INTEGER) AS n_warnings,
    base_model,
    '' AS backend,
    '' AS setting,
    model AS model_written
FROM (
    SELECT
        e.* EXCLUDE (step, tokens),
        c.training AS c_training,
        coalesce(e.step, c.step) AS step,
        coalesce(e.tokens, CASE WHEN e.step IS NULL THEN c.tokens END) AS tokens
    FROM table_evals AS e
    LEFT JOIN table_checkpoints AS c ON e.step IS NULL AND c.model = e.model AND c.revision = e.revision
)
ORDER BY row_n;
