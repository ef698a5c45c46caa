"""Charts: pure functions from a query's DataFrame to a Plotly figure. No Streamlit here.

Money arrives as Decimal and becomes float only here, for drawing. Distributions are drawn from
quantiles computed in SQL (``go.Box`` with q1/median/q3 and fences), never from per-launch rows.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from chargeback.exports import TOTAL
from chargeback.statement import Statement
from core.vocabulary import PHASES

PHASE_COLORS = {"preparing": "#9aa5b1", "waiting": "#f0b429", "queued": "#de911d", "running": "#2680c2"}
PURCHASE_COLORS = {"Spot": "#3ebd93", "On-Demand": "#2680c2", "Reserved": "#9446ed"}
LAYOUT = dict(template="plotly_white", margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.2))


def as_float(values: Iterable) -> list[float | None]:
    """Decimals (or anything numeric) as floats for plotting; None stays None."""
    return [None if v is None or (isinstance(v, float) and pd.isna(v)) else float(v) for v in values]


def color_map(names: Iterable[str]) -> dict[str, str]:
    """A stable colour per name (e.g. every consumer the warehouse knows), the same on every page."""
    palette = qualitative.Safe
    return {name: palette[i % len(palette)] for i, name in enumerate(sorted(names))}


def _month_labels(values: Iterable) -> list[str]:
    return [v.strftime("%Y-%m") for v in values]


def phase_hours_bars(timing: pd.DataFrame, by: str = "compute_platform", title: str | None = None) -> go.Figure:
    """Stacked bars: total hours per ``by`` value, one segment per phase (sums add up across groups)."""
    totals = timing.groupby([by, "phase"], as_index=False)["total_hours"].sum()
    fig = go.Figure()
    for phase in PHASES:
        part = totals[totals["phase"] == phase]
        if part.empty:
            continue
        fig.add_bar(name=phase, x=part[by].tolist(), y=as_float(part["total_hours"]), marker_color=PHASE_COLORS[phase])
    label = by.replace("_", " ")
    fig.update_layout(
        barmode="stack", title=title or f"Hours by phase, per {label}", yaxis_title="hours (sum over launches)", **LAYOUT
    )
    return fig


def phase_boxes(timing_by_platform: pd.DataFrame) -> go.Figure:
    """One box per phase per platform: box p25–p75, line at the median, whiskers p10–p90."""
    fig = go.Figure()
    for platform, part in timing_by_platform.groupby("compute_platform", sort=True):
        part = part.sort_values("phase_order")
        fig.add_trace(
            go.Box(
                name=platform,
                x=part["phase"].tolist(),
                q1=as_float(part["p25_hours"]),
                median=as_float(part["p50_hours"]),
                q3=as_float(part["p75_hours"]),
                lowerfence=as_float(part["p10_hours"]),
                upperfence=as_float(part["p90_hours"]),
                mean=as_float(part["mean_hours"]),
                boxpoints=False,
            )
        )
    fig.update_layout(
        boxmode="group", title="Hours per launch by phase (whiskers p10–p90)", yaxis_title="hours per launch", **LAYOUT
    )
    return fig


def median_bars(
    frame: pd.DataFrame,
    x: str,
    median: str,
    low: str,
    high: str,
    group: str | None = None,
    title: str = "",
    yaxis_title: str = "",
    colors: dict[str, str] | None = None,
) -> go.Figure:
    """Bars at the median with error bars from ``low`` to ``high`` (e.g. p25–p75), grouped by ``group``."""
    fig = go.Figure()
    groups = [(None, frame)] if group is None else list(frame.groupby(group, sort=True))
    for name, part in groups:
        med = as_float(part[median])
        lo = as_float(part[low])
        hi = as_float(part[high])
        plus = [None if h is None or m is None else h - m for h, m in zip(hi, med, strict=True)]
        minus = [None if m is None or v is None else m - v for m, v in zip(med, lo, strict=True)]
        fig.add_bar(
            name=str(name) if name is not None else median.replace("_", " "),
            x=part[x].tolist(),
            y=med,
            error_y=dict(type="data", symmetric=False, array=plus, arrayminus=minus),
            marker_color=(colors or {}).get(str(name)),
        )
    fig.update_layout(barmode="group", title=title, yaxis_title=yaxis_title, showlegend=group is not None, **LAYOUT)
    return fig


def spot_vs_on_demand_bars(frame: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Per instance type: the price of an instance-hour bought as Spot and as On-Demand."""
    fig = go.Figure()
    for option, column in (("Spot", "spot_cost_per_instance_hour"), ("On-Demand", "on_demand_cost_per_instance_hour")):
        fig.add_bar(
            name=option, x=frame["instance_type"].tolist(), y=as_float(frame[column]), marker_color=PURCHASE_COLORS[option]
        )
    fig.update_layout(
        barmode="group", title="Spot vs On-Demand: cost per instance-hour", yaxis_title=f"{currency} per instance-hour", **LAYOUT
    )
    return fig


def stacked_monthly_bars(
    frame: pd.DataFrame,
    value: str,
    by: str = "consumer",
    title: str = "",
    yaxis_title: str = "",
    colors: dict[str, str] | None = None,
) -> go.Figure:
    """Bars per launch month stacked by ``by`` (consumer): spend or launches."""
    fig = go.Figure()
    months = sorted(frame["launch_month"].unique())
    labels = _month_labels(months)
    for name, part in frame.groupby(by, sort=True, dropna=False):
        values = dict(zip(part["launch_month"], as_float(part[value]), strict=True))
        fig.add_bar(name=str(name), x=labels, y=[values.get(m, 0.0) for m in months], marker_color=(colors or {}).get(name))
    fig.update_layout(barmode="stack", title=title, yaxis_title=yaxis_title, xaxis_type="category", **LAYOUT)
    return fig


def cost_per_launch_lines(monthly: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Median and mean cost per launch by launch month."""
    fig = go.Figure()
    x = _month_labels(monthly["launch_month"])
    fig.add_scatter(name="median", x=x, y=as_float(monthly["median_cost_per_launch"]), mode="lines+markers")
    fig.add_scatter(name="mean", x=x, y=as_float(monthly["mean_cost_per_launch"]), mode="lines+markers", line=dict(dash="dash"))
    fig.update_layout(title="Cost per launch", yaxis_title=f"{currency} per priced launch", xaxis_type="category", **LAYOUT)
    return fig


def failed_spend_bars(monthly: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Spend on FAILED launches by launch month."""
    fig = go.Figure()
    fig.add_bar(
        name="failed launches",
        x=_month_labels(monthly["launch_month"]),
        y=as_float(monthly["failed_spend"]),
        marker_color="#e12d39",
    )
    fig.update_layout(title="Spend on failed launches", yaxis_title=currency, xaxis_type="category", showlegend=False, **LAYOUT)
    return fig


def estimate_curve(past: pd.DataFrame, curve: pd.DataFrame, planned: float | None = None, currency: str = "USD") -> go.Figure:
    """Cost of a successful run against input size: past launches as dots, the estimate's median and 80% band.

    ``past`` has input_size_gb and cost; ``curve`` has input_size_gb, cost_low, cost_median, cost_high.
    """
    fig = go.Figure()
    fig.add_scatter(
        name="past launches",
        x=as_float(past["input_size_gb"]),
        y=as_float(past["cost"]),
        mode="markers",
        marker=dict(size=4, color="#9aa5b1", opacity=0.5),
    )
    x = as_float(curve["input_size_gb"])
    fig.add_scatter(
        name="80% interval",
        x=x + x[::-1],
        y=as_float(curve["cost_high"]) + as_float(curve["cost_low"])[::-1],
        fill="toself",
        fillcolor="rgba(38,128,194,0.18)",
        line=dict(width=0),
        hoverinfo="skip",
    )
    fig.add_scatter(name="median estimate", x=x, y=as_float(curve["cost_median"]), mode="lines", line=dict(color="#2680c2"))
    if planned:
        fig.add_vline(x=planned, line_dash="dot", line_color="#de911d")
    fig.update_layout(
        title="Cost of a successful run by input size",
        xaxis_title="input size (GB, log scale)",
        xaxis_type="log",
        yaxis_title=f"{currency} per launch",
        yaxis_type="log",
        **LAYOUT,
    )
    return fig


def spend_forecast(history: pd.DataFrame, table: pd.DataFrame, consumer: str, currency: str = "USD") -> go.Figure:
    """One consumer's monthly spend, then the next months: our forecast and Cost Explorer's, each with its 80% interval."""
    fig = go.Figure()
    past = history[history["consumer"] == consumer].sort_values("month")
    fig.add_scatter(
        name="spend", x=_month_labels(past["month"]), y=as_float(past["spend"]), mode="lines+markers", line=dict(color="#52606d")
    )
    ahead = table[table["consumer"] == consumer].sort_values("month")
    labels = _month_labels(ahead["month"])
    for name, mid, low, high, color in (
        ("Launch Ledger forecast", "forecast", "low", "high", "#2680c2"),
        ("Cost Explorer forecast", "mean_amount", "lower_bound", "upper_bound", "#de911d"),
    ):
        m, lo, hi = as_float(ahead[mid]), as_float(ahead[low]), as_float(ahead[high])
        if all(v is None for v in m):
            continue
        plus = [None if h is None or v is None else h - v for h, v in zip(hi, m, strict=True)]
        minus = [None if v is None or w is None else v - w for v, w in zip(m, lo, strict=True)]
        fig.add_scatter(
            name=name,
            x=labels,
            y=m,
            mode="markers",
            marker=dict(size=9, color=color),
            error_y=dict(type="data", symmetric=False, array=plus, arrayminus=minus),
        )
    fig.update_layout(title=f"Spend forecast: {consumer}", yaxis_title=f"{currency} per month", xaxis_type="category", **LAYOUT)
    return fig


def computed_vs_billed_bars(lines: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Per month: what the pricing engine computed beside what Cost Explorer billed (consumers' tagged lines)."""
    frame = pd.DataFrame(
        {"month": list(lines["month"]), "computed": as_float(lines["computed_cost"]), "billed": as_float(lines["billed_cost"])}
    )
    monthly = frame.groupby("month", as_index=False)[["computed", "billed"]].sum(min_count=1).sort_values("month")
    x = [m.strftime("%Y-%m") if hasattr(m, "strftime") else str(m) for m in monthly["month"]]
    fig = go.Figure()
    fig.add_bar(name="computed (list and Spot prices)", x=x, y=monthly["computed"].tolist(), marker_color="#2680c2")
    fig.add_bar(name="billed (Cost Explorer)", x=x, y=monthly["billed"].tolist(), marker_color="#f0b429")
    fig.update_layout(
        title="Computed and billed cost by month", barmode="group", yaxis_title=currency, xaxis_type="category", **LAYOUT
    )
    return fig


def run_reconciliation_bars(lines: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Per run: the recorded (manager or Seqera), engine and billed (split, split + unused) cost side by side."""
    fig = go.Figure()
    x = lines["launch_id"].tolist()
    for column, name, color in (
        ("recorded_cost", "recorded (workflow manager or Seqera)", "#9aa5b1"),
        ("engine_cost", "engine (list and Spot prices)", "#2680c2"),
        ("split_cost", "billed split cost", "#f0b429"),
        ("split_with_unused_cost", "billed split + unused", "#de911d"),
    ):
        fig.add_bar(name=name, x=x, y=as_float(lines[column]), marker_color=color)
    fig.update_layout(title="Cost per run: recorded, engine and billed", barmode="group", yaxis_title=currency, **LAYOUT)
    fig.update_xaxes(type="category")
    return fig


def statement_bars(summary: pd.DataFrame, s: Statement) -> go.Figure:
    """Stacked bars per consumer: direct, shared, credits (credits below zero); then the unallocated lines."""
    named = summary[summary["Direct"].notna() & (summary["Consumer"] != TOTAL)]
    fig = go.Figure()
    for column, color in (("Direct", "#2680c2"), ("Shared", "#f0b429"), ("Credits", "#3ebd93"), ("Adjustments", "#9446ed")):
        fig.add_bar(name=column, y=named["Consumer"].tolist(), x=as_float(named[column]), orientation="h", marker_color=color)
    others = summary[summary["Direct"].isna() & (summary["Consumer"] != TOTAL)]
    fig.add_bar(
        name="Unallocated / rounding",
        y=others["Consumer"].tolist(),
        x=as_float(others["Total"]),
        orientation="h",
        marker_color="#9aa5b1",
    )
    fig.update_layout(
        barmode="relative",
        title=f"Statement {s.label} by consumer ({s.currency})",
        xaxis_title=s.currency,
        yaxis=dict(autorange="reversed"),
        height=max(320, 28 * len(summary) + 140),
        **LAYOUT,
    )
    return fig


def comparison_intervals(table: pd.DataFrame, title: str = "") -> go.Figure:
    """One dot per side: its difference against the baseline at matched input size, whiskers the 90% interval."""
    frame = table.iloc[::-1]
    point = [v * 100 for v in as_float(frame["difference"])]
    low = [v * 100 for v in as_float(frame["interval_low"])]
    high = [v * 100 for v in as_float(frame["interval_high"])]
    fig = go.Figure()
    fig.add_scatter(
        name="difference (90% interval)",
        x=point,
        y=[f"{s} ({n:,})" for s, n in zip(frame["side"], frame["launches"], strict=True)],
        mode="markers",
        marker=dict(size=10, color=["#3ebd93" if p < 0 else "#e12d39" for p in point]),
        error_x=dict(
            type="data",
            symmetric=False,
            array=[h - p for h, p in zip(high, point, strict=True)],
            arrayminus=[p - lo for p, lo in zip(point, low, strict=True)],
        ),
    )
    fig.add_vline(x=0, line_dash="dot", line_color="#52606d")
    fig.update_layout(
        title=title,
        xaxis_title="difference, % (below 0: less than the baseline)",
        height=max(260, 40 * len(frame) + 140),
        showlegend=False,
        **LAYOUT,
    )
    return fig


def cost_per_launch_bars(frame: pd.DataFrame, x: str, title: str, currency: str = "USD", by_purchase_option: bool = False):
    """Cost per launch by ``x``: bars at the median, p25–p75 whiskers (the Platforms and Instance types charts);
    ``by_purchase_option`` groups them Spot / On-Demand in their colours."""
    return median_bars(
        frame,
        x=x,
        median="median_cost_per_launch",
        low="p25_cost_per_launch",
        high="p75_cost_per_launch",
        group="purchase_option" if by_purchase_option else None,
        title=title,
        yaxis_title=f"{currency} per launch",
        colors=PURCHASE_COLORS if by_purchase_option else None,
    )


def median_bars_by_workflow(frame: pd.DataFrame, workflow_types: list[str], currency: str = "USD") -> go.Figure:
    """One panel per workflow type (``workflow_types``, in order): cost per launch by instance type, bars p25–p75."""
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=len(workflow_types), cols=1, subplot_titles=workflow_types, vertical_spacing=0.3 / len(workflow_types)
    )
    for row, workflow_type in enumerate(workflow_types, start=1):
        part = frame[frame["workflow_type"] == workflow_type]
        for option, group in part.groupby("purchase_option", sort=True):
            med, lo, hi = (as_float(group[c]) for c in ("median_cost_per_launch", "p25_cost_per_launch", "p75_cost_per_launch"))
            fig.add_bar(
                name=str(option),
                legendgroup=str(option),
                showlegend=row == 1,
                x=group["instance_type"].tolist(),
                y=med,
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=[None if h is None or m is None else h - m for h, m in zip(hi, med, strict=True)],
                    arrayminus=[None if m is None or v is None else m - v for m, v in zip(med, lo, strict=True)],
                ),
                marker_color=PURCHASE_COLORS.get(str(option)),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text=f"{currency} per launch", row=row, col=1)
    fig.update_layout(
        barmode="group",
        title="Cost per launch by instance type: median, bars p25–p75",
        height=320 * len(workflow_types) + 120,
        **LAYOUT,
    )
    return fig


RIGHT_SIZING_BARS = (
    ("requested", "requested", "#9aa5b1"),
    ("used", "used (quantile)", "#f0b429"),
    ("recommended", "recommended", "#2680c2"),
)


def right_sizing_bars(processes: pd.DataFrame, resource: str, quantile_label: str = "p95") -> go.Figure:
    """Per process (horizontal bars): requested, used (the quantile of its tasks) and recommended CPUs or memory.

    ``resource`` is ``cpus`` or ``memory`` (columns of ``pricing.rightsizing.PROCESS_COLUMNS``).
    """
    columns = {
        "cpus": ("cpus_requested", "cpus_used_quantile", "cpus_recommended"),
        "memory": ("memory_requested_gb", "memory_used_quantile_gb", "memory_recommended_gb"),
    }[resource]
    frame = processes.sort_values("process", ascending=False)
    fig = go.Figure()
    for column, (_, label, color) in zip(columns, RIGHT_SIZING_BARS, strict=True):
        name = label.replace("quantile", quantile_label)
        fig.add_bar(name=name, y=frame["process"].tolist(), x=as_float(frame[column]), orientation="h", marker_color=color)
    unit = "CPUs" if resource == "cpus" else "GB of memory (Nextflow's GB: GiB)"
    fig.update_layout(
        barmode="group",
        title=f"{unit.split(' (')[0]} per task: requested, used ({quantile_label}), recommended",
        xaxis_title=unit,
        height=max(260, 60 * len(frame) + 140),
        **LAYOUT,
    )
    return fig


def budget_bars(rows: pd.DataFrame, currency: str = "USD") -> go.Figure:
    """Per budget: spent to date and the forecast to the period's end (bars; the 80% interval as whiskers),
    with the budget's amount as a mark, so a forecast that runs past its budget is seen at a glance."""
    names = [f"{b} ({p})" for b, p in zip(rows["budget"], rows["period"], strict=True)]
    forecast, low, high = as_float(rows["forecast"]), as_float(rows["low"]), as_float(rows["high"])
    fig = go.Figure()
    fig.add_bar(name="spent to date", y=names, x=as_float(rows["spent"]), orientation="h", marker_color="#2680c2")
    fig.add_bar(
        name="forecast to period end (80% interval)",
        y=names,
        x=forecast,
        orientation="h",
        marker_color="#9aa5b1",
        error_x={
            "type": "data",
            "symmetric": False,
            "array": [None if f is None or h is None else h - f for f, h in zip(forecast, high, strict=True)],
            "arrayminus": [None if f is None or lo is None else f - lo for f, lo in zip(forecast, low, strict=True)],
        },
    )
    fig.add_scatter(
        name="budget", y=names, x=as_float(rows["amount"]), mode="markers", marker={"symbol": "line-ns-open", "size": 22}
    )
    fig.update_layout(title="Spent, forecast and budget", barmode="group", xaxis_title=currency, **LAYOUT)
    fig.update_yaxes(type="category", autorange="reversed")
    return fig
