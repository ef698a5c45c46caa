"""reconciliation: one bill source per month (CUR, then FOCUS, then Cost Explorer), its own service names understood."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd

import queries
from queries import Filters
from warehouse.store import WarehouseWriter, connect

FIXTURE_BILL = Path(__file__).parents[1] / "fixtures" / "warehouse" / "costs_daily.csv"
HEADER = FIXTURE_BILL.read_text().splitlines()[0]
# usage_date, usage_month, service, consumer, unblended, net_amortized, source: the rest of each row is empty or fixed.
EXTRA = [
    ("2025-01-20", "2025-01-01", "AmazonEC2", "oncology-research", "50.000000", "48.000000", "cur"),
    ("2025-01-21", "2025-01-01", "AmazonFSx", "oncology-research", "10.500000", "10.000000", "cur"),
    ("2025-01-21", "2025-01-01", "AmazonS3", "oncology-research", "2.250000", "2.250000", "cur"),
    ("2025-01-22", "2025-01-01", "Amazon Elastic Compute Cloud", "population-health", "20.000000", "19.500000", "cur"),
    ("2025-03-20", "2025-03-01", "Amazon Elastic Compute Cloud", "oncology-research", "30.000000", "29.000000", "focus"),
    ("2025-03-20", "2025-03-01", "Amazon Elastic Kubernetes Service", "oncology-research", "4.125000", "4.125000", "focus"),
]


def _row(usage_date, month, service, consumer, unblended, net, source) -> str:
    cells = dict.fromkeys(HEADER.split(","), "")
    cells.update(
        usage_date=usage_date, usage_month=month, account_id="123456789012", service=service, tag_key="consumer",
        consumer=consumer, unblended_cost=unblended, amortized_cost=unblended, net_amortized_cost=net, usage_quantity="1",
        currency="USD", estimated="false", source=source, ingest_run_id="test", billed_cost=unblended, effective_cost=net,
        charge_category="Usage",
    )  # fmt: skip
    return ",".join(cells.values())


def test_a_month_loaded_from_two_sources_is_read_from_the_preferred_one(fresh_data_dir, tmp_path):
    bill = tmp_path / "costs_daily.csv"
    bill.write_text(FIXTURE_BILL.read_text().rstrip("\n") + "\n" + "\n".join(_row(*r) for r in EXTRA) + "\n")
    with WarehouseWriter(fresh_data_dir, run_id="two-sources") as w:
        w.write_partitions("costs_daily", f"SELECT * FROM read_csv('{bill}', header=true, auto_detect=true)")
        w.commit()
    con = connect(fresh_data_dir)
    try:
        lines = queries.pricing.reconciliation(con, Filters(date(2025, 1, 1), date(2025, 3, 31)))
    finally:
        con.close()
    by = {(r["month"], r["consumer"]): r for r in lines.to_dict("records")}
    jan, feb, mar = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
    # January: CUR only (the Cost Explorer rows of January are left out). EC2 50.000000 + FSx 10.500000; S3 is another service.
    assert by[(jan, "oncology-research")]["billed_cost"] == Decimal("60.500000")
    assert by[(jan, "oncology-research")]["other_services_cost"] == Decimal("2.250000")
    # discounts: (50 - 48) + (10.5 - 10) + (2.25 - 2.25)
    assert by[(jan, "oncology-research")]["discounts"] == Decimal("2.500000")
    assert by[(jan, "population-health")]["billed_cost"] == Decimal("20.000000")
    # neuro-genomics has only Cost Explorer rows in January: not the month's bill, so nothing billed.
    assert pd.isna(by[(jan, "neuro-genomics")]["billed_cost"])
    # February: Cost Explorer alone, as before (EC2 115.647424 + FSx 12.134070).
    assert by[(feb, "oncology-research")]["billed_cost"] == Decimal("127.781494")
    # March: FOCUS before Cost Explorer; ServiceName "Amazon Elastic Compute Cloud" 30 + EKS 4.125.
    assert by[(mar, "oncology-research")]["billed_cost"] == Decimal("34.125000")
    assert pd.isna(by[(mar, "rare-disease")]["billed_cost"])


def test_the_order_of_the_bill_sources_decides_which_source_a_month_reads(fresh_data_dir, tmp_path):
    """The same setting as chargeback ([bill] sources): Cost Explorer first makes January Cost Explorer's bill."""
    bill = tmp_path / "costs_daily.csv"
    bill.write_text(FIXTURE_BILL.read_text().rstrip("\n") + "\n" + "\n".join(_row(*r) for r in EXTRA) + "\n")
    with WarehouseWriter(fresh_data_dir, run_id="two-sources") as w:
        w.write_partitions("costs_daily", f"SELECT * FROM read_csv('{bill}', header=true, auto_detect=true)")
        w.commit()
    frame = pd.read_csv(bill, dtype=str)
    jan = frame[(frame["usage_month"] == "2025-01-01") & (frame["consumer"] == "oncology-research")]
    launch_services = {"Amazon Elastic Compute Cloud - Compute", "EC2 - Other", "Amazon FSx", "AmazonEC2", "AmazonFSx"}

    def billed(source: str) -> Decimal:
        rows = jan[(jan["source"] == source) & jan["service"].isin(launch_services)]
        return sum((Decimal(v) for v in rows["unblended_cost"]), Decimal(0))

    assert billed("cur") == Decimal("60.500000") and billed("cost-explorer") > 0
    con = connect(fresh_data_dir)
    try:
        period = Filters(date(2025, 1, 1), date(2025, 1, 31))
        default = queries.pricing.reconciliation(con, period)
        explorer_first = queries.pricing.reconciliation(con, period, bill_sources=("cost-explorer", "cur", "focus"))
        cur_only = queries.pricing.reconciliation(con, Filters(date(2025, 2, 1), date(2025, 2, 28)), bill_sources=("cur",))
    finally:
        con.close()

    def line(lines, consumer):
        return lines[lines["consumer"] == consumer].iloc[0]

    assert line(default, "oncology-research")["billed_cost"] == billed("cur")
    assert line(explorer_first, "oncology-research")["billed_cost"] == billed("cost-explorer")
    # neuro-genomics has Cost Explorer rows only: billed once Cost Explorer is the month's bill
    assert pd.isna(line(default, "neuro-genomics")["billed_cost"])
    assert not pd.isna(line(explorer_first, "neuro-genomics")["billed_cost"])
    # February has Cost Explorer rows only: with cur alone listed, February has no bill at all
    assert cur_only["billed_cost"].isna().all()
