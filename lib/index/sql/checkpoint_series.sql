-- The long frame of one task and metric across the checkpoints of every training (lib.checkpoints).
-- Parameters: $task, $metric, $filter (NULL: any filter; the caller refuses an ambiguous one),
-- $trainings (NULL: every training; else a list of training names).
-- One row per (training, step, n-shot, chat template, limit, filter): when a checkpoint was evaluated
-- more than once at the same setting, the newest evaluation (by date, then file path) is kept.
-- lib.checkpoints.best_checkpoints over this frame is the reference that checkpoint_best.sql matches.
SELECT
    e.training_final AS training,
    e.revision,
    e.step_final AS step,
    e.tokens_final AS tokens,
    s.value,
    s.stderr,
    s.higher_is_better,
    s.n_shot,
    coalesce(e.chat_template, false) AS chat_template,
    e.limit_n AS "limit",
    s.metric,
    s.filter
FROM evaluation_rows AS e
JOIN scores AS s ON s.eval_no = e.eval_no
WHERE s.task = $task
    AND s.metric = $metric
    AND ($filter IS NULL OR s.filter = $filter)
    AND e.step_final IS NOT NULL
    AND coalesce(e.training_final, '') <> ''
    AND ($trainings IS NULL OR list_contains($trainings, e.training_final))
QUALIFY row_number() OVER (
    PARTITION BY e.training_final, e.step_final, s.n_shot, coalesce(e.chat_template, false), e.limit_n, s.filter
    ORDER BY e.date DESC NULLS LAST, e.eval_id DESC
) = 1
ORDER BY training, s.n_shot, chat_template, "limit", step, e.revision;
