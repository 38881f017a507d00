-- One casing per Hub model: the Hub treats `qwen/qwen2.5-7B` and `Qwen/Qwen2.5-7B` as one repo, so
-- evaluations whose ids differ only in case are one model. Shown casing: the requests store's (the id
-- as submitted and checked on the Hub), else the newest file's. Local paths keep their own case.
UPDATE evaluations
SET model = c.display
FROM (
    SELECT w.key, coalesce(r.casing, w.newest) AS display
    FROM (
        SELECT
            lower(model_written) AS key,
            arg_max(model_written, {'date': coalesce(date, -1e18), 'eval_id': eval_id}) AS newest
        FROM evaluations
        WHERE NOT regexp_matches(model_written, '^(/|\.\.?[\\/]|~|[A-Za-z]:[\\/])')
        GROUP BY lower(model_written)
    ) w
    LEFT JOIN (
        SELECT lower(model) AS key, arg_max(model, submitted_time) AS casing FROM requests GROUP BY lower(model)
    ) r USING (key)
) c
WHERE lower(evaluations.model_written) = c.key
    AND NOT regexp_matches(evaluations.model_written, '^(/|\.\.?[\\/]|~|[A-Za-z]:[\\/])')
    AND evaluations.model IS DISTINCT FROM c.display;
