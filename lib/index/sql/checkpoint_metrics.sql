-- The (task, metric, filter) pairs measured on checkpoints, with how many trainings and checkpoints
-- carry each: the choices of the Checkpoints page and the command line's error messages.
SELECT
    s.task,
    s.metric,
    s.filter,
    count(DISTINCT e.training_final) AS n_trainings,
    count(*) AS n_rows
FROM evaluation_rows AS e
JOIN scores AS s ON s.eval_id = e.eval_id
WHERE e.step_final IS NOT NULL AND coalesce(e.training_final, '') <> ''
GROUP BY s.task, s.metric, s.filter
ORDER BY s.task, s.metric, s.filter;
