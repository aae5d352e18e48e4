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
    # Time only until the first line on stdout, then close it as `| head -n 1` would.
    until_first_line: bool = False


# How a row reads against another row of its task (Comparison.kind).
THROUGHPUT = "throughput"  # t_other / t: above 1 is more files per second than the other
TIME = "time"  # t / t_other: above 1 is slower than the other
MORE_MS = "+ms"  # t - t_other in milliseconds (the percentage is shown beside it)
MORE_PERCENT = "+%"  # t / t_other - 1, in percent (the milliseconds are shown beside it)


@dataclass(frozen=True)
class Comparison:
    """A ratio or difference the table prints for a row, and the issue's limit on it, if any."""

    other: str  # the name of the other contender, in the same task
    label: str  # how the table names it
    kind: str  # THROUGHPUT, TIME, MORE_MS or MORE_PERCENT
    limit: float | None = None  # THROUGHPUT: at least this; the others: at most this
    target: str = ""  # the target it checks ("14.1": issue 14, target 1), '' for a figure only

    def value(self, t: float, t_other: float) -> float:
        """The measure itself, in the unit its kind names."""
        return {THROUGHPUT: t_other / t, TIME: t / t_other, MORE_MS: (t - t_other) * 1000,
                MORE_PERCENT: (t / t_other - 1) * 100}[self.kind]

    def met(self, value: float) -> bool | None:
        """Whether the value keeps the limit; None without one."""
        if self.limit is None:
            return None
        return value >= self.limit if self.kind == THROUGHPUT else value <= self.limit

    def describe(self, t: float, t_other: float) -> str:
        """The table's text: '1.18x sharp's throughput', '+31 ms (+2.1%) vs fork'."""
        if self.kind in (THROUGHPUT, TIME):
            return f"{self.value(t, t_other):.2f}x {self.label}'s {self.kind}"
        return f"{(t - t_other) * 1000:+.0f} ms ({(t / t_other - 1) * 100:+.1f}%) vs {self.label}"

    def requirement(self) -> str:
        """The limit in words, for the target list."""
        what = {THROUGHPUT: f"throughput >= {self.limit}x {self.label}'s", TIME: f"time <= {self.limit}x {self.label}'s",
                MORE_MS: f"<= {self.limit:g} ms over {self.label}", MORE_PERCENT: f"<= {self.limit:g}% over {self.label}"}
        return what[self.kind]

    def unit(self) -> str:
        return {THROUGHPUT: "x", TIME: "x", MORE_MS: " ms", MORE_PERCENT: "%"}[self.kind]


@dataclass(frozen=True)
class Contender:
    """A competitor in one task; `prepare(run_dir)` does untimed setup and returns the Job."""

    task: str
    name: str
    prepare: Callable[[Path], Job] | None
    skip: str = ""
    slow: bool = False
    # "batchproc" and "sharp" are the reference columns of the table; others ("batchproc-j1",
    # "pool", ...) let targets find a row whichever install it runs.
    role: str = ""
    compare: tuple[Comparison, ...] = ()
    after: Callable[[Result], None] | None = None  # an untimed check once the rounds are done


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
