"""A unit of work and what a worker needs to do it: the task of one file, the step's recipe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from batchproc.step import Step

if TYPE_CHECKING:
    from batchproc.result_batch import Rendering


class Task(NamedTuple):
    """One file for a worker: its sequence number, input path and output paths (often one)."""

    seq: int
    source: str
    targets: tuple[str, ...] = ()
    #: (size, mtime_ns) the input had when it was found settled (--watch): checked again when
    #: its work begins, so a file written to since is left to settle again.
    expected: tuple[int, int] | None = None

    @property
    def output(self) -> str | list[str] | None:
        """The output as result records show it: one path, a list of several, or None."""
        if not self.targets:
            return None
        return self.targets[0] if len(self.targets) == 1 else list(self.targets)


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to rebuild the step: handed over explicitly, never via module globals."""

    step_name: str
    settings: dict[str, Any]
    plugin_dirs: tuple[str, ...] = ()
    #: Permission bits for new output files (the parent's umask applied to 0o666).
    file_mode: int = 0o644
    #: How outputs are checked before they are published: "auto" (the step's cheapest proof) or "full".
    verify: str = "auto"
    #: Where every installed step lives, as the parent found them (chain looks others up).
    entries: tuple = ()
    #: The run's --timeout in seconds, for steps that stop their own work in time (exec).
    timeout: float | None = None
    #: What a local worker renders for the parent (stdout, log lines) of the files that go
    #: plainly, which then travel in columns (batchproc.result_batch); None: results one by one.
    rendering: Rendering | None = None
    #: The longest side of the thumbnails image steps make for --report; 0: none are made.
    previews: int = 0


def build_step(spec: WorkerSpec) -> Step:
    """Import the step where the parent found it and build it with the run's settings."""
    from batchproc.registry import activate

    registry = activate(spec.plugin_dirs, {entry.name: entry for entry in spec.entries})
    try:
        step_class = registry.step_class(spec.step_name)
    except ImportError as error:
        raise RuntimeError(f"step {spec.step_name!r} is not installed in this worker ({error})") from None
    if step_class is None:
        raise RuntimeError(f"step {spec.step_name!r} is not installed in this worker")
    step = step_class(**spec.settings)
    step.check_runnable()
    step.prepare_worker(timeout=spec.timeout)
    return step
