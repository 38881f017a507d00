-- Long table sources (lib/index/table_sources.py): the distinct metric names of the readable rows, each
-- given its direction (higher or lower is better) in Python once.
SELECT DISTINCT metric_name FROM long_rows WHERE why = ''
