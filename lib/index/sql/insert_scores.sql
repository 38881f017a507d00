-- Append the registered `new_scores` with the eval_no of their evaluation (from `new_evaluations`).
-- By name: a column the caller leaves out (an older benchmark generator) is NULL.
INSERT INTO scores BY NAME
SELECT s.*, e.eval_no
FROM new_scores s
JOIN new_evaluations e USING (eval_id);
