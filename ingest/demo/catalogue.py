"""What the demo simulates: its consumers, workflows, regions, instance and storage types, and the price inputs.

Everything here is a constant. Categorical attributes are simulated as small integer codes: the code of a
value is its index in the tuple that lists it (``PLATFORMS[EKS] == "EKS"``), and ``NA`` marks "absent".
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from core.vocabulary import PLATFORMS, PURCHASE_OPTIONS

HISTORY_DAYS = 730  # the history is ~2 years of days, ending at ``end_date``
EPOCH_SECONDS_DAYS = 60  # items launched in the first 60 days carry epoch-second timestamps
NA = -1  # "absent" in integer columns

WORKFLOWS = (
    "nextflow-rnaseq",
    "nextflow-sarek",
    "snakemake-variant-calling",
    "wdl-gatk-germline",
    "nextflow-methylseq",
    "snakemake-metagenomics",
)
EC2, BATCH, PCLUSTER, EKS, ONPREM = range(len(PLATFORMS))
SPOT, ON_DEMAND, RESERVED = range(len(PURCHASE_OPTIONS))

REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
AZ_LETTERS = ("abcdf", "abcd", "abc")  # the zones of each region
ZONES = tuple(f"{region}{letter}" for region, letters in zip(REGIONS, AZ_LETTERS, strict=True) for letter in letters)
ZONE_REGION = np.repeat(np.arange(len(REGIONS)), [len(letters) for letters in AZ_LETTERS])  # region code per zone code
ZONES_IN_REGION = np.array([len(letters) for letters in AZ_LETTERS])
FIRST_ZONE = np.cumsum(ZONES_IN_REGION) - ZONES_IN_REGION  # the code of each region's first zone


class Consumer(NamedTuple):
    """A team whose launches the workflow manager tags; the mixes are weights in the order of the tuple named."""

    name: str
    share: float  # of launches
    first_day: int  # first active day of the history (then ramps up over ~45 days)
    growth: float  # over the two years
    workflow_mix: tuple[int, ...]  # WORKFLOWS
    platform_mix: tuple[int, ...]  # PLATFORMS
    region_mix: tuple[int, ...]  # REGIONS


CONSUMERS = (
    Consumer("oncology-research", 0.22, 0, 1.3, (30, 45, 5, 15, 5, 0), (5, 55, 5, 30, 5), (85, 15, 0)),
    Consumer("rare-disease", 0.13, 0, 1.0, (5, 5, 35, 55, 0, 0), (5, 45, 40, 5, 5), (80, 20, 0)),
    Consumer("pop-genomics", 0.20, 0, 1.2, (0, 5, 30, 60, 5, 0), (2, 20, 45, 3, 30), (70, 30, 0)),
    Consumer("single-cell-lab", 0.10, 150, 1.6, (85, 0, 0, 0, 0, 15), (30, 10, 0, 60, 0), (90, 10, 0)),
    Consumer("microbiome-core", 0.07, 0, 0.9, (10, 0, 5, 0, 0, 85), (45, 40, 0, 10, 5), (100, 0, 0)),
    Consumer("epigenetics", 0.06, 0, 1.0, (10, 0, 0, 0, 90, 0), (10, 40, 10, 0, 40), (90, 10, 0)),
    Consumer("clinical-diagnostics", 0.14, 270, 1.5, (10, 35, 15, 40, 0, 0), (5, 50, 0, 45, 0), (35, 0, 65)),
    Consumer("bioinformatics-core", 0.08, 0, 1.0, (17, 17, 17, 17, 16, 16), (30, 25, 15, 15, 15), (80, 10, 10)),
)
CONSUMER_NAMES = tuple(c.name for c in CONSUMERS)

# Instance families and sizes; their prices come from the offline price snapshot (``pricing/snapshot``).
FAMILIES = ("c5", "c6i", "c7i", "m5", "m6i", "m7i", "r5", "r6i", "r7i", "i4i", "x2idn")
GENERATION_SPEED = (1.0, 1.15, 1.3, 1.0, 1.15, 1.3, 1.0, 1.15, 1.3, 1.15, 1.15)
C5, C6I, M5, R5, I4I, X2IDN = (
    FAMILIES.index(f) for f in ("c5", "c6i", "m5", "r5", "i4i", "x2idn")
)  # c, m, r: 3 generations each
SIZES = ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
XL, X2, X4, X8, X12, X16 = range(len(SIZES))
KIND_C, KIND_M, KIND_R, KIND_I, KIND_X = range(5)  # compute, general, memory, storage, big memory
ONPREM_TYPE = "onprem-node"
ONPREM_NODE_HOUR = 0.04 * 32  # rate card: $0.04 per core-hour, 32 cores per node
INSTANCE_TYPES = tuple(f"{f}.{s}" for f in FAMILIES for s in SIZES) + (ONPREM_TYPE,)
ONPREM_TYPE_CODE = len(INSTANCE_TYPES) - 1
RESERVED_RATE = 0.62  # effective Reserved rate as a fraction of On-Demand ([pricing] default)

VOLUME_TYPES = ("gp3", "gp2", "io2", "st1")
GP3, GP2, IO2, ST1 = range(len(VOLUME_TYPES))
GP3_FREE_IOPS, GP3_FREE_MIBPS = 3000, 125
# gp3 (IOPS, MiB/s) as provisioned, weights: most at the free baseline. io2 IOPS, weights.
GP3_PERFORMANCE = ((3000, 125, 70), (4000, 125, 6), (6000, 250, 12), (10000, 500, 8), (16000, 1000, 4))
IO2_IOPS = ((2000, 30), (5000, 35), (10000, 25), (20000, 10))
GP3_RECORDED = 0.7  # share of gp3 volumes whose item records iops/throughput (older managers leave them out)
FSX_TYPES = ("SCRATCH_2", "PERSISTENT_1", "PERSISTENT_2")
FSX_CAPACITIES = np.array([1200, 2400, 4800, 7200, 9600])
FSX_SHARE = 0.40  # of Batch and ParallelCluster launches
EKS_CLUSTERS = ("genomics-eks-prod", "genomics-eks-dev", "genomics-eks-usw2", "genomics-eks-euw1")
EKS_CLUSTER_REGION = (0, 0, 1, 2)  # index into REGIONS
EKS_SHARING = 3  # the manager's share of the control plane: hours x price / 3

# Per workflow: input size (median GB, sigma, min, max), GB per sample, node-hours model a + b*GB^p (on the
# tier-0 instance), instance tiers ((upper GB, kind, size, speed of that size vs tier 0), ...), how the
# instance count follows the input (per samples or per GB), EBS GB per node.
WORKFLOW_MODEL = {
    "nextflow-rnaseq": dict(
        size=(40, 0.9, 5, 1500),
        gb_per_sample=3.0,
        nh=(1.0, 0.45, 1.0),
        tiers=((math.inf, KIND_R, X4, 1.0),),
        count=("samples", 4),
        ebs=500,
    ),
    "nextflow-sarek": dict(
        size=(220, 0.8, 30, 3000),
        gb_per_sample=110.0,
        nh=(2.0, 0.20, 1.0),
        tiers=((150, KIND_R, X4, 1.0), (500, KIND_R, X8, 1.6), (math.inf, KIND_R, X16, 2.5)),
        count=("samples", 1),
        ebs=1000,
    ),
    "snakemake-variant-calling": dict(
        size=(90, 1.0, 5, 2000),
        gb_per_sample=15.0,
        nh=(4.0, 2.7, 0.55),
        tiers=((math.inf, KIND_C, X4, 1.0),),
        count=("gb", 20),
        ebs=500,
    ),
    "wdl-gatk-germline": dict(
        size=(150, 0.9, 10, 2500),
        gb_per_sample=60.0,
        nh=(0.5, 0.22, 1.0),
        tiers=((math.inf, KIND_M, X4, 1.0),),
        count=("samples", 1),
        ebs=750,
    ),
    "nextflow-methylseq": dict(
        size=(110, 0.9, 10, 2000),
        gb_per_sample=25.0,
        nh=(1.5, 0.14, 1.0),
        tiers=((120, KIND_M, X8, 1.0), (600, KIND_R, X8, 1.1), (math.inf, KIND_X, X16, 1.6)),
        count=("samples", 3),
        ebs=500,
    ),
    "snakemake-metagenomics": dict(
        size=(60, 0.8, 5, 1500),
        gb_per_sample=8.0,
        nh=(3.0, 1.0, 0.6),
        tiers=((math.inf, KIND_I, X4, 1.0),),
        count=("gb", 30),
        ebs=800,
    ),
}

# The output a completed run writes, GB per GB of input, for the workflow types whose manager records it (the
# snakemake ones do not): aligned reads and calls for rnaseq and sarek (CRAM), methylation calls, gVCFs.
# The output also grows with how much work the input turned out to need (``launches.workload``'s effort).
OUTPUT_PER_INPUT_GB = {"nextflow-rnaseq": 0.6, "nextflow-sarek": 0.45, "wdl-gatk-germline": 0.3, "nextflow-methylseq": 0.8}
OUTPUT_EFFORT_EXPONENT = 1.0  # output ∝ effort^this: a run with more to do writes more
OUTPUT_SIGMA = 0.08  # lognormal noise of the output around that

# Per platform (in PLATFORMS order): run speed, time queued for compute (median seconds, sigma), purchase mix.
PLATFORM_SPEED = np.array([1.0, 0.97, 1.03, 0.95, 0.75])
QUEUE_MEDIAN_S = np.array([120, 480, 720, 180, 2400])
QUEUE_SIGMA = np.array([0.6, 1.4, 1.5, 0.9, 1.3])
PURCHASE_MIX = np.array([(35, 55, 10), (78, 19, 3), (60, 35, 5), (65, 27, 8), (0, 0, 100)], dtype=float)  # PURCHASE_OPTIONS
