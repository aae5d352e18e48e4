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
        help="Files and folders to process; - reads a list of paths from stdin.",
        show_default=False)] = None,
    null: Annotated[bool, typer.Option(
        "--null", "-0", help="Paths read from stdin or --files-from end with NUL, not newline "
        "(find -print0).", rich_help_panel=RUN)] = False,
    files_from: Annotated[Optional[str], typer.Option(
        "--files-from", help="Read paths to process from this file, one per line.",
        rich_help_panel=RUN)] = None,
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
    executor: Annotated[Optional[str], typer.Option(
        "--executor", envvar="BATCHPROC_EXECUTOR", help="Where the work runs: local processes, "
        "or a Dask cluster (pip install 'batchproc[dask]'). Default: dask when a scheduler is "
        "named, else local.", show_default=False, rich_help_panel=RUN)] = None,
    scheduler: Annotated[Optional[str], typer.Option(
        "--scheduler", envvar="BATCHPROC_SCHEDULER", help="The Dask scheduler's address, "
        "tcp://HOST:PORT (implies --executor dask). Without it, dask starts a cluster on this "
        "machine.", rich_help_panel=RUN)] = None,
    retries: Annotated[int, typer.Option(
        "--retries", min=0, help="Try a file this many more times after a failure that may be "
        "transient (I/O error, crash, timeout).", rich_help_panel=RUN)] = 0,
    max_failures: Annotated[Optional[str], typer.Option(
        "--max-failures", help="Stop after this many failures (10) or this share of the files "
        "(5%); exit code 3.", rich_help_panel=RUN)] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="List what would be done, and why files would be skipped; touch "
        "nothing.", rich_help_panel=RUN)] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", help="No progress bar; a summary only when something failed (for cron).",
        rich_help_panel=RUN)] = False,
    json_lines: Annotated[bool, typer.Option(
        "--json", help="Print one JSON line per file on stdout.", rich_help_panel=RUN)] = False,
    print0: Annotated[bool, typer.Option(
        "--print0", help="Print output paths on stdout, each followed by a NUL byte.",
        rich_help_panel=RUN)] = False,
):
    """The options every step command shares."""


RUN_PARAMETERS = list(inspect.signature(_run_options, eval_str=True).parameters.values())
RUN_NAMES = frozenset(parameter.name for parameter in RUN_PARAMETERS)
RUN_DEFAULTS = {parameter.name: parameter.default for parameter in RUN_PARAMETERS}


def step_command(step_class, plugin_dirs: tuple[str, ...] = ()):
    """A typer command function for `step_class`: its __init__ options, then the run options."""
    own = _step_parameters(step_class)
    clashes = RUN_NAMES.intersection(p.name for p in own)
    if clashes:
        raise ValueError(f"step {step_class.name} has options named like run options: {sorted(clashes)}")

    def command(**values):
        run = {name: values.pop(name) for name in RUN_NAMES}
        return run_step(step_class, values, run, plugin_dirs)

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


def run_step(step_class, step_values: dict, run: dict, plugin_dirs: tuple[str, ...] = (),
             label: str | None = None) -> int:
    """Build the step, run the batch, print the summary; return the exit code.

    `run` holds the run options by parameter name (missing ones take their defaults)."""
    from batchproc.inputs import PathSource
    from batchproc.progress import TerminalReport
    from batchproc.runner import RunOptions, run_batch
    from batchproc.stdout import StdoutWriter

    run = {**RUN_DEFAULTS, **run}
    step = step_class(**step_values)
    args = run["paths"] or []
    listed = None if args else step.default_paths()
    if not args and not listed and not run["files_from"]:
        raise UsageError("give at least one file or folder (- reads a list from stdin)")
    if run["json_lines"] and run["print0"]:
        raise UsageError("--json and --print0 cannot be used together")
    if run["out"] is not None and run["in_place"]:
        raise UsageError("--out and --in-place cannot be used together")
    if run["in_place"] and step.output_suffix is None:
        raise UsageError(f"{step.name} writes no files: --in-place has no meaning")
    executor, scheduler = _where_it_runs(run)
    source = PathSource(list(args), null=run["null"], files_from=run["files_from"], listed=listed)
    layout = OutputLayout(step.output_suffix, out=run["out"], in_place=run["in_place"])
    rules = WalkRules(include=tuple(run["include"] or ()), exclude=tuple(run["exclude"] or ()),
                      max_depth=run["max_depth"], hidden=run["hidden"],
                      follow_symlinks=run["follow_symlinks"],
                      prune=frozenset(map(os.path.abspath, _output_folders(layout, source.args))))
    options = RunOptions(
        layout=layout, rules=rules, jobs=run["jobs"] or available_cpus(),
        start_method=run["start_method"], log_path=run["log"], force=run["force"],
        retry_failed=run["retry_failed"], dry_run=run["dry_run"], timeout=run["timeout"],
        executor=executor, scheduler=scheduler, retries=run["retries"],
        max_failures=run["max_failures"], plugin_dirs=tuple(plugin_dirs))
    quiet = run["quiet"]
    show_bar = (sys.stderr.isatty() and not quiet) if run["progress"] is None else run["progress"]
    stdout = StdoutWriter(step, json_lines=run["json_lines"], print0=run["print0"], dry_run=run["dry_run"])
    report = TerminalReport(label or step.name, bar=show_bar, quiet=quiet, stdout=stdout)
    try:
        summary = run_batch(step, source, options, events=report)
        report.close()  # the last buffered records reach stdout here
    except BrokenPipeError:  # `| head` closed stdout: stop quietly, like any Unix filter
        silence_stdout()
        report.close()
        return ExitCode.BROKEN_PIPE
    report.finish(summary)
    return exit_code(summary)


def silence_stdout() -> None:
    """Point stdout at /dev/null so Python's last flush cannot fail on a closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _where_it_runs(run: dict) -> tuple[str, str | None]:
    """The executor and scheduler: the option, else the environment (job files read it here);
    a named scheduler means Dask."""
    scheduler = run["scheduler"] or os.environ.get("BATCHPROC_SCHEDULER") or None
    executor = run["executor"] or os.environ.get("BATCHPROC_EXECUTOR") or ("dask" if scheduler else "local")
    if scheduler and executor != "dask":
        raise UsageError(f"--scheduler {scheduler} needs --executor dask (the executor is {executor})")
    return executor, scheduler


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



