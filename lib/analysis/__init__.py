"""Analysis over the index: ranking, the leaderboard view, search, checkpoints, comparisons, samples.

Layer: above ``lib.index``; below ``lib.views`` and ``lib.ui``. It must not touch Streamlit.
"""
