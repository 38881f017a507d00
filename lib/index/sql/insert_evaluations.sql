-- Append the registered `new_evaluations` (schema columns up to eval_no) with their row-identity hash.
INSERT INTO evaluations
SELECT
    *,
    hash(model, coalesce(nullif(sha, ''), revision), precision, chat_template, coalesce(limit_n, -1.0)) AS base_no
FROM new_evaluations;
