-- The persisted index (lib/index/cache.py): read every block of every table of the attached snapshot once
-- (each block's checksum is verified as it is read), so that a damaged or cut-short snapshot is found by
-- the check of the stores (or when opened for a command), never half-way through a later query of its
-- views or a later read of what it remembers per file. Every table cache_save.sql writes is here.
SELECT
    (SELECT max(hash(t)) FROM index_snapshot.evaluations t) AS evaluations,
    (SELECT max(hash(t)) FROM index_snapshot.scores t) AS scores,
    (SELECT max(hash(t)) FROM index_snapshot.requests t) AS requests,
    (SELECT max(hash(t)) FROM index_snapshot.cache_meta t) AS cache_meta,
    (SELECT max(hash(t)) FROM index_snapshot.cache_versions t) AS cache_versions,
    (SELECT max(hash(t)) FROM index_snapshot.cache_problems t) AS cache_problems,
    (SELECT max(hash(t)) FROM index_snapshot.cache_requests t) AS cache_requests,
    (SELECT max(hash(t)) FROM index_snapshot.cache_folders t) AS cache_folders;
