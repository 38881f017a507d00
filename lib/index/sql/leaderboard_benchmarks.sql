-- One row per (leaderboard row, benchmark): raw and normalized score with standard errors.
-- Expects a registered table `components` (comp_no, bench_no, task, metric, filter, baseline,
-- num_fewshot, higher_is_better, n_components). Parameter $include_partial: keep --limit runs.
--
-- A leaderboard row is (model, sha or revision, precision, chat template, limit): `base_no`, a hash
-- computed at ingest. Most rows have one evaluation and take its scores as they are. Rows with several
-- evaluations keep, per component, the newest file's score; when they disagree on a component's
-- n-shot, the row is split per results file rather than mixed. Integer keys throughout, and the
-- expensive de-duplication only where it is needed: that keeps this fast at 100,000 evaluations.
CREATE OR REPLACE TEMP TABLE per_benchmark AS
WITH candidates AS (
    SELECT eval_no, base_no, coalesce(date, -1e18) AS date
    FROM evaluations
    WHERE $include_partial OR limit_n IS NULL
),
shared AS (
    SELECT base_no FROM candidates GROUP BY base_no HAVING count(*) > 1
),
matched AS (
    -- a metric logged under several filters: 'none' first, else the first filter by name
    SELECT
        s.eval_no,
        c.comp_no,
        arg_min({'value': s.value, 'stderr': s.stderr, 'n_shot': s.n_shot},
                CASE WHEN s.filter = 'none' THEN '' ELSE s.filter END) AS m
    FROM scores s
    JOIN components c
        ON s.task = c.task
        AND s.metric = c.metric
        AND (c.filter IS NULL OR s.filter = c.filter)
        AND (c.num_fewshot IS NULL OR s.n_shot = c.num_fewshot)
    GROUP BY s.eval_no, c.comp_no
),
keyed AS (
    SELECT
        m.eval_no, m.comp_no, m.m.value AS value, m.m.stderr AS stderr, m.m.n_shot AS n_shot,
        k.base_no, k.date, k.base_no IN (SELECT base_no FROM shared) AS is_shared
    FROM matched m
    JOIN candidates k USING (eval_no)
),
split AS (
    SELECT DISTINCT base_no
    FROM keyed
    WHERE is_shared
    GROUP BY base_no, comp_no
    HAVING min(coalesce(n_shot, -1)) <> max(coalesce(n_shot, -1))
),
latest AS (
    SELECT base_no AS row_no, comp_no, false AS is_split, value, stderr, n_shot, eval_no, date
    FROM keyed
    WHERE NOT is_shared
    UNION ALL
    SELECT
        k.row_no, k.comp_no, any_value(k.is_split),
        arg_max(k.value, {'date': k.date, 'eval_no': k.eval_no}),
        arg_max(k.stderr, {'date': k.date, 'eval_no': k.eval_no}),
        arg_max(k.n_shot, {'date': k.date, 'eval_no': k.eval_no}),
        arg_max(k.eval_no, {'date': k.date, 'eval_no': k.eval_no}),
        max(k.date)
    FROM (
        SELECT
            keyed.*,
            split.base_no IS NOT NULL AS is_split,
            CASE WHEN split.base_no IS NULL THEN keyed.base_no ELSE hash(keyed.base_no, keyed.eval_no) END AS row_no
        FROM keyed
        LEFT JOIN split USING (base_no)
        WHERE keyed.is_shared
    ) k
    GROUP BY k.row_no, k.comp_no
)
SELECT
    l.row_no,
    c.bench_no,
    l.is_split,
    c.n_components = 1 AS complete,
    l.value AS raw,
    CASE WHEN c.higher_is_better
        THEN greatest(0.0, l.value - c.baseline) / (1.0 - c.baseline) * 100.0
        ELSE l.value
    END AS norm,
    l.stderr AS raw_se,
    CASE WHEN c.higher_is_better THEN l.stderr / (1.0 - c.baseline) * 100.0 ELSE l.stderr END AS norm_se,
    l.n_shot,
    l.eval_no,
    l.date
FROM latest l
JOIN components c USING (comp_no)
WHERE c.n_components = 1
UNION ALL
SELECT
    l.row_no,
    c.bench_no,
    any_value(l.is_split),
    count(*) = any_value(c.n_components),
    avg(l.value),
    CASE WHEN any_value(c.higher_is_better)
        THEN avg(greatest(0.0, l.value - c.baseline) / (1.0 - c.baseline) * 100.0)
        ELSE avg(l.value)
    END,
    CASE WHEN count(l.stderr) = count(*) THEN sqrt(sum(l.stderr * l.stderr)) / count(*) END,
    CASE WHEN count(l.stderr) <> count(*) THEN NULL
        WHEN any_value(c.higher_is_better)
        THEN sqrt(sum(power(l.stderr / (1.0 - c.baseline) * 100.0, 2))) / count(*)
        ELSE sqrt(sum(l.stderr * l.stderr)) / count(*)
    END,
    min(l.n_shot),
    arg_max(l.eval_no, {'date': l.date, 'eval_no': l.eval_no}),
    max(l.date)
FROM latest l
JOIN components c USING (comp_no)
WHERE c.n_components > 1
GROUP BY l.row_no, c.bench_no;
