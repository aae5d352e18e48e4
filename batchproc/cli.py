"""The command line: one sub-command per installed step (built only when invoked), batchproc's
own commands, and the error edge where every expected failure becomes one `Error:` line."""

from __future__ import annotations

import os
import sys

import click

from batchproc import __version__
from batchproc.errors import BatchprocError, ExitCode, print_error

HELP = ("Process whole trees of files in parallel: safely, incrementally, fast.\n\n"
        "Example: batchproc resize ./imgs --jobs 6")
CONTEXT = {"help_option_names": ["-h", "--help"]}
#: batchproc's own commands (batchproc.builtin_commands) and the line `--help` shows for each.
SUMMARIES = {
    "plugins": "List the installed steps and the plugin each comes from.",
    "run": "Run the named jobs of a TOML file, one after another (for cron).",
    "state": "List what earlier runs recorded, or forget a folder (--forget).",
    "report": "Make the page of a run from its --log file (the last run, or --run ID).",
}


class BatchprocGroup(click.Group):
    """The top-level command. It knows every command's name and summary from the registry
    (cached), and builds a command's options only when that command runs or shows its help."""

    def __init__(self, plugin_dirs: tuple[str, ...], command_line: tuple[str, ...] = ()) -> None:
        from batchproc.registry import activate

        super().__init__(name="batchproc", help=HELP, no_args_is_help=True, context_settings=CONTEXT,
                         params=[click.Option(["--version"], is_flag=True, is_eager=True,
                                              expose_value=False, callback=_show_version,
                                              help="Show the version and the engines present, and exit."),
                                 click.Option(["--plugin-dir"], multiple=True, expose_value=False,
                                              help="Also load the .py plugins in this folder "
                                              "(repeatable; also BATCHPROC_PLUGIN_DIRS). Only "
                                              "folders you name are loaded.")])
        self.plugin_dirs = plugin_dirs
        #: The command line as typed, for the log's run header and the report.
        self.command_line = command_line
        self.registry = activate(plugin_dirs)
        for warning in self.registry.warnings:
            print(f"Warning: {warning}", file=sys.stderr)

    def list_commands(self, ctx) -> list[str]:
        return sorted({*SUMMARIES, *self.registry.entries})

    def get_command(self, ctx, name: str) -> click.Command | None:
        from batchproc.builtin_commands import FACTORIES
        from batchproc.commands import step_command

        if name in FACTORIES:
            command = FACTORIES[name](self.registry, self.plugin_dirs, self.command_line)
            return _click_command(command, name, SUMMARIES[name])
        entry = self.registry.entries.get(name)
        if entry is None:
            return None
        try:
            step_class = self.registry.step_class(name)
            command = step_command(step_class, self.plugin_dirs, self.command_line)
        except Exception as error:  # a plugin broken since it was listed: warn and skip it
            print(f"Warning: step {name} skipped: {error}", file=sys.stderr)
            return None
        return _click_command(command, name, entry.summary)

    def format_commands(self, ctx, formatter) -> None:
        summaries = {**{n: e.summary for n, e in self.registry.entries.items()}, **SUMMARIES}
        with formatter.section("Commands"):
            formatter.write_dl([(name, summaries[name]) for name in sorted(summaries)])


def _click_command(function, name: str, summary: str) -> click.Command:
    """A typer-annotated function as a click command."""
    import typer

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                      context_settings=CONTEXT)
    app.command(name, help=function.__doc__, short_help=summary)(function)
    command = typer.main.get_command(app)
    command.name = name
    return command


def _show_version(ctx, param, value: bool) -> None:
    if value:
        print(f"batchproc {__version__}")
        print(f"engines: {', '.join(engines())}")
        ctx.exit()


def engines() -> list[str]:
    """The image engines present, with their versions."""
    found = []
    try:
        import PIL

        found.append(f"Pillow {PIL.__version__}")
    except ImportError:
        found.append("Pillow: missing")
    try:
        import pyvips

        found.append(f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)} "
                     f"(pyvips {pyvips.__version__})")
    except (ImportError, OSError):
        found.append("libvips: not installed (pip install 'batchproc[vips]' for the fast engine)")
    return found


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit; every expected failure becomes one `Error: ...` line."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = bool(os.environ.get("BATCHPROC_TRACEBACK"))
    try:
        plugin_dirs = plugin_dirs_from(args)
        group = BatchprocGroup(plugin_dirs, ("batchproc", *args))
        code = group.main(args=args, prog_name="batchproc", standalone_mode=False)
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
        from batchproc.execution import error_text

        return _fail(f"batchproc failed unexpectedly: {error_text(error)} (set BATCHPROC_TRACEBACK=1 "
                     "for the traceback)", ExitCode.ABORTED)


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
    print_error(message)
    return code
