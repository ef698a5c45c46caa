"""The named SQL files: bound parameters only, portable SQL, one place for the shared filters."""

import re
from datetime import date

import duckdb
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel

import queries
from queries import Filters, QueryError, engine

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
            assert {
                "start",
                "end",
                "consumers",
                "workflow_types",
                "platforms",
                "statuses",
                "all_consumers",
                "allowed_consumers",
            } == engine.referenced_params(code)
            continue
        assert "FROM LAUNCHES" not in code.upper() or path.stem in ("filter_options", "launch_period"), (
            f"{path.name} reads launches directly: say FROM launch_scope so the sidebar filters apply"
        )


def test_the_loader_merges_launch_scope_into_the_query_with():
    sql = queries.load("launch_cost_by_consumer_month")
    assert sql.count("WITH ") == 1
    assert re.search(r"WITH launch_scope AS \(.*?\),\s*priced_parts AS \(", sql, re.DOTALL)
    assert queries.load("monthly_spend_by_consumer").count("WITH launch_scope AS (") == 1
    assert "launch_scope" not in queries.load("job_runs")


class RecordingConnection:
    """Wraps a DuckDB connection and records what each statement was bound with."""

    def __init__(self, con):
        self.con = con
        self.calls: list[tuple[str, dict]] = []

    def sql(self, query, params=None):
        self.calls.append((query, dict(params or {})))
        return self.con.sql(query, params=params)


def test_every_named_query_is_registered_with_its_sql_files():
    # launch_scope is the building block every filtered question starts from, not a question
    registered = {sql for query in queries.REGISTRY.values() for sql in query.sql}
    assert registered == set(queries.query_names())
    assert all((engine.SQL_DIR / f"{sql}.sql").is_file() for sql in registered)


@pytest.mark.parametrize("name", sorted(queries.REGISTRY))
def test_each_function_binds_exactly_the_parameters_its_sql_references(fixture_con, name):
    recorder = RecordingConnection(fixture_con)
    queries.REGISTRY[name].call(recorder, ALL, date(2025, 3, 1))
    assert recorder.calls, "the function ran no SQL"
    for sql, params in recorder.calls:
        assert set(params) == engine.referenced_params(sql)


def test_a_missing_parameter_is_a_query_error(fixture_con):
    with pytest.raises(QueryError, match="needs the parameter"):
        engine.run(fixture_con, "launch_cost_by_consumer_month", {"start": date(2025, 1, 1)})


def test_an_unknown_query_name_lists_the_known_ones(fixture_con):
    with pytest.raises(QueryError, match="named queries are: .*launch_cost_by_consumer_month"):
        engine.run(fixture_con, "no_such_question")


def test_engine_errors_become_one_actionable_error():
    con = duckdb.connect()
    con.execute("CREATE TABLE launches (launch_id VARCHAR)")  # an outdated warehouse: columns missing
    with pytest.raises(QueryError, match=r"launch_cost_by_consumer_month query failed .*run the ingest again") as caught:
        queries.launch_cost_by_consumer_month(con, ALL)
    assert isinstance(caught.value.__cause__, duckdb.Error)


def test_money_arrives_as_decimal(fixture_con):
    from decimal import Decimal

    lines = queries.launch_cost_by_consumer_month(fixture_con, ALL)
    assert all(isinstance(v, Decimal) for v in lines["total_cost"])
    assert all(isinstance(v, Decimal) for v in lines["instance_cost"])
