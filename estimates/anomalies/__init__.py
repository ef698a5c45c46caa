"""Anomalies: launches that cost or ran far more (or less) than their size predicts, and consumer-months
whose spend fell outside the forecast's interval. ``find`` is pure (DataFrames in, rows out); ``jobs`` is
the ``python -m ingest anomalies`` run that reads the warehouse and writes the ``anomalies`` table.
"""
