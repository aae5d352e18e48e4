"""Turning a Step class into a typed sub-command: its own options plus the run options."""

from __future__ import annotations

import inspect
import os
import sys
import typing
from typing import Annotated, Optional

import typer

from batchproc.errors import ExitCode, UsageError
from batchproc.outputs import OutputLayout
from batchproc.results import Summary
from batchproc.walk import WalkRules

RUN = "Run options"


def _run_options(
    paths: Annotated[Optional[list[str]], typer.Argument(
        help="Files and folders to process.", show_default=False)] = None,
    out: Annotated[Optional[str], typer.Option(
        "--out", "-o", help="Write outputs here, mirroring the input tree. Default: a new folder "
        "beside each input folder (imgs -> imgs_resized).", rich_help_panel=RUN)] = None,
    in_place: Annotated[bool, typer.Option(
        "--in-place", help="Replace the inputs themselves (atomically).", rich_help_panel=RUN)] = False,
    jobs: Annotated[Optional[int], typer.Option(
        "--jobs", "-j", min=1, help="Worker processes. Default: the CPUs available.",
        rich_help_panel=RUN)] = None,
    include: Annotated[Optional[list[str]], typer.Option(
        "--include", help="Only files matching this glob (on the name; with a /, on the relative "
        "path). Repeatable.", rich_help_panel=RUN)] = None,
    exclude: Annotated[Optional[list[str]], typer.Option(
        "--exclude", help="Skip files and folders matching this glob. Repeatable.",
        rich_help_panel=RUN)] = None,
    max_depth: Annotated[Optional[int], typer.Option(
        "--max-depth", min=1, help="Descend at most this many folder levels (1: only the folder "
        "itself).", rich_help_panel=RUN)] = None,
    hidden: Annotated[bool, typer.Option(
        "--hidden", help="Include hidden files and folders.", rich_help_panel=RUN)] = False,
    follow_symlinks: Annotated[bool, typer.Option(
        "--follow-symlinks", help="Follow symbolic links (loops are detected).",
        rich_help_panel=RUN)] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Redo files whose outputs are up to date.", rich_help_panel=RUN)] = False,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Process only the files that failed last time (quarantined ones "
        "included).", rich_help_panel=RUN)] = False,
    log: Annotated[Optional[str], typer.Option(
        "--log", help="Append one JSON line per file to this file.", rich_help_panel=RUN)] = None,
    progress: Annotated[Optional[bool], typer.Option(
        "--progress/--no-progress", help="Show a progress bar. Default: when stderr is a terminal.",
        show_default=False, rich_help_panel=RUN)] = None,
    timeout: Annotated[Optional[float], typer.Option(
        "--timeout", min=0.001, help="Seconds one file may take before its worker is killed and "
        "replaced.", rich_help_panel=RUN)] = None,
    start_method: Annotated[Optional[str], typer.Option(
        "--start-method", help="How workers start: fork, spawn or forkserver. Default: "
        "Python's default.", rich_help_panel=RUN, hidden=True)] = None,
    executor: Annotated[str, typer.Option(
        "--executor", envvar="BATCHPROC_EXECUTOR", help="Where the work runs: local processes, "
        "or a Dask cluster (pip install 'batchproc[dask]').", rich_help_panel=RUN)] = "local",
    scheduler: Annotated[Optional[str], typer.Option(
        "--scheduler", envvar="BATCHPROC_SCHEDULER", help="With --executor dask: the scheduler "
        "address, tcp://HOST:PORT.", rich_help_panel=RUN)] = None,
    retries: Annotated[int, typer.Option(
        "--retries", min=0, help="Try a file this many more times after a failure that may be "
        "transient (I/O error, crash, timeout).", rich_help_panel=RUN)] = 0,
    max_failures: Annotated[Optional[str], typer.Option(
        "--max-failures", help="Stop after this many failures (10) or this share of the files "
        "(5%); exit code 3.", rich_help_panel=RUN)] = None,
    json_lines: Annotated[bool, typer.Option(
        "--json", help="Print one JSON line per file on stdout.", rich_help_panel=RUN)] = False,
    print0: Annotated[bool, typer.Option(
        "--print0", help="Print output paths on stdout, each followed by a NUL byte.",
        rich_help_panel=RUN)] = False,
):
    """The options every step command shares."""


RUN_PARAMETERS = list(inspect.signature(_run_options, eval_str=True).parameters.values())
RUN_NAMES = frozenset(parameter.name for parameter in RUN_PARAMETERS)


def step_command(step_class, plugin_dirs: tuple[str, ...] = ()):
    """A typer command function for `step_class`: its __init__ options, then the run options."""
    own = _step_parameters(step_class)
    clashes = RUN_NAMES.intersection(p.name for p in own)
    if clashes:
        raise ValueError(f"step {step_class.name} has options named like run options: {sorted(clashes)}")

    def command(**values):
        run_values = {name: values.pop(name) for name in RUN_NAMES}
        return run_step(step_class, values, plugin_dirs=plugin_dirs, **run_values)

    parameters = [p.replace(kind=p.KEYWORD_ONLY) for p in (RUN_PARAMETERS[0], *own, *RUN_PARAMETERS[1:])]
    command.__signature__ = inspect.Signature(parameters)
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__doc__ = inspect.getdoc(step_class) or step_class.summary
    command.__name__ = step_class.name
    return command


def _step_parameters(step_class) -> list[inspect.Parameter]:
    init = step_class.__init__
    hints = typing.get_type_hints(init, include_extras=True)
    parameters = []
    for parameter in inspect.signature(init).parameters.values():
        if parameter.name == "self" or parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
            continue
        parameters.append(parameter.replace(kind=parameter.KEYWORD_ONLY,
                                            annotation=hints.get(parameter.name, str)))
    return parameters


def run_step(step_class, step_values: dict, *, paths, out, in_place, jobs, include, exclude,
             max_depth, hidden, follow_symlinks, force, retry_failed, log, progress, timeout, start_method,
             executor, scheduler, retries, max_failures, json_lines, print0, plugin_dirs=()) -> int:
    """Build the step, run the batch, print the summary; return the exit code."""
    from batchproc.progress import TerminalReport
    from batchproc.runner import RunOptions, run_batch
    from batchproc.stdout import StdoutWriter

    step = step_class(**step_values)
    paths = paths or step.default_paths()
    if not paths:
        raise UsageError("give at least one file or folder")
    if json_lines and print0:
        raise UsageError("--json and --print0 cannot be used together")
    for path in paths:
        if not os.path.lexists(path):
            raise UsageError(f"no such file or folder: {path}")
    if out is not None and in_place:
        raise UsageError("--out and --in-place cannot be used together")
    if in_place and step.output_suffix is None:
        raise UsageError(f"{step.name} writes no files: --in-place has no meaning")
    layout = OutputLayout(step.output_suffix, out=out, in_place=in_place)
    rules = WalkRules(include=tuple(include or ()), exclude=tuple(exclude or ()),
                      max_depth=max_depth, hidden=hidden, follow_symlinks=follow_symlinks,
                      prune=frozenset(map(os.path.abspath, _output_folders(layout, paths))))
    options = RunOptions(layout=layout, rules=rules, jobs=jobs or available_cpus(),
                         start_method=start_method, log_path=log, force=force,
                         retry_failed=retry_failed, timeout=timeout,
                         executor=executor, scheduler=scheduler, retries=retries,
                         max_failures=max_failures, plugin_dirs=tuple(plugin_dirs))
    show_bar = sys.stderr.isatty() if progress is None else progress
    report = TerminalReport(step.name, bar=show_bar,
                            stdout=StdoutWriter(step, json_lines=json_lines, print0=print0))
    summary = run_batch(step, paths, options, events=report)
    report.finish(summary)
    return exit_code(summary)


def _output_folders(layout: OutputLayout, paths: list[str]) -> list[str]:
    if not layout.writes or layout.in_place:
        return []
    if layout.out is not None:
        return [layout.out]
    from batchproc.outputs import sibling_folder

    return [sibling_folder(path, layout.suffix) for path in paths if os.path.isdir(path)]


def exit_code(summary: Summary) -> int:
    """The exit code a summary stands for."""
    if summary.stop_code is not None:
        return summary.stop_code
    return ExitCode.FILES_FAILED if summary.failed else ExitCode.OK


def available_cpus() -> int:
    """CPUs this process may run on (respects taskset and cgroup-limited affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1



