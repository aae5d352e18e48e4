"""The command line's edge: it starts the worker server early, runs the command group, and
turns every expected failure into one `Error:` line and an exit code."""

from __future__ import annotations

import gc
import os
import sys

from batchproc.errors import BatchprocError, ExitCode, print_error
from batchproc.registry import activate


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit; every expected failure becomes one `Error: ...` line."""
    # Importing typer and building the command make many objects and no garbage: the cyclic
    # collector, which would scan them again and again meanwhile, waits until a run begins
    # (commands.run_step), about a tenth of `import typer`'s time.
    gc.disable()
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = bool(os.environ.get("BATCHPROC_TRACEBACK"))
    try:
        plugin_dirs = plugin_dirs_from(args)
        registry = activate(plugin_dirs)
        _start_worker_server(args, registry)
        from batchproc.command_group import BatchprocGroup

        group = BatchprocGroup(plugin_dirs, registry, ("batchproc", *args))
        code = group.main(args=args, prog_name="batchproc", standalone_mode=False)
        sys.stdout.flush()
        return int(code or 0)
    except _click_errors("Abort"):
        return _fail("interrupted", ExitCode.INTERRUPTED)
    except _click_errors("NoArgsIsHelpError") as error:  # bare `batchproc` (click 8.2+): help as usage
        print(error.format_message(), file=sys.stderr)
        return ExitCode.USAGE
    except _click_errors("ClickException") as error:  # usage errors from the command-line parser
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


def _click_errors(name: str):
    """A click exception class, if click is imported by now (else one nothing raises)."""
    click = sys.modules.get("click")
    return getattr(click.exceptions, name, ()) if click else ()


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


def runs_local_workers(args: list[str]) -> bool:
    """Whether this command line will most likely start workers on this machine from a
    forkserver (read before parsing, to start that server early; a wrong guess costs only a
    server that is never used, or one started with the first file)."""
    if os.environ.get("BATCHPROC_EXECUTOR", "local") != "local" or os.environ.get("BATCHPROC_SCHEDULER"):
        return False
    quiet_flags = {"-h", "--help", "--dry-run", "--executor", "--scheduler", "--version"}
    if quiet_flags.intersection(arg.split("=", 1)[0] for arg in args):
        return False
    for index, arg in enumerate(args):
        if arg == "--start-method" and index + 1 < len(args):
            return args[index + 1] == "forkserver"
        if arg.startswith("--start-method="):
            return arg.split("=", 1)[1] == "forkserver"
    return True


def _start_worker_server(args: list[str], registry) -> None:
    """Start the server workers fork from as soon as the step to run is known: the imports it
    does for every worker (the step's module, Pillow, libvips) then overlap this process's own."""
    rest = list(_skip_global_options(args))
    name = next((arg for arg in rest if not arg.startswith("-")), None)
    entry = registry.entries.get(name) if name else None
    if entry is not None and runs_local_workers(args) and names_something(rest[rest.index(name) + 1:]):
        from batchproc import worker_server

        worker_server.start((entry.module, *entry.preload))


def names_something(args: list[str]) -> bool:
    """Whether the command line may name files to process (read before parsing, like
    runs_local_workers): not when every path it names is an empty folder or missing. Then the
    server, whose imports would only compete with this process for the CPU, starts with the
    first file instead, if one turns up."""
    for arg in args:
        if arg in ("-", "--files-from") or arg.startswith("--files-from="):
            return True
        try:
            with os.scandir(arg) as entries:
                if next(entries, None) is not None:
                    return True
        except NotADirectoryError:  # a file
            return True
        except (OSError, ValueError):  # an option, a value, a path that does not exist
            continue
    return False


def _skip_global_options(args: list[str]):
    """The arguments after the options that come before the command (--plugin-dir DIR)."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--plugin-dir":
            skip = True
        elif not arg.startswith("--plugin-dir="):
            yield arg


def _fail(message: str, code: int) -> int:
    print_error(message)
    return code
