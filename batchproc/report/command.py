"""`batchproc report LOG [PAGE] [--run ID] [--list]`: a run's page from its log."""

from __future__ import annotations

import os
import sys

from batchproc.errors import UsageError
from batchproc.report.from_log import choose_run, list_runs, sections_of
from batchproc.report.live import check_writable, write_atomically
from batchproc.report.page import render


def report_from_log(log: str, page: str | None, run_id: str | None) -> None:
    """Write the page of the run `run_id` (default: the last) of the log `log`."""
    if not os.path.isfile(log):
        raise UsageError(f"no log file {log}")
    if page is None:
        page = os.path.splitext(log)[0] + ".html"
    if page != "-":
        check_writable(page)
        if os.path.abspath(page) == os.path.abspath(log):
            raise UsageError(f"the page would replace the log {log}: name another file")
    run = choose_run(list_runs(log), run_id, log)
    sections = sections_of(log, run)
    if page == "-":  # links relative to the working folder
        sys.stdout.write(render(sections, base=os.getcwd()))
        return
    write_atomically(page, render(sections, base=os.path.dirname(os.path.abspath(page))))
    print(f"wrote {page} (run {run.run})", file=sys.stderr)


def list_log(log: str) -> None:
    """Print the log's runs, oldest first: id, start, step (or jobs), file records."""
    if not os.path.isfile(log):
        raise UsageError(f"no log file {log}")
    for run in list_runs(log):
        started = run.headers[0].started if run.headers else "?"
        what = ", ".join(f"{h.job} ({h.step})" if h.job else h.step for h in run.headers) or "?"
        ended = "" if run.ended else "  (no end record)"
        print(f"{run.run}\t{started}\t{what}\t{run.records} files{ended}")
