"""How busy the rest of the machine was while a task ran: other processes' CPU, and steal."""
from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass

from .rounds import children_cpu

TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Snapshot:
    """CPU counters at one moment."""

    wall: float
    busy: float  # seconds every CPU spent on any process (user, nice, system, irq)
    steal: float  # seconds the hypervisor ran someone else on our virtual CPUs
    ours: float  # seconds of this process and its waited-for descendants


def own_cpu() -> float:
    """User + system seconds of this process itself."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def snapshot() -> Snapshot | None:
    """Read /proc/stat's total line; None where there is none."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return Snapshot(time.perf_counter(), (user + nice + system + irq + softirq) / TICK, steal / TICK,
                    own_cpu() + children_cpu())


def describe(before: Snapshot | None, after: Snapshot | None) -> str:
    """Other processes' share of all CPUs between two snapshots, and steal, as one phrase."""
    if before is None or after is None or after.wall <= before.wall:
        return "unknown"
    capacity = (after.wall - before.wall) * len(os.sched_getaffinity(0))
    # A worker still running when the task ends is not counted as ours yet; clamp at 0.
    others = max(0.0, (after.busy - before.busy) - (after.ours - before.ours))
    steal = after.steal - before.steal
    return f"other processes {100 * others / capacity:.0f}% of the CPUs, steal {100 * steal / capacity:.0f}%"
