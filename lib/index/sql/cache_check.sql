-- The persisted index (lib/index/cache.py): read every block of the attached snapshot's tables once (each
-- block's checksum is verified as it is read), so that a damaged or cut-short snapshot is found by the
-- check of the stores (or when opened for a command), never half-way through a later query of its views.
SELECT
    (SELECT max(hash(t)) FROM index_snapshot.evaluations t) AS evaluations,
    (SELECT max(hash(t)) FROM index_snapshot.scores t) AS scores,
    (SELECT max(hash(t)) FROM index_snapshot.requests t) AS requests;
