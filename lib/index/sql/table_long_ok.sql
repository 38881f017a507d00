-- Table sources, long layout: the stored rows with their revision (the row's, else `step<n>`, else `main`)
-- and filter (the filter column's, else the metric's `,filter` suffix, else `none`).
CREATE TABLE long_ok AS
SELECT
    *,
    coalesce(nullif(revision_text, ''), CASE WHEN step IS NOT NULL THEN 'step' || step ELSE 'main' END) AS revision,
    coalesce(nullif(filter_text, ''), nullif(metric_filter, ''), 'none') AS filt
FROM long_rows
WHERE why = '';
