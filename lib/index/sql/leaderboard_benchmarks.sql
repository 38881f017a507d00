-- One row per (leaderboard row, benchmark): raw and normalized score with standard errors.
-- Expects a registered table `components` (comp_no, bench_no, task, metric, filter, baseline,
-- num_fewshot, higher_is_better, n_components). Parameter $include_partial: keep --limit runs.
--
-- A leaderboard row is one comparable setting: (model, sha or revision, precision, chat template,
-- limit, the model arguments that change scores) — `base_no`, a hash computed at ingest — and, per
-- task, one n-shot and one task version. Most rows have one evaluation and take its scores as they are.
-- Rows with several evaluations keep, per component, the newest file's score (no date or the same
-- date: the path that sorts last). When their files disagree on a component's n-shot or task version,
-- the files are grouped by the n-shots and versions they used on the disputed components (a file with
-- none of them joins every group), and each group is its own row, labelled ('5-shot', 'gsm8k v3').
-- Integer keys throughout, and the expensive steps only where needed: that keeps this fast at 100,000
-- evaluations.
CREATE OR REPLACE TEMP TABLE per_benchmark AS
WITH candidates AS (
    SELECT eval_no, eval_id, base_no, coalesce(date, -1e18) AS date
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
        arg_min({'value': s.value, 'stderr': s.stderr, 'n_shot': s.n_shot, 'version': s.version},
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
        m.m.version AS version, k.eval_id, k.base_no, k.date,
        k.base_no IN (SELECT base_no FROM shared) AS is_shared
    FROM matched m
    JOIN candidates k USING (eval_no)
),
disputed AS (
    -- components on which the files of one row disagree: n-shot, or task version
    SELECT
        base_no, comp_no,
        count(DISTINCT coalesce(n_shot, -1)) > 1 AS by_shot,
        count(DISTINCT coalesce(version, '?')) > 1 AS by_version
    FROM keyed
    WHERE is_shared
    GROUP BY base_no, comp_no
    HAVING by_shot OR by_version
),
signatures AS (
    -- each file's setting on the disputed components: its distinct n-shots and task versions
    SELECT
        k.base_no, k.eval_no,
        array_to_string(list_sort(list_distinct(flatten(list([
            CASE WHEN d.by_shot THEN coalesce(k.n_shot::VARCHAR, '?') || '-shot' END,
            CASE WHEN d.by_version THEN c.task || ' v' || coalesce(k.version, '?') END
        ])))), ', ') AS label
    FROM keyed k
    JOIN disputed d USING (base_no, comp_no)
    JOIN components c USING (comp_no)
    GROUP BY k.base_no, k.eval_no
),
groups AS (
    SELECT DISTINCT base_no, label FROM signatures
),
placed AS (
    -- a file of a disputed row goes to its group; a file without disputed components to every group
    SELECT k.*, coalesce(s.label, g.label) AS split_label
    FROM keyed k
    LEFT JOIN signatures s USING (base_no, eval_no)
    LEFT JOIN groups g ON s.label IS NULL AND g.base_no = k.base_no
    WHERE k.is_shared
),
latest AS (
    SELECT base_no AS row_no, comp_no, NULL::VARCHAR AS split_label, value, stderr, n_shot, eval_no, date
    FROM keyed
    WHERE NOT is_shared
    UNION ALL
    SELECT
        k.row_no, k.comp_no, any_value(k.split_label),
        arg_max(k.value, {'date': k.date, 'eval_id': k.eval_id}),
        arg_max(k.stderr, {'date': k.date, 'eval_id': k.eval_id}),
        arg_max(k.n_shot, {'date': k.date, 'eval_id': k.eval_id}),
        arg_max(k.eval_no, {'date': k.date, 'eval_id': k.eval_id}),
        max(k.date)
    FROM (
        SELECT
            placed.*,
            CASE WHEN split_label IS NULL THEN base_no ELSE hash(base_no, split_label) END AS row_no
        FROM placed
    ) k
    GROUP BY k.row_no, k.comp_no
),
sub_values AS (
    -- the subtasks of a benchmark that has several, each with its normalized value and squared errors
    SELECT
        l.row_no, c.bench_no, l.split_label, c.n_components, l.n_shot, l.eval_no, l.date, l.stderr,
        l.value AS raw,
        CASE WHEN c.higher_is_better
            THEN greatest(0.0, l.value - c.baseline) / (1.0 - c.baseline) * 100.0
            ELSE l.value
        END AS norm,
        l.stderr * l.stderr AS raw_se2,
        CASE WHEN c.higher_is_better THEN power(l.stderr / (1.0 - c.baseline) * 100.0, 2) ELSE l.stderr * l.stderr
        END AS norm_se2
    FROM latest l
    JOIN components c USING (comp_no)
    WHERE c.n_components > 1
),
sub_exact AS (
    -- Their means and sums are exact decimal sums rounded once to a double, so the same store gives
    -- the same bytes: a parallel aggregate adds doubles in the order its threads meet the rows, and the
    -- last digit of a float sum depends on that order (sorting each group instead, avg(x ORDER BY
    -- comp_no), cost 12x this aggregate at 100,000 rows x 30 subtasks). A group with a value of 1e5 or
    -- more, or not finite (no score is; a hostile file's may be), is summed as doubles.
    SELECT
        *,
        NOT coalesce(abs(raw) >= 1e5 OR abs(norm) >= 1e5 OR raw_se2 >= 1e5 OR norm_se2 >= 1e5, false) AS exact,
        CASE WHEN exact THEN raw::DECIMAL(38, 28) END AS raw_d,
        CASE WHEN exact THEN norm::DECIMAL(38, 28) END AS norm_d,
        CASE WHEN exact THEN raw_se2::DECIMAL(38, 28) END AS raw_se2_d,
        CASE WHEN exact THEN norm_se2::DECIMAL(38, 28) END AS norm_se2_d
    FROM sub_values
),
comp_cells AS (
    SELECT
        l.row_no,
        c.bench_no,
        l.split_label,
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
        row_no,
        bench_no,
        any_value(split_label),
        count(*) = any_value(n_components),
        CASE WHEN bool_and(exact) THEN sum(raw_d)::DOUBLE / count(raw) ELSE avg(raw) END,
        CASE WHEN bool_and(exact) THEN sum(norm_d)::DOUBLE / count(norm) ELSE avg(norm) END,
        CASE WHEN count(stderr) = count(*)
            THEN sqrt(CASE WHEN bool_and(exact) THEN sum(raw_se2_d)::DOUBLE ELSE sum(raw_se2) END) / count(*)
        END,
        CASE WHEN count(stderr) = count(*)
            THEN sqrt(CASE WHEN bool_and(exact) THEN sum(norm_se2_d)::DOUBLE ELSE sum(norm_se2) END) / count(*)
        END,
        min(n_shot),
        arg_max(eval_no, {'date': date, 'eval_no': eval_no}),
        max(date)
    FROM sub_exact
    GROUP BY row_no, bench_no
),
bench_scores AS (
    -- benchmark-level scores of table sources (task 'benchmark:<id>', metrics raw and normalized)
    SELECT
        s.eval_no, b.bench_no,
        max(s.value) FILTER (WHERE s.metric = 'raw') AS raw,
        max(s.value) FILTER (WHERE s.metric = 'normalized') AS norm
    FROM scores s
    JOIN (
        SELECT bench_no, any_value(bench_key) AS bench_key FROM components GROUP BY bench_no
    ) b ON s.task = b.bench_key
    GROUP BY s.eval_no, b.bench_no
),
bench_baselines AS (
    -- one baseline for the benchmark when its components share it (else a normalized column is needed)
    SELECT
        bench_no, bool_and(higher_is_better) AS higher_is_better,
        CASE WHEN min(baseline) = max(baseline) THEN min(baseline) END AS baseline
    FROM components GROUP BY bench_no
),
bench_keyed AS (
    SELECT
        b.bench_no, b.raw, k.base_no, k.eval_no, k.eval_id, k.date,
        coalesce(b.norm, CASE
            WHEN NOT c.higher_is_better THEN b.raw
            WHEN c.baseline IS NOT NULL THEN greatest(0.0, b.raw - c.baseline) / (1.0 - c.baseline) * 100.0
        END) AS norm
    FROM bench_scores b
    JOIN candidates k USING (eval_no)
    JOIN bench_baselines c USING (bench_no)
),
bench_cells AS (
    -- a row with one evaluation takes its cell as it is (a table source's million rows: no aggregation);
    -- a row with several takes the newest file's (no date or the same date: the path that sorts last)
    SELECT
        base_no AS row_no, bench_no, NULL::VARCHAR AS split_label, true AS complete, raw, norm,
        NULL::DOUBLE AS raw_se, NULL::DOUBLE AS norm_se, NULL::INTEGER AS n_shot, eval_no, date
    FROM bench_keyed
    WHERE base_no NOT IN (SELECT base_no FROM shared)
    UNION ALL
    SELECT
        base_no AS row_no,
        bench_no,
        NULL::VARCHAR AS split_label,
        true AS complete,
        arg_max(raw, {'date': date, 'eval_id': eval_id}) AS raw,
        arg_max(norm, {'date': date, 'eval_id': eval_id}) AS norm,
        NULL::DOUBLE AS raw_se,
        NULL::DOUBLE AS norm_se,
        NULL::INTEGER AS n_shot,
        arg_max(eval_no, {'date': date, 'eval_id': eval_id}) AS eval_no,
        max(date) AS date
    FROM bench_keyed
    WHERE base_no IN (SELECT base_no FROM shared)
    GROUP BY base_no, bench_no
)
SELECT * FROM comp_cells
UNION ALL
SELECT b.* FROM bench_cells b
WHERE NOT EXISTS (SELECT 1 FROM comp_cells c WHERE c.row_no = b.row_no AND c.bench_no = b.bench_no);
