"""The command line: typer sub-commands built from the installed steps, and the error edge."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Optional

import click
import typer

from batchproc import __version__
from batchproc.errors import BatchprocError, ExitCode


def _show_version(value: bool) -> None:
    if value:
        print(f"batchproc {__version__}")
        raise typer.Exit()


def build_app(plugin_dirs: tuple[str, ...] = ()) -> typer.Typer:
    """The typer application: one sub-command per installed step, plus `plugins`."""
    from batchproc.commands import step_command
    from batchproc.registry import activate

    app = typer.Typer(
        help="Process whole trees of files in parallel: safely, incrementally, fast.\n\n"
        "Example: batchproc resize ./imgs --jobs 6",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    registry = activate(plugin_dirs)
    for warning in registry.warnings:
        print(f"Warning: {warning}", file=sys.stderr)

    @app.callback()
    def root(
        version: Annotated[bool, typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit.")] = False,
        plugin_dir: Annotated[Optional[list[str]], typer.Option(
            "--plugin-dir", help="Also load the .py plugins in this folder (repeatable; also "
            "BATCHPROC_PLUGIN_DIRS). Only folders you name are loaded.")] = None,
    ):
        """Process whole trees of files in parallel: safely, incrementally, fast.

        Example: batchproc resize ./imgs --jobs 6
        """

    @app.command("plugins")
    def list_plugins():
        """List the installed steps and the plugin each comes from.

        Example: batchproc plugins
        """
        for name in sorted(registry.steps):
            step_class = registry.steps[name]
            print(f"{name}\t{registry.origins[name]}\t{step_class.summary}")

    @app.command("run")
    def run_jobs(
        config: Annotated[str, typer.Argument(help="A TOML file of named jobs.", show_default=False)],
        job: Annotated[Optional[list[str]], typer.Option(
            "--job", help="Run only this job (repeatable). Default: all, in file order.")] = None,
        dry_run: Annotated[bool, typer.Option(
            "--dry-run", help="List what each job would do; touch nothing.")] = False,
        quiet: Annotated[bool, typer.Option(
            "--quiet", help="Say something only when a job has failures (for cron).")] = False,
    ):
        """Run the named jobs of a TOML file, one after another (for cron).

        Each job prints its summary line on stderr; the exit code is the most serious one any
        job had. See the README for the file's format and a crontab line.

        Example: batchproc run nightly.toml --quiet
        """
        from batchproc.jobs import run_job_file

        return run_job_file(config, registry, plugin_dirs, only=job or (), dry_run=dry_run, quiet=quiet)

    for name in sorted(registry.steps):
        step_class = registry.steps[name]
        try:
            command = step_command(step_class, plugin_dirs)
        except Exception as error:  # a broken plugin warns and is skipped
            print(f"Warning: step {name} skipped: {error}", file=sys.stderr)
            continue
        app.command(name, help=command.__doc__, short_help=step_class.summary)(command)
    return app


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit; every expected failure becomes one `Error: ...` line."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = bool(os.environ.get("BATCHPROC_TRACEBACK"))
    try:
        plugin_dirs = plugin_dirs_from(args)
        command = typer.main.get_command(build_app(plugin_dirs))
        code = command.main(args=args, prog_name="batchproc", standalone_mode=False)
        sys.stdout.flush()
        return int(code or 0)
    except click.exceptions.Abort:
        return _fail("interrupted", ExitCode.INTERRUPTED)
    except _NO_ARGS_IS_HELP as error:  # bare `batchproc`: the help, on stderr, as usage
        print(error.format_message(), file=sys.stderr)
        return ExitCode.USAGE
    except click.exceptions.ClickException as error:  # usage errors from the command-line parser
        return _fail(error.format_message(), ExitCode.USAGE)
    except BatchprocError as error:
        if debug:
            raise
        return _fail(str(error), error.exit_code)
    except BrokenPipeError:  # stdout closed early (`| head`) outside a run: stop quietly
        from batchproc.commands import silence_stdout

        silence_stdout()
        return ExitCode.BROKEN_PIPE
    except KeyboardInterrupt:
        return _fail("interrupted", ExitCode.INTERRUPTED)
    except Exception as error:  # a bug: say so in one line; the traceback is one variable away
        if debug:
            raise
        return _fail(f"unexpected {type(error).__name__}: {error} (set BATCHPROC_TRACEBACK=1 for "
                     "the traceback)", ExitCode.ABORTED)


#: Raised by click (8.2 and later) for a bare `batchproc`; older clicks print the help themselves.
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def plugin_dirs_from(args: list[str]) -> tuple[str, ...]:
    """The plugin folders named before the sub-command or in BATCHPROC_PLUGIN_DIRS.

    They are read ahead of parsing because the sub-commands they add must exist before it."""
    folders = [f for f in os.environ.get("BATCHPROC_PLUGIN_DIRS", "").split(os.pathsep) if f]
    for index, arg in enumerate(args):
        if not arg.startswith("-"):
            break
        if arg == "--plugin-dir" and index + 1 < len(args):
            folders.append(args[index + 1])
        elif arg.startswith("--plugin-dir="):
            folders.append(arg.split("=", 1)[1])
    return tuple(os.path.abspath(folder) for folder in folders)


def _fail(message: str, code: int) -> int:
    print(f"Error: {message}", file=sys.stderr)
    return code
