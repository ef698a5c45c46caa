"""Launch Ledger dashboard: a Streamlit router (``streamlit_app.py``) and thin pages in ``app_pages/``.

Pages call the named queries through ``data`` (cached per warehouse version), draw with ``charts``
(DataFrame → Plotly figure) and export with ``statement``; none of those three needs a page to test.
"""
