"""batchproc's own commands beside the steps: `plugins`, `run` and `state` (each built only
when invoked)."""

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
        report: Annotated[Optional[str], typer.Option(
            "--report", metavar="FILE.html", help="Also write one page about the run, a section "
            "per job (instead of any report the jobs name).")] = None,
    ):
        """Run the named jobs of a TOML file, one after another (for cron).

        Each job prints its summary line on stderr; the exit code is the most serious one any
        job had. See the README for the file's format and a crontab line.

        Example: batchproc run nightly.toml --quiet
        """
        from batchproc.jobs import run_job_file

        return run_job_file(config, registry, plugin_dirs, only=job or (), dry_run=dry_run, quiet=quiet,
                            report=report, command_line=command_line)

    return run_jobs


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
}
