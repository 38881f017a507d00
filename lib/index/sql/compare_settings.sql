-- The settings of the given evaluations that decide whether scores compare "apples to apples":
-- one row per (evaluation, task) with its n-shot, beside the evaluation's chat template, lm-eval
-- version, limit and precision. Parameters: $eval_ids (results-file paths), $tasks (task names).
SELECT
    e.eval_id, e.model, e.revision, e.precision, coalesce(e.chat_template, false) AS chat_template,
    e.lm_eval_version, e.limit_n, s.task, min(s.n_shot) AS n_shot
FROM evaluations e
JOIN scores s USING (eval_id)
WHERE list_contains($eval_ids, e.eval_id) AND list_contains($tasks, s.task)
GROUP BY ALL
ORDER BY e.eval_id, s.task;
