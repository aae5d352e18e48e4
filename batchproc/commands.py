"""Turning a Step class into a typed sub-command (its own options plus the run options), and
running it: build the step, run the batch, show the outcome, pick the exit code."""

from __future__ import annotations

import gc
import inspect
import os
import sys

from batchproc.errors import ExitCode, UsageError
from batchproc.options import RunOptions
from batchproc.results import Summary
from batchproc.run_flags import RUN_NAMES, RUN_PARAMETERS
from batchproc.step_options import step_parameters

def step_command(step_class, plugin_dirs: tuple[str, ...] = (), command_line: tuple[str, ...] = ()):
    """A typer command function for `step_class`: its __init__ options, then the run options."""
    own = step_parameters(step_class)

    def command(**values):
        run = {name: values.pop(name) for name in RUN_NAMES}
        options = RunOptions.from_values({**run, "plugin_dirs": plugin_dirs, "command": command_line})
        return run_step(step_class, values, options)

    parameters = [p.replace(kind=p.KEYWORD_ONLY) for p in (RUN_PARAMETERS[0], *own, *RUN_PARAMETERS[1:])]
    command.__signature__ = inspect.Signature(parameters)
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = inspect.getdoc(step_class) or step_class.summary
    command.__name__ = step_class.name
    return command


def run_step(step_class, step_values: dict, options: RunOptions, label: str | None = None, *,
             job: str | None = None, pages=None, hot=None, control=None, order: int = 0) -> int:
    """Build the step, run the batch, print the summary; return the exit code. `job`: the
    job's name in a job file; `pages`: the report pages its jobs share (batchproc.report.live);
    `hot`, `control` and `order`: a watch shared by the jobs of a job file (see batchproc.jobs)."""
    from batchproc.inputs import PathSource
    from batchproc.progress import TerminalReport
    from batchproc.runner import available_cpus, run_batch
    from batchproc.stdout import StdoutWriter

    if not gc.isenabled():  # paused while the CLI started (cli.main): what it built stays
        gc.freeze()
        gc.enable()
    if options.watch:
        from batchproc.watch.observer import require_watchdog

        require_watchdog()
    step = step_class(**step_values)
    args = list(options.paths)
    listed = None if args else step.default_paths()
    if not args and not listed and not options.files_from:
        raise UsageError("give at least one file or folder (- reads a list from stdin)")
    if step.output_suffix is None and (options.in_place or options.out is not None):
        what = "--in-place" if options.in_place else "--out"
        raise UsageError(f"{step.name} writes no files here: {what} has no meaning")
    source = PathSource(args, null=options.null, files_from=options.files_from, listed=listed)
    if options.start_method == "fork" and not options.dry_run:
        print("Warning: --start-method fork: workers are forked while batchproc's walking thread "
              "runs; a lock that thread holds at that moment is inherited held and can hang a "
              "worker. The default, forkserver, cannot.", file=sys.stderr)
    show_bar = (sys.stderr.isatty() and not options.quiet) if options.progress is None else options.progress
    show_bar = show_bar and not options.watch  # a watch prints a line per file instead
    if sys.stderr.isatty() and not options.quiet and not options.json_lines:
        _hint_once(step, options.state)
    stdout = StdoutWriter(step, json_lines=options.json_lines, print0=options.print0,
                          dry_run=options.dry_run, flush_each=options.watch)
    report = TerminalReport(label or step.name, bar=show_bar, quiet=options.quiet, stdout=stdout,
                            step=step, each_file=options.watch,
                            prefix=f"{label}: " if hot is not None else "")
    header = events = page = None
    if options.log or options.report:  # the run's facts, for both: one run id
        from batchproc.run_header import RunHeader

        header = RunHeader.of(step, options, options.jobs or available_cpus(), job=job)
    if options.report:
        from batchproc.report.live import ReportPages, Together

        page = (pages or ReportPages()).listener(options.report, header, label=label, watch=options.watch)
        events = Together(report, page)
    try:
        summary = run_batch(step, source, options, events=events or report, header=header, hot=hot,
                            control=control, order=order)
        report.close()  # the last buffered records reach stdout here
    except BrokenPipeError:  # `| head` closed stdout: stop quietly, like any Unix filter
        silence_stdout()
        report.close()
        return ExitCode.BROKEN_PIPE
    except BaseException as error:
        if page is not None:
            page.abandon(error)
        raise
    if page is not None:
        trouble = page.finish(summary)
        if trouble:
            summary.warnings.append(trouble)
    report.finish(summary)
    return exit_code(summary)


def _hint_once(step, state: str | None) -> None:
    """Show the step's tip, once per user (remembered in the state folder)."""
    from batchproc.state_dir import state_home

    text = step.hint()
    if not text:
        return
    marker = os.path.join(state_home(state), "hints-shown")
    key = f"{step.name}: {text}"
    try:
        with open(marker, encoding="utf-8") as handle:
            if key in handle.read().splitlines():
                return
    except OSError:
        pass
    print(f"Note: {text}", file=sys.stderr)
    try:
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        with open(marker, "a", encoding="utf-8") as handle:
            handle.write(key + "\n")
    except OSError:  # nowhere to remember it: it will be said again next time
        pass


def silence_stdout() -> None:
    """Point stdout at /dev/null so Python's last flush cannot fail on a closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def exit_code(summary: Summary) -> int:
    """The exit code a summary stands for."""
    if summary.stop_code is not None:
        return summary.stop_code
    return ExitCode.FILES_FAILED if summary.failed else ExitCode.OK
