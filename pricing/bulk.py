"""The pricing rules of ``pricing.engine`` as one DuckDB statement, for the whole warehouse at once.

Same arithmetic as the reference (integers: prices in 1e-10 USD, whole epoch seconds, one half-up
rounding per resource line), so the two agree to the micro-dollar; ``tests/pricing/test_pricing_bulk.py``
checks that on a sample. Two step functions are integrated without range joins, so a million
launches stay linear:

* Spot: each (region, AZ, instance type) history gets a running integral F at its steps; the cost
  of [s, e) is F(e) - F(s), each found with an ASOF join (the step in force at that second).
* EBS: GB-months plus IOPS-months and MiBps-months above the free baseline (gp3: 3,000 IOPS and
  125 MiB/s; io2: none), all prorated by the second and rounded once per line.
* EKS control plane: per cluster, a sweep over the start/end seconds of its launches counts who is
  active in each segment; each segment's fee / active launches is summed into a prefix, and a
  launch's share is prefix(end) - prefix(start), two equality joins.

Input relations: ``launches``, ``launch_resources``, ``prices``, ``costs_daily`` and a temp table
``reserved_rates(resource_type, price)`` made by ``prepare``. Output: one ``launch_costs`` row per launch.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb

from core.vocabulary import HOURS_PER_MONTH
from pricing.engine import GP3_FREE_IOPS, GP3_FREE_THROUGHPUT_MIBPS, MIN_BILLED_SECONDS, Rules

FAR = 2**62  # seconds: "before every step" / "after every step"


def prepare(con: duckdb.DuckDBPyConnection, rules: Rules) -> dict[str, object]:
    """Create the ``reserved_rates`` temp table and return the statement's parameters."""
    con.execute("CREATE OR REPLACE TEMP TABLE reserved_rates (resource_type VARCHAR, price DECIMAL(18,10))")
    if rules.reserved_rates:
        con.executemany("INSERT INTO reserved_rates VALUES (?, ?)", [(k, str(v)) for k, v in rules.reserved_rates.items()])
    return {
        "reserved_fraction": str(rules.reserved_fraction),
        "spot_fraction": str(rules.spot_fallback_fraction),
        "node_hour": str(rules.rate_card.node_hour),
    }


# (price in 1e-10 USD) x seconds / 3600 / 10^4 -> micro-dollars, and the same for GB-months.
_E10 = "CAST({} * 10000000000 AS HUGEINT)"
_HOUR_DEN = 3600 * 10_000
_MONTH_DEN = 3600 * 10_000 * HOURS_PER_MONTH * 1000


def _half_up(num: str, den: str) -> str:
    return f"((2 * ({num}) + ({den})) // (2 * ({den})))"


# IOPS and MiB/s a volume pays for: above the gp3 free baseline, every io2 IOPS (none when not recorded).
_PAID_IOPS = (
    f"CAST(greatest(coalesce(r.iops, 0) - CASE WHEN r.resource_type = 'gp3' THEN {GP3_FREE_IOPS} ELSE 0 END, 0) AS HUGEINT)"
)
_PAID_MIBPS = (
    "CAST(greatest(coalesce(r.throughput_mibps, 0)"
    f" - CASE WHEN r.resource_type = 'gp3' THEN {GP3_FREE_THROUGHPUT_MIBPS} ELSE 0 END, 0) AS HUGEINT)"
)
# A storage line's price per month in (1e-10 USD) x thousandths: GB, IOPS and MiB/s (the latter two x 1000).
_PER_MONTH = (
    f"({_E10.format('lp.price')} * res.milli_gb + {_E10.format('coalesce(io.price, 0)')} * res.paid_iops * 1000"
    f" + {_E10.format('coalesce(tp.price, 0)')} * res.paid_mibps * 1000)"
)
# A storage line's micro-dollars: its price per month over its seconds (a volume's, times its count).
_STORAGE_MICRO = _half_up(
    f"{_PER_MONTH} * greatest(res.e - res.s, 0) * CASE WHEN res.kind = 'volume' THEN res.n ELSE 1 END", str(_MONTH_DEN)
)


_PRICED_LINES = f"""
WITH
list_prices AS (  -- the current list (On-Demand) price per key
    SELECT region, resource_kind, resource_type, charge, arg_max(price, effective_from) AS price
    FROM prices WHERE purchase_option = 'On-Demand'
    GROUP BY region, resource_kind, resource_type, charge
),
spot_points AS (
    SELECT DISTINCT region, availability_zone, resource_type, price, epoch_us(effective_from) // 1000000 AS t
    FROM prices WHERE purchase_option = 'Spot'
),
spot_ordered AS (
    SELECT *, row_number() OVER w AS k, lead(t) OVER w AS next_t
    FROM spot_points
    WINDOW w AS (PARTITION BY region, availability_zone, resource_type ORDER BY t, price)
),
spot_steps AS (  -- F(t) = cum + price x (t - t0) for t in this step; the first step also holds before it
    SELECT region, availability_zone, resource_type, t AS anchor, {_E10.format("price")} AS units,
           CASE WHEN k = 1 THEN -{FAR} ELSE t END AS from_s,
           coalesce(sum({_E10.format("price")} * (next_t - t)) OVER (
               PARTITION BY region, availability_zone, resource_type ORDER BY k
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS cum
    FROM spot_ordered
),
spot_keys AS (SELECT DISTINCT region, availability_zone, resource_type FROM spot_points),
res AS (
    SELECT r.launch_id, r.line_key, r.kind, r.resource_type, r.purchase_option, CAST(coalesce(r.count, 1) AS HUGEINT) AS n,
           CAST(round(coalesce(r.size_gb, 0) * 1000) AS HUGEINT) AS milli_gb, r.availability_zone,
           {_PAID_IOPS} AS paid_iops, {_PAID_MIBPS} AS paid_mibps,
           l.region || '/' || coalesce(r.resource_id, '') AS cluster, l.region, l.compute_platform,
           epoch_us(r.started_at) // 1000000 AS s, epoch_us(r.ended_at) // 1000000 AS e
    FROM {{resources}} r JOIN launches l ON l.launch_id = r.launch_id
    WHERE l.ended_at IS NOT NULL
),
inst AS (
    SELECT res.*, sk.region IS NOT NULL AND res.purchase_option = 'Spot' AND res.compute_platform <> 'OnPremHPC' AS by_history,
           CASE
               WHEN res.compute_platform = 'OnPremHPC' THEN CAST($node_hour AS DECIMAL(18,10))
               WHEN res.purchase_option = 'Reserved'
                   THEN coalesce(rr.price, round(lp.price * CAST($reserved_fraction AS DECIMAL(18,6)), 10))
               WHEN res.purchase_option = 'Spot' THEN round(lp.price * CAST($spot_fraction AS DECIMAL(18,6)), 10)
               ELSE lp.price
           END AS flat_price,
           CASE WHEN res.compute_platform = 'OnPremHPC' THEN s + greatest(e - s, 0)
                ELSE s + greatest(e - s, {MIN_BILLED_SECONDS}) END AS billed_end
    FROM res
    LEFT JOIN list_prices lp
        ON lp.region = res.region AND lp.resource_kind = 'instance' AND lp.resource_type = res.resource_type
        AND lp.charge = 'usage'
    LEFT JOIN reserved_rates rr ON rr.resource_type = res.resource_type
    LEFT JOIN spot_keys sk
        ON sk.region = res.region AND sk.availability_zone = res.availability_zone AND sk.resource_type = res.resource_type
    WHERE res.kind = 'instance' AND res.s IS NOT NULL AND res.e IS NOT NULL
),
inst_units AS (
    SELECT i.launch_id, i.line_key,
           CASE WHEN i.by_history
                THEN (fe.cum + fe.units * (i.billed_end - fe.anchor)) - (fs.cum + fs.units * (i.s - fs.anchor))
                ELSE {_E10.format("i.flat_price")} * (i.billed_end - i.s) END AS units_seconds,
           i.n, i.by_history OR i.flat_price IS NOT NULL AS priced
    FROM inst i
    ASOF LEFT JOIN spot_steps fs
        ON fs.region = i.region AND fs.availability_zone = i.availability_zone
        AND fs.resource_type = i.resource_type AND i.s >= fs.from_s
    ASOF LEFT JOIN spot_steps fe
        ON fe.region = i.region AND fe.availability_zone = i.availability_zone
        AND fe.resource_type = i.resource_type AND i.billed_end >= fe.from_s
),
storage AS (  -- per month in (1e-10 USD) x milli-units: GB, plus IOPS and MiB/s above the free baseline
    SELECT res.launch_id, res.kind,
           lp.price IS NOT NULL AND (res.paid_iops = 0 OR io.price IS NOT NULL) AND (res.paid_mibps = 0 OR tp.price IS NOT NULL)
               AS priced,
           {_STORAGE_MICRO} AS micro
    FROM res
    LEFT JOIN list_prices lp
        ON lp.region = res.region AND lp.resource_kind = res.kind AND lp.resource_type = res.resource_type
        AND lp.charge = 'storage'
    LEFT JOIN list_prices io
        ON io.region = res.region AND io.resource_kind = 'volume' AND io.resource_type = res.resource_type AND io.charge = 'iops'
        AND res.kind = 'volume'
    LEFT JOIN list_prices tp
        ON tp.region = res.region AND tp.resource_kind = 'volume' AND tp.resource_type = res.resource_type
        AND tp.charge = 'throughput'
        AND res.kind = 'volume'
    WHERE res.kind IN ('volume', 'filesystem') AND res.s IS NOT NULL AND res.e IS NOT NULL
),
cl AS (
    SELECT res.launch_id, res.cluster, res.s, res.e, {_E10.format("lp.price")} AS units
    FROM res
    JOIN list_prices lp
        ON lp.region = res.region AND lp.resource_kind = 'cluster' AND lp.resource_type = 'eks' AND lp.charge = 'usage'
    WHERE res.kind = 'cluster' AND res.s IS NOT NULL AND res.e IS NOT NULL
),
cl_events AS (
    SELECT cluster, t, sum(delta) AS delta, any_value(units) AS units
    FROM (SELECT cluster, s AS t, 1 AS delta, units FROM cl UNION ALL SELECT cluster, e, -1, units FROM cl)
    GROUP BY cluster, t
),
cl_segments AS (
    SELECT cluster, t, lead(t) OVER w - t AS seconds, sum(delta) OVER (w ROWS UNBOUNDED PRECEDING) AS active,
           max(units) OVER (PARTITION BY cluster) AS units
    FROM cl_events WINDOW w AS (PARTITION BY cluster ORDER BY t)
),
cl_prefix AS (  -- pico-dollars of fee shared out before second t, per active launch
    SELECT cluster, t,
           coalesce(sum(CASE WHEN active > 0 AND seconds IS NOT NULL
                             THEN {_half_up("units * seconds * 100", "3600 * active")} ELSE 0 END)
                    OVER (PARTITION BY cluster ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS pico
    FROM cl_segments
),
cl_share AS (
    SELECT cl.launch_id, sum(pe.pico - ps.pico) AS pico
    FROM cl
    JOIN cl_prefix ps ON ps.cluster = cl.cluster AND ps.t = cl.s
    JOIN cl_prefix pe ON pe.cluster = cl.cluster AND pe.t = cl.e
    GROUP BY cl.launch_id
),
lines AS (
    SELECT launch_id, line_key, 'instance' AS part,
           CASE WHEN priced THEN {_half_up("units_seconds * n", str(_HOUR_DEN))} END AS micro
    FROM inst_units
    UNION ALL
    SELECT launch_id, NULL, kind, CASE WHEN priced THEN micro END FROM storage
    UNION ALL
    SELECT launch_id, NULL, 'control_plane', {_half_up("pico", "1000000")} FROM cl_share
    UNION ALL  -- a cluster line with no price, or a resource without times: unpriced
    SELECT res.launch_id, res.line_key, 'unpriced', NULL FROM res
    WHERE (res.kind = 'cluster' AND NOT EXISTS (SELECT 1 FROM cl WHERE cl.launch_id = res.launch_id))
       OR res.s IS NULL OR res.e IS NULL
)"""

# The launch costs: the priced lines summed per launch, with the month's price status.
_PER_LAUNCH = """
per_launch AS (
    SELECT launch_id,
           sum(micro) FILTER (WHERE part = 'instance') AS instance_micro,
           sum(micro) FILTER (WHERE part = 'volume') AS volume_micro,
           sum(micro) FILTER (WHERE part = 'filesystem') AS filesystem_micro,
           sum(micro) FILTER (WHERE part = 'control_plane') AS control_plane_micro,
           count(*) FILTER (WHERE micro IS NULL) AS unpriced_resources
    FROM lines GROUP BY launch_id
),
final_months AS (  -- every day of the month is in Cost Explorer and none is still an estimate
    SELECT usage_month
    FROM costs_daily
    GROUP BY usage_month
    HAVING count(DISTINCT usage_date) = date_diff('day', usage_month, usage_month + INTERVAL 1 MONTH)
       AND NOT bool_or(coalesce(estimated, true))
),
priced AS (
    SELECT l.launch_id, l.launch_month, l.ended_at,
           coalesce(p.unpriced_resources, 0) AS unpriced_resources,
           CAST(coalesce(p.instance_micro, 0) AS DECIMAL(18,0)) * CAST(0.000001 AS DECIMAL(7,6)) AS instance_cost,
           CAST(coalesce(p.volume_micro, 0) AS DECIMAL(18,0)) * CAST(0.000001 AS DECIMAL(7,6)) AS volume_cost,
           CAST(coalesce(p.filesystem_micro, 0) AS DECIMAL(18,0)) * CAST(0.000001 AS DECIMAL(7,6)) AS filesystem_cost,
           CAST(coalesce(p.control_plane_micro, 0) AS DECIMAL(18,0)) * CAST(0.000001 AS DECIMAL(7,6)) AS control_plane_cost,
           fm.usage_month IS NOT NULL AS month_final
    FROM launches l
    LEFT JOIN per_launch p ON p.launch_id = l.launch_id
    LEFT JOIN final_months fm ON fm.usage_month = l.launch_month
)
SELECT launch_id, launch_month,
       CASE WHEN is_priced THEN CAST(instance_cost AS DECIMAL(18,6)) END AS instance_cost,
       CASE WHEN is_priced THEN CAST(volume_cost AS DECIMAL(18,6)) END AS volume_cost,
       CASE WHEN is_priced THEN CAST(filesystem_cost AS DECIMAL(18,6)) END AS filesystem_cost,
       CASE WHEN is_priced THEN CAST(control_plane_cost AS DECIMAL(18,6)) END AS control_plane_cost,
       CASE WHEN is_priced THEN CAST(instance_cost AS DECIMAL(18,6)) + CAST(volume_cost AS DECIMAL(18,6))
                                + CAST(filesystem_cost AS DECIMAL(18,6)) + CAST(control_plane_cost AS DECIMAL(18,6))
       END AS total_cost,
       $currency AS currency,
       CASE WHEN NOT is_priced THEN 'PENDING' WHEN month_final THEN 'FINAL' ELSE 'ESTIMATED' END AS price_status,
       unpriced_resources,
       $priced_at AS priced_at,
       $run_id AS ingest_run_id
FROM (SELECT *, ended_at IS NOT NULL AND unpriced_resources = 0 AS is_priced FROM priced)
"""

# The resources priced: ``launch_resources`` (no line key), or any relation of its columns plus ``line_key``.
LAUNCH_RESOURCES = "(SELECT *, CAST(NULL AS BIGINT) AS line_key FROM launch_resources)"


def launch_costs_sql(resources: str = LAUNCH_RESOURCES) -> str:
    """The statement of one ``launch_costs`` row per launch, pricing the given resources relation."""
    return (_PRICED_LINES + "," + _PER_LAUNCH).replace("{resources}", resources)


def line_costs_sql(resources: str) -> str:
    """Each keyed instance line's micro-dollars (NULL: no price), rounded as in ``launch_costs``: one row per line_key."""
    return (
        _PRICED_LINES
        + "\nSELECT line_key, any_value(micro) AS micro FROM lines"
        + " WHERE line_key IS NOT NULL AND part IN ('instance', 'unpriced') GROUP BY line_key"
    ).replace("{resources}", resources)


LAUNCH_COSTS_SQL = launch_costs_sql()


def launch_costs(
    con: duckdb.DuckDBPyConnection,
    rules: Rules,
    run_id: str,
    priced_at,
    currency: str = "USD",
    resources: str = LAUNCH_RESOURCES,
) -> duckdb.DuckDBPyRelation:
    """The ``launch_costs`` rows for every launch the connection's ``launches`` view holds."""
    params = prepare(con, rules) | {"run_id": run_id, "priced_at": priced_at, "currency": currency}
    return con.sql(launch_costs_sql(resources), params=params)


def as_decimal_cost(value) -> Decimal | None:
    return None if value is None else Decimal(value)
