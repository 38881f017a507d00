-- A TSV table source: as table_read_csv.sql, tab-separated.
SELECT * FROM read_csv($path, header = true, delim = '\t', quote = '"', escape = '"', all_varchar = true,
                       null_padding = false, ignore_errors = false)
