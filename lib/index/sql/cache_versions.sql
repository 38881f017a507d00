-- The persisted index (lib/index/cache.py): each file's version as the snapshot recorded it, blanked
-- (so the file is read again) when its mtime is at or after $racy_from: a file changed this close to the
-- snapshot's listing may have changed again in the same clock tick ("racy clean", RACY_NS). Local
-- versions start with the mtime in ns ("[link:|irregular:]<mtime_ns>:..."); Hub blob ids never match.
WITH versions AS (
    SELECT
        store,
        path,
        version,
        regexp_extract(version, '^(?:link:|irregular:)?([0-9]+):', 1) AS mtime
    FROM index_snapshot.cache_versions
)
SELECT
    store,
    path,
    CASE
        WHEN mtime <> '' AND coalesce(try_cast(mtime AS HUGEINT) >= $racy_from, true) THEN ''
        ELSE version
    END AS version
FROM versions;
