"""batchproc's own commands beside the steps: `plugins`, `run`, `state` and `report` (each built
only when invoked)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

def plugins_command(registry):
    def list_plugins():
        """List the installed steps and the plugin each comes from.

        Example: batchproc plugins
        """
        for name in sorted(registry.entries):
            entry = registry.entries[name]
            print(f"{name}\t{entry.origin}\t{entry.summary}")

    return list_plugins


def run_command(registry, plugin_dirs: tuple[str, ...], command_line: tuple[str, ...] = ()):
    def run_jobs(
        config: Annotated[str, typer.Argument(help="A TOML file of named jobs.", show_default=False)],
        job: Annotated[Optional[list[str]], typer.Option(
            "--job", help="Run only this job (repeatable). Default: all, in file order.")] = None,
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", help="List what each job would do; touch nothing.")] = False,
        quiet: Annotated[bool, typer.Option(
            "--quiet", help="Say something only when a job has failures (for cron).")] = False,
        watch: Annotated[bool, typer.Option(
            "--watch", help="After running the jobs, keep watching their inputs: a settled change "
            "runs the jobs it touches, one at a time (pip install 'batchproc[watch]').")] = False,
        settle: Annotated[Optional[float], typer.Option(
            "--settle", min=0, metavar="SECONDS", help="With --watch: take a file once its size "
            "and modification time have not changed for this long.  [default: 2]",
            show_default=False)] = None,
        poll: Annotated[Optional[float], typer.Option(
            "--poll", min=0.1, metavar="SECONDS", help="With --watch: look at the trees this "
            "often instead of waiting for inotify events (network file systems).")] = None,
        report: Annotated[Optional[str], typer.Option(
            "--report", metavar="FILE.html", help="Also write one page about the run, a section "
            "per job (instead of any report the jobs name).")] = None,
    ):
        """Run the named jobs of a TOML file, one after another (for cron), or keep watching
        their inputs (--watch, for a service).

        Each job prints its summary line on stderr; the exit code is the most serious one any
        job had. See the README for the file's format, a crontab line and a systemd unit.

        Example: batchproc run nightly.toml --quiet
        """
        from batchproc.jobs import run_job_file

        if watch and dry_run:
            from batchproc.errors import UsageError

            raise UsageError("--watch and --dry-run cannot be used together")
        return run_job_file(config, registry, plugin_dirs, only=job or (), dry_run=dry_run, quiet=quiet,
                            watch=watch, settle=settle, poll=poll,
                            report=report, command_line=command_line)

    return run_jobs


def report_command():
    def report(
        log: Annotated[str, typer.Argument(help="A --log file (JSON Lines).", show_default=False)],
        page: Annotated[Optional[str], typer.Argument(
            help="The page to write; - writes it to stdout. Default: beside the log, with .html "
            "for its extension (nightly.jsonl -> nightly.html).", show_default=False)] = None,
        run: Annotated[Optional[str], typer.Option(
            "--run", metavar="ID", help="The run to show: its id, or the start of it. Default: "
            "the last run in the log.", show_default=False)] = None,
        list_runs: Annotated[bool, typer.Option(
            "--list", help="List the log's runs instead (id, start, step or jobs, files).")] = False,
    ):
        """Make the page of a run from its --log file.

        The same page as --report gives: the summary, failures by reason, where the time and
        the bytes went, and for image steps a contact sheet, made from the files as they are
        now (outputs, and inputs where they are still there). A log holds every run appended
        to it; the jobs of one `batchproc run` are one run, a section each.

        Example: batchproc report /var/log/batchproc/nightly.jsonl nightly.html
        """
        from batchproc.report.command import list_log, report_from_log

        if list_runs:
            list_log(log)
        else:
            report_from_log(log, page, run)

    return report


def state_command():
    def state(
        forget: Annotated[Optional[str], typer.Option(
            "--forget", metavar="FOLDER", help="Forget what was recorded for this output (or "
            "input) folder: the next run redoes everything there.", show_default=False)] = None,
        state_dir: Annotated[Optional[str], typer.Option(
            "--state", help="The state folder to look in. Default: $XDG_STATE_HOME/batchproc "
            "(~/.local/state/batchproc).", show_default=False)] = None,
    ):
        """List what earlier runs recorded (one line per folder), or forget a folder.

        Each line: the folder, whether it holds outputs or (for steps that write no files)
        inputs, each step's counts, and when it was last written.

        Example: batchproc state --forget ./web
        """
        from batchproc.state_listing import forget_folder, list_states

        if forget is not None:
            forget_folder(forget, state_dir)
        else:
            list_states(state_dir)

    return state


#: name -> a function of (registry, plugin_dirs, command_line) giving the command's function.
FACTORIES = {
    "plugins": lambda registry, plugin_dirs, command_line: plugins_command(registry),
    "run": run_command,
    "state": lambda registry, plugin_dirs, command_line: state_command(),
    "report": lambda registry, plugin_dirs, command_line: report_command(),
}
