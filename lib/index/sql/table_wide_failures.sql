-- Table sources, wide layouts: the first $limit rows that cannot be stored, and how many there are.
SELECT
    row_n,
    CASE WHEN model = '' THEN 'no model name' ELSE 'no numeric score in any benchmark column' END AS why,
    CAST(NULL AS VARCHAR) AS value_text,
    count(*) OVER () AS n_failures
FROM table_rows
WHERE model = '' OR NOT has_score
ORDER BY row_n
LIMIT $limit;
