-- Table sources, long layout (lib/index/table_sources.py): each row of the registered `table_rows` with
-- why it cannot be stored ('' when it can). Steps and n-shots are whole numbers below 2**62 (else NULL).
CREATE TABLE long_rows AS
SELECT
    *,
    CASE
        WHEN model = '' THEN 'no model name'
        WHEN task = '' THEN 'no task'
        WHEN metric_text = '' THEN 'no metric'
        WHEN value IS NULL THEN 'not finite'
        WHEN step < 0 OR NOT n_shot BETWEEN 0 AND 2147483647 THEN 'step or n-shot out of range'
        ELSE ''
    END AS why
FROM (
    SELECT
        * EXCLUDE (step_number, n_shot_number),
        CASE WHEN step_number = trunc(step_number) AND abs(step_number) < 4611686018427387904
             THEN CAST(step_number AS BIGINT) END AS step,
        CASE WHEN n_shot_number = trunc(n_shot_number) AND abs(n_shot_number) < 4611686018427387904
             THEN CAST(n_shot_number AS BIGINT) END AS n_shot
    FROM table_rows
);
