"""The records a benchmark passes around: a timed command, a contender, its results."""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class Job:
    """One timed command, prepared (untimed) for one round."""

    argv: list[str]
    out_dir: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


@dataclass(frozen=True)
class Contender:
    """A competitor in one task; `prepare(run_dir)` does untimed setup and returns the Job."""

    task: str
    name: str
    prepare: Callable[[Path], Job] | None
    skip: str = ""
    slow: bool = False
    role: str = ""  # "batchproc" or "sharp": the reference columns of the table


@dataclass
class Result:
    """Timings and notes gathered for one contender."""

    contender: Contender
    files: int = 0
    times: list[float] = field(default_factory=list)
    cpu_times: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failed: bool = False
    last_out: Path | None = None
    psnr: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def median(self) -> float | None:
        """Median wall time, or None without a successful run."""
        return statistics.median(self.times) if self.times else None

    @property
    def cpu_median(self) -> float | None:
        """Median CPU time (user + system, the whole process tree), or None."""
        return statistics.median(self.cpu_times) if self.cpu_times else None

    def record(self, wall: float, cpu: float | None) -> None:
        """Keep one successful run's wall and CPU seconds."""
        self.times.append(wall)
        if cpu is not None:
            self.cpu_times.append(cpu)

    def fail(self, error: str) -> None:
        """Mark the contender failed; it gets no more runs."""
        self.failed = True
        self.notes.append(f"failed: {error}")
