"""Everything that touches Streamlit: caching, URL state, widgets shared by pages, the page registry.

Pages import from here and from the pure modules of ``lib``; the pure modules never import this.
"""
