"""The named queries on Athena: one DuckDB source translated to Trino, values bound server-side, moto for AWS.

``test_sql_files.py`` already checks that every named query transpiles; here the translation is
parsed back as Trino, the parameters become ``?`` with safe literals, and ``AthenaEngine`` is run
against moto with results queued in Athena's format, built from what DuckDB returns for the same
question on the fixture warehouse, so the two engines must hand the pages the same DataFrame.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import awswrangler as wr
import boto3
import pandas as pd
import pyarrow as pa
import pytest
import requests
import sqlglot
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count
from sqlglot import exp

import queries
from ingest.config import AthenaSettings, Settings
from queries import Filters, QueryError, engine
from queries.athena import AthenaEngine, bind_qmark, to_trino, trino_literal

REGION = "us-east-1"
BUCKET = "ledger-athena-results"
OUTPUT = f"s3://{BUCKET}/results/"
QUEUE = "http://motoapi.amazonaws.com/moto-api/static/athena/query-results"
INJECTION = "x' OR 1=1 --"
ALL = Filters(date(2025, 1, 1), date(2025, 4, 30))



@pytest.fixture
def athena(aws_env):
    """An AthenaEngine on moto, with the results bucket created."""
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield AthenaEngine("launch_ledger", OUTPUT, region=REGION)


def executions() -> list[dict]:
    client = boto3.client("athena", region_name=REGION)
    ids = client.list_query_executions()["QueryExecutionIds"]
    return [client.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]


# --- translation: one DuckDB source, Trino at run time ---------------------------------------------


def placeholders_outside_where(tree: exp.Expression) -> list[str]:
    return [p.sql("trino") for p in tree.find_all(exp.Placeholder) if p.find_ancestor(exp.Where) is None]


@pytest.mark.parametrize("name", queries.query_names())
def test_every_named_query_parses_back_as_trino_with_its_parameters(name):
    sql = queries.load(name)
    trino = to_trino(sql)
    tree = sqlglot.parse_one(trino, read="trino")
    assert "$" not in trino
    assert {p.name for p in tree.find_all(exp.Placeholder)} == engine.referenced_params(sql)
    # Athena takes execution parameters (?) only in WHERE clauses.
    assert not placeholders_outside_where(tree), f"{name}: a parameter outside WHERE cannot be bound on Athena"


@pytest.mark.parametrize("name", queries.query_names())
def test_bound_statement_is_trino_with_one_value_per_question_mark(name):
    sql = queries.load(name)
    filters = Filters(date(2025, 1, 1), date(2025, 3, 31), consumers=("genomics", INJECTION), statuses=("FAILED",))
    params = {**filters.params(), "limit": 20, "recent_per_group": 10_000}
    bound, values = bind_qmark(to_trino(sql), engine.bind(sql, params, name))
    tree = sqlglot.parse_one(bound, read="trino")
    assert len(list(tree.find_all(exp.Placeholder))) == len(values)
    assert all(p.this is None for p in tree.find_all(exp.Placeholder)), "a named parameter was left in the statement"
    assert INJECTION not in bound and "1=1" not in bound
    assert not placeholders_outside_where(tree)


def test_values_are_trino_literals_that_parse_back_to_themselves():
    for value in (INJECTION, "it's", "", "a\\b", "multi\nline", "'; DROP TABLE launches; --"):
        literal = trino_literal(value)
        parsed = sqlglot.parse_one(literal, read="trino")
        assert isinstance(parsed, exp.Literal) and parsed.is_string and parsed.this == value
    assert trino_literal(date(2025, 1, 31)) == "DATE '2025-01-31'"
    assert trino_literal(datetime(2025, 1, 31, 12, 30)) == "TIMESTAMP '2025-01-31 12:30:00.000000'"
    assert trino_literal(Decimal("12.50")) == "DECIMAL '12.50'"
    assert trino_literal(20) == "20" and trino_literal(True) == "TRUE" and trino_literal(None) == "NULL"
    assert trino_literal(0.25) == "DOUBLE '0.25'"
    with pytest.raises(QueryError, match="type dict"):
        trino_literal({"a": 1})
    with pytest.raises(QueryError, match="time zone"):
        trino_literal(datetime(2025, 1, 1, tzinfo=pd.Timestamp("2025-01-01", tz="UTC").tzinfo))


def test_lists_become_arrays_of_placeholders_and_empty_lists_a_typed_empty_array():
    sql, values = bind_qmark(
        "SELECT 1 FROM t WHERE (CARDINALITY(:consumers) = 0 OR CONTAINS(:consumers, consumer)) AND d <= :end AND s = ':end'",
        {"consumers": ["genomics", INJECTION], "end": date(2025, 4, 30)},
    )
    assert sql == (
        "SELECT 1 FROM t WHERE (CARDINALITY(ARRAY[?, ?]) = 0 OR CONTAINS(ARRAY[?, ?], consumer)) AND d <= ? AND s = ':end'"
    )
    assert values == ["'genomics'", "'x'' OR 1=1 --'", "'genomics'", "'x'' OR 1=1 --'", "DATE '2025-04-30'"]
    sql, values = bind_qmark("SELECT 1 FROM t WHERE CARDINALITY(:statuses) = 0 -- :statuses", {"statuses": []})
    assert sql == "SELECT 1 FROM t WHERE CARDINALITY(CAST(ARRAY[] AS ARRAY(VARCHAR))) = 0 -- :statuses"
    assert values == []


def test_a_value_longer_than_athena_takes_is_a_query_error():
    with pytest.raises(QueryError, match="longer than Athena allows"):
        bind_qmark("SELECT 1 FROM t WHERE c = :c", {"c": "x" * 2000})


# --- running on Athena (moto) ----------------------------------------------------------------------

_ATHENA_TYPES = (
    (pa.types.is_decimal, "decimal"),
    (pa.types.is_boolean, "boolean"),
    (lambda t: t == pa.int32(), "integer"),
    (pa.types.is_integer, "bigint"),
    (pa.types.is_floating, "double"),
    (pa.types.is_date, "date"),
    (pa.types.is_timestamp, "timestamp"),
    (lambda t: pa.types.is_string(t) or pa.types.is_large_string(t), "varchar"),
)


def _athena_type(arrow_type: pa.DataType) -> str:
    return next(name for check, name in _ATHENA_TYPES if check(arrow_type))


def _athena_text(value: object) -> dict:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return {}  # NULL: Athena writes an empty field
    if isinstance(value, bool):
        return {"VarCharValue": "true" if value else "false"}
    if isinstance(value, datetime):
        return {"VarCharValue": value.isoformat(sep=" ", timespec="milliseconds")}
    if isinstance(value, Decimal):
        return {"VarCharValue": f"{value:f}"}
    return {"VarCharValue": str(value)}


def athena_result_of(con, name: str, params: dict | None = None) -> dict:
    """What Athena returns for the named query: DuckDB's rows on the fixture warehouse, as text, header first."""
    sql = queries.load(name)
    table = con.sql(sql, params=engine.bind(sql, params or {}, name)).to_arrow_table()
    column_info = []
    for field in table.schema:
        kind = _athena_type(field.type)
        info = {"Name": field.name, "Label": field.name, "Type": kind, "Nullable": "UNKNOWN", "CaseSensitive": kind == "varchar"}
        if kind == "decimal":
            info.update(Precision=field.type.precision, Scale=field.type.scale)
        column_info.append(info)
    rows = [{"Data": [{"VarCharValue": f.name} for f in table.schema]}]
    rows += [{"Data": [_athena_text(v) for v in row.values()]} for row in table.to_pylist()]
    return {"rows": rows, "column_info": column_info}


def queue(*results: dict) -> None:
    response = requests.post(QUEUE, json={"region": REGION, "results": list(results)}, timeout=5)
    assert response.status_code == 201


CASES = {
    "chargeback": (lambda c: queries.chargeback(c, ALL), ALL.params()),
    "monthly_cost_per_launch": (lambda c: queries.monthly_cost_per_launch(c, ALL), ALL.params()),
    "ingest_runs": (lambda c: queries.ingest_runs(c, limit=5), {"limit": 5}),
    "pending_prices": (lambda c: queries.pending_prices(c, ALL, limit=5), {**ALL.params(), "limit": 5}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_athena_returns_the_frame_duckdb_returns(athena, fixture_con, name):
    call, params = CASES[name]
    expected = call(fixture_con)
    queue(athena_result_of(fixture_con, name, params))
    got = call(athena)  # the same query function: queries.engine.run hands the question to Athena
    pd.testing.assert_frame_equal(got, expected)
    (execution,) = executions()
    assert execution["QueryExecutionContext"]["Database"] == "launch_ledger"
    assert execution["WorkGroup"] == "primary"
    assert execution["ResultConfiguration"]["OutputLocation"].startswith(OUTPUT)
    statement, values = athena.statement(name, params)
    assert execution["Query"] == statement
    assert execution.get("ExecutionParameters", []) == values


def test_money_arrives_as_decimal_and_filters_travel_as_execution_parameters(athena, fixture_con):
    picked = Filters(date(2025, 1, 1), date(2025, 4, 30), consumers=("genomics", INJECTION))
    queue(athena_result_of(fixture_con, "chargeback", picked.params()))
    lines = queries.chargeback(athena, picked)
    assert all(isinstance(v, Decimal) for v in lines["total_cost"])
    (execution,) = executions()
    assert "'x'' OR 1=1 --'" in execution["ExecutionParameters"]
    assert INJECTION not in execution["Query"] and "genomics" not in execution["Query"]
    assert execution["ExecutionParameters"][:4] == ["DATE '2025-01-01'", "DATE '2025-04-30'"] * 2


def test_filter_options_runs_its_two_queries_on_athena(athena, fixture_con):
    queue(athena_result_of(fixture_con, "filter_options"), athena_result_of(fixture_con, "launch_period"))
    assert queries.filter_options(athena) == queries.filter_options(fixture_con)
    assert len(executions()) == 2
    assert all("ExecutionParameters" not in e for e in executions())


def test_access_denied_becomes_one_line_query_error(aws_env):
    @set_initial_no_auth_action_count(3)  # the IAM calls below are allowed; the Athena ones are checked
    @mock_aws
    def run_as_user_without_athena_permissions():
        iam = boto3.client("iam", region_name=REGION)
        iam.create_user(UserName="dashboard")
        key = iam.create_access_key(UserName="dashboard")["AccessKey"]
        session = boto3.Session(
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION
        )
        queries.ingest_runs(AthenaEngine("launch_ledger", OUTPUT, session=session), limit=5)

    with pytest.raises(QueryError) as caught:
        run_as_user_without_athena_permissions()
    message = str(caught.value)
    assert "\n" not in message
    assert "ingest_runs query failed on Athena" in message and "AccessDenied" in message
    assert "athena:StartQueryExecution" in message and "grant the Athena, Glue and S3 actions" in message


def test_a_missing_results_bucket_is_one_line_query_error(athena):
    queue({"rows": [{"Data": [{"VarCharValue": "run_id"}]}], "column_info": [{"Name": "run_id", "Type": "varchar"}]})
    elsewhere = AthenaEngine("launch_ledger", "s3://no-such-results-bucket/out/", region=REGION)
    with pytest.raises(QueryError, match=r"NoSuchBucket.*check athena.output_location") as caught:
        queries.ingest_runs(elsewhere, limit=5)
    assert "\n" not in str(caught.value)


def test_an_unknown_database_is_one_line_query_error(athena, monkeypatch):
    # moto runs no SQL, so it cannot fail a query: raise what awswrangler raises for Athena's FAILED state.
    def failed(*args, **kwargs):
        raise wr.exceptions.QueryFailed("SCHEMA_NOT_FOUND: line 1:8: Schema 'no_such_db' does not exist\nQuery Id: 1")

    monkeypatch.setattr(wr.athena, "read_sql_query", failed)
    with pytest.raises(QueryError) as caught:
        queries.chargeback(AthenaEngine("no_such_db", OUTPUT, region=REGION), ALL)
    message = str(caught.value)
    assert "\n" not in message
    assert "SCHEMA_NOT_FOUND" in message and "check athena.database and run an ingest" in message


def test_missing_parameters_and_unknown_names_fail_before_any_aws_call(athena):
    with pytest.raises(QueryError, match="needs the parameter"):
        engine.run(athena, "chargeback", {"start": date(2025, 1, 1)})
    with pytest.raises(QueryError, match="named queries are: .*chargeback"):
        engine.run(athena, "no_such_question")
    assert executions() == []


def test_engine_is_built_from_the_athena_settings():
    athena = AthenaSettings(
        engine="athena", database="ledger", lake_path="s3://lake/ll", output_location="s3://lake/res", workgroup="analysts"
    )
    built = AthenaEngine.from_settings(Settings(athena=athena))
    assert (built.database, built.output_location, built.workgroup) == ("ledger", "s3://lake/res/", "analysts")
    assert AthenaEngine.from_settings(athena).database == "ledger"


def test_the_dashboard_runs_its_queries_on_athena_when_configured(athena, fixture_con, tmp_path, monkeypatch):
    from dashboard import data

    config = tmp_path / "launch-ledger.toml"
    config.write_text(
        f'[athena]\nengine = "athena"\ndatabase = "launch_ledger"\nlake_path = "s3://{BUCKET}/lake/"\n'
        f'output_location = "{OUTPUT}"\nregion = "{REGION}"\n'
    )
    monkeypatch.setenv("LAUNCH_LEDGER_CONFIG", str(config))
    monkeypatch.setenv("LAUNCH_LEDGER_DATA_DIR", str(tmp_path / "no-local-warehouse"))
    data._fetch.clear()
    data._connection.clear()
    try:
        queue(athena_result_of(fixture_con, "ingest_runs", {"limit": 5}))
        runs = data.fetch("ingest_runs", limit=5)
        pd.testing.assert_frame_equal(runs, queries.ingest_runs(fixture_con, limit=5))
        assert len(executions()) == 1
        assert not (tmp_path / "no-local-warehouse").exists()
    finally:
        data._fetch.clear()
        data._connection.clear()
