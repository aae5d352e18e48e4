"""The plugin API's edges: a step's data is only data, stdout_line sees a read-only record,
run options and built-in commands keep their names."""

import dataclasses
import json

import pytest

from batchproc.options import CONTEXT_FIELDS, RESERVED_OPTION_NAMES, RunOptions
from batchproc.run_flags import RUN_NAMES
from conftest import write_files

ECHO = '''
from batchproc import Step, hookimpl


class Echo(Step):
    """Copy text files and return what they say as the step's own data.

    Example: batchproc echo notes/
    """
    name = "echo"
    summary = "Copy text files; their text is the step's data."
    extensions = frozenset({".txt"})
    output_suffix = "_echo"
    max_chunk = 8

    def process(self, source, target):
        target.write_text(source.read_text())
        return {"disk_full": True, "retryable": True, "quarantined": True, "said": source.read_text()}

    def stdout_line(self, result):
        try:
            result.data["said"] = "changed"
        except TypeError:
            return f"{result.status}:{result.input.rsplit('/', 1)[-1]}:{result.data['said']}"
        return "mutable"


@hookimpl
def register_steps(register):
    register(Echo)
'''


def test_engine_flags_in_a_steps_data_are_just_data(cli, install_plugin, tmp_path):
    install_plugin("echo_plugin", ECHO)
    write_files(tmp_path / "in", {f"{i}.txt": str(i) for i in range(8)})
    result = cli("echo", tmp_path / "in", "--jobs", 1, "--json")
    assert result.exit_code == 0, result
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["status"] for r in records] == ["ok"] * 8
    assert all(r["disk_full"] is True and r["quarantined"] is True for r in records)
    assert len([p for p in (tmp_path / "in_echo").iterdir() if p.is_file()]) == 8
    again = cli("echo", tmp_path / "in", "--jobs", 1, "--force")  # nothing was quarantined
    assert again.exit_code == 0 and "8 ok" in again.stderr


def test_stdout_line_gets_a_read_only_record(cli, install_plugin, tmp_path):
    install_plugin("echo_plugin", ECHO)
    write_files(tmp_path / "in", {"a.txt": "hello"})
    result = cli("echo", tmp_path / "in")
    assert result.exit_code == 0
    assert result.stdout == "ok:a.txt:hello\n"


def test_run_flags_and_run_options_name_the_same_things():
    fields = {f.name for f in dataclasses.fields(RunOptions)} - {"plugin_dirs"} - CONTEXT_FIELDS
    assert fields == set(RUN_NAMES)
    flag_defaults = {p.name: p.default for p in __import__("batchproc.run_flags").run_flags.RUN_PARAMETERS}
    for field in dataclasses.fields(RunOptions):
        if field.name in flag_defaults and field.name not in ("paths", "include", "exclude"):
            assert flag_defaults[field.name] == field.default, field.name


CLASH = '''
from typing import Annotated
import typer
from batchproc import Step, hookimpl


class Clash(Step):
    """A step whose option takes a run option's name.

    Example: batchproc clash notes/
    """
    name = "clash"
    summary = "Clashes."
    output_suffix = "_clash"

    def __init__(self, watch: Annotated[bool, typer.Option("--watch")] = False):
        super().__init__(watch=watch)

    def process(self, source, target):
        target.write_bytes(source.read_bytes())


class Exec(Clash):
    """A step named like a built-in command.

    Example: batchproc exec notes/
    """
    name = "exec"

    def __init__(self):
        super(Clash, self).__init__()


@hookimpl
def register_steps(register):
    register(Clash)
    register(Exec)
'''


@pytest.mark.parametrize("reserved", sorted(RESERVED_OPTION_NAMES))
def test_reserved_names_are_run_options(reserved):
    assert reserved in RUN_NAMES or reserved in ("watch", "settle", "poll", "mirror_deletes", "report")


def test_a_plugin_taking_a_reserved_name_is_reported_never_dropped_silently(cli, install_plugin):
    install_plugin("clash_plugin", CLASH)
    result = cli("plugins")
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert any("clash" in line and "--watch" in line and "run option" in line for line in warnings), warnings
    assert any("'exec'" in line and "batchproc command" in line for line in warnings), warnings
    assert "\nclash\t" not in "\n" + result.stdout
    # exec is batchproc's own (a step of batchproc's distribution): the plugin's never replaces it.
    assert [line.split("\t")[1] for line in result.stdout.splitlines() if line.startswith("exec\t")] == [
        "batchproc:exec"]


@pytest.mark.parametrize("options", [{}, {"tryfirst": True}, {"specname": "register_steps", "trylast": True}])
def test_hookimpl_marks_a_function_exactly_as_pluggy_would(options):
    import pluggy

    from batchproc import hookimpl

    def ours():
        pass

    def theirs():
        pass

    hookimpl(**options)(ours)
    pluggy.HookimplMarker("batchproc")(**options)(theirs)
    assert ours.batchproc_impl == theirs.batchproc_impl
    assert hookimpl(ours) is ours
