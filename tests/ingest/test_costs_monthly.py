"""costs_monthly: costs_daily summed per month, rebuilt by the writer whenever a month of the bill changes."""

import json
from collections import defaultdict
from decimal import Decimal

import pandas as pd

from warehouse.store import MANIFEST, WarehouseWriter, connect, warehouse_dir

KEY = ("usage_month", "consumer", "tag_key", "service", "currency", "source")


def _expected(daily) -> dict:
    """The rollup computed in plain Python from the fixture CSV."""
    out = defaultdict(lambda: {"unblended": Decimal(0), "net": Decimal(0), "rows": 0, "days": set()})
    for row in daily.to_dict("records"):
        key = tuple(None if pd.isna(row[k]) or row[k] == "" else str(row[k])[:10] if k == "usage_month" else row[k] for k in KEY)
        line = out[key]
        line["unblended"] += row["unblended_cost"]
        line["net"] += row["net_amortized_cost"]
        line["rows"] += 1
        line["days"].add(str(row["usage_date"])[:10])
    return out


def test_the_rollup_is_the_daily_rows_summed_to_the_micro_dollar(fixture_con, fixture_tables):
    want = _expected(fixture_tables["costs_daily"])
    got = fixture_con.sql(
        f"SELECT {', '.join(KEY)}, unblended_cost, net_amortized_cost, daily_rows, first_day, last_day FROM costs_monthly"
    ).fetchall()
    assert len(got) == len(want) > 10
    for *key, unblended, net, rows, first, last in got:
        key[0] = key[0].isoformat()
        line = want[tuple(key)]
        assert (unblended, net, rows) == (line["unblended"], line["net"], line["rows"]), key
        assert (first.isoformat(), last.isoformat()) == (min(line["days"]), max(line["days"]))


def test_a_changed_month_is_rebuilt_and_a_dropped_month_removed(fresh_data_dir):
    with WarehouseWriter(fresh_data_dir, run_id="edit") as w:
        w.write_partitions(
            "costs_daily",
            "SELECT * REPLACE (unblended_cost * 2 AS unblended_cost) FROM costs_daily WHERE usage_month = DATE '2025-02-01'",
        )
        w.drop_partitions("costs_daily", ["2025-03"])
        w.commit()
    con = connect(fresh_data_dir)
    months = con.sql(
        "SELECT strftime(usage_month, '%Y-%m'), sum(unblended_cost) FROM costs_monthly GROUP BY 1 ORDER BY 1"
    ).fetchall()
    daily = con.sql(
        "SELECT strftime(usage_month, '%Y-%m'), sum(unblended_cost) FROM costs_daily GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert months == daily and "2025-03" not in dict(months)


def test_an_older_warehouse_without_the_rollup_gets_it_at_its_next_commit(fresh_data_dir):
    path = warehouse_dir(fresh_data_dir) / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["tables"].pop("costs_monthly")  # as written before the table existed
    path.write_text(json.dumps(manifest))
    assert connect(fresh_data_dir).sql("SELECT count(*) FROM costs_monthly").fetchall() == [(0,)]
    with WarehouseWriter(fresh_data_dir, run_id="any-ingest") as w:
        w.commit()
    con = connect(fresh_data_dir)
    assert (
        con.sql("SELECT sum(unblended_cost) FROM costs_monthly").fetchall()
        == con.sql("SELECT sum(unblended_cost) FROM costs_daily").fetchall()
    )
