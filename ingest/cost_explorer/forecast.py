"""Cost Explorer GetCostForecast per consumer tag value → ``cost_forecasts``.

One request per consumer (each costs $0.01, counted like GetCostAndUsage): MONTHLY granularity,
an 80% prediction interval, filtered on the consumer tag. The period starts today (Cost Explorer
forecasts from the current day on) and ends after the ``months`` calendar months that follow the
current one, so the first result covers the rest of this month and the next ones whole months.
Each run adds its forecasts as a new partition (by run id): readers take the latest run, and the
older ones stay for scoring Cost Explorer's forecasts against what was billed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import boto3
import pandas as pd
from botocore.exceptions import ClientError

from core.errors import SourceError
from core.months import add_months
from core.settings import CostExplorerSettings
from ingest.cost_explorer import usage as ce
from warehouse.store import WarehouseWriter

METRICS = ("UNBLENDED_COST", "NET_AMORTIZED_COST", "AMORTIZED_COST", "NET_UNBLENDED_COST", "BLENDED_COST")
# the costs_daily column each metric corresponds to (for our own forecast beside Cost Explorer's)
METRIC_COLUMNS = {
    "UNBLENDED_COST": "unblended_cost",
    "AMORTIZED_COST": "amortized_cost",
    "NET_AMORTIZED_COST": "net_amortized_cost",
}
INTERVAL_LEVEL = 80
SOURCE = "cost-explorer"
COLUMNS = (
    "ingest_run_id",
    "forecast_date",
    "period_start",
    "period_end",
    "month",
    "tag_key",
    "consumer",
    "metric",
    "mean_amount",
    "lower_bound",
    "upper_bound",
    "prediction_interval_level",
    "currency",
    "source",
)


def forecast_period(today: date, months: int) -> tuple[date, date]:
    """[today, first day of the month after the ``months`` months that follow this one)."""
    return today, add_months(today, months + 1)


@dataclass
class ForecastPull:
    rows: list[dict]
    requests: int
    skipped: dict[str, str]  # consumer -> why Cost Explorer gave no forecast


def _decimal(value: str | None, what: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise SourceError(f"Cost Explorer returned a non-numeric forecast {what} {value!r}") from None


def request_forecasts(
    client,
    consumers: list[str],
    settings: CostExplorerSettings,
    metric: str,
    today: date,
    months: int,
    run_id: str,
    on_request=None,
) -> ForecastPull:
    """GetCostForecast for each consumer tag value; a consumer Cost Explorer cannot forecast is skipped, with the reason."""
    start, end = forecast_period(today, months)
    rows: list[dict] = []
    skipped: dict[str, str] = {}
    requests = 0
    for consumer in consumers:
        try:
            requests += 1
            response = client.get_cost_forecast(
                TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
                Metric=metric,
                Granularity="MONTHLY",
                Filter={"Tags": {"Key": settings.tag_key, "Values": [consumer], "MatchOptions": ["EQUALS"]}},
                PredictionIntervalLevel=INTERVAL_LEVEL,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "DataUnavailableException":
                raise
            skipped[consumer] = exc.response.get("Error", {}).get("Message") or "not enough data to forecast"
            continue
        finally:
            if on_request:
                on_request()
        currency = response.get("Total", {}).get("Unit") or "USD"
        for result in response.get("ForecastResultsByTime", []):
            period_start = date.fromisoformat(result["TimePeriod"]["Start"])
            rows.append(
                {
                    "ingest_run_id": run_id,
                    "forecast_date": today,
                    "period_start": period_start,
                    "period_end": date.fromisoformat(result["TimePeriod"]["End"]),
                    "month": period_start.replace(day=1),
                    "tag_key": settings.tag_key,
                    "consumer": consumer,
                    "metric": metric,
                    "mean_amount": _decimal(result.get("MeanValue"), "mean"),
                    "lower_bound": _decimal(result.get("PredictionIntervalLowerBound"), "lower bound"),
                    "upper_bound": _decimal(result.get("PredictionIntervalUpperBound"), "upper bound"),
                    "prediction_interval_level": INTERVAL_LEVEL,
                    "currency": currency,
                    "source": SOURCE,
                }
            )
    return ForecastPull(rows, requests, skipped)


def load_forecasts(writer: WarehouseWriter, rows: list[dict]) -> int:
    """Write the rows as this run's partition of ``cost_forecasts``; amounts travel as decimal strings (exact)."""
    if not rows:
        return 0
    frame = pd.DataFrame(
        [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()} for row in rows], columns=COLUMNS
    )
    writer.con.register("incoming_forecasts", frame)
    try:
        writer.write_partitions("cost_forecasts", "SELECT * FROM incoming_forecasts")
    finally:
        writer.con.unregister("incoming_forecasts")
    return len(rows)


def consumers_to_forecast(con, tag_key: str, today: date, lookback_days: int = 92) -> list[str]:
    """Tag values with Cost Explorer spend in the last ``lookback_days``; else every consumer that launched."""
    found = con.execute(
        "SELECT DISTINCT consumer FROM costs_daily WHERE tag_key = $tag AND consumer IS NOT NULL "
        "AND usage_date >= $since ORDER BY consumer",
        {"tag": tag_key, "since": pd.Timestamp(today) - pd.Timedelta(days=lookback_days)},
    ).fetchall()
    if not found:
        found = con.execute("SELECT DISTINCT consumer FROM launches WHERE consumer IS NOT NULL ORDER BY consumer").fetchall()
    return [c for (c,) in found]


def client(settings: CostExplorerSettings, session: boto3.Session | None = None):
    return ce.client(settings, session)
