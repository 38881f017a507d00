-- The ingest report: files that failed, were skipped or loaded with a caveat (the `problems` table),
-- plus results files that repeat another file's evaluation: one setting (model, commit or revision,
-- precision, chat template, limit, score-changing model arguments: `base_no`) and the same task at the
-- same n-shot and task version, in files that agree on every task they share. The newest file is used;
-- the others are reported as warnings naming the file that won and why: a later date, or, when the
-- dates are equal or missing, its path sorting last.
-- Only evaluations whose setting has another evaluation can repeat one: those are found first, and only
-- their scores are read (a table source of 1,000,000 rows has 20,000,000 scores and no repeated setting;
-- reading every score for this took 35 s there).
WITH shared AS (
    SELECT eval_no, eval_id, date, base_no
    FROM evaluations
    WHERE base_no IN (SELECT base_no FROM evaluations GROUP BY base_no HAVING count(*) > 1)
),
keyed AS (
    SELECT DISTINCT e.eval_id, s.task, s.n_shot, s.version, e.date, e.base_no
    FROM scores s
    JOIN shared e USING (eval_no)
),
ranked AS (
    SELECT
        *,
        first(eval_id) OVER w AS newest,
        first(date) OVER w AS newest_date
    FROM keyed
    WINDOW w AS (PARTITION BY base_no, task, n_shot, version ORDER BY date DESC NULLS LAST, eval_id DESC)
),
conflicting AS (
    -- two files of one setting that disagree on a task's n-shot or version are different rows, not duplicates
    SELECT DISTINCT a.eval_id AS a_id, b.eval_id AS b_id
    FROM keyed a
    JOIN keyed b ON a.base_no = b.base_no AND a.task = b.task AND a.eval_id <> b.eval_id
    WHERE (a.n_shot IS DISTINCT FROM b.n_shot OR a.version IS DISTINCT FROM b.version)
),
duplicates AS (
    SELECT
        'results' AS store,
        eval_id AS path,
        'warning' AS level,
        'duplicate of ' || any_value(newest) || ' for ' || count(*) || ' task(s); that file is used: '
            || CASE
                WHEN any_value(date) IS NOT NULL AND any_value(newest_date) > any_value(date)
                    THEN 'it is newer'
                WHEN any_value(date) IS NULL AND any_value(newest_date) IS NULL
                    THEN 'neither file has a date, so the tie was broken by path (the one sorting last)'
                ELSE 'the dates are equal or missing, so the tie was broken by path (the one sorting last)'
            END AS reason
    FROM ranked
    WHERE eval_id <> newest
        AND NOT EXISTS (SELECT 1 FROM conflicting c WHERE c.a_id = ranked.eval_id AND c.b_id = ranked.newest)
    GROUP BY eval_id, newest
)
SELECT store, path, level, reason FROM problems
UNION ALL
SELECT store, path, level, reason FROM duplicates
ORDER BY level, store, path, reason;
