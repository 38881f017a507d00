-- The eval_ids of one table source's evaluations ($prefix: `<location>#`), when the persisted index
-- brought them (lib/index/db.py).
SELECT eval_id FROM evaluations WHERE starts_with(eval_id, $prefix);
