"""Nextflow trace files as launches: ``values`` (Nextflow's units), ``trace`` (the file, line by line),
``options`` (what the trace lacks: options and sidecar TOML), ``run`` (one run's launch and tasks),
``jobs`` (the ``nextflow`` command)."""
