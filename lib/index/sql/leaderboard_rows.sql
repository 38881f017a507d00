-- The leaderboard's rows: one per row_no of `per_benchmark`, numbered 0..n-1 (`row_idx`), with the
-- newest evaluation that contributed to the row. Read after this: leaderboard_cells and leaderboard_meta.
CREATE OR REPLACE TEMP TABLE leaderboard_rows AS
SELECT
    row_no,
    (row_number() OVER ()) - 1 AS row_idx,
    eval_no,
    split_label,
    eval_nos
FROM (
    SELECT
        row_no,
        arg_max(eval_no, {'date': date, 'eval_no': eval_no}) AS eval_no,
        any_value(split_label) AS split_label,
        list(DISTINCT eval_no) AS eval_nos
    FROM per_benchmark
    GROUP BY row_no
);
