"""Item shapes by configuration: status times as a map, records or one attribute per status; dotted paths;
resource lists under other names; every time format; a value of the wrong type named, not read as missing."""

import gzip
import json
from datetime import datetime
from decimal import Decimal

import pytest

from core.errors import ConfigError
from core.settings import ItemShapes, load_settings
from ingest.__main__ import main
from warehouse.store import connect

TIMES = {"PREPARING": "2025-03-04T10:00:00Z", "RUNNING": "2025-03-04T11:00:00Z", "COMPLETE": "2025-03-04T15:00:00Z"}


def _item(launch_id: str, **attrs) -> dict:
    item = {
        "launch_id": {"S": launch_id},
        "consumer": {"S": "oncology"},
        "workflow_type": {"S": "nextflow-rnaseq"},
        "compute_platform": {"S": "Batch"},
        "status": {"S": "COMPLETE"},
        "status_times": {"M": {k: {"S": v} for k, v in TIMES.items()}},
        "totalCost": {"S": "4.5000"},
        "instance_cost": {"S": "4.5000"},
    }
    item.update(attrs)
    return {k: v for k, v in item.items() if v is not None}


def _records(times: dict, status_key: str = "status", time_key: str = "at") -> dict:
    return {"L": [{"M": {status_key: {"S": s}, time_key: {"S": t}}} for s, t in times.items()]}


def _load(tmp_path, items, config: str = "", name: str = "wh", capsys=None):
    path = tmp_path / f"{name}.json.gz"
    with gzip.open(path, "wt") as fh:
        fh.writelines(json.dumps({"Item": i}) + "\n" for i in items)
    args = ["dynamodb-export", str(path), "--data-dir", str(tmp_path / name)]
    if config:
        (tmp_path / f"{name}.toml").write_text(config)
        args += ["--config", str(tmp_path / f"{name}.toml")]
    code = main(args)
    return code, connect(tmp_path / name)


def _reasons(con) -> dict:
    return dict(con.execute("SELECT record_key, reason FROM quarantine").fetchall())


def test_status_times_as_records_with_the_common_key_names(tmp_path):
    items = [
        _item("wl-r1", status_times=_records(TIMES)),
        _item("wl-r2", status_times=_records({k.lower(): v for k, v in TIMES.items()}, "state", "timestamp")),
        _item("wl-r3", status_times=_records(TIMES, "name", "ts")),
    ]
    code, con = _load(tmp_path, items, '[dynamodb.shapes]\nstatus_times_shape = "records"\n')
    assert code == 0
    rows = con.execute("SELECT launch_id, launched_at, running_at, completed_at FROM launches ORDER BY 1").fetchall()
    expected = (datetime(2025, 3, 4, 10), datetime(2025, 3, 4, 11), datetime(2025, 3, 4, 15))
    assert rows == [(i, *expected) for i in ("wl-r1", "wl-r2", "wl-r3")]


def test_record_keys_can_be_set(tmp_path):
    items = [_item("wl-k1", status_times=_records(TIMES, "phase", "entered"))]
    config = '[dynamodb.shapes]\nstatus_times_shape = "records"\nrecord_status_key = "phase"\nrecord_time_key = "entered"\n'
    code, con = _load(tmp_path, items, config)
    assert code == 0 and con.execute("SELECT running_hours FROM launches").fetchone() == (4.0,)


def test_records_without_a_status_key_name_the_setting(tmp_path):
    items = [_item("wl-k2", status_times=_records(TIMES, "phase", "at"))]
    code, con = _load(tmp_path, items, '[dynamodb.shapes]\nstatus_times_shape = "records"\n')
    assert code == 2
    assert _reasons(con)["wl-k2"] == (
        "status_times has records but none names a status by status or state or name: "
        "set record_status_key under [dynamodb.shapes]"
    )


def test_one_attribute_per_status_by_pattern_or_by_name(tmp_path):
    times = {f"{k}_TIME": {"S": v} for k, v in TIMES.items() if k != "COMPLETE"}
    items = [_item("wl-a1", status_times=None, **times, finished={"M": {"at": {"S": TIMES["COMPLETE"]}}})]
    config = (
        '[dynamodb.shapes]\nstatus_times_shape = "attributes"\nstatus_time_pattern = "{STATUS}_TIME"\n'
        'status_time_attributes = { COMPLETE = "finished.at" }\n'
    )
    code, con = _load(tmp_path, items, config)
    assert code == 0
    assert con.execute("SELECT launched_at, completed_at, total_hours FROM launches").fetchone() == (
        datetime(2025, 3, 4, 10),
        datetime(2025, 3, 4, 15),
        5.0,
    )


def test_default_pattern_reads_lower_case_attributes(tmp_path):
    times = {f"{k.lower()}_at": {"N": str(int(datetime.fromisoformat(v).timestamp()))} for k, v in TIMES.items()}
    code, con = _load(
        tmp_path, [_item("wl-a2", status_times=None, **times)], '[dynamodb.shapes]\nstatus_times_shape = "attributes"\n'
    )
    assert code == 0 and con.execute("SELECT running_hours FROM launches").fetchone() == (4.0,)


def test_dotted_paths_and_resource_lists_under_other_names(tmp_path):
    start, end = {"S": "2025-03-04T11:00:00Z"}, {"S": "2025-03-04T15:00:00Z"}
    node = {"M": {"instance_type": {"S": "r6i.4xlarge"}, "count": {"N": "2"}, "start": start, "end": end}}
    items = [_item("wl-d1", consumer=None, meta={"M": {"owner": {"M": {"team": {"S": "rare-disease"}}}}}, nodes={"L": [node]})]
    config = '[dynamodb.attributes]\nconsumer = "meta.owner.team"\nresources = ""\ninstances = "nodes"\n'
    code, con = _load(tmp_path, items, config)
    assert code == 0
    assert con.execute("SELECT consumer, instance_count, instance_hours FROM launches").fetchone() == ("rare-disease", 2, 8.0)
    assert con.execute("SELECT kind, resource_type FROM launch_resources").fetchall() == [("instance", "r6i.4xlarge")]


@pytest.mark.parametrize(
    "value",
    [
        {"S": "2025-03-04T10:00:00Z"},
        {"S": "2025-03-04T12:00:00+02:00"},
        {"S": "2025-03-04T05:00:00-0500"},
        {"S": "2025-03-04T10:00:00"},
        {"S": "2025-03-04 10:00:00.000"},
        {"N": "1741082400"},
        {"S": "1741082400"},
        {"N": "1741082400000"},
        {"S": "1741082400000000"},
        {"N": "1741082400.0"},
    ],
)
def test_every_time_format_is_the_same_instant_in_utc(tmp_path, value):
    times = {"M": {"PREPARING": value, "RUNNING": {"S": TIMES["RUNNING"]}, "COMPLETE": {"S": TIMES["COMPLETE"]}}}
    code, con = _load(tmp_path, [_item("wl-t1", status_times=times)])
    assert code == 0
    assert con.execute("SELECT preparing_at, preparing_hours FROM launches").fetchone() == (datetime(2025, 3, 4, 10), 1.0)


def test_a_time_without_an_offset_is_utc_whatever_the_machine_zone(tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        times = {"M": {"PREPARING": {"S": "2025-03-04T10:00:00"}, "COMPLETE": {"S": "2025-03-04 15:00:00"}}}
        code, con = _load(tmp_path, [_item("wl-tz", status_times=times)])
    finally:
        monkeypatch.undo()
        time.tzset()
    assert code == 0
    assert con.execute("SELECT preparing_at, completed_at FROM launches").fetchone() == (
        datetime(2025, 3, 4, 10),
        datetime(2025, 3, 4, 15),
    )


def test_an_epoch_in_the_wrong_unit_is_quarantined_as_out_of_range(tmp_path):
    times = {"M": {"PREPARING": {"N": "1741082400000000000"}, "COMPLETE": {"S": TIMES["COMPLETE"]}}}
    _, con = _load(tmp_path, [_item("wl-t2", status_times=times), _item("wl-ok")])
    reason = _reasons(con)["wl-t2"]
    assert reason.startswith('unparseable timestamp "1741082400000000000" for PREPARING (status_times.PREPARING)')
    assert "between 2000-01-01 and 2099-12-31" in reason


def test_the_issue_status_times_as_records_under_the_default_map_shape(tmp_path, capsys):
    """The new user's run: every item quarantined, with the shape found and the setting to change; exit 2."""
    records = _records({**TIMES, "WAITING": "2025-03-04T10:10:00Z", "READY": "2025-03-04T10:30:00Z", "FAILED": None})
    records["L"] = [r for r in records["L"] if r["M"]["at"]["S"]]
    records["L"].append({"M": {"status": {"S": "CLEANUP"}, "at": {"S": "2025-03-04T15:05:00Z"}}})
    code, con = _load(tmp_path, [_item(f"wl-i{n}", status_times=records) for n in range(3)])
    out = capsys.readouterr().out
    assert code == 2
    reason = 'status_times is a list (L) of 6 records, not a map: set status_times_shape = "records" under [dynamodb.shapes]'
    assert set(_reasons(con).values()) == {reason}
    first = out.splitlines()
    assert first[0] == "NOTHING LOADED: 3 records read, none loaded (3 quarantined)"
    assert first[1] == f"  most common reason (3 of 3): {reason}"
    assert first[2].startswith("  look at: the setting the reason names; `launch-ledger dynamodb-check ")


def test_values_of_the_wrong_type_name_the_attribute_the_type_found_and_the_type_expected(tmp_path):
    count_as_list = {"M": {"instance_type": {"S": "c6i.xlarge"}, "count": {"L": []}}}
    items = [
        _item("wl-w1", totalCost={"L": [{"N": "1"}]}),
        _item("wl-w2", totalCost={"N": "-3.5"}, instance_cost={"N": "-1"}),
        _item("wl-w3", consumer={"M": {"team": {"S": "x"}}}),
        _item(
            "wl-w4",
            status_times={"M": {"PREPARING": {"M": {"at": {"S": TIMES["PREPARING"]}}}, "COMPLETE": {"S": TIMES["COMPLETE"]}}},
        ),
        _item("wl-w5", resources={"M": {"instances": {"L": [count_as_list]}}}),
        _item("wl-w6", resources={"M": {"instances": {"M": {}}}}),
        _item("wl-w7", totalCost={"SS": ["1", "2"]}),
        _item("wl-w8", status={"N": "3"}),
        _item("wl-w9", totalCost={"NULL": True}, instance_cost=None),
        _item("wl-w10", sample_count={"N": "12.5"}),
        _item("wl-w11", input_size_gb={"N": "NaN"}),
        _item("wl-w12", totalCost={"S": "1e30"}),
    ]
    code, con = _load(tmp_path, items)
    assert code == 0  # wl-w9 loads: NULL is no price yet
    assert _reasons(con) == {
        "wl-w1": "totalCost is a list (L), expected a number (N) or a numeric string (S)",
        "wl-w2": "totalCost is negative (-3.5)",
        "wl-w3": "consumer is a map (M), expected a string (S)",
        "wl-w4": "status_times.PREPARING is a map (M), expected an ISO 8601 string (S) or an epoch number (N)",
        "wl-w5": "resources.instances[1].count is a value of another DynamoDB type (M, L, BOOL, a set or binary), "
        "expected a number (N) or a numeric string (S)",
        "wl-w6": "resources.instances is a map (M), expected a list (L) of maps (M)",
        "wl-w7": "totalCost is a set, binary or empty value (SS, NS, BS, B or {}), expected a number (N) or a numeric string (S)",
        "wl-w8": "status is a number (N), expected a string (S)",
        "wl-w10": 'sample_count is not a whole number of at least 0: "12.5"',
        "wl-w11": 'input_size_gb is not a number of at least 0: "NaN"',
        "wl-w12": 'totalCost is out of range (at most 12 digits before the decimal point): "1e30"',
    }
    assert con.execute("SELECT launch_id, price_source FROM launches").fetchall() == [("wl-w9", "pending")]


def test_a_renamed_attribute_is_named_as_configured(tmp_path):
    items = [_item("wl-n1", totalCost=None, total_price={"BOOL": True})]
    _, con = _load(tmp_path, items, '[dynamodb.attributes]\ntotal_cost = "total_price"\n')
    assert _reasons(con)["wl-n1"] == "total_price is a boolean (BOOL), expected a number (N) or a numeric string (S)"


def test_a_good_item_still_loads_its_exact_money(tmp_path):
    code, con = _load(tmp_path, [_item("wl-g1")])
    assert code == 0 and con.execute("SELECT total_cost FROM launches").fetchone() == (Decimal("4.5"),)


@pytest.mark.parametrize(
    "config, message",
    [
        ('status_times_shape = "list"', "status_times_shape must be one of map, records, attributes"),
        ('status_time_attributes = { DONE = "done_at" }', "'DONE', which is not a status"),
        ('status_time_pattern = "started_at"', "status_time_pattern must hold {status}"),
        ('colour = "blue"', "unknown setting dynamodb.shapes.colour"),
    ],
)
def test_a_wrong_shape_setting_is_one_line(tmp_path, config, message):
    path = tmp_path / "ll.toml"
    path.write_text(f"[dynamodb.shapes]\n{config}\n")
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("(", r"\(")):
        load_settings(path)


def test_names_that_differ_only_in_case_are_refused():
    from core.settings import ItemAttributes
    from ingest.dynamodb.items import item_type

    with pytest.raises(ConfigError, match="differ only in case"):
        item_type(ItemAttributes(consumer="Team", workflow_type="team"), ItemShapes())
