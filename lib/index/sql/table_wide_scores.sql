-- Table sources, wide layouts: one score per numeric cell of a benchmark column (`s<k>` in the registered
-- `table_rows`, named by `table_benchmarks`): task `benchmark:<id>`, metric `raw` or `normalized`.
-- UNPIVOT leaves out NULL cells (empty, text, NaN or infinite in the file). Rows without a model are
-- reported, not stored.
SELECT
    $label || '#row ' || u.row_n AS eval_id,
    b.task,
    b.metric,
    'none' AS filter,
    u.value,
    CAST(NULL AS DOUBLE) AS stderr,
    CAST(NULL AS INTEGER) AS n_shot,
    b.higher_is_better,
    CAST(NULL AS BIGINT) AS n_samples,
    CAST(NULL AS VARCHAR) AS version
FROM (
    UNPIVOT (SELECT row_n, model, COLUMNS('^s[0-9]+$') FROM table_rows)
    ON COLUMNS('^s[0-9]+$') INTO NAME col VALUE value
) AS u
JOIN table_benchmarks AS b USING (col)
WHERE u.model <> '';
