-- A text column of dates (`one_column(v)`) as UNIX seconds: ISO 8601 with or without an offset (UTC when
-- none, the connection's time zone is UTC); NULL when a value is no date.
SELECT epoch(TRY_CAST(replace(v, 'Z', '+00:00') AS TIMESTAMPTZ)) AS v FROM one_column
