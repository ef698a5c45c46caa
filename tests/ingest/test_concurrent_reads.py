"""The dashboard reads while an ingest writes: no lock errors, no half-written reads."""

import json
import subprocess
import sys
import threading
from pathlib import Path

from ingest.__main__ import main
from warehouse.store import connect


def test_readers_see_whole_versions_while_ingests_commit(tmp_path, fixture_items, capsys):
    good = [i for i in fixture_items if "launch_id" in i][:4]
    versions = []
    for n in range(2):  # two inputs that rewrite every partition: costs differ between them
        path = tmp_path / f"v{n}.json"
        lines = []
        for item in good:
            item = dict(item)
            item["totalCost"] = {"S": f"{n + 1}.0000"}
            item["instance_cost"] = {"S": f"{n + 1}.0000"}
            for part in ("volume_cost", "filesystem_cost"):
                item.pop(part, None)
            lines.append(json.dumps({"Item": item}))
        path.write_text("\n".join(lines) + "\n")
        versions.append(path)
    data = tmp_path / "wh"
    main(["dynamodb-export", str(versions[0]), "--data-dir", str(data)])

    stop = threading.Event()
    errors, seen = [], set()

    def read():
        while not stop.is_set():
            try:
                con = connect(data)
                seen.add(con.execute("SELECT count(*), sum(total_cost) FROM launches").fetchone())
                con.close()
            except Exception as exc:  # any error here is a failure of the design
                errors.append(repr(exc))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    # writers in another process, as in production (the dashboard and the ingest are separate processes)
    for n in range(6):
        subprocess.run(
            [sys.executable, "-m", "ingest", "dynamodb-export", str(versions[(n + 1) % 2]), "--data-dir", str(data), "--full"],
            check=True,
            capture_output=True,
            cwd=Path(__file__).parents[2],
        )
    stop.set()
    for t in readers:
        t.join()
    assert errors == []
    # every read saw one whole version: 4 launches all at 1.00 or all at 2.00
    assert seen <= {(4, 4), (4, 8)}
    assert len(seen) == 2


def test_a_warehouse_written_before_job_runs_was_renamed_opens_and_reads(tmp_path):
    """A manifest that still names ingest_runs (every run before the rename) reads as job_runs; the old name stays a view."""
    import json

    from warehouse.store import read_manifest

    assert main(["price-launches", "--data-dir", str(tmp_path)]) == 0
    manifest_path = tmp_path / "warehouse" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["tables"]["ingest_runs"] = manifest["tables"].pop("job_runs")  # as an older version wrote it
    manifest_path.write_text(json.dumps(manifest))
    assert "ingest_runs" not in read_manifest(tmp_path)["tables"]
    con = connect(tmp_path)
    assert con.execute("SELECT command FROM job_runs").fetchall() == [("price-launches",)]
    assert con.execute("SELECT command FROM ingest_runs").fetchall() == [("price-launches",)]
    assert main(["price-launches", "--data-dir", str(tmp_path)]) == 0  # the next run writes on top of it
    assert sorted(c for (c,) in connect(tmp_path).execute("SELECT command FROM job_runs").fetchall()) == ["price-launches"] * 2
