-- The models of the index with how many evaluations each has, for the model picker.
SELECT model, count(*) AS n_evaluations, max(date) AS last_date
FROM evaluations
GROUP BY model
ORDER BY lower(model);
