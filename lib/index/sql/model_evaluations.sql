-- Every evaluation of one model (each revision, precision, n-shot setting) with its provenance and the
-- metadata of its matched request. Parameter: $model.
-- n_samples sums lm-eval's effective sample counts over the tasks that report one; shots lists the
-- distinct n-shot values of its scores.
SELECT
    e.eval_id, e.model, e.revision, e.sha, e.precision, e.weight_type_final AS weight_type,
    coalesce(e.chat_template, false) AS chat_template, e.limit_n, e.lm_eval_version, e.git_hash,
    e.date, e.duration_s, e.model_args, e.batch_size, e.source_format, e.backend, e.setting, e.n_warnings,
    e.request_path, e.request_status, e.model_type, e.params, e.license, e.likes, e.architecture,
    e.base_model, e.submitted_time, e.flagged, e.merged, e.moe, e.on_hub, e.private,
    e.training_final AS training, e.step_final AS step, e.tokens_final AS tokens,
    (SELECT sum(n) FROM (
        SELECT max(s.n_samples) AS n FROM scores s WHERE s.eval_id = e.eval_id GROUP BY s.task
    )) AS n_samples,
    (SELECT list(DISTINCT s.n_shot ORDER BY s.n_shot) FROM scores s
        WHERE s.eval_id = e.eval_id AND s.n_shot IS NOT NULL) AS shots,
    (SELECT count(DISTINCT s.task) FROM scores s WHERE s.eval_id = e.eval_id) AS n_tasks
FROM evaluation_rows e
WHERE e.model = $model
ORDER BY e.date DESC NULLS LAST, e.eval_id;
