"""Page sections too long to keep in their page: each function draws one section from cached data.

Like the pages, they hold no SQL and compute nothing themselves: figures come from ``dashboard.data``
(named queries and the cached computations built on them) and charts from ``dashboard.charts``.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from core.vocabulary import PURCHASE_OPTIONS
from dashboard import charts, data, frame
from dashboard.formatting import count
from estimates import plan as planning
from estimates import views
from estimates.forecast import forecast_backtest
from pricing import rightsizing, whatif

WHATIF_LIMIT = 2000
AUDIT_LIMIT = 200


def what_if(scope: frame.Scope) -> None:
    """The same launches under another purchase option or instance family (the pricing engine, both sides)."""
    currency = scope.currency
    st.subheader("What if")
    st.caption(
        f"The latest {WHATIF_LIMIT:,} ended AWS launches in this selection, priced from what they consumed by the pricing engine "
        "as they ran and again under the scenario (list prices, Spot history where held, Reserved at the configured rate)."
    )
    scenario = st.radio("Reprice the same launches", whatif.SCENARIOS, key="whatif_scenario", horizontal=True)
    consumed = data.fetch("whatif_resources", scope.filters, limit=WHATIF_LIMIT)
    if consumed.empty:
        st.info("No ended launch on EC2 instances in this selection to reprice.")
    else:
        price_book = data.fetch("price_points")
        if scenario == whatif.SCENARIOS[0]:
            change_to = {"purchase_option": "On-Demand", "from_option": "Spot"}
        elif scenario == whatif.SCENARIOS[1]:
            ran_on, price_on = st.columns(2)
            source_family = ran_on.selectbox("Family the launches ran on", whatif.families(consumed), key="whatif_from_family")
            target_family = price_on.selectbox(
                "Family to price them on",
                [f for f in whatif.price_families(price_book) if f != source_family],
                key="whatif_to_family",
            )
            change_to = {"family": target_family, "from_family": source_family}
        else:
            option = st.selectbox(
                "Purchase option for every instance",
                PURCHASE_OPTIONS,
                index=PURCHASE_OPTIONS.index("On-Demand"),
                key="whatif_option",
            )
            change_to = {"purchase_option": option}
        result = data.what_if(scope.filters, WHATIF_LIMIT, **change_to)
        w1, w2, w3, w4 = st.columns(4)
        frame.metric(w1, "What-if launches", result.launches, kind="count")
        frame.metric(w2, "Computed as they ran", result.current, currency=currency)
        frame.metric(w3, "What-if cost", result.what_if, currency=currency)
        frame.metric(
            w4,
            "Difference",
            result.difference,
            None if result.percent is None else f"{result.percent:+.2f}%",
            currency=currency,
            delta_color="inverse",
        )
        if result.unpriced:
            st.caption(
                f"{count(result.unpriced)} launch(es) left out: a price is missing for them as they ran or under the scenario."
            )


def plan_a_quarter(history, estimator, currency: str) -> None:
    """Upload planned launches (CSV); totals per month and consumer with intervals, and a download."""
    st.subheader("Plan a quarter")
    st.download_button("Download a plan template (CSV)", planning.TEMPLATE, "plan-template.csv", "text/csv", key="plan_template")
    upload = st.file_uploader("Planned launches (CSV)", type=["csv"], key="plan_upload")
    if upload is not None:
        plan = planning.read_plan(upload.getvalue(), workflow_types=set(history["workflow_type"]))
        if plan.problems:
            st.error(f"The plan was not estimated: {len(plan.problems)} problem(s). Fix them and upload it again.")
            st.markdown("\n".join(f"- {p}" for p in plan.problems))
        else:
            result = planning.plan_totals(estimator, plan)
            st.caption(
                f"{currency}, successful runs; intervals are of each total (launches vary independently). "
                f"{count(result.not_estimated)} planned launches lacked history and are left out (see the lines)."
            )
            money_columns = ("cost_median", "cost_low", "cost_high", "expected_failure_cost")
            frame.table(result.by_month, currency=currency, money=money_columns, months=("month",), key="plan_by_month")
            frame.table(result.by_consumer, currency=currency, money=money_columns, key="plan_by_consumer")
            line_money = tuple(c for c in result.lines.columns if "cost" in c)
            frame.table(
                result.lines,
                currency=currency,
                money=line_money,
                hours=("hours_median_per_launch",),
                months=("month",),
                key="plan_lines",
            )
            st.download_button(
                "Download the totals (CSV)",
                planning.totals_csv(result, currency),
                "plan-totals.csv",
                "text/csv",
                key="plan_download",
            )


def spend_forecast(scope: frame.Scope, filters) -> None:
    """Spend per consumer and month ahead, beside Cost Explorer's forecast, with how the forecast did before."""
    currency = scope.currency
    st.subheader("Spend forecast")
    billed = data.fetch("monthly_billed_spend", filters)
    launch_spend = data.fetch("monthly_spend_by_consumer", filters) if billed.empty else None  # the fallback
    spend, basis = views.spend_history(
        billed, launch_spend, max(filters.start, scope.options.first_day), min(filters.end, scope.options.last_day)
    )
    if spend.empty:
        st.info("No whole month of spend in this selection to forecast from: widen the period.")
    else:
        ahead = views.next_months(spend, billed["last_day"].max() if len(billed) else min(filters.end, scope.options.last_day))
        table = views.forecast_table(spend, data.fetch("cost_forecasts", filters), ahead)
        st.caption(f"{currency} per calendar month, {basis}; 80% intervals from how the same forecast did on past months.")
        if table["mean_amount"].isna().all():
            st.info(
                "Cost Explorer's own forecast is not loaded: run `python -m ingest forecast` "
                "(one request per consumer, $0.01 each)."
            )
        consumer = st.selectbox("Consumer", sorted(table["consumer"].unique()), key="forecast_consumer")
        st.plotly_chart(charts.spend_forecast(spend, table, consumer, currency), key="est_forecast")
        frame.table(
            table,
            currency=currency,
            money=("forecast", "low", "high", "mean_amount", "lower_bound", "upper_bound"),
            months=("month",),
            labels=views.FORECAST_LABELS,
            key="est_forecast_table",
        )
        st.caption("How the same forecast did on past months: each interval scored with only the errors known when it was made.")
        frame.table(
            forecast_backtest(spend),
            percent=("mdape", "bias", "naive_mdape", "naive_bias", "coverage"),
            labels=views.FORECAST_BACKTEST_LABELS,
            key="est_forecast_backtest",
        )


def audit_trail() -> None:
    """Who signed in, was refused, closed which month, downloaded which statement (finance and admin)."""
    st.subheader("Audit trail")
    events = data.audit_trail(limit=AUDIT_LIMIT)
    st.caption(
        f"The latest {AUDIT_LIMIT} events, newest first (times UTC): sign-ins (a dashboard session started), refusals, "
        "closed months and downloads. Closes from the command line are in the job runs (command close-month)."
    )
    if events.empty:
        st.info("No event yet: sign-ins, closed months and statement downloads are recorded here.")
        return
    frame.table(events, months=(), key="health_audit")
    st.download_button(
        "Download the audit trail (CSV)",
        events.to_csv(index=False, lineterminator="\n").encode("utf-8"),
        "audit-trail.csv",
        "text/csv",
        key="audit_download",
        on_click="ignore",
    )


RUN_MONEY = (
    "recorded_cost",
    "engine_cost",
    "task_seqera_cost",
    "task_engine_cost",
    "split_cost",
    "split_unused_cost",
    "split_with_unused_cost",
    "billed_cost",
    "gap",
    "recorded_gap",
    "idle_capacity_cost",
    "spot_price_gap",
)
RUN_LABELS = {
    "recorded_cost": "Recorded (manager or Seqera)",
    "split_with_unused_cost": "Split + unused",
    "gap": "Gap (billed - engine)",
    "recorded_gap": "Gap (billed - recorded)",
    "idle_capacity_cost": "Idle capacity",
    "spot_price_gap": "Spot paid - estimated",
}


def run_reconciliation(scope: frame.Scope) -> None:
    """Per run with bill rows (CUR split cost allocation) or tasks: recorded, engine and billed cost, the gap and why."""
    st.subheader("Per run")
    runs = data.fetch("run_reconciliation", scope.filters)
    if runs.empty:
        st.info("No run in this selection has bill rows tagged with its run tag or task records yet.")
        return
    st.caption(
        "Billed = CUR split cost allocation of the rows tagged with the run; split + unused adds the run's share of its "
        "instances' idle capacity. Gap = split + unused minus the engine's cost; the likely reason is given where the "
        "figures say it (idle capacity, or the Spot price paid against the one estimated)."
    )
    st.plotly_chart(charts.run_reconciliation_bars(runs, scope.currency), key="run_reconciliation_chart")
    frame.table(runs, currency=scope.currency, money=RUN_MONEY, labels=RUN_LABELS, key="run_reconciliation_table")


def tasks(scope: frame.Scope) -> None:
    """Tasks by machine type and price model, and per process of one run or one workflow type (launch_tasks)."""
    currency = scope.currency
    st.subheader("Tasks by machine type")
    by_machine = data.fetch("task_machine_types", scope.filters)
    if by_machine.empty:
        st.caption("No task records (Nextflow trace or Seqera) for the launches in this selection.")
        return
    st.caption(
        "Each task under the machine type and price model it ran on; cost as Seqera estimated it and as the engine priced it."
    )
    frame.table(
        by_machine, currency=currency, money=("seqera_cost", "engine_cost"), hours=("task_hours",), key="task_machine_table"
    )
    st.subheader("Tasks per process")
    runs = data.fetch("run_reconciliation", scope.filters)
    kind = st.radio("Tasks of", ("one workflow type", "one run"), key="process_tasks_of", horizontal=True)
    if kind == "one run":
        picked = st.selectbox("Run", sorted(runs.loc[runs["tasks"] > 0, "launch_id"]), key="process_tasks_run")
        per_process = data.fetch("process_tasks", scope.filters, launch_id=picked or "")
    else:
        types = sorted(runs.loc[runs["tasks"] > 0, "workflow_type"].unique())
        picked = st.selectbox("Workflow type", types, key="process_tasks_workflow_type")
        per_process = data.fetch("process_tasks", scope.filters, workflow_type=picked or "")
    frame.table(
        per_process,
        currency=currency,
        money=("seqera_cost", "engine_cost"),
        hours=("task_hours",),
        labels={"failed": "Failed tasks", "retried": "Retried tasks"},
        key="process_tasks_table",
    )


def backtest_scores(filters) -> None:
    """How often the estimates' range was right: the backtest's scores, young groups and the output size apart."""
    st.subheader("How often the range was right (backtest)")
    backtest = data.fetch("backtest_results")
    if backtest.empty and not filters.reader.every_consumer:
        st.info("The backtest scores every consumer's launches together, so it is shown to finance and admins only.")
    elif backtest.empty:
        st.info("No backtest yet: run `python -m ingest backtest` to score the estimates month by month against two baselines.")
    else:
        st.caption(
            f"Each month estimated from the launches before it (run {backtest['run_id'].iloc[0]}). A calibrated 80% interval "
            "holds about 80% of actual values; MdAPE is the median error of the median estimate."
        )
        frame.table(
            views.backtest_table(backtest),
            percent=("cost_mdape", "cost_in_interval", "hours_mdape", "hours_in_interval"),
            hours=("cost_high_over_low",),
            months=(),
            labels=views.BACKTEST_LABELS,
            key="est_backtest",
        )
        if "young_launches" in backtest:
            st.caption(
                "Young groups (5-29 completed launches before the month, estimated by partial pooling): all months. "
                "A calibrated 80% interval holds 75-85% here too; wider intervals are the honest price of few launches."
            )
            frame.table(
                views.young_groups_table(backtest),
                percent=("young_mdape", "young_coverage"),
                hours=("young_median_interval_ratio",),
                months=(),
                labels=views.YOUNG_LABELS,
                key="est_backtest_young",
            )
            output = views.output_size_table(backtest)
            if len(output):
                st.caption(
                    "Does the expected output size help? The model on the launches that recorded one, with it and without it."
                )
                frame.table(
                    output,
                    percent=("output_mdape", "no_output_mdape", "output_coverage", "no_output_coverage"),
                    hours=("output_median_interval_ratio", "no_output_median_interval_ratio"),
                    months=(),
                    labels=views.OUTPUT_LABELS,
                    key="est_backtest_output",
                )


def runs_with_tasks_elsewhere(scope, no_tasks: str) -> None:
    """No run of the period has task records: list the selection's runs on other days that have them, then stop."""
    # Before saying there are none: the same selection on every day the warehouse holds may have some.
    whole = replace(scope.filters, start=scope.options.first_day, end=scope.options.last_day)
    elsewhere = data.fetch("run_reconciliation", whole)
    elsewhere = elsewhere.loc[elsewhere["tasks"] > 0, ["launch_id", "workflow_type", "compute_platform", "launch_month", "tasks"]]
    if elsewhere.empty:
        st.info(no_tasks)
        st.stop()
    st.info(
        f"No run launched {scope.period} has task records; {len(elsewhere):,} run(s) of this selection launched on other "
        "days have them (below): widen the period in the sidebar to right-size their processes."
    )
    st.caption(scope.money_caption("no task records in this period, so no cost to right-size"))
    frame.metric(st, "Runs with task records, every day", len(elsewhere), kind="count")
    frame.table(elsewhere, key="right_sizing_elsewhere")
    st.stop()


def nextflow_config(processes, header: str) -> None:
    """The right-sizing as a Nextflow config: shown and downloadable (nothing when no request changes)."""
    st.subheader("Nextflow config")
    snippet = rightsizing.nextflow_config(processes, header)
    if not snippet:
        st.caption("Every process already asks for what it is recommended: no config to download.")
        return
    st.download_button(
        "Download the Nextflow config (right-sizing.config)",
        snippet.encode("utf-8"),
        "right-sizing.config",
        "text/plain",
        key="right_sizing_download",
        on_click="ignore",
    )
    st.code(snippet, language="groovy")
