"""The named queries on Athena: one DuckDB source translated to Trino, values bound server-side, moto for AWS.

``test_sql_files.py`` already checks that every named query transpiles; here the translation is
parsed back as Trino, the parameters become ``?`` with safe literals, and ``AthenaEngine`` is run
against moto with results queued in Athena's format, built from what DuckDB returns for the same
question on the fixture warehouse, so the two engines must hand the pages the same DataFrame.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import awswrangler as wr
import boto3
import duckdb
import pandas as pd
import pyarrow as pa
import pytest
import requests
import sqlglot
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count
from sqlglot import exp

import queries
from core.settings import AthenaSettings, Settings
from queries import EVERYONE, Filters, QueryError, engine
from queries.athena import AthenaEngine, PartitionRead, bind_qmark, partition_reads, to_trino, trino_literal
from warehouse.lake import publish

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
    params = {
        **filters.params(),
        "limit": 20,
        "recent_per_group": 10_000,
        "pool_workflow_types": True,
        "launch_id": "",
        "task_workflow_type": "",
        "bill_sources": ["cur", "focus", "cost-explorer"],
    }
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


# --- partition pruning: every read of a lake table names the partitions it needs --------------------

# Reads that need every partition, by design.
READS_EVERY_PARTITION = {
    "backtest_results": {"backtest_results"},  # the latest run: max(run_id) is a subquery, unknown when pruning
    "cost_forecasts": {"cost_forecasts"},  # the latest forecast run, likewise
    "filter_options": {"launches"},  # the sidebar offers every value in the warehouse
    "launch_period": {"launches"},  # the first and last launch day of the whole warehouse
    "job_runs": {"job_runs"},  # the latest runs: a window over all of them
    "quarantine_reasons": {"quarantine"},
    "quarantined_records": {"quarantine"},
    "price_points": {"prices"},  # the pricing engine takes every price
    "statement_months": {"costs_daily", "closed_statements"},  # every month with a bill or a statement
    "audit_events": {"audit_events"},  # the latest events: a window over all of them
    "statement_runs": {"launches"},  # a run billed this month may have launched in any month before
}
# Reads that could be pruned but are not yet (strict xfail: a fixed query must leave this list).
NOT_PRUNED_YET: dict[str, str] = {}


def reads_of(trino_sql: str) -> list[tuple[str, str | None]]:
    return sorted(((r.table, r.predicate) for r in partition_reads(trino_sql)), key=str)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT * FROM launches WHERE launch_month BETWEEN DATE_TRUNC('MONTH', :start) AND :end AND consumer = 'a'",
            [("launches", "launch_month BETWEEN DATE_TRUNC('MONTH', :start) AND :end")],
        ),
        ("SELECT * FROM launches", [("launches", None)]),
        ("SELECT * FROM launches WHERE launch_month = :m OR consumer = 'a'", [("launches", None)]),  # OR: any month
        ("SELECT * FROM launches WHERE CAST(launched_at AS DATE) = :day", [("launches", None)]),  # not the partition column
        (
            "SELECT * FROM launches WHERE launch_month = (SELECT MAX(launch_month) FROM launches)",
            [("launches", None), ("launches", None)],
        ),
        (
            "SELECT * FROM launches AS l JOIN launch_costs AS c ON c.launch_id = l.launch_id AND c.launch_month = l.launch_month "
            "WHERE l.launch_month = :m",
            [("launch_costs", None), ("launches", "l.launch_month = :m")],  # equal to another column: known only at run time
        ),
        (
            "SELECT * FROM launches AS l LEFT JOIN launch_costs AS c ON c.launch_id = l.launch_id AND c.launch_month >= :m "
            "WHERE launch_month >= :m",  # unqualified beside a join: not counted
            [("launch_costs", "c.launch_month >= :m"), ("launches", None)],
        ),
        (
            "WITH launches AS (SELECT * FROM costs_daily WHERE (usage_month = :m)) SELECT * FROM launches",
            [("costs_daily", "usage_month = :m")],  # a CTE named like a table is not a read
        ),
        ("SELECT * FROM job_runs WHERE run_id = 'r1'", [("job_runs", "run_id = 'r1'")]),
    ],
)
def test_partition_reads_finds_only_conditions_athena_can_prune_with(sql, expected):
    assert reads_of(sql) == expected


def test_partition_reads_names_each_tables_partition_column():
    (read,) = partition_reads("SELECT * FROM costs_daily WHERE usage_month = :m")
    assert read == PartitionRead("costs_daily", "usage_month", "usage_month = :m")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=NOT_PRUNED_YET[n])) if n in NOT_PRUNED_YET else n
        for n in queries.query_names()
    ],
)
def test_every_named_query_limits_each_lake_read_to_the_partitions_its_filters_select(name):
    reads = partition_reads(to_trino(queries.load(name)))
    assert reads, f"{name} reads no lake table"
    assert {r.table for r in reads if r.predicate is None} == READS_EVERY_PARTITION.get(name, set())
    for read in reads:
        if read.predicate is not None:  # driven by the page's filters, not a constant
            assert list(sqlglot.parse_one(read.predicate, read="trino").find_all(exp.Placeholder)), read


def test_the_whole_table_lists_name_real_queries_and_tables():
    assert set(READS_EVERY_PARTITION) | set(NOT_PRUNED_YET) <= set(queries.query_names())
    for name, tables in READS_EVERY_PARTITION.items():
        assert name not in NOT_PRUNED_YET
        assert tables <= {r.table for r in partition_reads(to_trino(queries.load(name)))}, name


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
    "launch_cost_by_consumer_month": (lambda c: queries.launch_cost_by_consumer_month(c, ALL), ALL.params()),
    "monthly_cost_per_launch": (lambda c: queries.monthly_cost_per_launch(c, ALL), ALL.params()),
    "job_runs": (lambda c: queries.job_runs(c, limit=5), {"limit": 5, **EVERYONE.params()}),
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
    queue(athena_result_of(fixture_con, "launch_cost_by_consumer_month", picked.params()))
    lines = queries.launch_cost_by_consumer_month(athena, picked)
    assert all(isinstance(v, Decimal) for v in lines["total_cost"])
    (execution,) = executions()
    assert "'x'' OR 1=1 --'" in execution["ExecutionParameters"]
    assert INJECTION not in execution["Query"] and "genomics" not in execution["Query"]
    assert execution["ExecutionParameters"][:4] == ["DATE '2025-01-01'", "DATE '2025-04-30'"] * 2


def test_filter_options_runs_its_two_queries_on_athena(athena, fixture_con):
    scope = EVERYONE.params()
    queue(athena_result_of(fixture_con, "filter_options", scope), athena_result_of(fixture_con, "launch_period", scope))
    assert queries.filter_options(athena) == queries.filter_options(fixture_con)
    assert len(executions()) == 2
    # only the reader's scope travels, as execution parameters: every consumer (TRUE), none listed
    assert all(e["ExecutionParameters"] == ["TRUE"] for e in executions())


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
        queries.job_runs(AthenaEngine("launch_ledger", OUTPUT, session=session), limit=5)

    with pytest.raises(QueryError) as caught:
        run_as_user_without_athena_permissions()
    message = str(caught.value)
    assert "\n" not in message
    assert "job_runs query failed on Athena" in message and "AccessDenied" in message
    assert "athena:StartQueryExecution" in message and "grant the Athena, Glue and S3 actions" in message


def test_a_missing_results_bucket_is_one_line_query_error(athena):
    queue({"rows": [{"Data": [{"VarCharValue": "run_id"}]}], "column_info": [{"Name": "run_id", "Type": "varchar"}]})
    elsewhere = AthenaEngine("launch_ledger", "s3://no-such-results-bucket/out/", region=REGION)
    with pytest.raises(QueryError, match=r"NoSuchBucket.*check athena.output_location") as caught:
        queries.job_runs(elsewhere, limit=5)
    assert "\n" not in str(caught.value)


def test_an_unknown_database_is_one_line_query_error(athena, monkeypatch):
    # moto runs no SQL, so it cannot fail a query: raise what awswrangler raises for Athena's FAILED state.
    def failed(*args, **kwargs):
        raise wr.exceptions.QueryFailed("SCHEMA_NOT_FOUND: line 1:8: Schema 'no_such_db' does not exist\nQuery Id: 1")

    monkeypatch.setattr(wr.athena, "read_sql_query", failed)
    with pytest.raises(QueryError) as caught:
        queries.launch_cost_by_consumer_month(AthenaEngine("no_such_db", OUTPUT, region=REGION), ALL)
    message = str(caught.value)
    assert "\n" not in message
    assert "SCHEMA_NOT_FOUND" in message and "check athena.database and run an ingest" in message


def test_missing_parameters_and_unknown_names_fail_before_any_aws_call(athena):
    with pytest.raises(QueryError, match="needs the parameter"):
        engine.run(athena, "launch_cost_by_consumer_month", {"start": date(2025, 1, 1)})
    with pytest.raises(QueryError, match="named queries are: .*launch_cost_by_consumer_month"):
        engine.run(athena, "no_such_question")
    assert executions() == []


def test_engine_is_built_from_the_athena_settings():
    athena = AthenaSettings(
        engine="athena", database="ledger", lake_path="s3://lake/ll", output_location="s3://lake/res", workgroup="analysts"
    )
    built = AthenaEngine.from_settings(Settings(athena=athena))
    assert (built.database, built.output_location, built.workgroup) == ("ledger", "s3://lake/res/", "analysts")
    assert AthenaEngine.from_settings(athena).database == "ledger"


# --- the lake answers a month through the Athena statement -------------------------------------------

LAKE_BUCKET = "ledger-lake"
_QMARK = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|(\?)""")


def inline(statement: str, values: list[str]) -> str:
    """The statement with each ``?`` replaced by its execution parameter, in order (what Athena binds)."""
    remaining = iter(values)
    inlined = _QMARK.sub(lambda m: next(remaining) if m.group(1) else m.group(0), statement)
    assert next(remaining, None) is None, "more execution parameters than ?"
    return inlined


def lake_partitions_read(table: str, predicate: str | None) -> list[dict]:
    """The Glue partitions of ``table`` a predicate on its partition column keeps, as Athena would choose them."""
    glue = boto3.client("glue", region_name=REGION)
    (key,) = glue.get_table(DatabaseName="launch_ledger", Name=table)["Table"]["PartitionKeys"]
    partitions = glue.get_partitions(DatabaseName="launch_ledger", TableName=table)["Partitions"]
    if predicate is None:
        return partitions
    con = duckdb.connect()
    kind = {"date": "DATE", "string": "VARCHAR"}[key["Type"]]
    rows = ", ".join(f"(CAST('{p['Values'][0]}' AS {kind}))" for p in partitions)
    condition = sqlglot.transpile(predicate, read="trino", write="duckdb")[0]
    kept = {
        str(v) for (v,) in con.sql(f"SELECT {key['Name']} FROM (VALUES {rows}) AS t({key['Name']}) WHERE {condition}").fetchall()
    }
    return [p for p in partitions if p["Values"][0] in kept]


def lake_view(con, table: str, partitions: list[dict], tmp_path) -> None:
    """``table`` in ``con`` from the lake objects of these partitions only, the partition column from Glue."""
    s3 = boto3.client("s3", region_name=REGION)
    glue = boto3.client("glue", region_name=REGION)
    (key,) = glue.get_table(DatabaseName="launch_ledger", Name=table)["Table"]["PartitionKeys"]
    kind = {"date": "DATE", "string": "VARCHAR"}[key["Type"]]
    parts = []
    for partition in partitions:
        bucket, prefix = partition["StorageDescriptor"]["Location"].removeprefix("s3://").split("/", 1)
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix.rstrip("/") + "/")["Contents"]
        files = []
        for obj in listed:
            local = tmp_path / obj["Key"].replace("/", "_")
            local.write_bytes(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            files.append(f"'{local}'")
        parts.append(
            f"SELECT *, CAST('{partition['Values'][0]}' AS {kind}) AS {key['Name']} FROM read_parquet([{', '.join(files)}])"
        )
    con.execute(f"CREATE VIEW {table} AS {' UNION ALL BY NAME '.join(parts)}")


FEBRUARY = Filters(date(2025, 2, 1), date(2025, 2, 28))


@pytest.mark.parametrize(
    ("name", "months_read"),
    [
        ("monthly_spend_by_consumer", {"launches": ["2025-02-01"]}),
        ("bill_lines", {"costs_daily": ["2025-02-01"]}),
        ("launch_cost_by_consumer_month", {"launches": ["2025-02-01"]}),
    ],
)
def test_a_published_month_reads_back_through_the_athena_statement_from_its_partition_only(
    aws_env, fresh_data_dir, fixture_con, tmp_path, name, months_read
):
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=LAKE_BUCKET)
        settings = Settings(
            data_dir=fresh_data_dir,
            athena=AthenaSettings(
                engine="athena",
                database="launch_ledger",
                lake_path=f"s3://{LAKE_BUCKET}/warehouse/",
                output_location=OUTPUT,
                region=REGION,
            ),
        )
        publish(settings, fresh_data_dir)
        statement, values = AthenaEngine.from_settings(settings).statement(name, FEBRUARY.params())
        sent = inline(statement, values)  # the statement Athena runs once it binds the parameters
        con = duckdb.connect()
        read = {}
        for lake_read in partition_reads(sent):
            partitions = lake_partitions_read(lake_read.table, lake_read.predicate)
            read[lake_read.table] = sorted(p["Values"][0] for p in partitions)
            lake_view(con, lake_read.table, partitions, tmp_path)
        assert read == months_read
        got = con.sql(sqlglot.transpile(sent, read="trino", write="duckdb")[0]).to_arrow_table().to_pandas()
    expected = engine.run(fixture_con, name, FEBRUARY.params())
    assert len(expected) > 0
    pd.testing.assert_frame_equal(got, expected)


def test_february_in_the_lake_is_the_fixtures_february(aws_env, fresh_data_dir, fixture_tables, tmp_path):
    """The same read, checked against the fixture CSV by hand: launches and spend per consumer in February."""
    launches = fixture_tables["launches"]
    in_feb = launches[
        (launches["launched_at"] >= pd.Timestamp("2025-02-01")) & (launches["launched_at"] < pd.Timestamp("2025-03-01"))
    ]
    by_consumer = {
        consumer: (len(rows), sum((v for v in rows["total_cost"] if v is not None), Decimal(0)))
        for consumer, rows in in_feb.groupby("consumer")
    }
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=LAKE_BUCKET)
        settings = Settings(
            data_dir=fresh_data_dir,
            athena=AthenaSettings(
                engine="athena", database="launch_ledger", lake_path=f"s3://{LAKE_BUCKET}/warehouse/", output_location=OUTPUT
            ),
        )
        publish(settings, fresh_data_dir, tables=["launches"])
        statement, values = AthenaEngine.from_settings(settings).statement("monthly_spend_by_consumer", FEBRUARY.params())
        sent = inline(statement, values)
        (read,) = partition_reads(sent)
        con = duckdb.connect()
        lake_view(con, "launches", lake_partitions_read("launches", read.predicate), tmp_path)
        rows = con.sql(sqlglot.transpile(sent, read="trino", write="duckdb")[0]).fetchall()
    assert {consumer: (n, spend) for _, consumer, n, _, spend in rows} == by_consumer
    assert {month for month, *_ in rows} == {date(2025, 2, 1)}


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
        queue(athena_result_of(fixture_con, "job_runs", {"limit": 5, **EVERYONE.params()}))
        runs = data.fetch("job_runs", limit=5)
        pd.testing.assert_frame_equal(runs, queries.job_runs(fixture_con, limit=5))
        assert len(executions()) == 1
        assert not (tmp_path / "no-local-warehouse").exists()
    finally:
        data._fetch.clear()
        data._connection.clear()
