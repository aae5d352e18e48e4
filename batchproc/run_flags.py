"""The run options as command-line flags: every step command shares them (typer declarations;
batchproc.options.RunOptions holds the values)."""

from __future__ import annotations

import inspect
from typing import Annotated, Optional

import typer

RUN = "Run options"
WATCH = "Watching (hot folders)"


def run_flags(
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
        "--start-method", help="How workers start: forkserver (the default where it exists), "
        "spawn, or fork (risky: the parent runs threads).", rich_help_panel=RUN)] = None,
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
    state: Annotated[Optional[str], typer.Option(
        "--state", help="Keep incremental state in this folder. Default: "
        "$XDG_STATE_HOME/batchproc (~/.local/state/batchproc).", rich_help_panel=RUN)] = None,
    verify: Annotated[str, typer.Option(
        "--verify", help="How outputs are checked before they replace anything: auto (the "
        "cheapest proof for each format; full for TIFF and in place) or full (decode everything).",
        rich_help_panel=RUN)] = "auto",
    max_memory: Annotated[Optional[str], typer.Option(
        "--max-memory", help="Memory one worker may use (2G, 1500M); a file that needs more "
        "fails alone. Default: this machine's memory (or cgroup limit) shared among the jobs.",
        show_default=False, rich_help_panel=RUN)] = None,
    watch: Annotated[bool, typer.Option(
        "--watch", help="After the run, keep running: process each new or changed file once it "
        "is complete (pip install 'batchproc[watch]'). Ctrl-C or SIGTERM stops.",
        rich_help_panel=WATCH)] = False,
    settle: Annotated[Optional[float], typer.Option(
        "--settle", min=0, metavar="SECONDS", help="With --watch: take a file once its size and "
        "modification time have not changed for this long.  [default: 2]",
        show_default=False, rich_help_panel=WATCH)] = None,
    poll: Annotated[Optional[float], typer.Option(
        "--poll", min=0.1, metavar="SECONDS", help="With --watch: look at the tree this often "
        "instead of waiting for inotify events (NFS, SMB and other network file systems).",
        rich_help_panel=WATCH)] = None,
    mirror_deletes: Annotated[bool, typer.Option(
        "--mirror-deletes", help="With --watch: when an input is deleted, remove its outputs too.",
        rich_help_panel=WATCH)] = False,
    report: Annotated[Optional[str], typer.Option(
        "--report", metavar="FILE.html", help="Also write one self-contained page about the run: "
        "counts, failures by reason, before/after thumbnails (image steps), where the time and "
        "the bytes went.", rich_help_panel=RUN)] = None,
):
    """The options every step command shares."""


#: The flags as parameters, in order: the paths argument first, then the options.
RUN_PARAMETERS = list(inspect.signature(run_flags, eval_str=True).parameters.values())
RUN_NAMES = frozenset(parameter.name for parameter in RUN_PARAMETERS)
