"""What a training run cost: CPU time, wall time and an energy estimate.

The energy figure is an estimate, not a measurement: CPU seconds times a
per-core power draw (WATTS_PER_CORE). No meter is read and nothing is sent
anywhere; a team with a measured figure for its nodes sets WATTS_PER_CORE to it.
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypedDict

# A busy server core draws roughly 5-15 W (package power over core count of
# common x86 server CPUs); 10 W is the middle of that range.
WATTS_PER_CORE = 10.0


class Footprint(TypedDict):
    cpu_seconds: float
    wall_seconds: float
    cpus: int
    watts_per_core: float
    energy_wh: float
    method: str


def energy_wh(cpu_seconds: float, watts_per_core: float = WATTS_PER_CORE) -> float:
    """Energy in watt-hours of `cpu_seconds` of busy cores at `watts_per_core`."""
    return cpu_seconds * watts_per_core / 3600


@contextmanager
def measured() -> Iterator[dict]:
    """Measure the block's CPU time (this process and the children it waited for) and wall time."""
    result: dict = {}
    start_cpu, start_wall = _cpu_seconds(), time.perf_counter()
    yield result
    cpu = _cpu_seconds() - start_cpu
    result.update(
        cpu_seconds=round(cpu, 6),
        wall_seconds=round(time.perf_counter() - start_wall, 6),
        cpus=os.cpu_count() or 1,
        watts_per_core=WATTS_PER_CORE,
        energy_wh=round(energy_wh(cpu), 9),
        method="estimate: CPU seconds x watts per core / 3600 (footprint.py)",
    )


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system
