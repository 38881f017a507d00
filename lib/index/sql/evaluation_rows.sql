-- Every evaluation with the metadata of its request, when one matches.
-- A request matches by the path the results name, else by model, precision and revision (or sha),
-- else by model and precision; the best match wins, then the newest request. `request_matches` is
-- that rule, once: evaluation_rows and the checkpoint queries read it.
CREATE OR REPLACE VIEW request_matches AS
SELECT e.eval_no, r.path AS request_path
FROM evaluations e
JOIN requests r
    ON r.model = e.model
    AND (r.path = e.request_file OR e.precision = '' OR r.precision = e.precision)
QUALIFY row_number() OVER (
    PARTITION BY e.eval_no
    ORDER BY
        (r.path = e.request_file) DESC NULLS LAST,
        (r.revision = e.sha OR r.revision = e.revision) DESC NULLS LAST,
        r.submitted_time DESC NULLS LAST
) = 1;

CREATE OR REPLACE VIEW evaluation_rows AS
SELECT
    e.* EXCLUDE (base_model),
    r.path AS request_path,
    r.status AS request_status,
    coalesce(nullif(e.weight_type, ''), r.weight_type, 'Original') AS weight_type_final,
    r.model_type,
    r.params,
    r.license,
    r.likes,
    r.architecture,
    coalesce(nullif(e.base_model, ''), r.base_model) AS base_model,
    r.submitted_time,
    r.sender,
    coalesce(r.flagged, '') AS flagged,
    coalesce(r.merged, false) AS merged,
    coalesce(r.moe, false) AS moe,
    coalesce(r.on_hub, true) AS on_hub,
    coalesce(r.private, false) AS private,
    coalesce(nullif(r.training, ''), nullif(e.training, '')) AS training_final,
    coalesce(r.step, e.step) AS step_final,
    coalesce(r.tokens, e.tokens) AS tokens_final
FROM evaluations e
LEFT JOIN request_matches m USING (eval_no)
LEFT JOIN requests r ON r.path = m.request_path;
