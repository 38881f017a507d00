-- Append the registered `new_evaluations` (schema columns up to eval_no) with their row-identity hash:
-- (model key, sha or revision, precision, chat template, limit, score-changing model arguments).
-- The model key is the id in lower case for a Hub id (the Hub ignores case), the path as written for
-- a local folder. By name: a column the caller leaves out is NULL.
INSERT INTO evaluations BY NAME
SELECT
    *,
    hash(
        CASE WHEN regexp_matches(model, '^(/|\.\.?[\\/]|~|[A-Za-z]:[\\/])') THEN model ELSE lower(model) END,
        coalesce(nullif(sha, ''), revision), precision, chat_template, coalesce(limit_n, -1.0),
        coalesce(setting, '')
    ) AS base_no
FROM new_evaluations;
