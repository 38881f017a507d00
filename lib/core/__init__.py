"""The core: typed records and status enums, the leaderboard definition, checkpoint names.

Layer: the bottom. It imports nothing else from ``lib`` and does no I/O beyond reading a definition file.
"""
