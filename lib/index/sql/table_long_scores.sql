-- Table sources, long layout: one score per (evaluation, task, metric, filter, n-shot); a repeated score
-- takes the later row's value. A negative stderr is dropped; the direction comes from the metric's name
-- (`metric_directions`, registered).
SELECT
    e.eval_id,
    r.task,
    r.metric_name AS metric,
    r.filt AS filter,
    r.value,
    CASE WHEN r.stderr >= 0 THEN r.stderr END AS stderr,
    CAST(r.n_shot AS INTEGER) AS n_shot,
    d.higher_is_better,
    CAST(NULL AS BIGINT) AS n_samples,
    CAST(NULL AS VARCHAR) AS version
FROM (
    SELECT max(row_n) AS last_row, min(row_n) AS first_row
    FROM long_ok
    GROUP BY model, revision, precision, task, metric_name, filt, n_shot
) AS s
JOIN long_ok AS r ON r.row_n = s.last_row
JOIN table_evals AS e ON e.model = r.model AND e.revision = r.revision AND e.precision = r.precision
JOIN metric_directions AS d ON d.metric = r.metric_name
ORDER BY s.first_row;
