-- The persisted index (lib/index/cache.py): copy an attached snapshot (`index_snapshot`, read-only)
-- into the empty in-memory tables, in one transaction run by the caller (Index._own_tables).
INSERT INTO evaluations SELECT * FROM index_snapshot.evaluations;
INSERT INTO scores SELECT * FROM index_snapshot.scores;
INSERT INTO requests SELECT * FROM index_snapshot.requests;
