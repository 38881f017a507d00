-- Every training with checkpoints: its name, model, number of checkpoints and step range, and the
-- metadata the Checkpoints page groups runs by (the most common value over its evaluations).
SELECT
    training_final AS training,
    min(model) AS model,
    count(DISTINCT step_final) AS n_checkpoints,
    min(step_final) AS first_step,
    max(step_final) AS last_step,
    max(tokens_final) AS last_tokens,
    mode(nullif(precision, '')) AS precision,
    mode(nullif(architecture, '')) AS architecture
FROM evaluation_rows
WHERE step_final IS NOT NULL AND coalesce(training_final, '') <> ''
GROUP BY training_final
ORDER BY training_final;
