-- A text column (`one_column(v)`, already trimmed) as finite numbers; anything else NULL.
SELECT CASE WHEN isfinite(x) THEN x END AS v FROM (SELECT TRY_CAST(v AS DOUBLE) AS x FROM one_column)
