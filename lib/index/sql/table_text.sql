-- A column of any type DuckDB can render (lists, structs...) as text: `one_column(v)`.
SELECT CAST(v AS VARCHAR) AS v FROM one_column
