-- The persisted index (lib/index/cache.py): write the index's tables and what it remembers about the
-- files (registered as `new_cache_*`) into a new snapshot file attached as `index_out`.
CREATE TABLE index_out.evaluations AS SELECT * FROM evaluations;
CREATE TABLE index_out.scores AS SELECT * FROM scores;
CREATE TABLE index_out.requests AS SELECT * FROM requests;
CREATE TABLE index_out.cache_meta AS SELECT * FROM new_cache_meta;
CREATE TABLE index_out.cache_versions AS SELECT * FROM new_cache_versions;
CREATE TABLE index_out.cache_problems AS SELECT * FROM new_cache_problems;
CREATE TABLE index_out.cache_requests AS SELECT * FROM new_cache_requests;
CREATE TABLE index_out.cache_folders AS SELECT * FROM new_cache_folders;
