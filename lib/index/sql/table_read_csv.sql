-- A CSV table source (lib/index/table_sources.py): every column as text, so that a text value deep in a
-- numeric column never makes the whole file unreadable; the reader turns texts into numbers per column.
SELECT * FROM read_csv($path, header = true, delim = ',', quote = '"', escape = '"', all_varchar = true,
                       null_padding = false, ignore_errors = false)
