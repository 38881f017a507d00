-- Every request of one model, newest first. Parameter: $model.
SELECT path, model, revision, precision, weight_type, status, submitted_time, model_type, params,
       license, likes, architecture, base_model, flagged, merged, moe, on_hub, private, error, sender
FROM requests
WHERE model = $model
ORDER BY submitted_time DESC NULLS LAST, path;
