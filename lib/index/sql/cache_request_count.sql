-- The persisted index (lib/index/cache.py): how many requests the attached snapshot holds (as text), for
-- Index.counts before the check of the stores has read them (Index.open_snapshot).
SELECT count(*) AS requests FROM index_snapshot.cache_requests;
