-- The persisted index (lib/index/cache.py): one store's folder memos (lib/stores/local.py), the numbers
-- as integers (a value that is none makes the snapshot unreadable: it is discarded).
SELECT folder, ctime::BIGINT AS ctime, folders, files, node, scanned::BIGINT AS scanned
FROM index_snapshot.cache_folders
WHERE store = $store;
