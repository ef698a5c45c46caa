"""Anomalies on Overview and Data health (what, when, how far off, a link to the view), and the polish finance
sees: whole or abbreviated figures with the exact one on hover, "—" for missing values, the default period."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import formatting
from dashboard.anomalies import NONE_FOUND
from tests.dashboard.conftest import rendered

ROOT = Path(__file__).resolve().parents[2]
ALL = {"period": ["2025-01-01", "2025-04-30"]}


# -- figures that fit their column -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "shown", "exact"),
    [
        (Decimal("679935.12"), "money", "$679.9K", "$679,935.12"),  # 679.93512 thousands, to one decimal
        (Decimal("547908"), "money", "$547.9K", "$547,908.00"),
        (Decimal("9999.99"), "money", "$9,999.99", "$9,999.99"),  # fits whole
        (Decimal("999950"), "money", "$1.00M", "$999,950.00"),  # 999.95K rounds (half even) to 1,000.0K: a million
        (Decimal("-12345.60"), "money", "-$12.3K", "-$12,345.60"),
        (Decimal("2500000"), "money", "$2.50M", "$2,500,000.00"),
        (12345.678, "hours", "12.3K h", "12,345.68 h"),
        (2_345_678, "count", "2.35M", "2,345,678"),
        (999_999, "count", "999,999", "999,999"),
        (None, "money", "—", "—"),
    ],
)
def test_a_figure_is_whole_when_it_fits_and_abbreviated_with_the_exact_one_beside_it(value, kind, shown, exact):
    assert formatting.figure(value, kind) == (shown, exact)


def test_a_range_abbreviates_each_end():
    assert formatting.figure((Decimal("12345"), Decimal("99")), "money") == ("$12.3K – $99.00", "$12,345.00 – $99.00")


def _metric_app():
    from decimal import Decimal

    import streamlit as st

    from dashboard import frame

    frame.metric(st, "Bill", Decimal("679935.12"), help="Billed.")
    frame.metric(st, "Small", Decimal("12.5"), help="Whole.")


def test_a_metric_shows_the_abbreviated_figure_and_the_exact_one_on_hover():
    at = AppTest.from_function(_metric_app).run()
    big, small = at.metric
    assert (big.value, big.proto.help) == ("$679.9K", "Exactly $679,935.12. Billed.")
    assert (small.value, small.proto.help) == ("$12.50", "Whole.")


def test_every_page_shows_its_metrics_through_the_one_helper():
    for path in sorted((ROOT / "dashboard").rglob("*.py")):
        if path.name == "frame.py":
            continue
        calls = re.findall(r"^.*\b\w+\.metric\(.*$", path.read_text(), re.MULTILINE)
        assert [c for c in calls if "frame.metric(" not in c] == [], f"{path.name}: use frame.metric (whole or abbreviated)"


def test_missing_values_in_tables_show_a_dash(open_page, read_table):
    at = open_page("data_health", query_params=ALL)
    assert at.get_by_key("health_anomalies").dataframe[0].proto.placeholder == "—"
    shown = read_table(at, "health_anomalies")
    assert shown["actual_hours"].isna().any()  # the consumer-month has no hours: drawn as "—"


# -- the default period ----------------------------------------------------------------------------------------


def test_the_default_period_is_the_last_full_month_and_the_month_to_date(open_page, read_metrics, launches_csv):
    last = max(launches_csv["launched_at"]).date()  # 2025-04-28
    start = (last.replace(day=1) - timedelta(days=1)).replace(day=1)  # 2025-03-01
    days = (last - start).days + 1
    before_end = start - timedelta(days=1)
    before_start = before_end - timedelta(days=days - 1)
    at = open_page("overview")
    assert at.sidebar.get_by_key("period").value == (start, last) == (date(2025, 3, 1), date(2025, 4, 28))
    assert f"the last full month and the month to date, {start} – {last}" in " ".join(c.value for c in at.sidebar.caption)
    assert f"changes compare with the {days} days before" in " ".join(c.value for c in at.sidebar.caption)
    day = launches_csv["launched_at"].dt.date
    now = launches_csv[(day >= start) & (day <= last)]
    before = launches_csv[(day >= before_start) & (day <= before_end)]
    assert len(before) > 0  # the change is shown, not "no launches in the previous period"
    change = len(now) - len(before)
    assert read_metrics(at)["Launches"] == (str(len(now)), f"{change:+d} ({change / len(before) * 100:+.1f}%)")


# -- anomalies -------------------------------------------------------------------------------------------------


def _usd(amount) -> Decimal:
    return Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


@pytest.mark.parametrize(("page", "key"), [("overview", "overview_anomalies"), ("data_health", "health_anomalies")])
def test_anomalies_are_listed_furthest_off_first_with_a_link_to_their_view(open_page, read_table, fixture_tables, page, key):
    at = open_page(page, query_params=ALL)
    shown = read_table(at, key)
    want = fixture_tables["anomalies"].sort_values("how_far_off", ascending=False)
    launch = fixture_tables["launches"].set_index("launch_id").loc["wl-2025-0033"]
    assert list(shown["what"]) == [
        "Launch wl-2025-0033 (rare-disease, nextflow-rnaseq on Batch)",
        "rare-disease: spend of the month",
    ]
    assert list(shown["when"]) == [launch["launched_at"].date().isoformat(), "2025-03"]
    ratio = Decimal("56.8656") / Decimal("18.9552")  # the fixture's cost over its expected cost: 3.0 by hand
    assert list(shown["how_far_off"]) == [f"{ratio:.1f}x the expected cost", "2.8x the forecast"]
    assert list(shown["actual_cost"]) == [_usd(v) for v in want["actual_cost"]]
    timing, chargeback = (urlsplit(u) for u in shown["view"])
    assert timing.path == "timing" and parse_qs(timing.query) == {
        "period": ["2025-04-03", "2025-04-03"],
        "consumer": ["rare-disease"],
        "workflow_type": ["nextflow-rnaseq"],
        "platform": ["Batch"],
    }
    assert chargeback.path == "chargeback" and parse_qs(chargeback.query) == {
        "period": ["2025-03-01", "2025-03-31"],
        "consumer": ["rare-disease"],
    }


def test_a_link_opens_the_filtered_view(open_page, read_table):
    at = open_page("overview", query_params=ALL)
    link = urlsplit(read_table(at, "overview_anomalies")["view"].iloc[0])
    opened = open_page(link.path, query_params=parse_qs(link.query))
    picked = opened.sidebar.get_by_key("period").value  # a one-day range: the widget holds the day once
    assert picked[0] == picked[-1] == date(2025, 4, 3)
    filters = opened.session_state["launch_ledger_scope"].filters
    assert (filters.start, filters.end) == (date(2025, 4, 3), date(2025, 4, 3))
    assert opened.sidebar.get_by_key("consumer").value == ["rare-disease"]
    assert opened.sidebar.get_by_key("workflow_type").value == ["nextflow-rnaseq"]
    assert opened.sidebar.get_by_key("platform").value == ["Batch"]


def test_a_viewer_sees_only_their_consumers_anomalies(open_as):
    at = open_as("viewer", "overview", query_params=ALL)  # oncology-research: neither anomaly is theirs
    assert NONE_FOUND in [c.value for c in at.caption]
    assert "wl-2025-0033" not in rendered(at) and "spend of the month" not in rendered(at)
