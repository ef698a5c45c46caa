"""Real CUR files (tests/data/cur, see its README) through ``python -m ingest cur``, and the run tag on the bill.

Every expected figure is computed here from the file itself (pyarrow, csv, Decimal), never read back from
the warehouse alone: row counts per billing month, exact sums of unblended and split cost per run tag.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.__main__ import main
from ingest.billed_runs import match_runs
from tests.conftest import ROOT
from warehouse.store import WarehouseWriter, connect, new_run_id, schema_columns

DATA = ROOT / "tests" / "data" / "cur"
NF_AGGREGATE = DATA / "nf-aggregate-realworld-costs.parquet"
LEGACY_CUR = DATA / "focus-converters-anonymous-aws-cur.csv.gz"
MICRO = Decimal("0.000001")


def dec(value) -> Decimal:
    """A float from the file as the decimal it prints as (the importer reads floats the same way)."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def to_micro(value: Decimal) -> Decimal:
    return value.quantize(MICRO, ROUND_HALF_EVEN)


def nf_aggregate_runs(path: Path = NF_AGGREGATE) -> dict[tuple[str, str], dict]:
    """Straight from the Parquet file: per (user_unique_run_id, month of the usage start) the rows and exact sums."""
    runs: dict[tuple[str, str], dict] = defaultdict(
        lambda: {"rows": 0, "split": Decimal(0), "unused": Decimal(0), "cost": Decimal(0)}
    )
    for row in pq.read_table(path).to_pylist():
        if row["line_item_usage_start_date"] is None:
            continue  # no usage start, no billing month: the importer quarantines it
        tags = dict(row["resource_tags"])
        run = runs[(tags["user_unique_run_id"], row["line_item_usage_start_date"].strftime("%Y-%m"))]
        run["rows"] += 1
        run["split"] += dec(row["split_line_item_split_cost"])
        run["unused"] += dec(row["split_line_item_unused_cost"])
        run["cost"] += dec(row["line_item_unblended_cost"])
    return dict(runs)


def billed_runs(data_dir: Path, source: str = "cur") -> dict[tuple[str, str], tuple]:
    """launch_billed_costs rows of one source: {(run tag, month): (launch_id, rows, split, unused, billed, effective, ...)}."""
    query = """SELECT run_tag, strftime(usage_month, '%Y-%m'), launch_id, rows, split_cost, split_unused_cost, billed_cost,
                      effective_cost, currency, source
               FROM launch_billed_costs WHERE source = $source"""
    rows = connect(data_dir).execute(query, {"source": source}).fetchall()
    return {(tag, month): tuple(rest) for tag, month, *rest in rows}


def add_launches(data_dir: Path, *launch_ids: str) -> int:
    """Put launches with these ids in the warehouse (every other column NULL), then match the bill's runs to them."""
    values = " UNION ALL ".join(f"SELECT '{i}' AS launch_id, DATE '2025-09-01' AS launch_month" for i in launch_ids)
    others = ", ".join(f'NULL AS "{c}"' for c, _ in schema_columns()["launches"] if c not in ("launch_id", "launch_month"))
    with WarehouseWriter(data_dir, new_run_id()) as writer:
        writer.write_partitions("launches", f"SELECT *, {others} FROM ({values})")
        changed = match_runs(writer)
        writer.commit()
    return changed


# --- the nf-aggregate CUR 2.0 extract --------------------------------------------------------------------------


def test_the_nf_aggregate_extract_loads_and_each_run_gets_its_split_cost(tmp_path, capsys):
    data = tmp_path / "data"
    expected = nf_aggregate_runs()
    assert main(["cur", str(NF_AGGREGATE), "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    total_rows = pq.read_metadata(NF_AGGREGATE).num_rows
    assert f"records read         {total_rows:,}" in out and total_rows == 2749
    assert "quarantined          1" in out and "the charge period start is missing or not a timestamp" in out
    assert "bill_billing_period_start_date is absent" in out and "savings_plan_savings_plan_effective_cost" in out

    got = billed_runs(data)
    assert set(got) == set(expected) and len(expected) == 6  # six runs, all in 2025-09; the red herring is quarantined
    for key, run in expected.items():
        assert got[key] == (
            None,  # no launches held yet
            run["rows"],
            to_micro(run["split"]),
            to_micro(run["unused"]),
            to_micro(run["cost"]),
            to_micro(run["cost"]),  # no commitment columns: effective = billed
            "USD",
            "cur",
        ), key
    per_month = defaultdict(int)
    for (_, month), run in expected.items():
        per_month[month] += run["rows"]
    assert dict(per_month) == {"2025-09": 2748}

    con = connect(data)
    months = con.execute("SELECT DISTINCT strftime(usage_month, '%Y-%m'), source FROM costs_daily").fetchall()
    assert months == [("2025-09", "cur")]
    split = con.execute("SELECT sum(split_cost), count(*) FROM costs_daily").fetchall()[0]
    exact = sum(run["split"] for run in expected.values())
    assert abs(split[0] - exact) <= split[1] * MICRO / 2  # each daily row is rounded half to even to 6 places
    assert con.execute("SELECT reason, record_key FROM quarantine").fetchall() == [
        ("the charge period start is missing or not a timestamp", "synthetic:red-herring")
    ]


def test_importing_the_same_extract_twice_changes_nothing(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["cur", str(NF_AGGREGATE), "--data-dir", str(data)]) == 0
    before = connect(data).execute("SELECT * FROM launch_billed_costs ORDER BY run_tag").fetchall()
    capsys.readouterr()
    assert main(["cur", str(NF_AGGREGATE), "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "loaded (new/changed) 0" in out
    assert connect(data).execute("SELECT * FROM launch_billed_costs ORDER BY run_tag").fetchall() == before


def test_a_reimport_replaces_that_sources_rows_of_the_month_only(tmp_path):
    data = tmp_path / "data"
    assert main(["cur", str(NF_AGGREGATE), "--data-dir", str(data)]) == 0
    focus = tmp_path / "focus.csv"  # the same run in a FOCUS export of the same month
    focus.write_text(
        "BillingPeriodStart,ChargePeriodStart,BilledCost,EffectiveCost,ServiceName,Tags\n"
        '2025-09-01T00:00:00Z,2025-09-12T10:00:00Z,2.5,2.25,AWS Batch,"{""unique_run_id"": ""3dLeF2W4ju5og4""}"\n'
    )
    assert main(["focus", str(focus), "--data-dir", str(data)]) == 0
    # a corrected CUR extract without one run: that run's cur row of the month goes, the focus row stays
    table = pq.read_table(NF_AGGREGATE)
    keep = [dict(tags).get("user_unique_run_id") != "wELtvsveirfd9" for tags in table.column("resource_tags").to_pylist()]
    corrected = tmp_path / "corrected.parquet"
    pq.write_table(table.filter(pa.array(keep)), corrected)
    assert main(["cur", str(corrected), "--data-dir", str(data)]) == 0
    got = billed_runs(data)
    expected = nf_aggregate_runs(corrected)
    assert set(got) == set(expected) and ("wELtvsveirfd9", "2025-09") not in expected and len(expected) == 5
    assert got[("3dLeF2W4ju5og4", "2025-09")][2] == to_micro(expected[("3dLeF2W4ju5og4", "2025-09")]["split"])
    focus_rows = billed_runs(data, "focus")
    assert focus_rows == {
        ("3dLeF2W4ju5og4", "2025-09"): (None, 1, None, None, Decimal("2.500000"), Decimal("2.250000"), "USD", "focus")
    }


def test_a_run_tag_is_matched_to_its_launch_and_a_tag_without_one_stays_unmatched(tmp_path, capsys):
    data = tmp_path / "data"
    add_launches(data, "3dLeF2W4ju5og4", "some-other-launch")
    assert main(["cur", str(NF_AGGREGATE), "--data-dir", str(data)]) == 0
    assert "6 run x month row(s) in launch_billed_costs, 1 matched to a launch" in capsys.readouterr().out
    launch_of = {tag: row[0] for (tag, _), row in billed_runs(data).items()}
    assert launch_of == {tag: None for tag, _ in nf_aggregate_runs()} | {"3dLeF2W4ju5og4": "3dLeF2W4ju5og4"}
    assert "some-other-launch" not in launch_of.values()

    # a launch loaded after the bill (a Nextflow or Seqera import) is matched by match_runs
    assert add_launches(data, "3dLeF2W4ju5og4", "wELtvsveirfd9") == 1
    launch_of = {tag: row[0] for (tag, _), row in billed_runs(data).items()}
    assert sorted(t for t, launch in launch_of.items() if launch == t) == ["3dLeF2W4ju5og4", "wELtvsveirfd9"]
    assert sum(launch is None for launch in launch_of.values()) == 4
    with WarehouseWriter(data, new_run_id()) as writer:  # nothing to change: nothing written
        assert match_runs(writer) == 0


def test_a_configured_run_tag_is_used(tmp_path, capsys):
    config = tmp_path / "launch-ledger.toml"
    (tmp_path / "rules.toml").write_text('[runs]\ntag = "pipeline_process"\n')  # the tag alone: no split-cost charging
    config.write_text('[allocation]\nrules = "rules.toml"\n')
    assert main(["cur", str(NF_AGGREGATE), "--data-dir", str(tmp_path / "d"), "--config", str(config)]) == 0
    processes = {
        dict(t)["user_pipeline_process"] for t in pq.read_table(NF_AGGREGATE).column("resource_tags").to_pylist() if len(t) > 1
    }
    assert {tag for tag, _ in billed_runs(tmp_path / "d")} == processes
    assert "run tag 'pipeline_process'" in capsys.readouterr().out


# --- the legacy CUR CSV from focus_converters ----------------------------------------------------------------


def legacy_rows(path: Path = LEGACY_CUR) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_legacy_cur_csv_loads_with_its_costs(tmp_path, capsys):
    rows = legacy_rows()
    per_month = defaultdict(int)
    for row in rows:
        per_month[row["bill/BillingPeriodStartDate"][:7]] += 1
    assert dict(per_month) == {"2023-11": 1281}
    assert main(["cur", str(LEGACY_CUR), "--data-dir", str(tmp_path / "d"), "--month", "2023-11"]) == 0
    out = capsys.readouterr().out
    assert "records read         1,281" in out and "quarantined          0" in out and "legacy CUR column names" in out
    con = connect(tmp_path / "d")
    total = sum(dec(row["lineItem/UnblendedCost"]) for row in rows)
    tax = sum(dec(row["lineItem/UnblendedCost"]) for row in rows if row["lineItem/LineItemType"] == "Tax")
    got_total, got_effective, daily_rows = con.execute(
        "SELECT sum(unblended_cost), sum(effective_cost), count(*) FROM costs_daily WHERE usage_month = DATE '2023-11-01'"
    ).fetchall()[0]
    assert abs(got_total - total) <= daily_rows * MICRO / 2 and got_effective == got_total
    assert got_total.quantize(Decimal("0.01")) == total.quantize(Decimal("0.01")) == Decimal("1.68")
    got_tax = con.execute("SELECT sum(unblended_cost) FROM costs_daily WHERE charge_category = 'Tax'").fetchall()[0][0]
    assert got_tax == to_micro(tax) == Decimal("0.080000")  # monthly lines: each its own daily row, so exact
    services = {row["product/ProductName"] or row["lineItem/ProductCode"] for row in rows}
    assert {s for (s,) in con.execute("SELECT DISTINCT service FROM costs_daily").fetchall()} == services


def test_without_the_billing_period_column_the_month_comes_from_the_usage_start(tmp_path, capsys):
    rows = legacy_rows()
    trimmed = tmp_path / "no-period.csv"
    dropped = ("bill/BillingPeriodStartDate", "bill/BillingPeriodEndDate")
    with trimmed.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, [c for c in rows[0] if c not in dropped])
        writer.writeheader()
        writer.writerows({k: v for k, v in row.items() if k not in dropped} for row in rows)
    per_month = defaultdict(lambda: [0, Decimal(0)])
    for row in rows:
        month = per_month[datetime.fromisoformat(row["lineItem/UsageStartDate"].replace("Z", "+00:00")).strftime("%Y-%m")]
        month[0] += 1
        month[1] += dec(row["lineItem/UnblendedCost"])
    assert main(["cur", str(trimmed), "--data-dir", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert "bill_billing_period_start_date is absent: each row's billing month is the month (UTC) of" in out
    assert f"records read         {sum(m[0] for m in per_month.values()):,}" in out
    got = dict(
        connect(tmp_path / "d")
        .execute("SELECT strftime(usage_month, '%Y-%m'), sum(unblended_cost) FROM costs_daily GROUP BY 1")
        .fetchall()
    )
    assert set(got) == set(per_month) == {"2023-11"}
    assert got["2023-11"].quantize(Decimal("0.01")) == per_month["2023-11"][1].quantize(Decimal("0.01"))


# --- tags in every shape, columns that are absent, files that load nothing -----------------------------------

TAG_SHAPES = {
    "map": (pa.map_(pa.string(), pa.string()), lambda tags: list(tags.items())),
    "json string": (pa.string(), json.dumps),
    "list of [key, value] pairs": (pa.list_(pa.list_(pa.string())), lambda tags: [[k, v] for k, v in tags.items()]),
    "list of {key, value} structs": (
        pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())])),
        lambda tags: [{"key": k, "value": v} for k, v in tags.items()],
    ),
}


def write_cur(path: Path, rows: list[dict], types: dict[str, pa.DataType]) -> Path:
    pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema([(c, types.get(c, pa.string())) for c in rows[0]])), path)
    return path


def usage_row(cost: str, **extra) -> dict:
    return {
        "line_item_usage_start_date": datetime(2025, 9, 3, 10),
        "line_item_line_item_type": "Usage",
        "line_item_unblended_cost": cost,
        "line_item_product_code": "AmazonEC2",
        **extra,
    }


@pytest.mark.parametrize("shape", TAG_SHAPES)
def test_resource_tags_in_each_shape_give_the_consumer_and_the_run(tmp_path, shape):
    arrow_type, encode = TAG_SHAPES[shape]
    tagged = {"user_team": "genomics", "user_unique_run_id": "run-1"}
    rows = [usage_row("1.25", resource_tags=encode(tagged)), usage_row("0.5", resource_tags=encode({"user_team": "other"}))]
    path = write_cur(
        tmp_path / "cur.parquet", rows, {"resource_tags": arrow_type, "line_item_usage_start_date": pa.timestamp("us")}
    )
    assert main(["cur", str(path), "--tag-key", "team", "--data-dir", str(tmp_path / "d")]) == 0
    con = connect(tmp_path / "d")
    consumers = dict(con.execute("SELECT consumer, unblended_cost FROM costs_daily").fetchall())
    assert consumers == {"genomics": Decimal("1.250000"), "other": Decimal("0.500000")}
    assert billed_runs(tmp_path / "d") == {
        ("run-1", "2025-09"): (None, 1, None, None, Decimal("1.250000"), Decimal("1.250000"), "USD", "cur")
    }
    assert json.loads(con.execute("SELECT tags FROM costs_daily WHERE consumer = 'genomics'").fetchall()[0][0]) == tagged


def test_legacy_flattened_tag_columns_are_tags_too(tmp_path):
    rows = [usage_row("2", resource_tags_user_unique_run_id="run-2", resource_tags_user_team="a"), usage_row("1")]
    rows[1] |= {"resource_tags_user_unique_run_id": None, "resource_tags_user_team": ""}
    path = write_cur(tmp_path / "flat.parquet", rows, {"line_item_usage_start_date": pa.timestamp("us")})
    assert main(["cur", str(path), "--tag-key", "team", "--data-dir", str(tmp_path / "d")]) == 0
    assert connect(tmp_path / "d").execute("SELECT consumer, tags FROM costs_daily ORDER BY 1").fetchall() == [
        ("a", '{"user_unique_run_id":"run-2","user_team":"a"}'),
        (None, None),
    ]
    assert list(billed_runs(tmp_path / "d")) == [("run-2", "2025-09")]


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_focus_tags_as_a_json_string_or_a_map(tmp_path, kind):
    tags = {"user:team": "genomics", "unique_run_id": "run-3"}
    row = {
        "BillingPeriodStart": datetime(2025, 9, 1),
        "ChargePeriodStart": datetime(2025, 9, 3, 10),
        "BilledCost": "4.5",
        "EffectiveCost": "4",
        "ServiceName": "AWS Batch",
    }
    if kind == "csv":
        path = tmp_path / "focus.csv"
        out = io.StringIO()
        writer = csv.DictWriter(out, [*row, "Tags"])
        writer.writeheader()
        writer.writerow(
            {**{k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}, "Tags": json.dumps(tags)}
        )
        path.write_text(out.getvalue())
    else:
        path = tmp_path / "focus.parquet"
        schema = pa.schema([(c, pa.timestamp("us") if c.endswith("Start") else pa.string()) for c in row])
        table = pa.Table.from_pylist([row], schema=schema).append_column(
            "Tags", pa.array([list(tags.items())], pa.map_(pa.string(), pa.string()))
        )
        pq.write_table(table, path)
    assert main(["focus", str(path), "--tag-key", "team", "--data-dir", str(tmp_path / "d")]) == 0
    assert connect(tmp_path / "d").execute("SELECT consumer FROM costs_daily").fetchall() == [("genomics",)]
    assert billed_runs(tmp_path / "d", "focus") == {
        ("run-3", "2025-09"): (None, 1, None, None, Decimal("4.500000"), Decimal("4.000000"), "USD", "focus")
    }


def test_a_commitment_row_whose_columns_are_absent_is_quarantined_and_the_rest_loads(tmp_path, capsys):
    rows = [usage_row("1.0"), usage_row("3.0", line_item_line_item_type="SavingsPlanCoveredUsage")]
    path = write_cur(tmp_path / "cur.parquet", rows, {"line_item_usage_start_date": pa.timestamp("us")})
    assert main(["cur", str(path), "--data-dir", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    reason = "a SavingsPlanCoveredUsage line item needs savings_plan_savings_plan_effective_cost, which this export lacks"
    assert reason in out and "quarantined          1" in out
    con = connect(tmp_path / "d")
    assert con.execute("SELECT sum(effective_cost) FROM costs_daily").fetchall() == [(Decimal("1.000000"),)]
    assert con.execute("SELECT reason FROM quarantine").fetchall()[0][0].startswith(reason)


def test_an_extract_without_a_cost_column_is_one_line_saying_which(tmp_path, capsys):
    table = pq.read_table(NF_AGGREGATE).drop_columns(["line_item_unblended_cost", "line_item_net_unblended_cost"])
    pq.write_table(table, tmp_path / "no-cost.parquet")
    assert main(["cur", str(tmp_path / "no-cost.parquet"), "--data-dir", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no cost column" in err and "line_item_unblended_cost" in err and "add it" in err


def test_a_file_of_which_nothing_loads_exits_non_zero_and_keeps_the_reasons(tmp_path, capsys):
    table = pq.read_table(NF_AGGREGATE)
    column = table.schema.get_field_index("line_item_usage_start_date")
    table = table.set_column(column, "line_item_usage_start_date", pa.nulls(table.num_rows, pa.timestamp("us")))
    pq.write_table(table, tmp_path / "no-dates.parquet")
    assert main(["cur", str(tmp_path / "no-dates.parquet"), "--data-dir", str(tmp_path / "d")]) == 1
    captured = capsys.readouterr()
    assert "quarantined          2,749" in captured.out
    assert captured.err.count("\n") == 1 and "nothing loaded from" in captured.err
    con = connect(tmp_path / "d")
    assert con.execute("SELECT count(*) FROM quarantine").fetchall() == [(2749,)]
    assert con.execute("SELECT outcome FROM job_runs").fetchall() == [("failed",)]
    assert con.execute("SELECT count(*) FROM costs_daily").fetchall() == [(0,)]
