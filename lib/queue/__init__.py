"""The evaluation queue: request files (``requests``), submission rules (``submissions``) and where a
submitted model comes from (``model_sources``).

Layer: above ``lib.core`` and ``lib.stores``; shared by the dashboard and the evaluator. It must not
import Streamlit, pandas-heavy analysis or the index.
"""
