"""Each pricing rule against figures worked out by hand, then properties that must hold for any input."""

from datetime import datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.engine import (
    ClusterUse,
    Launch,
    PriceBook,
    PriceStep,
    RateCard,
    Resource,
    Rules,
    control_plane_shares,
    epoch_seconds,
    filesystem_cost,
    flat,
    instance_cost,
    onprem_cost,
    price_launches,
    step_price_seconds,
    volume_cost,
    what_if,
)

T0 = datetime(2025, 3, 4, 10, 0, 0)


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


# --- by hand ----------------------------------------------------------------------------------------


def test_on_demand_is_list_price_times_instance_hours():
    # 4 x r6i.4xlarge at $1.008/h for 5 h = 4 x 5 x 1.008 = 20.16
    assert instance_cost(h(0), h(5), 4, flat(D("1.008"))) == D("20.160000")


def test_linux_ec2_is_billed_per_second_with_a_60_second_minimum():
    # $3.60/h is $0.001 a second: 20 s bills 60 s = 0.06; 90 s bills 90 s = 0.09
    assert instance_cost(T0, T0 + timedelta(seconds=20), 1, flat(D("3.60"))) == D("0.060000")
    assert instance_cost(T0, T0 + timedelta(seconds=90), 1, flat(D("3.60"))) == D("0.090000")
    # a launch that ends as it starts still pays the minute
    assert instance_cost(T0, T0, 2, flat(D("3.60"))) == D("0.120000")


def test_spot_is_priced_at_the_price_in_force_during_each_part_of_the_run():
    steps = [PriceStep(h(0), D("0.30")), PriceStep(h(1.5), D("0.36")), PriceStep(h(2), D("0.24"))]
    # 11:00-12:30 on 2 instances: 0.5 h x 0.30 + 0.5 h x 0.36 + 0.5 h x 0.24 = 0.45 per instance
    assert instance_cost(h(1), h(2.5), 2, steps) == D("0.900000")
    # before the first known price, that price holds: 09:00-10:00 at 0.30
    assert instance_cost(h(-1), h(0), 1, steps) == D("0.300000")
    # after the last, the last holds: 13:00-15:00 at 0.24
    assert instance_cost(h(3), h(5), 1, steps) == D("0.480000")


def test_reserved_is_the_effective_rate_from_config():
    book = PriceBook(list_prices={("us-east-1", "instance", "r6i.4xlarge", "usage"): D("1.008")})
    launch = Launch("L1", "us-east-1", "Batch", h(10))
    ri = Resource("L1", "instance", "r6i.4xlarge", "Reserved", 1, started_at=h(0), ended_at=h(10))
    # 1.008 x 0.62 = 0.62496 per hour, 10 h = 6.2496
    assert price_launches([launch], [ri], book, Rules())["L1"].instance_cost == D("6.249600")
    # a per-type rate beats the fraction: 0.50 x 10 h = 5.00
    assert price_launches([launch], [ri], book, Rules(reserved_rates={"r6i.4xlarge": D("0.50")}))["L1"].instance_cost == D(
        "5.000000"
    )


def test_spot_without_history_is_estimated_from_on_demand():
    book = PriceBook(list_prices={("us-east-1", "instance", "c6i.8xlarge", "usage"): D("1.36")})
    launch = Launch("L1", "us-east-1", "Batch", h(2))
    spot = Resource("L1", "instance", "c6i.8xlarge", "Spot", 3, availability_zone="us-east-1a", started_at=h(0), ended_at=h(2))
    # 1.36 x 0.35 = 0.476 per hour x 2 h x 3 = 2.856
    assert price_launches([launch], [spot], book, Rules())["L1"].instance_cost == D("2.856000")


def test_ebs_is_gb_month_prorated_by_the_hour():
    # 500 GB gp3 at $0.08/GB-month for 73 h (a tenth of 730): 500 x 0.08 / 10 = 4.00 per volume, x 4
    assert volume_cost(h(0), h(73), 4, 500, D("0.08"), volume_type="gp3") == D("16.000000")


def test_gp3_pays_iops_and_throughput_above_the_free_baseline():
    # 6,000 IOPS (3,000 above baseline x $0.005) = $15/month; 250 MiB/s (125 above x $0.04) = $5/month
    # (500 x 0.08 + 15 + 5) = 60 per month, for a tenth of a month = 6.00
    cost = volume_cost(
        h(0),
        h(73),
        1,
        500,
        D("0.08"),
        volume_type="gp3",
        iops=6000,
        iops_month_price=D("0.005"),
        throughput_mibps=250,
        throughput_month_price=D("0.04"),
    )
    assert cost == D("6.000000")
    # at the baseline nothing extra is charged
    assert volume_cost(h(0), h(73), 1, 500, D("0.08"), volume_type="gp3", iops=3000, iops_month_price=D("0.005")) == D("4.000000")


def test_io2_pays_every_provisioned_iops():
    # 100 GB x 0.125 + 10,000 IOPS x 0.065 = 662.50 per month; 7.3 h is a hundredth: 6.625
    assert volume_cost(h(0), h(7.3), 1, 100, D("0.125"), volume_type="io2", iops=10_000, iops_month_price=D("0.065")) == D(
        "6.625000"
    )


def test_fsx_is_capacity_hours():
    # 1,200 GB SCRATCH_2 at $0.14/GB-month for half a month (365 h): 1200 x 0.14 / 2 = 84.00
    assert filesystem_cost(h(0), h(365), 1200, D("0.14")) == D("84.000000")


def test_eks_control_plane_is_split_across_the_launches_using_it_at_the_same_time():
    # A uses the cluster 0-3 h, B 1-2 h, at $0.10/h: hour 1 A alone (0.10), hour 2 shared (0.05 each),
    # hour 3 A alone (0.10): A = 0.25, B = 0.05, and together the cluster's 3 hours = 0.30.
    uses = [ClusterUse("A", "prod", h(0), h(3)), ClusterUse("B", "prod", h(1), h(2))]
    shares = control_plane_shares(uses, D("0.10"))
    assert shares == {"A": D("0.250000"), "B": D("0.050000")}
    # another cluster is not shared with them
    shares = control_plane_shares([*uses, ClusterUse("C", "dev", h(1), h(2))], D("0.10"))
    assert shares["C"] == D("0.100000")


def test_on_premises_uses_the_rate_card():
    # 32 cores x $0.04 + 256 GB x $0.001 = $1.536 per node-hour; 2 nodes x 2.5 h = 7.68
    card = RateCard(core_hour=D("0.04"), cores_per_node=32, gb_hour=D("0.001"), memory_gb_per_node=256)
    assert onprem_cost(h(0), h(2.5), 2, card) == D("7.680000")


def test_each_line_is_rounded_once_half_up_to_a_micro_dollar():
    # $0.0018/h for 1 s... billed 60 s: 0.0018 / 60 = 0.00003 exactly; for 61 s: 0.0000305 -> 0.000031
    assert instance_cost(T0, T0 + timedelta(seconds=61), 1, flat(D("0.0018"))) == D("0.000031")


def test_a_launch_is_priced_part_by_part_and_the_parts_add_up():
    book = PriceBook(
        list_prices={
            ("us-east-1", "instance", "r6i.4xlarge", "usage"): D("1.008"),
            ("us-east-1", "volume", "gp3", "storage"): D("0.08"),
            ("us-east-1", "filesystem", "PERSISTENT_2", "storage"): D("0.21"),
            ("us-east-1", "cluster", "eks", "usage"): D("0.10"),
        }
    )
    launch = Launch("L1", "us-east-1", "EKS", h(73))
    resources = [
        Resource("L1", "instance", "r6i.4xlarge", "On-Demand", 2, started_at=h(0), ended_at=h(73)),
        Resource("L1", "volume", "gp3", None, 2, size_gb=500, started_at=h(0), ended_at=h(73)),
        Resource("L1", "filesystem", "PERSISTENT_2", None, 1, size_gb=1200, started_at=h(0), ended_at=h(73)),
        Resource("L1", "cluster", "eks", None, 1, resource_id="prod", started_at=h(0), ended_at=h(73)),
    ]
    cost = price_launches([launch], resources, book, Rules())["L1"]
    # 2 x 73 x 1.008 = 147.168; 2 x 500 x 0.08 / 10 = 8; 1200 x 0.21 / 10 = 25.2; 73 x 0.10 = 7.3
    assert (cost.instance_cost, cost.volume_cost, cost.filesystem_cost, cost.control_plane_cost) == (
        D("147.168000"),
        D("8.000000"),
        D("25.200000"),
        D("7.300000"),
    )
    assert cost.total_cost == D("187.668000")
    assert cost.unpriced_resources == 0


def test_a_launch_pays_for_the_iops_and_throughput_its_volumes_provisioned():
    book = PriceBook(
        list_prices={
            ("us-east-1", "volume", "gp3", "storage"): D("0.08"),
            ("us-east-1", "volume", "gp3", "iops"): D("0.005"),
            ("us-east-1", "volume", "gp3", "throughput"): D("0.04"),
            ("us-east-1", "volume", "io2", "storage"): D("0.125"),
            ("us-east-1", "volume", "io2", "iops"): D("0.065"),
        }
    )
    launch = Launch("L1", "us-east-1", "Batch", h(73))
    resources = [
        # 2 x (500 x 0.08 + 3,000 x 0.005 + 125 x 0.04) / 10 = 2 x 60 / 10 = 12
        Resource("L1", "volume", "gp3", None, 2, size_gb=500, started_at=h(0), ended_at=h(73), iops=6000, throughput_mibps=250),
        # at the baseline: 500 x 0.08 / 10 = 4
        Resource("L1", "volume", "gp3", None, 1, size_gb=500, started_at=h(0), ended_at=h(73), iops=3000, throughput_mibps=125),
        # io2 pays every IOPS: (100 x 0.125 + 2,000 x 0.065) / 10 = 142.5 / 10 = 14.25
        Resource("L1", "volume", "io2", None, 1, size_gb=100, started_at=h(0), ended_at=h(73), iops=2000),
    ]
    assert price_launches([launch], resources, book, Rules())["L1"].volume_cost == D("30.250000")
    # IOPS above the baseline with no IOPS price held: the line is unpriced, not priced as storage only
    del book.list_prices[("us-east-1", "volume", "gp3", "iops")]
    assert price_launches([launch], resources, book, Rules())["L1"].unpriced_resources == 1


def test_a_missing_price_leaves_the_launch_unpriced_not_zero():
    launch = Launch("L1", "us-east-1", "Batch", h(1))
    cost = price_launches(
        [launch], [Resource("L1", "instance", "z9.huge", "On-Demand", 1, started_at=h(0), ended_at=h(1))], PriceBook(), Rules()
    )
    assert cost["L1"].unpriced_resources == 1


def test_what_if_moves_spot_lines_to_on_demand_and_families_at_the_same_size():
    lines = [
        Resource("L1", "instance", "r6i.4xlarge", "Spot", 1),
        Resource("L1", "instance", "m6i.xlarge", "On-Demand", 1),
        Resource("L1", "volume", "gp3"),
    ]
    moved = what_if(lines, purchase_option="On-Demand", from_option="Spot")
    assert [r.purchase_option for r in moved] == ["On-Demand", "On-Demand", None]
    swapped = what_if(lines, family="r7i", from_family="r6i")
    assert [r.resource_type for r in swapped] == ["r7i.4xlarge", "m6i.xlarge", "gp3"]


# --- properties -------------------------------------------------------------------------------------

prices = st.decimals(min_value=D("0.0001"), max_value=D("50"), places=4)
offsets = st.integers(min_value=0, max_value=30 * 24 * 3600)
step_lists = st.lists(st.tuples(offsets, prices), min_size=1, max_size=8).map(
    lambda pts: [PriceStep(T0 + timedelta(seconds=s), p) for s, p in pts]
)
moments = offsets.map(lambda s: T0 + timedelta(seconds=s))


@settings(max_examples=150, deadline=None)
@given(
    steps=step_lists,
    start=moments,
    length=st.integers(0, 10 * 24 * 3600),
    extra=st.integers(0, 3 * 24 * 3600),
    count=st.integers(1, 16),
)
def test_cost_never_falls_when_a_run_gets_longer(steps, start, length, extra, count):
    end = start + timedelta(seconds=length)
    longer = end + timedelta(seconds=extra)
    assert instance_cost(start, longer, count, steps) >= instance_cost(start, end, count, steps)
    assert volume_cost(start, longer, count, 500, D("0.08")) >= volume_cost(start, end, count, 500, D("0.08"))
    assert filesystem_cost(start, longer, 1200, D("0.14")) >= filesystem_cost(start, end, 1200, D("0.14"))
    assert onprem_cost(start, longer, count, RateCard()) >= onprem_cost(start, end, count, RateCard())


@settings(max_examples=150, deadline=None)
@given(steps=step_lists, start=moments, length=st.integers(120, 10 * 24 * 3600), cut=st.floats(0, 1), count=st.integers(1, 16))
def test_a_spot_interval_split_at_any_point_costs_the_same_as_unsplit(steps, start, length, cut, count):
    s = epoch_seconds(start)
    e = s + length
    t = s + 60 + int(cut * (length - 120))  # both pieces at least the 60-second minimum
    # The price-time integral is exact: the pieces add up to the whole, to the last 1e-10 USD-second.
    assert step_price_seconds(s, t, steps) + step_price_seconds(t, e, steps) == step_price_seconds(s, e, steps)
    # In money each line is rounded once to the micro-dollar, so two lines differ from one by at most that.
    whole = instance_cost(start, start + timedelta(seconds=length), count, steps)
    mid = start + timedelta(seconds=t - s)
    pieces = instance_cost(start, mid, count, steps) + instance_cost(mid, start + timedelta(seconds=length), count, steps)
    assert abs(pieces - whole) <= D("0.000001")


resource_lists = st.lists(
    st.tuples(
        st.sampled_from(["instance-od", "instance-spot", "instance-ri", "volume", "filesystem", "cluster"]),
        st.integers(0, 5 * 24 * 3600),
        st.integers(0, 2 * 24 * 3600),
        st.integers(1, 8),
        st.sampled_from(["L1", "L2", "L3"]),
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(rows=resource_lists, steps=step_lists)
def test_parts_add_up_to_the_total_for_every_launch(rows, steps):
    book = PriceBook(
        list_prices={
            ("us-east-1", "instance", "r6i.4xlarge", "usage"): D("1.008"),
            ("us-east-1", "volume", "gp3", "storage"): D("0.08"),
            ("us-east-1", "filesystem", "SCRATCH_2", "storage"): D("0.14"),
            ("us-east-1", "cluster", "eks", "usage"): D("0.10"),
        },
        spot={("us-east-1", "us-east-1a", "r6i.4xlarge"): sorted(steps)},
    )
    kinds = {
        "instance-od": ("instance", "r6i.4xlarge", "On-Demand"),
        "instance-spot": ("instance", "r6i.4xlarge", "Spot"),
        "instance-ri": ("instance", "r6i.4xlarge", "Reserved"),
        "volume": ("volume", "gp3", None),
        "filesystem": ("filesystem", "SCRATCH_2", None),
        "cluster": ("cluster", "eks", None),
    }
    resources = [
        Resource(
            lid,
            kinds[k][0],
            kinds[k][1],
            kinds[k][2],
            n,
            size_gb=500,
            availability_zone="us-east-1a",
            resource_id="prod",
            started_at=T0 + timedelta(seconds=s),
            ended_at=T0 + timedelta(seconds=s + d),
        )
        for k, s, d, n, lid in rows
    ]
    launches = [Launch(lid, "us-east-1", "EKS", h(200)) for lid in ("L1", "L2", "L3")]
    for cost in price_launches(launches, resources, book, Rules()).values():
        parts = cost.instance_cost + cost.volume_cost + cost.filesystem_cost + cost.control_plane_cost
        assert parts == cost.total_cost
        assert cost.total_cost == cost.total_cost.quantize(D("0.000001"))  # exact micro-dollars: sums to the cent too


def _integral_second_by_second_in_blocks(s: int, e: int, steps) -> int:
    """The price in force at each second, summed over [s, e): the definition, with no search."""
    ordered = sorted(steps)
    starts = [epoch_seconds(p.start) for p in ordered]
    total, t = 0, s
    while t < e:
        in_force = [i for i, start in enumerate(starts) if start <= t]
        i = in_force[-1] if in_force else 0
        later = [start for start in starts if start > t]
        upto = min([e, *later])
        total += int(ordered[i].price.scaleb(10)) * (upto - t)
        t = upto
    return total


@settings(max_examples=200, deadline=None)
@given(steps=step_lists, start=offsets, length=st.integers(0, 40 * 24 * 3600))
def test_the_step_integral_is_the_price_in_force_at_every_second(steps, start, length):
    s = epoch_seconds(T0) - 3 * 24 * 3600 + start  # intervals that begin before, among and after the steps
    assert step_price_seconds(s, s + length, steps) == _integral_second_by_second_in_blocks(s, s + length, steps)
