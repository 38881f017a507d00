-- The persisted index (lib/index/cache.py): the eval_no the next evaluation added gets.
SELECT coalesce(max(eval_no) + 1, 0) AS next_eval_no FROM index_snapshot.evaluations;
