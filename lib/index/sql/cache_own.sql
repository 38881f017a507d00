-- The persisted index (lib/index/cache.py): drop the views of the attached snapshot (cache_views.sql);
-- the caller creates the tables again from their declaration and copies the snapshot (cache_load.sql).
DROP VIEW evaluations;
DROP VIEW scores;
DROP VIEW requests;
