"""The top-level command group: one sub-command per installed step (built only when invoked)
and batchproc's own commands."""

from __future__ import annotations

import sys

import click

from batchproc import __version__

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

    def __init__(self, plugin_dirs: tuple[str, ...], registry, command_line: tuple[str, ...] = ()) -> None:
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
        self.registry = registry
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
