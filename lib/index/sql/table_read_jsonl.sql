-- A JSON lines table source, one object per line; DuckDB infers the columns' types.
SELECT * FROM read_json_auto($path, format = 'newline_delimited')
