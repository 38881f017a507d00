-- A Parquet table source, with the file's own column types.
SELECT * FROM read_parquet($path, binary_as_string = true)
