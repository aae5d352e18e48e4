"""The report of a run in progress: a listener beside the terminal's, fed every result.

It keeps counts and a bounded sample (batchproc.report.tally, .sample), never the results
themselves, and writes the page when the run ends; under --watch also at most once a minute
while the watch goes on. The jobs of a job file that name one page share it, a section each.
"""

from __future__ import annotations

import os
import threading
import time

from batchproc.errors import UsageError
from batchproc.report.page import render
from batchproc.report.section import Section
from batchproc.results import FileResult, Summary
from batchproc.run_header import RunHeader
from batchproc.runner import Events

#: Seconds between rewrites of the page while a watch goes on.
WATCH_INTERVAL = 60.0


class ReportPage:
    """One page file and its sections, written whole each time (atomically: a reader or a mail
    never gets half a page)."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self.sections: list[Section] = []
        #: Held while a section changes or the page is written (the jobs of a watched job file
        #: run in threads of their own).
        self.lock = threading.Lock()

    def write(self) -> None:
        """Write the page (OSError if it cannot be)."""
        with self.lock:
            html = render(self.sections, base=os.path.dirname(self.path))
        write_atomically(self.path, html)


class ReportPages:
    """The pages of one command: a page per file named, a section per run that names it."""

    def __init__(self) -> None:
        self.pages: dict[str, ReportPage] = {}

    def page(self, path: str) -> ReportPage:
        check_writable(path)
        key = os.path.abspath(path)
        if key not in self.pages:
            self.pages[key] = ReportPage(path)
        return self.pages[key]

    def listener(self, path: str, header: RunHeader, *, label: str | None = None,
                 watch: bool = False) -> "ReportListener":
        page = self.page(path)
        section = Section.starting(header, label)
        with page.lock:
            page.sections.append(section)
        return ReportListener(page, section, watch=watch)

    def did_not_run(self, path: str, header: RunHeader, label: str, error: str) -> str | None:
        """Add a section for a run that could not take place, and write the page; the warning
        to show if it cannot be written."""
        page = self.page(path)
        with page.lock:
            page.sections.append(Section(header, label, error=error))
        return _written(page)


class ReportListener(Events):
    """Counts each result into its section; `finish` writes the page."""

    def __init__(self, page: ReportPage, section: Section, *, watch: bool = False) -> None:
        self.page = page
        self.section = section
        self.started = time.monotonic()
        self._add = section.tally.add if section.sample is None else section.add
        self._lock = page.lock if watch else None
        self._dirty = False
        self._stop = threading.Event()
        self._writer = None
        if watch:
            section.running = True
            self._writer = threading.Thread(target=self._keep_fresh, name="batchproc-report", daemon=True)
            self._writer.start()

    def result(self, result: FileResult) -> None:
        with self._lock:
            self._add(result)
            self._dirty = True

    def results(self, batch) -> None:
        if batch.has_records:  # an image step's: the contact sheet's sample sees every file
            hear = self.hear
            for result in batch.records():
                hear(result)
            return
        if self._lock is None:
            self.section.tally.add_batch(batch)
            return
        with self._lock:
            self.section.tally.add_batch(batch)
            self._dirty = True

    @property
    def hear(self):
        """What to call with each result: the counting itself when no other thread reads the
        section meanwhile (no watch), saving a call per file."""
        return self._add if self._lock is None else self.result

    def finish(self, summary: Summary) -> str | None:
        """Write the final page; the warning to show if it cannot be written."""
        self._stop.set()
        if self._writer is not None:
            self._writer.join()
        with self.page.lock:
            section = self.section
            section.running = False
            section.elapsed = summary.elapsed
            section.stopped = summary.stopped
            section.warnings = list(summary.warnings)
        return _written(self.page)

    def abandon(self, error: BaseException) -> None:
        """The run raised `error`. One that never took place (a lock held, a folder refused)
        leaves no section; one cut short after some files says why on its page."""
        self._stop.set()
        if self._writer is not None:
            self._writer.join()
        with self.page.lock:
            if not self.section.tally.counts:
                self.page.sections.remove(self.section)
                return
            self.section.running = False
            self.section.elapsed = time.monotonic() - self.started
            self.section.stopped = f"stopped: {_words(error)}"
        _written(self.page)

    def _keep_fresh(self) -> None:
        """Under --watch: rewrite the page at most once a minute, when something changed."""
        while not self._stop.wait(WATCH_INTERVAL):
            with self.page.lock:
                if not self._dirty:
                    continue
                self._dirty = False
                self.section.elapsed = time.monotonic() - self.started
            _written(self.page)


class Together(Events):
    """Two listeners heard as one: the terminal's, then the report's."""

    def __init__(self, first: Events, second: Events) -> None:
        self.listeners = (first, second)
        self._first = first.result
        self._second = getattr(second, "hear", second.result)

    def found(self, total: int) -> None:
        for listener in self.listeners:
            listener.found(total)

    def result(self, result: FileResult) -> None:
        self._first(result)
        self._second(result)

    def results(self, batch) -> None:
        for listener in self.listeners:
            listener.results(batch)

    def notice(self, line: str, *, warning: bool = False) -> None:
        for listener in self.listeners:
            listener.notice(line, warning=warning)


def _words(error: BaseException) -> str:
    if not isinstance(error, Exception):
        return "interrupted"
    from batchproc.execution import error_text

    return error_text(error)


def _written(page: ReportPage) -> str | None:
    try:
        page.write()
    except OSError as error:
        return f"the report {page.path} could not be written: {error.strerror or error}"
    return None


def check_writable(path: str) -> None:
    """Refuse, before any work, a page that could not be written at the end."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        raise UsageError(f"--report {path}: is a folder (name the page's file: {path}/report.html)")
    if not os.path.isdir(folder):
        raise UsageError(f"--report {path}: no folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"--report {path}: cannot write in {folder}")


def write_atomically(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it, renamed into place."""
    folder, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", errors="replace") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise

