-- Every score of the given evaluations. Parameter: $eval_ids (a list of results-file paths).
SELECT eval_id, task, metric, filter, value, stderr, n_shot, higher_is_better, n_samples
FROM scores
WHERE list_contains($eval_ids, eval_id)
ORDER BY eval_id, task, metric, filter;
