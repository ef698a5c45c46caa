"""Timing page: hours by phase and their distributions, as computed from the fixture launches."""

import pytest

from tests.dashboard.conftest import EVERY_LAUNCH

PHASES = {"preparing": "preparing_hours", "waiting": "waiting_hours", "queued": "queued_hours", "running": "running_hours"}


def test_key_figures_and_table(open_page, read_metrics, read_table, launches_csv):
    at = open_page("timing", query_params=EVERY_LAUNCH)
    sums = {phase: launches_csv[column].sum() for phase, column in PHASES.items()}
    everything = sum(sums.values())
    shown = read_metrics(at)
    assert shown["Launch-hours"][0] == f"{everything:,.2f} h"
    assert shown["Running"][0] == f"{sums['running'] / everything * 100:.1f}%"
    assert shown["Waiting + queued"][0] == f"{(sums['waiting'] + sums['queued']) / everything * 100:.1f}%"

    rows = read_table(at, "timing_table")
    eks_wgs = rows[(rows["compute_platform"] == "EKS") & (rows["workflow_type"] == "wdl-wgs-germline")].set_index("phase")
    launches = launches_csv[(launches_csv["compute_platform"] == "EKS") & (launches_csv["workflow_type"] == "wdl-wgs-germline")]
    for phase, column in PHASES.items():
        assert eks_wgs.loc[phase, "total_hours"] == pytest.approx(launches[column].sum())
        assert eks_wgs.loc[phase, "p50_hours"] == pytest.approx(launches[column].median())


def test_charts_show_every_platform_and_phase(open_page):
    at = open_page("timing")
    charts = at.get("plotly_chart")
    assert len(charts) == 3


def test_platform_filter_narrows_the_hours(open_page, read_metrics, launches_csv):
    at = open_page("timing", query_params={**EVERY_LAUNCH, "platform": "OnPremHPC"})
    rows = launches_csv[launches_csv["compute_platform"] == "OnPremHPC"]
    everything = sum(rows[c].sum() for c in PHASES.values())
    assert read_metrics(at)["Launch-hours"][0] == f"{everything:,.2f} h"
