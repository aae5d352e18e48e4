"""What a person at a terminal sees: a progress bar, failures as they happen, a summary line;
while watching, one line per finished file instead of the bar."""

from __future__ import annotations

import sys

from batchproc.results import DELETED, FAILED, OK, SKIPPED, FileResult, Summary
from batchproc.runner import Events


class TerminalReport(Events):
    """A tqdm bar on stderr (when wanted) plus one line per failure and a final summary."""

    def __init__(self, step_name: str, *, bar: bool, quiet: bool = False, stream=None,
                 stdout=None, step=None, each_file: bool = False, prefix: str = "") -> None:
        self.step_name = step_name
        self.stdout = stdout
        #: The step, asked for lines of its own to show on stderr (exec --show-stderr).
        self.step = step
        self.quiet = quiet
        #: One line per finished file (a watch), not only per failure.
        self.each_file = each_file
        #: Put before every line (the job's name, when the jobs of a file are watched together).
        self.prefix = prefix
        self.stream = stream or sys.stderr
        self._bar = None
        if bar:
            from tqdm import tqdm

            self._bar = tqdm(total=0, unit="file", desc=step_name, file=self.stream,
                             dynamic_ncols=True, mininterval=0.1, leave=False)

    def found(self, total: int) -> None:
        if self._bar is not None and total != self._bar.total:
            self._bar.total = total
            self._bar.refresh()

    def result(self, result: FileResult) -> None:
        if self.stdout is not None:
            self.stdout.write(result)
        if self._bar is not None:
            self._bar.update(1)
        if self.step is not None:
            for line in self.step.stderr_lines(result.view()):
                self.say(line)
        if result.status == FAILED:  # even when quiet: a failure is what a cron mail is for
            self.say(f"{self.prefix}failed: {result.input}: {result.error}")
        elif self.each_file and not self.quiet:
            line = file_line(result)
            if line is not None:
                self.say(self.prefix + line)

    def notice(self, line: str, *, warning: bool = False) -> None:
        if warning or not self.quiet:
            self.say(self.prefix + line)

    def say(self, line: str) -> None:
        """Write a line to stderr without tearing the bar."""
        if self._bar is not None:
            self._bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.stdout is not None:
            self.stdout.flush()
        if self._bar is not None:
            self._bar.refresh()  # draw the final count before the summary replaces the bar
            self._bar.close()
            self._bar = None

    def finish(self, summary: Summary) -> None:
        self.close()
        for warning in summary.warnings:
            print(f"Warning: {warning}", file=self.stream, flush=True)
        if not self.quiet or summary.failed or summary.stopped:
            print(summary_line(self.step_name, summary), file=self.stream, flush=True)


def file_line(result: FileResult) -> str | None:
    """The line a watch prints for a finished file; None for files that needed nothing (up to
    date, filtered out, or an output of the step's own in the watched tree)."""
    if result.status == OK:
        outputs = result.output if isinstance(result.output, list) else [result.output]
        shown = f" -> {', '.join(outputs)}" if result.output else ""
        return f"ok: {result.input}{shown} ({result.ms or 0:.0f} ms)"
    if result.status == SKIPPED:
        if (result.error or "").startswith(("up to date", "filtered", "written by ")):
            return None
        return f"skipped: {result.input} ({result.error})"
    if result.status == DELETED:
        return f"deleted: {result.input}"
    return f"{result.status}: {result.input}: {result.error}"


def summary_line(step_name: str, summary: Summary) -> str:
    """`resize: 40 ok, 2 skipped (2 up to date), 1 failed; 12.1 MB -> 1.4 MB; 3.2 s`"""
    counts = summary.counts
    skipped = f"{counts['skipped']} skipped"
    if summary.skip_reasons:
        reasons = ", ".join(f"{n} {reason}" for reason, n in summary.skip_reasons.most_common())
        skipped += f" ({reasons})"
    if counts["planned"]:
        step_name += " (dry run)"
    line = f"{step_name}: {counts['ok']} ok, {skipped}, {counts['failed']} failed"
    if counts["deleted"]:
        line += f", {counts['deleted']} deleted"
    if counts["planned"]:
        line = f"{step_name}: {counts['planned']} to process, {skipped}, {counts['failed']} refused"
    if summary.bytes_in:
        line += f"; {human_bytes(summary.bytes_in)} -> {human_bytes(summary.bytes_out)}"
    line += f"; {summary.elapsed:.1f} s"
    if summary.stopped:
        line += f"; {summary.stopped}"
    return line


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} TB"
