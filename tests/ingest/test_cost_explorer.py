"""Cost Explorer: pages through moto's queued results, the trailing window, the final-range cursor."""

from datetime import date, timedelta
from decimal import Decimal

import boto3
import requests
from moto import mock_aws

from core.settings import load_settings
from ingest.cost_explorer import usage as ce
from ingest.cost_explorer.jobs import ingest_cost_explorer
from warehouse.store import connect

TODAY = date(2026, 11, 20)


def _group(consumer, service, amount):
    metric = {"Amount": amount, "Unit": "USD"}
    return {
        "Keys": [f"consumer${consumer}", service],
        "Metrics": {
            "UnblendedCost": metric,
            "AmortizedCost": metric,
            "NetAmortizedCost": {"Amount": str(Decimal(amount) * Decimal("0.96")), "Unit": "USD"},
            "UsageQuantity": {"Amount": "10", "Unit": "N/A"},
        },
    }


def _page(days, token=None, amount="10.123456789"):
    page = {
        "GroupDefinitions": [{"Type": "TAG", "Key": "consumer"}, {"Type": "DIMENSION", "Key": "SERVICE"}],
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": d.isoformat(), "End": (d + timedelta(days=1)).isoformat()},
                "Total": {},
                "Groups": [
                    _group("oncology", "Amazon Elastic Compute Cloud - Compute", amount),
                    _group("", "AWS Support (Business)", "1.5"),
                ],
                "Estimated": d >= TODAY - timedelta(days=2),
            }
            for d in days
        ],
        "DimensionValueAttributes": [],
    }
    if token:
        page["NextPageToken"] = token
    return page


def _queue(results):
    r = requests.post("http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results", json={"results": results})
    assert r.status_code == 201


def _days(start, end):
    return [start + timedelta(days=n) for n in range((end - start).days)]


@mock_aws
def test_pages_follow_next_page_token_and_money_stays_exact(aws_env, tmp_path, capsys):
    start = TODAY - timedelta(days=30)
    days = _days(start, TODAY)
    _queue([_page(days[:10], "p2"), _page(days[10:20], "p3"), _page(days[20:])])
    settings = load_settings(data_dir=tmp_path)
    run = ingest_cost_explorer(settings, start=start, end=TODAY, session=boto3.Session(), today=TODAY)
    assert run.stats.api_requests == 3
    assert "requests ≈ $0.03" in capsys.readouterr().out
    con = connect(tmp_path)
    assert con.execute("SELECT count(DISTINCT usage_date), count(*) FROM costs_daily").fetchone() == (30, 60)
    total = con.execute("SELECT sum(unblended_cost) FROM costs_daily WHERE consumer = 'oncology'").fetchone()[0]
    assert total == Decimal("10.123457") * 30  # DECIMAL(18,6) keeps the cents exact
    assert con.execute("SELECT count(*) FROM costs_daily WHERE consumer IS NULL").fetchone()[0] == 30  # untagged
    assert con.execute("SELECT count(DISTINCT usage_date) FROM costs_daily WHERE estimated").fetchone()[0] == 2


def test_only_days_not_final_are_requested():
    final = ce.DayRange(date(2026, 1, 1), date(2026, 11, 1))
    got = ce.ranges_to_request(date(2025, 12, 1), TODAY, final, 14, TODAY)
    # December 2025 was never pulled; from Nov 1 on nothing is final; the trailing window is inside that
    assert got == [ce.DayRange(date(2025, 12, 1), date(2026, 1, 1)), ce.DayRange(date(2026, 11, 1), TODAY)]
    # a final range that reaches into the trailing window is pulled again from the window's start
    final = ce.DayRange(date(2026, 1, 1), TODAY)
    assert ce.ranges_to_request(date(2026, 1, 1), TODAY, final, 14, TODAY) == [ce.DayRange(TODAY - timedelta(days=14), TODAY)]


@mock_aws
def test_second_pull_asks_only_for_the_trailing_window_and_restates_it(aws_env, tmp_path):
    start = TODAY - timedelta(days=40)
    _queue([_page(_days(start, TODAY))])
    settings = load_settings(data_dir=tmp_path)
    ingest_cost_explorer(settings, start=start, end=TODAY, session=boto3.Session(), today=TODAY)
    cursor = connect(tmp_path)  # final range: the 26 settled days before the 14-day window
    from warehouse.store import read_manifest

    final = ce.final_from_cursor(read_manifest(tmp_path)["cursors"]["cost-explorer"])
    assert final == ce.DayRange(start, TODAY - timedelta(days=14))

    window = _days(TODAY - timedelta(days=14), TODAY)
    _queue([_page(window, amount="11.000000")])  # restated amounts for the open window
    run = ingest_cost_explorer(settings, end=TODAY, session=boto3.Session(), today=TODAY)
    assert run.stats.api_requests == 1
    cursor = connect(tmp_path)
    restated = cursor.execute(
        "SELECT count(*) FROM costs_daily WHERE consumer = 'oncology' AND unblended_cost = 11 AND usage_date >= $d",
        {"d": TODAY - timedelta(days=14)},
    ).fetchone()[0]
    assert restated == 14
    old = cursor.execute("SELECT count(*) FROM costs_daily WHERE consumer = 'oncology' AND unblended_cost <> 11").fetchone()[0]
    assert old == 26  # final days kept, not re-requested
    assert cursor.execute("SELECT count(*) FROM costs_daily").fetchone()[0] == 80


def test_saved_responses_load_and_reload_idempotently(tmp_path):
    import json

    pages_dir = tmp_path / "pages"
    pages_dir.mkdir()
    days = _days(TODAY - timedelta(days=5), TODAY)
    (pages_dir / "page-0001.json").write_text(json.dumps(_page(days)))
    settings = load_settings(data_dir=tmp_path / "wh")
    first = ingest_cost_explorer(settings, responses_dir=pages_dir, today=TODAY)
    second = ingest_cost_explorer(settings, responses_dir=pages_dir, today=TODAY)
    assert (first.stats.records_loaded, second.stats.records_loaded, second.stats.records_unchanged) == (10, 0, 10)
    assert first.stats.api_requests == 0
