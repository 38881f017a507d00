-- The in-memory index built from the stores. Rebuilt from files; never the source of truth.
-- evaluations, scores and requests: created from their one declaration, lib/ingest/columns.py.

CREATE TABLE problems (
    store VARCHAR,             -- 'results' or 'requests'
    path VARCHAR,
    level VARCHAR,             -- 'error': not loaded; 'warning': loaded with a caveat
    reason VARCHAR
);
