"""The named SQL files: bound parameters only, portable SQL, one place for the shared filters."""

import re
from datetime import date

import duckdb
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

import queries
from queries import Filters, QueryError, billing, engine
from queries import pricing as pricing_queries

SQL_FILES = sorted(engine.SQL_DIR.glob("*.sql"))
ALL = Filters(date(2025, 1, 1), date(2025, 4, 30))


def code_of(path) -> str:
    return engine._code_only(path.read_text())


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.name)
def test_values_only_enter_as_named_parameters(path):
    code = code_of(path)
    assert "{" not in code and "}" not in code, "Python format braces (or struct literals) in SQL"
    assert not re.search(r"%[s(]|\?", code), "positional or %-style placeholders in SQL"
    assert not re.search(r"\$\d", code), "positional $1 parameters: use $names"


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.name)
def test_sql_avoids_duckdb_only_syntax(path):
    code = code_of(path).upper()
    for pattern, why in (
        (r"\bQUALIFY\b", "QUALIFY"),
        (r"\bGROUP\s+BY\s+ALL\b", "GROUP BY ALL"),
        (r"\bORDER\s+BY\s+ALL\b", "ORDER BY ALL"),
        (r"#\d", "#n positional column"),
        (r"::", ":: cast (use CAST)"),
        (r"(\A|\()\s*FROM\b", "FROM-first statement"),
        (r"\bEXCLUDE\s*\(", "SELECT * EXCLUDE"),
    ):
        assert not re.search(pattern, code), f"{path.name} uses {why}"


@pytest.mark.parametrize("name", queries.query_names())
def test_every_named_query_translates_to_trino(name):
    sql = queries.load(name)
    translated = sqlglot.transpile(sql, read="duckdb", write="trino", unsupported_level=ErrorLevel.RAISE)
    assert len(translated) == 1


def test_shared_filters_live_only_in_launch_scope():
    for path in SQL_FILES:
        code = code_of(path)
        if path.stem == "launch_scope":
            assert {"start", "end", "consumers", "workflow_types", "platforms", "statuses"} == engine.referenced_params(code)
            continue
        assert "FROM LAUNCHES" not in code.upper() or path.stem in ("filter_options", "launch_period"), (
            f"{path.name} reads launches directly: say FROM launch_scope so the sidebar filters apply"
        )


def test_the_loader_merges_launch_scope_into_the_query_with():
    sql = queries.load("chargeback")
    assert sql.count("WITH ") == 1
    assert re.search(r"WITH launch_scope AS \(.*?\),\s*priced_parts AS \(", sql, re.DOTALL)
    assert queries.load("monthly_spend_by_consumer").count("WITH launch_scope AS (") == 1
    assert "launch_scope" not in queries.load("ingest_runs")


class RecordingConnection:
    """Wraps a DuckDB connection and records what each statement was bound with."""

    def __init__(self, con):
        self.con = con
        self.calls: list[tuple[str, dict]] = []

    def sql(self, query, params=None):
        self.calls.append((query, dict(params or {})))
        return self.con.sql(query, params=params)


CALLS = {
    "filter_options": lambda con: queries.filter_options(con),
    "overview": lambda con: queries.overview(con, ALL),
    "chargeback": lambda con: queries.chargeback(con, ALL),
    "timing": lambda con: queries.timing(con, ALL),
    "timing_by_platform": lambda con: queries.timing_by_platform(con, ALL),
    "instance_types": lambda con: queries.instance_types(con, ALL),
    "spot_vs_on_demand": lambda con: queries.spot_vs_on_demand(con, ALL),
    "platforms": lambda con: queries.platforms(con, ALL),
    "monthly_spend_by_consumer": lambda con: queries.monthly_spend_by_consumer(con, ALL),
    "monthly_cost_per_launch": lambda con: queries.monthly_cost_per_launch(con, ALL),
    "ingest_runs": lambda con: queries.ingest_runs(con, limit=5),
    "quarantine_reasons": lambda con: queries.quarantine_reasons(con, limit=5),
    "quarantined_records": lambda con: queries.quarantined_records(con, limit=5),
    "pending_prices": lambda con: queries.pending_prices(con, ALL, limit=5),
    "estimate_history": lambda con: queries.estimate_history(con, ALL),
    "monthly_billed_spend": lambda con: queries.monthly_billed_spend(con, ALL),
    "backtest_results": lambda con: queries.backtest_results(con),
    "cost_forecasts": lambda con: queries.cost_forecasts(con, ALL),
    "reconciliation": lambda con: pricing_queries.reconciliation(con, ALL),
    "whatif_resources": lambda con: pricing_queries.whatif_resources(con, ALL, limit=5),
    "price_points": lambda con: pricing_queries.price_points(con),
    "bill_lines": lambda con: billing.bill_lines(con, date(2025, 3, 1)),
    "statement_launches": lambda con: billing.statement_launches(con, date(2025, 3, 1)),
    "statement_months": lambda con: billing.statement_months(con),
    "closed_statements": lambda con: billing.closed_statements(con, date(2025, 4, 1)),
}


def test_every_named_query_has_a_function():
    # launch_period is read by filter_options; timing_by_platform is the timing query with the workflow types pooled
    assert set(CALLS) | {"launch_period"} == set(queries.query_names()) | {"timing_by_platform"}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_function_binds_exactly_the_parameters_its_sql_references(fixture_con, name):
    recorder = RecordingConnection(fixture_con)
    CALLS[name](recorder)
    assert recorder.calls, "the function ran no SQL"
    for sql, params in recorder.calls:
        assert set(params) == engine.referenced_params(sql)


def test_a_missing_parameter_is_a_query_error(fixture_con):
    with pytest.raises(QueryError, match="needs the parameter"):
        engine.run(fixture_con, "chargeback", {"start": date(2025, 1, 1)})


def test_an_unknown_query_name_lists_the_known_ones(fixture_con):
    with pytest.raises(QueryError, match="named queries are: .*chargeback"):
        engine.run(fixture_con, "no_such_question")


def test_engine_errors_become_one_actionable_error():
    con = duckdb.connect()
    con.execute("CREATE TABLE launches (launch_id VARCHAR)")  # an outdated warehouse: columns missing
    with pytest.raises(QueryError, match=r"chargeback query failed .*run the ingest again") as caught:
        queries.chargeback(con, ALL)
    assert isinstance(caught.value.__cause__, duckdb.Error)


def test_money_arrives_as_decimal(fixture_con):
    from decimal import Decimal

    lines = queries.chargeback(fixture_con, ALL)
    assert all(isinstance(v, Decimal) for v in lines["total_cost"])
    assert all(isinstance(v, Decimal) for v in lines["instance_cost"])
