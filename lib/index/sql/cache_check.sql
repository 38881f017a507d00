-- The persisted index (lib/index/cache.py): read every block of the attached snapshot's tables once (each
-- block's checksum is verified as it is read), so that a damaged or cut-short snapshot is discarded
-- when it is opened, never found half-way through a later query of its views; and the next eval_no.
SELECT
    (SELECT max(hash(t)) FROM index_snapshot.evaluations t) AS evaluations,
    (SELECT max(hash(t)) FROM index_snapshot.scores t) AS scores,
    (SELECT max(hash(t)) FROM index_snapshot.requests t) AS requests,
    (SELECT coalesce(max(eval_no) + 1, 0) FROM index_snapshot.evaluations) AS next_eval_no;
