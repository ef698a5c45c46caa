"""Deliberately invalid launch items, so the quarantine has something to show.

Each is a valid-looking completed Batch launch of ``bioinformatics-core`` from five days before the snapshot
with exactly one realistic mistake, the kind a workflow manager (or a person editing the table) makes.
They go to their own data file of the export (``dynamodb_export.BAD_ITEMS_FILE``).
"""

from __future__ import annotations

from .wire import iso_seconds

RUN_S = 4 * 3600  # every item's run: 4 hours
COSTS = {"totalCost": "3.0240", "instance_cost": "2.9030", "volume_cost": "0.1210", "filesystem_cost": "0.0000"}


def bad_items(as_of: int) -> list[dict]:
    """The invalid items (``{"Item": {...}}``, DynamoDB JSON), one mistake each, for a snapshot at ``as_of``."""
    base_t = as_of - 5 * 86400 + 9 * 3600  # item NN starts NN hours later

    def at(hour: int, seconds: int = 0) -> dict:
        return {"S": iso_seconds(base_t + hour * 3600 + seconds)}

    skewed_line = _instance("c6i.8xlarge", "On-Demand", 1, "us-east-1a", at(6, 5 * 3600), at(6, 1300))
    out_of_order = {"PREPARING": at(5), "WAITING": at(5, 90), "READY": at(5, 2400), "RUNNING": at(5, 600), "COMPLETE": at(9)}
    return [
        _item(base_t, "01", drop=("launch_id",)),  # written by a script that forgot the key
        _item(base_t, "02", times=_status_times(base_t + 2 * 3600, preparing="04/03/2025 10:00")),  # not ISO 8601
        _item(base_t, "03", costs={name: "n/a" for name in COSTS}),
        _item(base_t, "04", status="CANCELLED_BY_USER"),  # not a status the ledger knows
        _item(base_t, "05", times=out_of_order),  # RUNNING before READY
        _item(base_t, "06", instances=[skewed_line]),  # clock skew: end before start
        _item(base_t, "07", costs={name: value.replace(".", ",") for name, value in COSTS.items()}),  # decimal comma
        _item(base_t, "08", times=_status_times(base_t + 8 * 3600, preparing="2025-02-30T10:00:00Z")),  # no such day
    ]


def _status_times(t: int, preparing: str | None = None) -> dict:
    """A completed launch's status times from ``t`` (``preparing`` replaces the first one's string)."""
    return {
        "PREPARING": {"S": preparing if preparing is not None else iso_seconds(t)},
        "WAITING": {"S": iso_seconds(t + 95)},
        "READY": {"S": iso_seconds(t + 700)},
        "RUNNING": {"S": iso_seconds(t + 1300)},
        "COMPLETE": {"S": iso_seconds(t + 1300 + RUN_S)},
    }


def _instance(instance_type: str, option: str, count: int, zone: str, start: dict, end: dict) -> dict:
    return {
        "M": {
            "instance_type": {"S": instance_type},
            "purchase_option": {"S": option},
            "count": {"N": str(count)},
            "availability_zone": {"S": zone},
            "start": start,
            "end": end,
        }
    }


def _item(
    base_t: int,
    key: str,
    *,
    status: str = "COMPLETE",
    times: dict | None = None,
    instances: list[dict] | None = None,
    costs: dict[str, str] | None = None,
    drop: tuple[str, ...] = (),
) -> dict:
    """Item ``key`` ("01".."99"): the valid launch, with the parts given replaced and the attributes ``drop`` left out."""
    t = base_t + int(key) * 3600
    times = times or _status_times(t)
    start, end = {"S": iso_seconds(t + 1300)}, {"S": iso_seconds(t + 1300 + RUN_S)}
    instances = instances or [_instance("r6i.4xlarge", "Spot", 2, "us-east-1b", start, end)]
    volume = {"volume_type": {"S": "gp3"}, "size_gb": {"N": "500"}, "count": {"N": "2"}}
    volume |= {"start": instances[0]["M"]["start"], "end": instances[0]["M"]["end"]}
    body = {
        "launch_id": {"S": f"wl-review-{key}"},
        "consumer": {"S": "bioinformatics-core"},
        "workflow_type": {"S": "nextflow-rnaseq"},
        "compute_platform": {"S": "Batch"},
        "region": {"S": "us-east-1"},
        "status": {"S": status},
        "status_times": {"M": times},
        "input_path": {"S": f"s3://genomics-raw/bioinformatics-core/run-review-{key}/"},
        "input_size_gb": {"N": "36.5"},
        "sample_count": {"N": "12"},
        "resources": {"M": {"instances": {"L": instances}, "volumes": {"L": [{"M": volume}]}}},
        **{name: {"S": value} for name, value in (costs or COSTS).items()},
    }
    for attr in drop:
        body.pop(attr)
    return {"Item": body}
