"""One run's part of a report page: its header, what was counted, and how it ended."""

from __future__ import annotations

from dataclasses import dataclass, field

from batchproc.report.sample import ContactSample
from batchproc.report.tally import Tally
from batchproc.results import FileResult
from batchproc.run_header import RunHeader


@dataclass
class Section:
    """A run (one job of a job file) as its page shows it."""

    header: RunHeader
    #: The title: the step's name, or a job's "name (step)".
    label: str
    tally: Tally = field(default_factory=Tally)
    #: The contact sheet's sample, for image steps.
    sample: ContactSample | None = None
    #: Seconds the run took; None while it runs, or when a log has no end record for it.
    elapsed: float | None = None
    #: Why the run stopped early (interrupted, failure budget spent...), if it did.
    stopped: str | None = None
    #: True while a watch goes on: the page is rewritten as it does.
    running: bool = False
    warnings: list[str] = field(default_factory=list)
    #: Why the run could not take place at all (a job whose output another run holds).
    error: str | None = None
    #: Where the thumbnails come from: the run itself, or the files as they are now (a log).
    from_log: bool = False

    @classmethod
    def starting(cls, header: RunHeader, label: str | None = None) -> "Section":
        return cls(header, label or header.step,
                   sample=ContactSample() if header.images else None)

    def add(self, result: FileResult) -> None:
        self.tally.add(result)
        if self.sample is not None:
            self.sample.add(result)
