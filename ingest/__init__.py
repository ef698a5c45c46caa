"""Launch Ledger ingest: sources → validated, exact rows → the Parquet + DuckDB warehouse.

Nothing here imports Streamlit; the dashboard reads what this package writes.
"""
