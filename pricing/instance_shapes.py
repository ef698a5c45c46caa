"""How many vCPUs and how much memory an EC2 instance type has: what right-sizing fits a request into.

The ``prices`` table knows what an instance type costs but not its shape. AWS sizes the families that genomics
workflows use by one rule: the size names the vCPUs (``medium`` 1, ``large`` 2, ``xlarge`` 4, ``Nxlarge`` 4 x N)
and each family has a fixed memory per vCPU (c: 2 GiB, m: 4 GiB, r: 8 GiB, ...), as the EC2 instance type
pages list them ("Amazon EC2 instance types", docs.aws.amazon.com/ec2/latest/instancetypes/). Types outside
this table (metal sizes, burstable t-types, families not listed) have no shape here and are never proposed.

Memory is in GiB, the unit Nextflow calls GB (its MemoryUnit counts in powers of 1024), so a task's
``memory_gb`` and ``peak_rss_gb`` compare with it directly.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# GiB of memory per vCPU, per family (x86 families with the same ratio at every size).
GIB_PER_VCPU = {
    **dict.fromkeys(("c5", "c5d", "c5a", "c6i", "c6id", "c6a", "c7i", "c7a"), 2),
    **dict.fromkeys(("m5", "m5d", "m5a", "m6i", "m6id", "m6a", "m7i", "m7a", "g5"), 4),
    **dict.fromkeys(("r5", "r5d", "r5a", "r6i", "r6id", "r6a", "r7i", "r7a", "i4i"), 8),
    "x2idn": 16,
    "p4d": 12,
}
_SIZE = re.compile(r"^(?:(\d+)x)?large$")


class Shape(NamedTuple):
    vcpus: int
    memory_gb: float  # GiB


def family_of(instance_type: str) -> str:
    """``r6i.4xlarge`` -> ``r6i``."""
    return instance_type.split(".", 1)[0]


def vcpus_of_size(size: str) -> int | None:
    """vCPUs of a size name: medium 1, large 2, xlarge 4, 12xlarge 48; None for metal and unknown sizes."""
    if size == "medium":
        return 1
    if size == "large":
        return 2
    if size == "xlarge":
        return 4
    match = _SIZE.match(size)
    if match and match.group(1):
        return 4 * int(match.group(1))
    return None


def shape_of(instance_type: str | None) -> Shape | None:
    """The vCPUs and GiB of ``instance_type`` (``r6i.4xlarge`` -> 16 vCPUs, 128 GiB); None when not known here."""
    if not instance_type or "." not in instance_type:
        return None
    family, size = instance_type.split(".", 1)
    ratio = GIB_PER_VCPU.get(family)
    vcpus = vcpus_of_size(size)
    if ratio is None or vcpus is None:
        return None
    return Shape(vcpus, float(vcpus * ratio))
