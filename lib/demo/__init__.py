"""The deterministic demo store generator. Imported only by ``python -m lib demo`` and its test, never by
the dashboard or the evaluator at run time.
"""
