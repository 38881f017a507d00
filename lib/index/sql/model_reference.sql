-- The leaderboard's usual lm-eval version: the one most full-run evaluations were made with.
SELECT lm_eval_version, count(*) AS n
FROM evaluations
WHERE coalesce(lm_eval_version, '') <> '' AND limit_n IS NULL
GROUP BY lm_eval_version
ORDER BY n DESC, lm_eval_version DESC
LIMIT 1;
