-- Delete the evaluations (and their scores) whose eval_id is in the registered `old_eval_ids`: the rows
-- of a table source whose file changed or went away.
DELETE FROM scores WHERE eval_id IN (SELECT eval_id FROM old_eval_ids);
DELETE FROM evaluations WHERE eval_id IN (SELECT eval_id FROM old_eval_ids);
