-- Append the registered `new_scores` with the eval_no of their evaluation (from `new_evaluations`).
INSERT INTO scores
SELECT s.*, e.eval_no
FROM new_scores s
JOIN new_evaluations e USING (eval_id);
