"""The warehouse: the schema (``schema.sql``), the manifest-swapped Parquet writer and reader (``store``),
the record of every job (``runs``: one ``job_runs`` row each) and the Athena lake publish (``lake``).

It uses only ``core``; every other package may use it.
"""
