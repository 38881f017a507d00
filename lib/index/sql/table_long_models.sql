-- Long table sources (lib/index/table_sources.py): the distinct model names of the readable rows, each
-- given its model key in Python (lib.ingest.common.model_key) once, not once per score.
SELECT DISTINCT model FROM long_rows WHERE why = ''
