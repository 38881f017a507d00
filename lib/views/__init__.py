"""Per-page view models and pure plotly figure builders: frames and figures a page draws.

Layer: above ``lib.analysis``; below ``lib.ui``. It must not touch Streamlit widgets or caches.
"""
