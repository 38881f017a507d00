-- Table sources, long layout: the first $limit rows that cannot be stored, and how many there are.
SELECT row_n, why, value_text, count(*) OVER () AS n_failures
FROM long_rows
WHERE why <> ''
ORDER BY row_n
LIMIT $limit;
