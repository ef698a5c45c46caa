"""Named crash points, for the crash-safety test: ``LAUNCH_LEDGER_CRASH_AT=<point>[:<n>]``.

With the variable set, the process kills itself with SIGKILL (no cleanup, no ``finally``, as ``kill -9``
would) the ``n``-th time (default 1) it reaches ``<point>``. Unset, ``crash_point`` only reads the
environment and returns. The points, in the order a run reaches them:

* ``extract.listed``: an export's data files listed (and downloaded from S3) · ``scan.page``: a scan
  page saved to the resumable scan area (``ingest.dynamodb.scan``)
* ``validate.file``: a file's items parsed and checked · ``validate.staged``: every batch staged
* ``write.files``: one ``WarehouseWriter.write_files`` (staged batches, merges, the ``job_runs`` row)
  · ``write.merged``: launches merged
* ``commit.begin`` · ``commit.rolled-up`` · ``commit.prev-saved`` (previous manifest copied) ·
  ``commit.swapped`` (new manifest renamed in) · ``commit.catalog`` · ``commit.collected`` (garbage
  removed) · ``exit.begin`` (the writer about to remove its staging directory)

``tests/ingest/test_crash_safety.py`` kills ingests at these points and checks what the next run finds.
"""

from __future__ import annotations

import os
import signal
import threading

CRASH_ENV = "LAUNCH_LEDGER_CRASH_AT"
_hits: dict[str, int] = {}
_lock = threading.Lock()


def crash_point(name: str) -> None:
    """SIGKILL this process if ``$LAUNCH_LEDGER_CRASH_AT`` names this point and this is its n-th hit."""
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    with _lock:
        _hits[name] = _hits.get(name, 0) + 1
        if _hits[name] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
