-- Every (row, benchmark) cell of the leaderboard as flat numeric columns, for a long-to-wide step in numpy.
SELECT
    r.row_idx,
    p.bench_no,
    p.complete,
    p.raw,
    p.norm,
    p.raw_se,
    p.norm_se,
    p.n_shot
FROM per_benchmark p
JOIN leaderboard_rows r USING (row_no);
