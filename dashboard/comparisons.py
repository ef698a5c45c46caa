"""Like for like: the Platforms page's size-matched comparison of two sides of one workflow type, and the
Instance types chart shown one workflow type at a time (the top by spend first).

The figures come from ``dashboard.data.comparisons`` (``estimates.comparisons`` over the
``comparison_launches`` rows), the charts from ``dashboard.charts``; only the ranking by spend is done here.
"""

from __future__ import annotations

import streamlit as st

from core.settings import load_settings
from dashboard import charts, data, frame
from estimates import comparisons as like_for_like

MEASURES = {"cost": "Cost per launch", "hours": "Hours per launch"}
MIX = "Matched mix (every size band both sides share)"
LABELS = {
    "side": "Side",
    "against": "Against",
    "input_size": "Input size",
    "launches": "Launches",
    "baseline_launches": "Launches (against)",
    "adjusted": "Per launch at the matched mix",
    "baseline_adjusted": "Per launch at the matched mix (against)",
    "difference": "Difference",
    "interval_low": "90% interval from",
    "interval_high": "90% interval to",
    "as_fell_difference": "Difference as the sizes fell",
    "sentence": "Sentence",
}


def _controls():
    """The section's controls: what a side is, the measure, the size band; and the column left for "Against"."""
    settings = load_settings().comparisons
    by, measure, size, baseline = st.columns(4)
    picked_by = by.selectbox("Compare", list(like_for_like.SIDES), key="like_by")
    picked_measure = measure.radio("Measure", list(MEASURES), format_func=MEASURES.get, key="like_measure", horizontal=True)
    bands = like_for_like.band_labels(settings.size_bands_gb)
    picked_size = size.selectbox("Input size", [MIX, *bands], key="like_size")
    band = None if picked_size == MIX else bands.index(picked_size)
    return picked_by, picked_measure, band, baseline


def like_for_like_section(scope: frame.Scope, workflow_type: str) -> None:
    """Sides of ``workflow_type`` against one of them, size-matched, each difference with its 90% interval."""
    settings = load_settings().comparisons
    st.subheader("Like for like: at matched input size")
    edges = ", ".join(f"{edge:,.0f}" for edge in settings.size_bands_gb)
    st.caption(
        scope.money_caption(
            f"{workflow_type} · completed, priced launches with an input size. Launches are put in size bands "
            f"(split at {edges} GB); within each band both sides' mean per launch is taken and the two are weighted "
            f"to one common band mix (the two sides' launches pooled), so neither side is cheaper for running smaller "
            f"inputs. A band counts when each side has {like_for_like.MIN_BAND_LAUNCHES} launches in it. 90% intervals: "
            f"{settings.resamples:,} bootstrap resamples within each band (seeded). Under {settings.min_launches} "
            "launches a side: not enough launches, no figure."
        )
    )
    by, measure, band, baseline_column = _controls()
    counts, _ = data.comparisons(scope.filters, workflow_type, by, None, measure, band)
    if counts.empty:
        st.info(f"No completed, priced launch of {workflow_type} with an input size in this selection to compare.")
        return
    if len(counts) < 2:
        st.info(f"{workflow_type} ran on one {by.lower()} only in this selection: there is nothing to compare it with.")
        return
    sides = list(counts.index)
    baseline = baseline_column.selectbox(
        "Against", sides, format_func=lambda s: f"{s} ({counts[s]:,} launches)", key="like_against"
    )
    _, table = data.comparisons(scope.filters, workflow_type, by, baseline, measure, band)
    enough = table[table["difference"].notna()]
    if enough.empty:
        st.info(
            f"Not enough launches: no {by.lower()} of {workflow_type} has {settings.min_launches} launches a side "
            f"in the size bands it shares with {baseline}."
        )
    else:
        title = f"{MEASURES[measure]} against {baseline}, at {enough['input_size'].iloc[0]}"
        st.plotly_chart(charts.comparison_intervals(enough, title), key="like_chart")
        picked = st.selectbox("Sentence for", list(enough["side"]), key="like_sentence_side")
        st.code(enough.loc[enough["side"] == picked, "sentence"].iloc[0], language=None, wrap_lines=True)
    money = ("adjusted", "baseline_adjusted") if measure == "cost" else ()
    hours = ("adjusted", "baseline_adjusted") if measure == "hours" else ()
    frame.table(
        table,
        currency=scope.currency,
        money=money,
        hours=hours,
        percent=("difference", "interval_low", "interval_high", "as_fell_difference"),
        labels=LABELS,
        key="like_table",
    )


ONE_TYPE, TOP_TYPES, POOLED = "One workflow type", "Top workflow types by spend", "Every workflow type pooled"


def instance_type_chart(scope: frame.Scope, pooled) -> None:
    """The Instance types chart: one workflow type (the top by spend) by default; the top N, or all pooled, on request."""
    currency = scope.currency
    by_workflow = data.fetch("instance_types_by_workflow", scope.filters)
    spend = by_workflow.groupby("workflow_type")["spend"].sum()
    ranked = list(spend.sort_index().sort_values(ascending=False, kind="stable").index)
    show, pick = st.columns([2, 3])
    mode = show.radio("Chart", (ONE_TYPE, TOP_TYPES, POOLED), key="instance_chart_mode", horizontal=True)
    if mode == ONE_TYPE:
        workflow_type = pick.selectbox(
            "Workflow type (by spend in the period)", ranked, key="instance_chart_workflow", help="The top by spend comes first."
        )
        st.plotly_chart(
            charts.cost_per_launch_bars(
                by_workflow[by_workflow["workflow_type"] == workflow_type],
                "instance_type",
                f"{workflow_type}: cost per launch, median, bars p25–p75",
                currency,
                by_purchase_option=True,
            ),
            key="instance_cost_chart",
        )
    elif mode == TOP_TYPES:
        top = (
            pick.slider("How many", 1, max(1, len(ranked)), min(3, len(ranked)), key="instance_chart_top")
            if len(ranked) > 1
            else 1
        )
        st.plotly_chart(charts.median_bars_by_workflow(by_workflow, ranked[:top], currency), key="instance_cost_chart")
    else:
        st.plotly_chart(
            charts.cost_per_launch_bars(
                pooled,
                "instance_type",
                "Every workflow type pooled: cost per launch, median, bars p25–p75",
                currency,
                by_purchase_option=True,
            ),
            key="instance_cost_chart",
        )
    shares = ", ".join(f"{t} {currency} {float(spend[t]):,.0f}" for t in ranked[:3])
    st.caption(f"Spend on EC2 launches in the period, top workflow types: {shares}. Pooled medians mix different workloads.")
