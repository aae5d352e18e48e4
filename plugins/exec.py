"""The exec step: any command on every file, with everything batchproc guarantees (incremental,
atomic, resumable, logged, bounded by --timeout and --max-memory)."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from batchproc import Step, StepError, hookimpl
from batchproc.errors import UsageError
from batchproc_plugins.exec_process import STDERR_SHOWN, CommandRunner, Finished, find_program
from batchproc_plugins.exec_template import (BASE_STEM, BASENAME, INPUT, OUT, PLACEHOLDER, SHELL, Template,
                                             shell_words, values_for)

COMMAND = "Command options"
#: Lines of a failed command's stderr kept in its record.
STDERR_LINES = 10
#: The settings that decide what a successful command wrote: their change redoes every file.
#: (--show-stderr, --allow-empty and --check change what is shown or accepted, not the outputs.)
FINGERPRINTED = ("cmd", "ext", "name_template", "stdout", "stdin", "no_output", "shell", "cmd_version")


class Exec(Step):
    """Run any command on every file: incremental, atomic, resumable, logged, with timeouts.

    \b
    --cmd is split as a shell would split it and run WITHOUT a shell, once per file; these
    placeholders are replaced inside each argument (a file name is always one argument):
      {}    the input path           {.}   the input path without its extension
      {/}   the input's base name    {/.}  the base name without its extension
      {//}  the input's folder       {out} the output path
    With none of the input placeholders, the input path is added as the last argument (as
    xargs and GNU parallel do). {}, {.}, {//} and {out} never start with "-"; write ./{/}
    where a bare name could.

    \b
    The output: {out} is a temporary file beside the output, with its extension; it is
    renamed into place only once the command exits 0 and it exists, is not empty (unless
    --allow-empty) and passes --check. Outputs mirror the input tree (default folder:
    NAME_exec; --out; --in-place) and are named as the input, or --ext .webm, or --name
    '{/.}-small.mp4'. --stdout makes the command's stdout the output; --no-output keeps
    nothing and lets the exit status alone decide (a validator). --stdin gives the input
    file as the command's stdin (else /dev/null).

    \b
    A non-zero exit status fails the file: the record (--log, --json) has the exit status
    and the end of the command's stderr (all of it on the terminal with --show-stderr). A
    program that cannot be found stops the run before any work (exit 2); with --shell, an
    exit status of 127 (not found) stops it after the files in flight (exit 4). --timeout
    kills the command and everything it started. An unchanged re-run runs no command;
    changing the command redoes every file (--cmd-version 'ffmpeg -version' also redoes
    them when the tool changes). --dry-run prints each command, quoted for a shell.

    Example: batchproc exec videos --ext .webm --cmd 'ffmpeg -nostdin -i {} {out}'
    """

    name = "exec"
    summary = "Run any command on every file (incremental, atomic, resumable)."
    output_suffix = "_exec"
    max_chunk = 16
    stops_at_timeout = True

    def __init__(
        self,
        cmd: Annotated[Optional[str], typer.Option(
            "--cmd", metavar="TEMPLATE", help="The command to run on each file (required), with "
            "placeholders: {} {.} {/} {//} {/.} {out}.", show_default=False,
            rich_help_panel=COMMAND)] = None,
        ext: Annotated[Optional[str], typer.Option(
            "--ext", metavar=".EXT", help="Name outputs as their input with this extension "
            "instead of its own (a.mov -> a.webm).", show_default=False, rich_help_panel=COMMAND)] = None,
        name_template: Annotated[Optional[str], typer.Option(
            "--name", metavar="TEMPLATE", help="Name outputs with a template of {/} and {/.} "
            "('{/.}-small.mp4').", show_default=False, rich_help_panel=COMMAND)] = None,
        stdout: Annotated[bool, typer.Option(
            "--stdout", help="The command's stdout is the output (gzip -c {}).",
            rich_help_panel=COMMAND)] = False,
        stdin: Annotated[bool, typer.Option(
            "--stdin", help="Give the input file as the command's stdin (else /dev/null).",
            rich_help_panel=COMMAND)] = False,
        no_output: Annotated[bool, typer.Option(
            "--no-output", help="Write nothing: the exit status is the file's status (validators); "
            "the command's stdout goes to the record.", rich_help_panel=COMMAND)] = False,
        shell: Annotated[bool, typer.Option(
            "--shell", help="Run the template with sh -c (pipes, redirections), each placeholder "
            "shell-quoted.", rich_help_panel=COMMAND)] = False,
        check: Annotated[Optional[str], typer.Option(
            "--check", metavar="TEMPLATE", help="A command each output must pass before it is "
            "published ('gzip -t {out}').", show_default=False, rich_help_panel=COMMAND)] = None,
        allow_empty: Annotated[bool, typer.Option(
            "--allow-empty", help="Publish empty outputs too (refused by default).",
            rich_help_panel=COMMAND)] = False,
        show_stderr: Annotated[bool, typer.Option(
            "--show-stderr", help="Show the command's stderr on the terminal, each line "
            "prefixed with the file's name.", rich_help_panel=COMMAND)] = False,
        cmd_version: Annotated[Optional[str], typer.Option(
            "--cmd-version", metavar="COMMAND", help="Its output joins the fingerprint: a new "
            "tool version redoes every file ('ffmpeg -version').", show_default=False,
            rich_help_panel=COMMAND)] = None,
    ) -> None:
        super().__init__(cmd=cmd, ext=ext, name_template=name_template, stdout=stdout, stdin=stdin,
                         no_output=no_output, shell=shell, check=check, allow_empty=allow_empty,
                         show_stderr=show_stderr, cmd_version=cmd_version)
        if not cmd:
            raise UsageError("exec needs --cmd TEMPLATE: the command to run on each file")
        self.template = Template.parse(cmd, shell=shell)
        self.check = Template.parse(check, shell=shell, what="--check") if check else None
        self.to_stdout, self.from_stdin, self.writes = stdout, stdin, not no_output
        self.allow_empty, self.show_stderr, self.cmd_version = allow_empty, show_stderr, cmd_version
        self.ext = _extension(ext) if ext is not None else None
        self.name_template = _name_template(name_template) if name_template is not None else None
        self._check_modes()
        # An instance attribute: the same class writes files or, with --no-output, none.
        self.output_suffix = type(self).output_suffix if self.writes else None
        self._runner: CommandRunner | None = None
        self._timeout: float | None = None
        self._deadline: float | None = None
        self._source = ""
        self._version_output: str | None = None

    def _check_modes(self) -> None:
        writes_out = OUT in self.template.used
        if not self.writes:
            given = [flag for flag, on in (("{out}", writes_out), ("--stdout", self.to_stdout),
                                           ("--ext", self.ext), ("--name", self.name_template),
                                           ("--check", self.check)) if on]
            if given:
                raise UsageError(f"--no-output keeps nothing: {', '.join(given)} cannot be used with it")
            return
        if self.to_stdout and writes_out:
            raise UsageError("--stdout makes the command's stdout the output: the template cannot "
                             "also write {out}")
        if not self.to_stdout and not writes_out:
            raise UsageError("the command must write its output to {out}, or give --stdout (its "
                             "stdout is the output) or --no-output (nothing is kept)")
        if self.ext is not None and self.name_template is not None:
            raise UsageError("give --ext or --name, not both")

    # In the parent.

    def output_name(self, name: str) -> str:
        if self.ext is not None:
            return os.path.splitext(name)[0] + self.ext
        if self.name_template is not None:
            return self.name_template.argv({BASENAME: name, BASE_STEM: os.path.splitext(name)[0]})[0]
        return name

    def settings_hash(self) -> str:
        """The template, the mode and the output naming (and --cmd-version's output)."""
        fingerprint = {key: self.settings[key] for key in FINGERPRINTED}
        if self.cmd_version:
            fingerprint["cmd_version_output"] = self._tool_version()
        text = json.dumps([self.name, self.version, fingerprint], sort_keys=True)
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]

    def _tool_version(self) -> str:
        if self._version_output is None:
            import subprocess

            try:
                argv = shlex.split(self.cmd_version)
                done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            except (ValueError, OSError, subprocess.TimeoutExpired) as error:
                raise UsageError(f"--cmd-version {self.cmd_version!r} cannot run: {error}") from None
            if done.returncode != 0:
                raise UsageError(f"--cmd-version {self.cmd_version!r} exited with status {done.returncode}")
            self._version_output = (done.stdout + done.stderr).decode("utf-8", "replace")
        return self._version_output

    def check_runnable(self) -> None:
        for template, what in ((self.template, "--cmd"), (self.check, "--check")):
            if template is None:
                continue
            program = SHELL if template.shell else template.program
            if program is not None and find_program(program) is None:
                raise UsageError(f"{what}: command not found: {program}")

    def plan_line(self, result) -> str | None:
        output = result.output if isinstance(result.output, str) else None
        argv = self._argv(result.input, output)
        line = "run " + shell_words(argv)
        if self.from_stdin:
            line += " < " + shlex.quote(_not_an_option(result.input))
        if self.to_stdout and output:
            line += " > " + shlex.quote(_not_an_option(output))
        return line

    def stderr_lines(self, result) -> list[str]:
        text = result.data.get("stderr") if self.show_stderr else None
        return [f"{result.input}: {line}" for line in text.splitlines()] if text else []

    # In a worker.

    def prepare_worker(self, *, timeout: float | None) -> None:
        self._timeout = timeout
        self._runner = CommandRunner()
        self._runner.prepare()

    def process(self, source: Path, target: Path | None) -> dict:
        runner = self._runner or self._start_runner()
        self._deadline = time.monotonic() + self._timeout if self._timeout else None
        self._source = os.fspath(source)
        out = os.fspath(target) if target is not None else None
        stdout_fd = None
        if self.to_stdout:
            stdout_fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            finished = self._run(runner, self._argv(self._source, out), stdout_fd)
        finally:
            if stdout_fd is not None:
                os.close(stdout_fd)
        data = self._record(finished)
        self._raise_if_failed(finished, data, "")
        if out is not None:
            try:
                size = os.stat(out).st_size
            except FileNotFoundError:
                raise StepError("the command exited 0 but wrote no output (it must write {out})",
                                data=data) from None
            if size == 0 and not self.allow_empty:
                raise StepError("the command wrote an empty output (--allow-empty publishes it)", data=data)
        return data

    def verify(self, outputs: list[Path], data: dict, *, thorough: bool) -> None:
        """--check: each output must pass the user's own command before it is published."""
        if self.check is None:
            return
        runner = self._runner or self._start_runner()
        for output in outputs:
            values = values_for(self._source, os.fspath(output))
            argv = self.check.argv(values, append=None if self.check.used else values[OUT])
            finished = self._run(runner, argv, None, what="--check")
            self._raise_if_failed(finished, self._record(finished), "--check: ")

    def _start_runner(self) -> CommandRunner:
        # Outside a worker (a test calling process directly): a runner without the worker's set-up.
        self._runner = CommandRunner()
        return self._runner

    def _argv(self, source: str, out: str | None) -> list[str]:
        values = values_for(source, out)
        append = None if self.template.uses_input or self.from_stdin else values[INPUT]
        return self.template.argv(values, append=append)

    def _run(self, runner: CommandRunner, argv: list[str], stdout_fd, what: str = "--cmd") -> Finished:
        try:
            return runner.run(argv, stdin=self._source if self.from_stdin and what == "--cmd" else None,
                              stdout_fd=stdout_fd, deadline=self._deadline,
                              keep_stderr=STDERR_SHOWN if self.show_stderr else 4096)
        except OSError as error:
            # A program named in the template that cannot start now will not start for any file.
            template = self.template if what == "--cmd" else self.check
            fixed = template.program is not None or template.shell
            reason = f"cannot run {argv[0]}: {error.strerror or error}"
            raise StepError(reason, stops_run=reason if fixed else None) from None

    def _record(self, finished: Finished) -> dict:
        """The record's fields: the exit status (or signal), what the command said."""
        data: dict = {}
        if finished.signal is not None:
            data["signal"] = finished.signal
        else:
            data["exit_status"] = finished.status
        if not self.writes or finished.stdout:
            data["stdout"] = _text(finished.stdout, finished.stdout_dropped, head=True)
        if finished.stderr:
            text = _text(finished.stderr, finished.stderr_dropped, head=False)
            data["stderr"] = text if self.show_stderr else "\n".join(text.splitlines()[-STDERR_LINES:])
        return data

    def _raise_if_failed(self, finished: Finished, data: dict, prefix: str) -> None:
        if finished.timed_out:
            raise StepError(f"{prefix}timed out after {self._timeout:g} s", data=data, retryable=True)
        if finished.signal is not None:
            raise StepError(f"{prefix}killed by {finished.signal}", data=data)
        if finished.status == 0:
            return
        # What it said last: on stderr, or on stdout where it says nothing else (validators).
        said = [line.strip() for line in (data.get("stderr") or data.get("stdout") or "").splitlines()
                if line.strip()]
        reason = f"{prefix}exit status {finished.status}" + (f": {said[-1][:300]}" if said else "")
        stops = None
        if self.template.shell and finished.status == 127 and not prefix:
            stops = "the shell could not find the command (exit status 127)"
        raise StepError(reason, data=data, stops_run=stops)


def _text(data: bytes, dropped: int, *, head: bool) -> str:
    text = data.decode("utf-8", "surrogateescape").rstrip("\n")
    if dropped:
        note = f"[{dropped} more bytes]"
        text = f"{text}\n{note}" if head else f"{note}\n{text}"
    return text


def _extension(ext: str) -> str:
    ext = ext if ext.startswith(".") else "." + ext
    if ext == "." or "/" in ext or "\0" in ext:
        raise UsageError(f"bad --ext {ext!r}: give an extension such as .webm")
    return ext


def _name_template(text: str) -> Template:
    template = Template.parse(text, what="--name", shell=True)  # one piece: no splitting
    others = template.used - {BASENAME, BASE_STEM}
    if others:
        raise UsageError(f"--name {text!r}: only {{/}} and {{/.}} name an output ({', '.join(sorted(others))} cannot)")
    literal = PLACEHOLDER.sub("", text)
    if "/" in literal or "\0" in literal or text in (".", ".."):
        raise UsageError(f"--name {text!r}: a file name, without folders")
    return Template(text, False, template.parts, template.used)


def _not_an_option(path: str) -> str:
    return "./" + path if path.startswith("-") else path


@hookimpl
def register_steps(register):
    register(Exec)
