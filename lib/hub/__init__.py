"""Self-reported results on the Hub: ``.eval_results`` and ``model-index`` parsing (``results``), reading
them for many models (``loader``) and lining them up with our own scores (``benchmarks``).

Layer: above ``lib.core``, ``lib.stores`` and ``lib.analysis``. It must not touch Streamlit.
"""
