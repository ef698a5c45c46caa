"""Scoping in the query layer: every named query returns only the rows its reader may see, bound as parameters.

A reader of one consumer (a viewer) is checked against the fixture CSVs (plain pandas), for every named
query of the registry; hostile strings (SQL injection, path traversal) go into every filter and into the
reader itself, on DuckDB and through the Athena binding, and never widen what comes back.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
import sqlglot
from sqlglot import exp

import queries
from core.access import EVERYONE, NOBODY, Reader
from queries import FilterOptions, Filters, engine
from queries.athena import bind_qmark, to_trino
from tests.queries import test_athena as on_athena

ALL = Filters(date(2025, 1, 1), date(2025, 4, 30))
MARCH = date(2025, 3, 1)
ONCOLOGY = "oncology-research"
VIEWER = Reader(consumers=(ONCOLOGY,), admin=False)
FINANCE = Reader(consumers=None, admin=False)
OTHERS = ("neuro-genomics", "population-health", "rare-disease")
# Tables whose rows belong to a consumer (or may carry any consumer's data: raw records, runs, events).
CONSUMER_TABLES = {
    "launches",
    "launch_resources",
    "launch_costs",
    "launch_tasks",
    "launch_billed_costs",
    "costs_daily",
    "costs_monthly",
    "closed_statements",
    "cost_forecasts",
    "quarantine",
    "job_runs",
    "backtest_results",
    "audit_events",
    "anomalies",
}
SCOPE_PARAMS = {"all_consumers", "allowed_consumers", "admin"}
# Only for admins (job runs, raw records) or for readers of every consumer (pooled over every consumer).
NOT_FOR_VIEWERS = {"job_runs", "quarantined_records", "quarantine_reasons", "backtest_results", "audit_events"}
ADMIN_ONLY = {"job_runs", "quarantined_records"}
INJECTIONS = (
    "x' OR 1=1 --",
    "'; DROP TABLE launches; --",
    f"{ONCOLOGY}' OR consumer <> '",
    '") OR TRUE --',
    "oncology-research OR 1=1",
    "$all_consumers",
    "TRUE",
    "*",
    "%",
    "../../etc/passwd",
    "..\\..\\warehouse\\manifest.json",
    "%2e%2e%2f%2e%2e%2fmanifest.json",
    "/dev/null",
    "nul\x00byte",
)


def tables_read(name: str) -> set[str]:
    tree = sqlglot.parse_one(queries.load(name), read="duckdb")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return {t.name for t in tree.find_all(exp.Table) if t.name not in ctes}


def call_as(con, name: str, reader: Reader, filters: Filters = ALL):
    """A registry entry as the dashboard calls it for ``reader`` (dashboard.data.for_reader does the same)."""
    query = queries.REGISTRY[name]
    options = {"reader": reader} if "reader" in query.options else {}
    return query.call(con, replace(filters, reader=reader), MARCH, **options)


def consumers_in(result) -> set:
    if isinstance(result, FilterOptions):
        return set(result.consumers)
    return set(result["consumer"]) if "consumer" in result.columns else set()


@pytest.mark.parametrize("name", sorted(queries.REGISTRY))
def test_every_query_of_consumer_rows_binds_the_readers_scope(name):
    query = queries.REGISTRY[name]
    for sql in query.sql:
        if tables_read(sql) & CONSUMER_TABLES or "launch_scope" in queries.load(sql):
            assert engine.referenced_params(queries.load(sql)) & SCOPE_PARAMS, f"{sql}.sql returns consumer rows unscoped"
            assert query.scope == "filters" or "reader" in query.options, f"{name} cannot be told whose rows to return"


def test_every_query_is_either_scoped_or_reads_no_consumer_rows():
    unscoped = {
        name
        for name, query in queries.REGISTRY.items()
        if not any(engine.referenced_params(queries.load(sql)) & SCOPE_PARAMS for sql in query.sql)
    }
    assert unscoped == {"price_points"}  # unit prices: no consumer in them
    assert not tables_read("price_points") & CONSUMER_TABLES


@pytest.mark.parametrize("name", sorted(queries.REGISTRY))
def test_a_viewer_gets_only_their_consumers_rows_from_every_query(fixture_con, name):
    result = call_as(fixture_con, name, VIEWER)
    everyone = call_as(fixture_con, name, EVERYONE)
    if name in NOT_FOR_VIEWERS:
        assert len(result) == 0, f"{name} returned rows to a viewer"
        return
    assert consumers_in(result) <= {ONCOLOGY}, f"{name} returned another consumer's rows"
    if isinstance(result, pd.DataFrame) and "consumer" in result.columns and len(everyone):
        assert result["consumer"].notna().all(), f"{name} returned untagged rows to a viewer"
        assert set(everyone["consumer"].dropna()) - {ONCOLOGY}, f"{name}: the fixture should hold other consumers"


@pytest.mark.parametrize("name", sorted(ADMIN_ONLY))
def test_job_runs_and_raw_records_are_for_admins_only(fixture_con, name):
    assert len(call_as(fixture_con, name, EVERYONE)) > 0
    assert len(call_as(fixture_con, name, FINANCE)) == 0
    assert len(call_as(fixture_con, name, NOBODY)) == 0


def test_finance_sees_every_consumer_and_the_quarantine_reasons(fixture_con, fixture_tables):
    lines = queries.launch_cost_by_consumer_month(fixture_con, replace(ALL, reader=FINANCE))
    assert set(lines["consumer"]) == {ONCOLOGY, *OTHERS}
    reasons = queries.quarantine_reasons(fixture_con, reader=FINANCE)
    assert set(reasons["reason"]) == set(fixture_tables["quarantine"]["reason"])


def test_a_viewers_figures_are_their_launches_alone(fixture_con, select_launches):
    scoped = replace(ALL, reader=VIEWER)
    mine = select_launches(replace(ALL, consumers=(ONCOLOGY,)))
    overview = queries.overview(fixture_con, scoped).loc["current"]
    assert overview["launches"] == len(mine)
    assert overview["total_spend"] == sum((v for v in mine["total_cost"] if v is not None), Decimal(0))
    options = queries.filter_options(fixture_con, VIEWER)
    assert options.consumers == (ONCOLOGY,) and options.launches == len(mine)
    assert options.first_day == min(mine["launched_at"]).date()
    history = queries.estimate_history(fixture_con, scoped)
    assert set(history["launch_id"]) == set(mine.loc[mine["status"].isin(["COMPLETE", "FAILED"]), "launch_id"])


def test_a_viewer_picking_another_consumer_gets_nothing(fixture_con):
    picked = replace(ALL, consumers=OTHERS, reader=VIEWER)
    assert queries.overview(fixture_con, picked).loc["current", "launches"] == 0
    assert queries.launch_cost_by_consumer_month(fixture_con, picked).empty
    assert queries.monthly_billed_spend(fixture_con, picked).empty
    assert queries.cost_forecasts(fixture_con, picked).empty
    assert queries.pricing.reconciliation(fixture_con, picked).empty


def test_the_bill_queries_keep_to_the_reader(fixture_con, fixture_tables):
    costs = fixture_tables["costs_daily"]
    march = costs[costs["usage_month"] == MARCH]
    bill = queries.billing.bill_lines(fixture_con, MARCH, reader=VIEWER)
    assert set(bill["tag_value"]) == {ONCOLOGY}
    assert sum(bill["effective_cost"]) == sum(march.loc[march["consumer"] == ONCOLOGY, "net_amortized_cost"])
    months = queries.billing.statement_months(fixture_con, reader=VIEWER)
    assert set(months["statement_month"]) == set(costs["usage_month"])  # every billed month is offered
    assert list(months["charges"]) == [len(m[m["consumer"] == ONCOLOGY]) for _, m in costs.groupby("usage_month")]
    assert months["closed_bill_total"].isna().all()
    reconciliation = queries.pricing.reconciliation(fixture_con, replace(ALL, reader=VIEWER))
    assert set(reconciliation["consumer"]) == {ONCOLOGY}  # no untagged row


def scoped_with(hostile: str, reader: Reader) -> Filters:
    return Filters(
        date(2025, 1, 1),
        date(2025, 4, 30),
        consumers=(hostile, ONCOLOGY),
        workflow_types=(hostile,),
        platforms=(hostile,),
        statuses=(hostile,),
        reader=reader,
    )


@pytest.mark.parametrize("hostile", INJECTIONS)
@pytest.mark.parametrize("name", sorted(queries.REGISTRY))
def test_hostile_strings_in_every_filter_and_the_reader_stay_values_on_duckdb(fixture_con, name, hostile):
    for reader in (VIEWER, Reader(consumers=(hostile,), admin=False)):
        result = call_as(fixture_con, name, reader, scoped_with(hostile, reader))
        assert consumers_in(result) <= set(reader.consumers), (name, hostile)
        filtered = queries.REGISTRY[name].scope == "filters"
        if filtered and isinstance(result, pd.DataFrame) and "launches" in result.columns:
            assert sum(result["launches"]) == 0, (name, hostile)  # no workflow type, platform or status matches
    assert fixture_con.sql("SELECT count(*) FROM launches").fetchall() == [(43,)]  # nothing was dropped


@pytest.mark.parametrize("name", queries.query_names())
def test_hostile_strings_reach_athena_only_as_execution_parameters(name):
    sql = queries.load(name)

    def bound(value: str) -> tuple[str, list[str]]:
        reader = Reader(consumers=(value, ONCOLOGY), admin=False)
        options = {"limit": 20, "recent_per_group": 10, "pool_workflow_types": False, "launch_id": "", "task_workflow_type": ""}
        options["bill_sources"] = ["cur", "focus", "cost-explorer"]
        params = {**scoped_with(value, reader).params(), **options}
        return bind_qmark(to_trino(sql), engine.bind(sql, params, name))

    neutral, _ = bound("zz-neutral-value")
    for hostile in INJECTIONS:
        statement, values = bound(hostile)
        assert statement == neutral, "a value changed the statement text"  # values never reach the SQL
        assert ONCOLOGY not in statement
        tree = sqlglot.parse_one(statement, read="trino")
        assert len(list(tree.find_all(exp.Placeholder))) == len(values)
        if "allowed_consumers" in engine.referenced_params(sql):
            assert "'" + hostile.replace("'", "''") + "'" in values
            assert "FALSE" in values  # $all_consumers: a viewer is never "everyone"
        for value in values:  # each one parses back as exactly one literal
            assert isinstance(sqlglot.parse_one(value, read="trino"), exp.Literal | exp.Cast | exp.Boolean | exp.Null)


# --- the same on Athena: the reader's scope travels as execution parameters -------------------------------


@pytest.fixture
def athena(aws_env):
    import boto3
    from moto import mock_aws

    from queries.athena import AthenaEngine

    with mock_aws():
        boto3.client("s3", region_name=on_athena.REGION).create_bucket(Bucket=on_athena.BUCKET)
        yield AthenaEngine("launch_ledger", on_athena.OUTPUT, region=on_athena.REGION)


def test_a_viewer_on_athena_gets_their_rows_and_the_scope_travels_as_parameters(athena, fixture_con):
    hostile = "x' OR 1=1 --"
    picked = replace(ALL, consumers=(hostile, ONCOLOGY), reader=VIEWER)
    on_athena.queue(on_athena.athena_result_of(fixture_con, "launch_cost_by_consumer_month", picked.params()))
    got = queries.launch_cost_by_consumer_month(athena, picked)
    pd.testing.assert_frame_equal(got, queries.launch_cost_by_consumer_month(fixture_con, picked))
    assert set(got["consumer"]) == {ONCOLOGY}
    (execution,) = on_athena.executions()
    sent = execution["ExecutionParameters"]
    assert "FALSE" in sent and f"'{ONCOLOGY}'" in sent and "'x'' OR 1=1 --'" in sent
    assert ONCOLOGY not in execution["Query"] and "1=1" not in execution["Query"]


def test_the_dashboard_binds_the_signed_in_reader_on_athena(athena, fixture_con, tmp_path, monkeypatch):
    from core.access import Access
    from dashboard import auth, data

    config = tmp_path / "launch-ledger.toml"
    config.write_text(
        f'[athena]\nengine = "athena"\ndatabase = "launch_ledger"\nlake_path = "s3://{on_athena.BUCKET}/lake/"\n'
        f'output_location = "{on_athena.OUTPUT}"\nregion = "{on_athena.REGION}"\n'
    )
    monkeypatch.setenv("LAUNCH_LEDGER_CONFIG", str(config))
    monkeypatch.setenv("LAUNCH_LEDGER_DATA_DIR", str(tmp_path / "no-local-warehouse"))
    monkeypatch.setattr(auth, "current", lambda: Access("ana@example.org", "viewer", (ONCOLOGY,)))
    data._fetch.clear()
    data._connection.clear()
    try:
        wide = Filters(date(2025, 1, 1), date(2025, 4, 30), consumers=OTHERS)  # a page asking for other consumers
        on_athena.queue(on_athena.athena_result_of(fixture_con, "job_runs", {"limit": 5, **VIEWER.params()}))
        assert data.fetch("job_runs", limit=5).empty
        expected = replace(wide, reader=VIEWER).params()
        on_athena.queue(on_athena.athena_result_of(fixture_con, "launch_cost_by_consumer_month", expected))
        assert data.fetch("launch_cost_by_consumer_month", wide).empty
        runs, lines = sorted(on_athena.executions(), key=lambda e: "recency" not in e["Query"])
        assert runs["ExecutionParameters"] == ["FALSE", "5"]  # $admin (a viewer is not), then the limit
        assert "FALSE" in lines["ExecutionParameters"] and f"'{ONCOLOGY}'" in lines["ExecutionParameters"]
    finally:
        data._fetch.clear()
        data._connection.clear()
