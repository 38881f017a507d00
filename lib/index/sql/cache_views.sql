-- The persisted index (lib/index/cache.py): the empty in-memory tables give way to views of the
-- attached snapshot (`index_snapshot`, read-only), so an unchanged store is not copied into memory.
-- Index._own_tables puts the tables back (cache_own.sql, then cache_load.sql) before the first write.
DROP TABLE evaluations;
DROP TABLE scores;
DROP TABLE requests;
CREATE VIEW evaluations AS SELECT * FROM index_snapshot.evaluations;
CREATE VIEW scores AS SELECT * FROM index_snapshot.scores;
CREATE VIEW requests AS SELECT * FROM index_snapshot.requests;
